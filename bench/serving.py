"""Which server should run the app: the same app and database on each, the same load, in one run.

    python bench/serving.py --db bench.db [--baseline-checkout DIR] [--out bench/results/serving]

Servers, each with 2 workers and its stock settings unless named:
- `baseline`: `python -m api serve` from another checkout (the release before, say), when given;
- `gunicorn-gthread`: stock gunicorn, `-k gthread --threads 8 --keep-alive 5`;
- `granian`: stock Granian in WSGI mode (`--interface wsgi --factory api.web.app:create_app`);
- `serve`: `python -m api serve` from this checkout, as the README starts it.

Load (wrk, -c16 -t2, over keep-alive where the server keeps connections open; every server is up at
once and they take turns, --rounds times; the median turn is kept):
- `items`: statements by id, a different random one each request (cold: 20,000 ids over the table);
- `pages`: pages of 50 from random cursors over the whole table;
- `items_304`: the same random items with their current ETag in If-None-Match.

Then the slow-client scenario: 64 connections that send half a request line and wait, and 8 clients
reading the largest download at about 4 KB/s, while a probe asks `/healthz` and random records one
after the other; its latency percentiles and the server's peak memory (all its processes) are kept.
Rate limits are off for the load (it is far past any per-client budget) and on for the slow clients.
"""

import argparse
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

BENCH_DIR = Path(__file__).parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(ROOT))

from api.store.paging import encode_cursor  # noqa: E402

WORKERS = 2
PAGE = 50


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_command(name: str, port: int, baseline: Path | None) -> tuple[list[str], dict]:
    """The command line and extra environment (beyond ICC_EVENTS_DB) for one server."""
    python = sys.executable
    if name in ("serve", "baseline"):
        command = [python, "-m", "api", "serve", "--port", str(port), "--workers", str(WORKERS)]
        return command, {"PYTHONPATH": str(baseline if name == "baseline" else ROOT)}
    if name == "gunicorn-gthread":
        return [
            python, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(WORKERS),
            "--worker-class", "gthread", "--threads", "8", "--keep-alive", "5", "api.web.app:create_app()",
        ], {"PYTHONPATH": str(ROOT)}  # fmt: skip
    if name == "granian":
        return [
            python, "-m", "granian", "--interface", "wsgi", "--factory", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(WORKERS), "api.web.app:create_app",
        ], {"PYTHONPATH": str(ROOT)}  # fmt: skip
    raise ValueError(name)


@contextmanager
def running(name: str, db_path: Path, baseline: Path | None, rate_limits: bool):
    port = free_port()
    command, env = server_command(name, port, baseline)
    env = {**os.environ, **env, "ICC_EVENTS_DB": str(db_path)}
    env["ICC_EVENTS_RATE_LIMIT_ENABLED"] = "true" if rate_limits else "false"
    process = subprocess.Popen(
        command,
        cwd=db_path.parent,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited early")
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield base, process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants, in KB (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def fixtures(db_path: Path, rng: random.Random) -> dict:
    """Random statement ids and page cursors spread over the whole table."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM statements")]
        positions = conn.execute("SELECT said_sort, id FROM statements ORDER BY said_sort, id").fetchall()
    items = rng.sample(ids, min(20_000, len(ids)))
    cursors = [list(positions[i]) for i in sorted(rng.sample(range(len(positions) - PAGE), 2000))]
    rng.shuffle(cursors)
    return {"items": items, "cursors": cursors}


def learn_etags(base: str, paths: list[str]) -> list[str]:
    tags = []
    for path in paths:
        with urllib.request.urlopen(base + path, timeout=10) as response:
            tags.append(response.headers["ETag"])
    return tags


def wrk(base: str, lines: list[str], duration: int) -> dict:
    """wrk -c16 -t2 over lines ("path" or "path<TAB>If-None-Match"), each request the next line."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as paths_file:
        paths_file.write("\n".join(lines) + "\n")
    command = ["wrk", "-c16", "-t2", f"-d{duration}s", "-s", str(BENCH_DIR / "wrk_paths.lua"), base]
    result = subprocess.run(
        command, env={**os.environ, "WRK_PATHS": paths_file.name}, capture_output=True, text=True
    )
    os.unlink(paths_file.name)
    for line in result.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            figures = json.loads(line[len("WRK_JSON ") :])
            figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
            return figures
    raise RuntimeError(result.stdout + result.stderr)


def load(base: str, fix: dict, duration: int) -> dict:
    item_paths = [f"/v1/statements/{i}" for i in fix["items"]]
    page_paths = [f"/v1/statements?limit={PAGE}&cursor={encode_cursor('said', c)}" for c in fix["cursors"]]
    revalidated = item_paths[:2000]
    tags = learn_etags(base, revalidated)
    return {
        "items": wrk(base, item_paths, duration),
        "pages": wrk(base, page_paths, duration),
        "items_full_same": wrk(base, revalidated, duration),
        "items_304": wrk(base, [f"{p}\t{t}" for p, t in zip(revalidated, tags, strict=True)], duration),
    }


def largest_download(base: str) -> str:
    """The biggest of the whole-database downloads, by the length it answers with."""
    sizes = {}
    for path in ("/v1/export/sqlite", "/v1/export/csv.zip", "/v1/export/ftm", "/v1/statements?format=ndjson"):
        request = urllib.request.Request(base + path)
        with urllib.request.urlopen(request, timeout=600) as response:
            sizes[path] = sum(len(chunk) for chunk in iter(lambda r=response: r.read(1 << 20), b""))
    return max(sizes, key=sizes.get)


def slow_clients(base: str, process: subprocess.Popen, fix: dict, seconds: float) -> dict:
    """64 half-sent requests and 8 readers at ~4 KB/s, and a probe's latency meanwhile."""
    host, port = base.removeprefix("http://").split(":")
    download = largest_download(base)
    stop = threading.Event()
    partial = []
    for _ in range(64):
        s = socket.create_connection((host, int(port)))
        s.sendall(b"GET /heal")
        partial.append(s)

    def read_slowly():
        try:
            with socket.create_connection((host, int(port)), timeout=120) as s:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.sendall(f"GET {download} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
                while not stop.is_set() and s.recv(1024):
                    time.sleep(0.25)
        except OSError:
            pass

    readers = [threading.Thread(target=read_slowly, daemon=True) for _ in range(8)]
    for reader in readers:
        reader.start()
    time.sleep(1)
    latencies, errors, peak_kb = [], 0, 0
    paths = ["/healthz"] + [f"/v1/statements/{i}" for i in fix["items"][:500]]
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        path = paths[n % len(paths)]
        n += 1
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(base + path, timeout=10) as response:
                response.read()
        except OSError:
            errors += 1
        latencies.append(time.perf_counter() - started)
        if n % 5 == 1:
            peak_kb = max(peak_kb, tree_rss_kb(process.pid))
    stop.set()
    for s in partial:
        s.close()
    latencies.sort()
    return {
        "download": download,
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
        "max_ms": 1000 * latencies[-1],
        "peak_rss_mb": peak_kb / 1024,
    }


def median_run(runs: list[dict]) -> dict:
    """The run with the median request rate, with every run's rate kept beside it."""
    ranked = sorted(runs, key=lambda figures: figures["rps"])
    return {**ranked[len(ranked) // 2], "rps_runs": [round(r["rps"]) for r in runs]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--baseline-checkout", type=Path, help="a checkout whose `api serve` is compared")
    parser.add_argument("--servers", default="baseline,gunicorn-gthread,granian,serve")
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk per figure")
    parser.add_argument("--rounds", type=int, default=3, help="turns each server takes at each load")
    parser.add_argument("--slow-seconds", type=float, default=15.0)
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results" / "serving")
    args = parser.parse_args()
    db_path = args.db.resolve()
    rng = random.Random(14203)
    fix = fixtures(db_path, rng)
    names = [n for n in args.servers.split(",") if n != "baseline" or args.baseline_checkout]
    results = {"machine": os.uname().nodename, "cores": os.cpu_count(), "workers": WORKERS, "servers": {}}
    runs: dict[str, list[dict]] = {name: [] for name in names}
    # Every server is up at once and they take turns, so a busy moment on the machine falls on all.
    with ExitStack() as stack:
        bases = {name: stack.enter_context(running(name, db_path, args.baseline_checkout, False))[0]
                 for name in names}  # fmt: skip
        for turn in range(args.rounds):
            for name in names:
                print(f"{name}: load, turn {turn + 1}", file=sys.stderr)
                runs[name].append(load(bases[name], fix, args.duration))
    for name in names:
        figures = {key: median_run([run[key] for run in runs[name]]) for key in runs[name][0]}
        print(f"{name}: slow clients", file=sys.stderr)
        with running(name, db_path, args.baseline_checkout, rate_limits=True) as (base, process):
            figures["slow_clients"] = slow_clients(base, process, fix, args.slow_seconds)
        results["servers"][name] = figures
        print(json.dumps({name: figures}), file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    (args.out / "results.md").write_text(table(results))


def table(results: dict) -> str:
    rows = [
        "| server | items req/s | pages req/s | item 304 req/s | 304 / same items | "
        "slow clients: probe p50 / p99 / max ms, errors | peak RSS MB |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    for name, f in results["servers"].items():
        s = f["slow_clients"]
        ratio = f["items_304"]["rps"] / f["items_full_same"]["rps"]
        rows.append(
            f"| {name} | {f['items']['rps']:,.0f} | {f['pages']['rps']:,.0f} | {f['items_304']['rps']:,.0f} "
            f"| {ratio:.2f}x | {s['p50_ms']:.1f} / {s['p99_ms']:.0f} / {s['max_ms']:.0f}, {s['errors']} "
            f"of {s['requests']} | {s['peak_rss_mb']:.0f} |"
        )
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    main()
