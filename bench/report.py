"""results.json as a Markdown table with ratios, the issue's targets judged on it, and a plot of p50
latency against the record count.

python bench/report.py bench/results/results.json    # rewrite results.md and the plot beside it
"""

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: write files only
import matplotlib.pyplot as plt  # noqa: E402
from scenarios import SCENARIOS  # noqa: E402


def ratio(numerator: dict, denominator: dict) -> str:
    if "rps" not in numerator or "rps" not in denominator:
        return "–"
    if not denominator["rps"]:  # every request it got timed out or failed: its figures say how many
        return "– (it answered none)"
    return f"{numerator['rps'] / denominator['rps']:.2f}x"


def figures(result: dict | None) -> str:
    if not result:
        return "– | – | –"
    if "skipped" in result:
        return f"skipped: {result['skipped']} | | "
    if "rps" not in result:
        return f"{result['seconds']} s | {result['mb']} MB | peak RSS {result['peak_rss_mb']} MB"
    errors = f" ({result['errors']} errors)" if result.get("errors") else ""
    return f"{result['rps']:,.0f}{errors} | {result['p50_ms']:.2f} | {result['p99_ms']:.2f}"


def ours_and_floor(targets: dict, workers: list[int]) -> tuple[str, str]:
    """The icc-events and floor target names at the largest worker count."""
    suffix = "" if len(workers) == 1 else f"-w{max(workers)}"
    return f"ours{suffix}", f"floor{suffix}"


def write_report(results: dict, path: Path) -> None:
    m, load = results["machine"], results["load"]
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM; {m['os']}; Python {m['python']}, "
        f"SQLite {m['sqlite']}, {m['wrk']}; Datasette {m['datasette']}, Granian {m['granian']}, "
        f"Flask {m['flask']}, marshmallow {m['marshmallow']}.",
        "",
        f"Load: wrk, {load['wrk_threads']} thread(s), {load['connections']} connections, "
        f"{load['duration_s']} s per endpoint, on 127.0.0.1; every server up at once, taking turns on each "
        f"endpoint for {load.get('rounds', 1)} round(s), each figure the target's median round. "
        f"icc-events and the floor on Granian (WSGI) with {', '.join(map(str, results['workers']))} "
        "worker(s), started as the README starts the service; "
        "Datasette as one process (`datasette serve -i`). Latencies in ms; ratios are req/s. "
        '"(N errors)": wrk counted N timeouts (no answer within 2 s), socket errors or non-2xx answers.',
        "",
        "## Databases",
        "",
        "| synthetic records | statements | build (s) | build peak RSS (MB) | file (MB) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for size, run in results["sizes"].items():
        b = run["build"]
        lines.append(
            f"| {int(size):,} | {run['fixtures']['statements']:,} | {b['build_seconds']} "
            f"| {b['build_peak_rss_mb']} | {b['file_mb']} |"
        )
    for size, run in results["sizes"].items():
        targets = run["targets"]
        ours, floor = ours_and_floor(targets, results["workers"])
        others = [t for t in targets if t not in ("datasette", ours, floor)]
        lines += [
            "",
            f"## {int(size):,} synthetic records",
            "",
            "| endpoint | ours req/s | p50 | p99 | Datasette req/s | p50 | p99 | floor req/s | p50 | p99 "
            "| ours / Datasette | ours / floor |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for scenario in (s for s in SCENARIOS if not s.dump):
            row = [targets[t].get(scenario.name) for t in (ours, "datasette", floor)]
            lines.append(
                f"| {scenario.name} | {' | '.join(figures(r) for r in row)} "
                f"| {ratio(row[0] or {}, row[1] or {})} | {ratio(row[0] or {}, row[2] or {})} |"
            )
        lines += dump_lines(targets, ours, floor)
        for target in (t for t in others if t != "loop"):
            measured = [f"{name} {r['rps']:,.0f} req/s" for name, r in targets[target].items() if "rps" in r]
            lines.append(f"\n{target}: {'; '.join(measured)}.")
        before, after = run["load_average_1min"]
        lines.append(f"\nLoad average (1 min) of the machine before and after this size: {before}, {after}.")
        if cache := run.get("page_cache"):
            shares = [(name, c["before_read_in"], c["end"]) for name, c in cache.items()]
            lines.append(
                "\nShare of the database file in the page cache (read in before each endpoint): before "
                f"reading it in {min(s[1] for s in shares):.0%} to {max(s[1] for s in shares):.0%}; "
                f"at each endpoint's end {min(s[2] for s in shares):.0%} to {max(s[2] for s in shares):.0%}."
            )
        mismatched = [
            f"{name}: {target} {verdict}"
            for name, by_target in run["same_rows"].items()
            for target, verdict in by_target.items()
            if verdict != "same"
        ]
        lines.append(
            "\nThe same ids in the same order as ours from every target that answered in JSON: "
            + ("yes" if not mismatched else f"NO for {'; '.join(mismatched)}")
            + f" (checked: {', '.join(run['same_rows'])})."
        )
    lines += target_lines(results)
    path.write_text("\n".join(lines) + "\n")


def rps(run: dict, target: str, scenario: str) -> float | None:
    return run["targets"].get(target, {}).get(scenario, {}).get("rps")


def verdict(value: float | None, goal: float, at_least: bool = True) -> str:
    if value is None:
        return "not measured"
    met = value >= goal if at_least else value <= goal
    return f"{value:.2f}x ({'met' if met else 'NOT met'})"


def dump_lines(targets: dict, ours: str, floor: str) -> list[str]:
    """Each whole-collection dump: the median turn's seconds (and every turn's), size and the server's
    highest peak RSS per target, and the bare sqlite3 loop (bench/dump_loop.py) against ours."""
    lines = [
        "",
        "| dump (new files, database read in; median turn) | ours | Datasette | floor | sqlite3 loop "
        "| loop / ours (time) |",
        "|---|---|---|---|---|---:|",
    ]
    for scenario in (s for s in SCENARIOS if s.dump):
        cells = []
        for target in (ours, "datasette", floor, "loop"):
            r = targets.get(target, {}).get(scenario.name)
            if not r or "seconds" not in r:
                cells.append("–" if not r else f"skipped: {r.get('skipped')}")
            else:
                turns = r.get("rounds_seconds") or []
                listed = ", ".join("failed" if t is None else f"{t} s" for t in turns)
                shown = f" (turns: {listed})" if len(turns) > 1 else ""
                cells.append(f"{r['seconds']} s{shown}, {r['mb']} MB, peak RSS {r['peak_rss_mb']} MB")
        a, b = targets.get(ours, {}).get(scenario.name, {}), targets.get("loop", {}).get(scenario.name, {})
        share = f"{b['seconds'] / a['seconds']:.2f}x" if "seconds" in a and "seconds" in b else "–"
        lines.append(f"| {scenario.name} | {' | '.join(cells)} | {share} |")
    return lines


def p_ms(run: dict, target: str, scenario: str, key: str) -> float | None:
    return run["targets"].get(target, {}).get(scenario, {}).get(key)


def target_lines(results: dict) -> list[str]:
    """The performance issue's targets, each judged from this run's figures."""
    sizes = results["sizes"]
    ours, floor = ours_and_floor(next(iter(sizes.values()))["targets"], results["workers"])
    large = [s for s in sizes if int(s) >= 100_000]
    lines = ["", "## Targets", "", "| target | records | endpoint | ratio |", "|---|---:|---|---:|"]

    def row(goal: str, size: str, endpoint: str, value: str) -> None:
        lines.append(f"| {goal} | {int(size):,} | {endpoint} | {value} |")

    for size in large:
        run = sizes[size]
        for name in ("item", "first_page", "deep_page", "filtered"):
            ours_rps = rps(run, ours, name)
            datasette, floor_rps = rps(run, "datasette", name), rps(run, floor, name)
            row(">= 8x Datasette", size, name, verdict(ours_rps and datasette and ours_rps / datasette, 8))
            row(
                ">= 0.6x the floor", size, name, verdict(ours_rps and floor_rps and ours_rps / floor_rps, 0.6)
            )
        for name in ("ndjson_dump", "csv_dump"):
            a, b = run["targets"].get(ours, {}).get(name, {}), run["targets"].get("loop", {}).get(name, {})
            value = b["seconds"] / a["seconds"] if "seconds" in a and "seconds" in b else None
            row(">= 0.5x the sqlite3 loop (loop s / ours s)", size, name, verdict(value, 0.5))
        for conditional, full in (("revalidation", "same_item"), ("page_revalidation", "first_page")):
            a, b = rps(run, ours, conditional), rps(run, ours, full)
            row(f"304 >= 3x the full response ({conditional} / {full})", size, conditional,
                verdict(a and b and a / b, 3))  # fmt: skip
    largest = max(sizes, key=int)
    run = sizes[largest]
    for name in ("search", "ranked_search"):
        for key, goal in (("p50_ms", 50), ("p99_ms", 200)):
            value = p_ms(run, ours, name, key)
            met = "not measured"
            if not rps(run, ours, name):
                met = "no answer within wrk's 2 s timeout (NOT met)"
            elif value is not None:
                met = f"{value:.1f} ms ({'met' if value <= goal else 'NOT met'})"
            row(f"{key[:3]} <= {goal} ms", largest, name, met)
    for name in ("ndjson_dump", "csv_dump"):
        dump = run["targets"].get(ours, {}).get(name, {})
        if "peak_rss_mb" in dump:
            met = "met" if dump["peak_rss_mb"] < 200 else "NOT met"
            row("peak RSS < 200 MB", largest, name, f"{dump['peak_rss_mb']} MB ({met})")
    build = run["build"]["build_seconds"]
    row(
        "synth builds it in < 300 s",
        largest,
        "icc-events synth",
        f"{build} s ({'met' if build < 300 else 'NOT met'})",
    )
    if len(results["workers"]) > 1:
        low, high = min(results["workers"]), max(results["workers"])
        lines += ["", f"## {low} vs {high} workers (req/s at {high} / req/s at {low})", ""]
        lines += ["| records | target | item | first_page | filtered |", "|---:|---|---:|---:|---:|"]
        for size, run in sizes.items():
            for name in ("ours", "floor"):
                cells = []
                for scenario in ("item", "first_page", "filtered"):
                    a, b = rps(run, f"{name}-w{high}", scenario), rps(run, f"{name}-w{low}", scenario)
                    cells.append(f"{b:,.0f} → {a:,.0f} ({a / b:.2f}x)" if a and b else "–")
                lines.append(f"| {int(size):,} | {name} | {' | '.join(cells)} |")
    return lines


def write_plot(results: dict, path: Path) -> None:
    sizes = [int(s) for s in results["sizes"]]
    runs = list(results["sizes"].values())
    ours, floor = ours_and_floor(runs[0]["targets"], results["workers"])
    targets = [(ours, "icc-events"), ("datasette", "Datasette"), (floor, "floor")]
    fig, axes = plt.subplots(1, len(targets), figsize=(15, 4.5), sharey=True)
    for axis, (target, title) in zip(axes, targets, strict=True):
        for index, scenario in enumerate(s for s in SCENARIOS if not s.dump):
            points = [
                (size, run["targets"][target][scenario.name]["p50_ms"])
                for size, run in zip(sizes, runs, strict=True)
                if run["targets"][target].get(scenario.name, {}).get("p50_ms")  # none: nothing answered
            ]
            if points:
                axis.plot(*zip(*points, strict=True), marker="o", color=f"C{index}", label=scenario.name)
        axis.set(title=title, xscale="log", yscale="log", xlabel="synthetic records")
        axis.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("p50 latency (ms)")
    for axis in axes:
        axis.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    results_path = Path(sys.argv[1])
    data = json.loads(results_path.read_text())
    write_report(data, results_path.with_name("results.md"))
    write_plot(data, results_path.with_name("p50_vs_records.png"))
    print(f"Wrote {results_path.with_name('results.md')} and p50_vs_records.png")
