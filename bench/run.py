"""Benchmark icc-events against Datasette and the floor on the same databases, the same load.

python bench/run.py --sizes 1000,100000,1000000     # the full run; see bench/README.md
python bench/run.py --smoke                         # a tiny size, one second per endpoint
"""

import json
import os
import platform
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from http.client import HTTPException
from importlib import metadata
from pathlib import Path

import click
import psutil

BENCH_DIR = Path(__file__).parent
sys.path[:0] = [str(BENCH_DIR.parent), str(BENCH_DIR)]

from page_cache import read_in, resident_share  # noqa: E402
from report import write_plot, write_report  # noqa: E402
from scenarios import CURRENT_ETAG, SCENARIOS  # noqa: E402
from servers import ROOT, running  # noqa: E402

from api.store.ranking import index_folder  # noqa: E402

READY = {"ours": "/healthz", "floor": "/lists/sources?limit=1", "datasette": "/-/versions.json"}
SYNTH_SEED = 0
SHOWN = {"rps", "p50_ms", "seconds", "peak_rss_mb", "skipped", "settle_s"}
# Random statements the cold scenarios ask in turn (ids, cursors, speaker and cursor): more than wrk
# asks in a round at these rates, drawn uniformly from the whole table with a fixed seed.
RANDOM_PICKS = 20_000
# Turns each target (and the sqlite3 loop) takes at a whole-collection dump: at most this many of
# --rounds, since one 1M dump takes about 15 s per target.
DUMP_ROUNDS = 3


def build(db_path: Path, size: int, rebuild: bool) -> dict:
    """The database of size synthetic records (plus the seed), built by `icc-events synth`, timed."""
    info_path = db_path.with_suffix(".json")
    if db_path.exists() and info_path.exists() and not rebuild:
        return json.loads(info_path.read_text())
    for path in (db_path, info_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm")):
        path.unlink(missing_ok=True)
    command = [sys.executable, "-m", "api", "synth", "--db", str(db_path), "--records", str(size)]
    command += ["--seed", str(SYNTH_SEED)]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise click.ClickException(f"{' '.join(command)} failed")
    info = {
        "records": size,
        "build_seconds": round(time.perf_counter() - started, 1),
        "build_peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # ru_maxrss is in KiB on Linux
        "file_mb": round(db_path.stat().st_size / 2**20, 1),
    }
    info_path.write_text(json.dumps(info))
    return info


def random_rows(db: sqlite3.Connection, columns: str, where: str = "1") -> list[tuple]:
    """RANDOM_PICKS rows drawn uniformly by rowid from the whole statements table, in random order."""
    low, high = db.execute("SELECT min(rowid), max(rowid) FROM statements").fetchone()
    rng = random.Random(SYNTH_SEED)
    picks = rng.sample(range(low, high + 1), min(RANDOM_PICKS * 2, high - low + 1))
    found = {}
    for start in range(0, len(picks), 900):
        chunk = picks[start : start + 900]
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT rowid, {columns} FROM statements WHERE rowid IN ({marks}) AND {where}"
        found.update((row[0], row[1:]) for row in db.execute(sql, chunk))
    return [found[p] for p in picks if p in found][:RANDOM_PICKS]


def commonest_words(db: sqlite3.Connection, count: int = 2) -> list[str]:
    """The indexed terms in the most statements (fts5vocab), commonest first, for searches that
    match most of them."""
    db.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, statements_fts, row)")
    rows = db.execute("SELECT term FROM temp.vocab ORDER BY doc DESC, term LIMIT ?", [count]).fetchall()
    return [term for (term,) in rows]


def fixtures(db_path: Path) -> dict:
    """Ids, sort values and words the scenarios ask about, read straight from the database."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    (count,) = db.execute("SELECT count(*) FROM statements").fetchone()
    statement_id, etag = db.execute(
        "SELECT id, etag FROM statements ORDER BY rowid LIMIT 1 OFFSET ?", [count // 2]
    ).fetchone()
    fts = db.execute("SELECT count(*) FROM sqlite_master WHERE name LIKE 'statements_fts%'").fetchone()[0]
    words = commonest_words(db) if fts else [None, None]
    word = words[0]
    matching = db.execute(
        "SELECT count(*) FROM statements_fts WHERE statements_fts MATCH ?", [f'"{word}"']
    ).fetchone()[0] if fts else 0  # fmt: skip
    both_words = " ".join(f'"{w}"' for w in words)
    both = db.execute(
        "SELECT count(*) FROM statements_fts WHERE statements_fts MATCH ?", [both_words]
    ).fetchone()[0] if fts else 0  # fmt: skip
    picks = {
        "random_statement_ids": [i for (i,) in random_rows(db, "id")],
        "random_cursors": [list(r) for r in random_rows(db, "said_sort, id")],
        "random_speaker_cursors": [
            list(r)
            for r in random_rows(db, "speaker_official_id, said_sort, id", "speaker_official_id IS NOT NULL")
        ],
    }
    db.close()
    return {
        "fts": bool(fts),
        "statements": count,
        "statement_id": statement_id,
        "statement_etag": etag,
        "common_word": word,
        "common_word_statements": matching,
        "two_common_words": words,
        "two_common_words_statements": both,
        **picks,
    }


def fetch(url: str, headers: dict) -> tuple[int, bytes, str | None]:
    """Status, body and ETag of one GET."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(), response.headers.get("ETag")
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers.get("ETag")


def returned_ids(body: bytes) -> list[str] | None:
    """The ids a JSON answer carries, whatever its envelope, to check that targets return the same rows."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    rows = data.get("data", data.get("rows")) if isinstance(data, dict) else None
    if rows is None:
        return [data["id"]] if isinstance(data, dict) and "id" in data else None
    if isinstance(rows, dict):
        return [rows["id"]]
    return [row["id"] for row in rows if isinstance(row, dict) and "id" in row]


def run_wrk(url: str, headers: dict, duration: int, threads: int, connections: int, paths=()) -> dict:
    """wrk on url, or on paths in turn (wrk_report.lua reads them from the WRK_PATHS file)."""
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "-s",
        str(BENCH_DIR / "wrk_report.lua"),
    ]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    with tempfile.NamedTemporaryFile("w", suffix=".paths") as paths_file:
        paths_file.write("".join(f"{path}\n" for path in paths))
        paths_file.flush()
        env = {**os.environ, "WRK_PATHS": paths_file.name} if paths else None
        output = subprocess.run([*command, url], capture_output=True, text=True, check=True, env=env).stdout
    stats = json.loads(re.search(r"^WRK_JSON (.*)$", output, re.M).group(1))
    seconds = stats["duration_us"] / 1e6
    return {
        "rps": round(stats["requests"] / seconds, 1),
        "p50_ms": stats["p50_us"] / 1000,
        "p90_ms": stats["p90_us"] / 1000,
        "p99_ms": stats["p99_us"] / 1000,
        "requests": stats["requests"],
        "errors": stats["errors"] + stats["status_errors"],
        "status_errors": stats["status_errors"],  # the rest are timeouts (over 2 s) and socket errors
    }


def tree_rss(process: psutil.Process) -> int:
    """The resident memory of the largest process of a server (master or worker)."""
    try:
        return max(p.memory_info().rss for p in [process, *process.children(recursive=True)])
    except psutil.Error:
        return 0


def tree_cpu_seconds(process: psutil.Process) -> float:
    """CPU time (user and system) used so far by a server's processes, master and workers."""
    total = 0.0
    for p in [process, *process.children(recursive=True)]:
        try:
            times = p.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def settle(server_pid: int, idle_share: float = 0.05, interval: float = 0.25, limit: float = 60.0) -> float:
    """Wait until the server has finished what it was asked (wrk leaves requests running on a server
    that cannot answer them within its 2 s), so that its leftover work does not land on the next
    target's turn: two intervals in a row under idle_share of one core, at most limit seconds.
    Returns how long it waited."""
    server, started, quiet = psutil.Process(server_pid), time.monotonic(), 0
    used = tree_cpu_seconds(server)
    while quiet < 2 and time.monotonic() - started < limit:
        time.sleep(interval)
        now = tree_cpu_seconds(server)
        quiet = quiet + 1 if now - used < idle_share * interval else 0
        used = now
    return round(time.monotonic() - started, 2)


def timed_dump(url: str, headers: dict, server_pid: int) -> dict:
    """Stream the whole answer once, measuring its time and the server's peak RSS meanwhile."""
    server = psutil.Process(server_pid)
    peak, done = [tree_rss(server)], threading.Event()
    before = peak[0]

    def sample():
        while not done.wait(0.02):
            peak.append(tree_rss(server))

    sampler = threading.Thread(target=sample)
    sampler.start()
    started, size, lines = time.perf_counter(), 0, 0
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=600) as response:
            while chunk := response.read(1 << 16):
                size += len(chunk)
                lines += chunk.count(b"\n")
    finally:
        done.set()
        sampler.join()
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "mb": round(size / 2**20, 1),
        "lines": lines,
        "rss_before_mb": round(before / 2**20, 1),
        "peak_rss_mb": round(max(peak) / 2**20, 1),
    }


def timed_loop(db_path: Path, fmt: str) -> dict:
    """bench/dump_loop.py as a whole process: its wall time and peak RSS."""
    command = [sys.executable, str(BENCH_DIR / "dump_loop.py"), "--db", str(db_path), "--format", fmt]
    started = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        return {"skipped": f"{' '.join(command)} failed"}
    return {
        "path": f"dump_loop.py --format {fmt}",
        "seconds": round(time.perf_counter() - started, 2),
        "mb": 0.0,  # written to /dev/null
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }


def clear_downloads(db_path: Path) -> None:
    """Remove the download files a server built, so the next whole-collection dump is built cold."""
    shutil.rmtree(f"{db_path}.downloads", ignore_errors=True)


def measure(scenario, request, base: str, server_pid: int, options: tuple, ids: dict) -> dict:
    """One scenario against a running server, after checking that it answers as expected."""
    url = base + request.path
    if scenario.dump:  # checked by its own status: fetching it twice would double the run
        return {"path": request.path, **timed_dump(url, request.headers, server_pid)}
    headers = request.headers
    if CURRENT_ETAG in headers.values():
        etag = fetch(url, {})[2] or ""
        headers = {k: etag if v == CURRENT_ETAG else v for k, v in headers.items()}
    status, body, _ = fetch(url, headers)
    if status != request.status:
        return {"skipped": f"HTTP {status} (expected {request.status})"}
    ids[scenario.name] = returned_ids(body)
    return {
        "path": request.path,
        "paths": len(request.paths) or 1,
        **run_wrk(url, headers, *options, request.paths),
    }


def server_name(target: str) -> str:
    """The server a target runs: ours-w2 is ours with 2 workers."""
    return target.split("-w")[0]


def median_round(measured: list[dict]) -> dict:
    """The round with the median req/s (the lower middle of an even count), with every round's req/s;
    for a dump, the round with the median time, with every round's seconds, and the highest peak RSS
    of any round (the memory target is a ceiling)."""
    timed = sorted((r for r in measured if "rps" in r), key=lambda r: r["rps"])
    if timed:
        return {**timed[(len(timed) - 1) // 2], "rounds_rps": [r.get("rps") for r in measured]}
    timed = sorted((r for r in measured if "seconds" in r), key=lambda r: r["seconds"])
    if timed:
        return {
            **timed[(len(timed) - 1) // 2],
            "rounds_seconds": [r.get("seconds") for r in measured],
            "peak_rss_mb": max(r["peak_rss_mb"] for r in timed),
        }
    return measured[0]


def served_files(db_path: Path) -> list[Path]:
    """The files the targets read their answers from: the database, and our search index beside it."""
    index = index_folder(str(db_path))
    return [db_path, *(sorted(p for p in index.rglob("*") if p.is_file()) if index.is_dir() else [])]


def warm(db_path: Path) -> dict:
    """Read every served file into the page cache; the share of the database resident before."""
    before = resident_share(db_path)
    for path in served_files(db_path):
        read_in(path)
    return {"before_read_in": round(before, 3)}


def measure_size(
    targets: list, db_path: Path, fix: dict, options: tuple, rounds: int
) -> tuple[dict, dict, dict]:
    """Every scenario against every target: figures, the ids each JSON answer returned, and how much
    of the database the page cache held at each scenario's start and end.

    All servers are up at once (an idle one costs nothing) and take turns within each scenario, for
    `rounds` rounds, keeping each target's median round: a burst of other work on a shared machine
    then hits every target alike instead of whichever one was running. Dumps take DUMP_ROUNDS turns,
    the sqlite3 loop among them, and run only for the largest worker count.

    Each scenario starts with the served files read into the page cache (bench/page_cache.py says
    why): random records and cursors then cost what the servers do, not what this VM's disk does.
    No server caches anything.
    """
    results = {target: {} for target, _ in targets}
    page_cache = {}
    ids = {target: {} for target, _ in targets}
    most_workers = max(count for target, count in targets if target != "datasette")
    with ExitStack() as stack:
        servers = {}
        for target, count in targets:
            server = server_name(target)
            servers[target] = stack.enter_context(running(server, db_path, count, READY[server]))
        for scenario in SCENARIOS:
            requests = {}
            for target, count in targets:
                request = scenario.urls(fix, db_path.stem).get(server_name(target))
                if request is None:
                    no_index = scenario.name == "search" and not fix["fts"]
                    results[target][scenario.name] = {
                        "skipped": "no FTS index" if no_index else "no equivalent"
                    }
                elif scenario.dump and target != "datasette" and count != most_workers:
                    results[target][scenario.name] = {"skipped": f"dumped with {most_workers} workers only"}
                else:
                    requests[target] = request
            measured = {target: [] for target in requests}
            page_cache[scenario.name] = warm(db_path)
            loop = scenario.urls(fix, db_path.stem).get("loop") if scenario.dump else None
            loops = []
            for _ in range(min(rounds, DUMP_ROUNDS) if scenario.dump else rounds):
                if loop:  # the loop takes its turn beside the servers, so a busy spell hits it too
                    loops.append(timed_loop(db_path, loop.path))
                for target, request in requests.items():
                    base, process = servers[target]
                    if scenario.dump:
                        clear_downloads(db_path)
                    try:
                        result = measure(scenario, request, base, process.pid, options, ids[target])
                    except (OSError, HTTPException, subprocess.CalledProcessError) as error:
                        result = {"skipped": f"failed: {error!r}"[:200]}
                    result["settle_s"] = settle(process.pid)
                    measured[target].append(result)
            page_cache[scenario.name]["end"] = round(resident_share(db_path), 3)
            if loops:
                results.setdefault("loop", {})[scenario.name] = median_round(loops)
            for target, rounds_measured in measured.items():
                results[target][scenario.name] = median_round(rounds_measured)
                shown = {k: v for k, v in results[target][scenario.name].items() if k in SHOWN}
                click.echo(f"  {target:<10} {scenario.name:<13} {shown}", err=True)
    return results, ids, page_cache


def same_rows(ids_by_target: dict) -> dict:
    """Per scenario, each target's JSON answer against ours: "same" ids in the same order, "same ids,
    other order" or "different"."""
    ours = next(target for target in ids_by_target if server_name(target) == "ours")
    verdicts = {}
    for scenario in SCENARIOS:
        expected = ids_by_target[ours].get(scenario.name)
        if not expected:
            continue
        verdicts[scenario.name] = {}
        for target, ids in ids_by_target.items():
            answer = ids.get(scenario.name)
            if target == ours or not answer:
                continue
            if answer == expected:
                verdicts[scenario.name][target] = "same"
            elif sorted(answer) == sorted(expected):
                verdicts[scenario.name][target] = "same ids, other order"
            else:
                verdicts[scenario.name][target] = "different"
    return verdicts


def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    memory = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1)
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()
    return {
        "cpu": re.search(r"model name\s*:\s*(.*)", cpuinfo).group(1),
        "cores": os.cpu_count(),
        "ram_gib": round(int(memory) / 2**20, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "wrk": wrk[0] if wrk else "?",
        **{name: metadata.version(name) for name in ("datasette", "granian", "flask", "marshmallow")},
    }


@click.command()
@click.option("--sizes", default="1000,100000", show_default=True, help="Synthetic record counts.")
@click.option("--workers", default="2", show_default=True, help="Worker counts, e.g. 1,2.")
@click.option("--duration", default=2, show_default=True, help="Seconds of load per endpoint and round.")
@click.option("--rounds", default=5, show_default=True, help="Turns each target takes per endpoint.")
@click.option("--connections", default=8, show_default=True)
@click.option("--threads", default=1, show_default=True, help="wrk threads.")
@click.option("--data-dir", default=str(BENCH_DIR / ".data"), show_default=True, type=click.Path())
@click.option("--out", default=str(BENCH_DIR / "results"), show_default=True, type=click.Path())
@click.option("--rebuild", is_flag=True, help="Rebuild databases that already exist.")
@click.option(
    "--smoke", is_flag=True, help="200 records, 1 s per endpoint, results in a temporary directory."
)
def main(sizes, workers, duration, rounds, connections, threads, data_dir, out, rebuild, smoke):
    """Build the databases, serve each with icc-events, Datasette and the floor, and load them with wrk."""
    # A plain `kill` must still stop the servers: exit through the context managers that own them.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if shutil.which("wrk") is None:
        raise click.ClickException("wrk is not installed (Debian: apt-get install -y wrk).")
    if smoke:
        sizes, duration, rounds, out = "200", 1, 1, tempfile.mkdtemp(prefix="bench-smoke-")
        data_dir = out
    data_dir, out = Path(data_dir), Path(out)
    data_dir.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    worker_counts = [int(w) for w in workers.split(",")]
    targets = [("datasette", 1)]
    for count in worker_counts:
        suffix = "" if len(worker_counts) == 1 else f"-w{count}"
        targets += [(f"ours{suffix}", count), (f"floor{suffix}", count)]
    results = {
        "machine": machine(),
        "load": {
            "duration_s": duration,
            "rounds": rounds,
            "connections": connections,
            "wrk_threads": threads,
        },
        "workers": worker_counts,
        "sizes": {},
    }
    for size in [int(s) for s in sizes.split(",")]:
        db_path = data_dir / f"icc{size}.db"
        click.echo(f"{size} records: building {db_path}", err=True)
        info = build(db_path, size, rebuild)
        fix = fixtures(db_path)
        # Other work on the machine skews every figure: keep the evidence beside them.
        load_before = os.getloadavg()[0]
        by_target, ids, page_cache = measure_size(
            targets, db_path, fix, (duration, threads, connections), rounds
        )
        results["sizes"][str(size)] = {
            "build": info,
            # The random picks are many, and drawn with a fixed seed: their counts are enough.
            "fixtures": {**fix, **{k: len(v) for k, v in fix.items() if k.startswith("random_")}},
            "targets": by_target,
            "same_rows": same_rows(ids),
            "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "page_cache": page_cache,
        }
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    write_report(results, out / "results.md")
    write_plot(results, out / "p50_vs_records.png")
    click.echo(f"Wrote {out}/results.md, results.json and p50_vs_records.png", err=True)


if __name__ == "__main__":
    main()
