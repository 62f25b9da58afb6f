"""results.json as a Markdown table with ratios, and a plot of p50 latency against the record count."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: write files only
import matplotlib.pyplot as plt  # noqa: E402
from scenarios import SCENARIOS  # noqa: E402


def ratio(numerator: dict, denominator: dict) -> str:
    if "rps" not in numerator or "rps" not in denominator:
        return "–"
    return f"{numerator['rps'] / denominator['rps']:.2f}x"


def figures(result: dict | None) -> str:
    if not result:
        return "– | – | –"
    if "skipped" in result:
        return f"skipped: {result['skipped']} | | "
    if "rps" not in result:
        return f"{result['seconds']} s | {result['mb']} MB | peak RSS {result['peak_rss_mb']} MB"
    return f"{result['rps']:,.0f} | {result['p50_ms']:.2f} | {result['p99_ms']:.2f}"


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
        f"SQLite {m['sqlite']}, {m['wrk']}; Datasette {m['datasette']}, gunicorn {m['gunicorn']}, "
        f"Flask {m['flask']}, marshmallow {m['marshmallow']}.",
        "",
        f"Load: wrk, {load['wrk_threads']} thread(s), {load['connections']} connections, "
        f"{load['duration_s']} s per endpoint, on 127.0.0.1, one server at a time. "
        f"icc-events and the floor on gunicorn with {', '.join(map(str, results['workers']))} "
        "sync worker(s); "
        "Datasette as one process (`datasette serve -i`). Latencies in ms; ratios are req/s.",
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
        for scenario in SCENARIOS:
            row = [targets[t].get(scenario.name) for t in (ours, "datasette", floor)]
            lines.append(
                f"| {scenario.name} | {' | '.join(figures(r) for r in row)} "
                f"| {ratio(row[0] or {}, row[1] or {})} | {ratio(row[0] or {}, row[2] or {})} |"
            )
        for target in others:
            measured = [f"{name} {r['rps']:,.0f} req/s" for name, r in targets[target].items() if "rps" in r]
            lines.append(f"\n{target}: {'; '.join(measured)}.")
        before, after = run["load_average_1min"]
        lines.append(f"\nLoad average (1 min) of the machine before and after this size: {before}, {after}.")
        mismatched = [name for name, same in run["same_rows"].items() if not same]
        lines.append(
            "\nSame rows from every target that answered in JSON: "
            + ("yes" if not mismatched else f"NO for {', '.join(mismatched)}")
            + f" (checked: {', '.join(run['same_rows'])})."
        )
    path.write_text("\n".join(lines) + "\n")


def write_plot(results: dict, path: Path) -> None:
    sizes = [int(s) for s in results["sizes"]]
    runs = list(results["sizes"].values())
    ours, floor = ours_and_floor(runs[0]["targets"], results["workers"])
    targets = [(ours, "icc-events"), ("datasette", "Datasette"), (floor, "floor")]
    fig, axes = plt.subplots(1, len(targets), figsize=(15, 4.5), sharey=True)
    for axis, (target, title) in zip(axes, targets, strict=True):
        for index, scenario in enumerate(SCENARIOS):
            points = [
                (size, run["targets"][target][scenario.name]["p50_ms"])
                for size, run in zip(sizes, runs, strict=True)
                if "p50_ms" in run["targets"][target].get(scenario.name, {})
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
