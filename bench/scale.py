"""Read replicas, measured: replication lag under a steady write load, reads through nginx with 1 and 2
replicas, and what clients see when a replica or the primary is killed.

Runs the deployment of deploy/replicas/ (tests/replication_cluster.py starts it as the README does):
the primary and its `litestream replicate`, two replicas each with `icc-events follow`, and Debian's
nginx, all on loopback. Writes to results.json and results.md in --out.

    python bench/scale.py --records 5000 --out bench/results/scale
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT))

from seed.loader import build_database  # noqa: E402
from seed.synth import add_synthetic_records  # noqa: E402
from tests.replication_cluster import (  # noqa: E402
    create_organization,
    kill_server,
    request,
    running_cluster,
    running_nginx,
)

# Writes come from many client addresses, so the default rate limit on writes (60 a minute per
# address) holds while the load is steady; each address stays under it.
WRITER_ADDRESSES = [f"127.0.9.{n}" for n in range(1, 41)]


def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    return {
        "cpu": re.search(r"model name\s*:\s*(.*)", cpuinfo).group(1),
        "cores": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "load_average_before": os.getloadavg(),
        "network": "loopback (ip netns works here, but this run does not use namespaces)",
    }


def percentile(values: list[float], p: int) -> float:
    return (
        round(statistics.quantiles(values, n=100, method="inclusive")[p - 1], 1)
        if len(values) > 1
        else values[0]
    )


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def replica_position(port: int) -> int:
    try:
        return int(request(port, "GET", "/healthz")[1].get("ICC-Events-Change", 0))
    except OSError:
        return 0


def measure_lag(cluster: dict, rate: float, seconds: float) -> dict:
    """Writes at rate per second through nginx; for each, the time until each replica serves it."""
    replicas = [port_of(url) for url in cluster["replica_urls"]]
    acked: list[tuple[int, float]] = []
    seen: dict[int, list[tuple[int, float]]] = {port: [] for port in replicas}
    writing = threading.Event()
    writing.set()

    def watch(port: int) -> None:
        last = 0
        while writing.is_set() or (acked and last < acked[-1][0]):
            position = replica_position(port)
            if position > last:
                seen[port].append((position, time.monotonic()))
                last = position
            time.sleep(0.005)

    watchers = [threading.Thread(target=watch, args=(port,), daemon=True) for port in replicas]
    for watcher in watchers:
        watcher.start()
    statuses: dict[int, int] = {}
    started = time.monotonic()
    for n in range(int(rate * seconds)):
        time.sleep(max(0.0, started + n / rate - time.monotonic()))
        source = WRITER_ADDRESSES[n % len(WRITER_ADDRESSES)]
        status, headers, _ = create_organization(
            cluster["nginx_port"], cluster["token"], f"lag-{n}-{time.time_ns()}", source
        )
        statuses[status] = statuses.get(status, 0) + 1
        if status == 201:
            acked.append((int(headers["ICC-Events-Change"]), time.monotonic()))
    writing.clear()
    for watcher in watchers:
        watcher.join(timeout=60)
    lags = []
    for port in replicas:
        for change, at in acked:
            arrival = next((when for position, when in seen[port] if position >= change), None)
            if arrival is not None:
                lags.append(max(0.0, arrival - at) * 1000)
    return {
        "writes_per_second": rate,
        "seconds": seconds,
        "write_statuses": statuses,
        "samples": len(lags),
        "unseen": len(acked) * len(replicas) - len(lags),
        "lag_ms_p50": percentile(lags, 50),
        "lag_ms_p99": percentile(lags, 99),
        "lag_ms_max": round(max(lags), 1),
    }


def read_paths(db_path: Path, count: int = 2000) -> list[str]:
    """Random records and random first pages, each a different URL."""
    import random
    import sqlite3

    rng = random.Random(0)
    conn = sqlite3.connect(db_path)
    try:
        records = [("statements", row[0]) for row in conn.execute("SELECT id FROM statements")]
        records += [("officials", row[0]) for row in conn.execute("SELECT id FROM officials")]
    finally:
        conn.close()
    paths = []
    for _ in range(count):
        if rng.random() < 0.8:
            collection, record_id = rng.choice(records)
            paths.append(f"/v1/{collection}/{quote(record_id)}")
        else:
            paths.append(f"/v1/statements?limit={rng.randint(5, 50)}")
    return paths


def run_wrk(port: int, paths: list[str], seconds: int, connections: int) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(ROOT / "bench" / "wrk_paths.lua")]
    with tempfile.NamedTemporaryFile("w", suffix=".paths") as paths_file:
        paths_file.write("".join(f"{path}\n" for path in paths))
        paths_file.flush()
        env = {**os.environ, "WRK_PATHS": paths_file.name}
        output = subprocess.run(
            [*command, f"http://127.0.0.1:{port}"], capture_output=True, text=True, env=env
        ).stdout
    stats = json.loads(re.search(r"^WRK_JSON (.*)$", output, re.M).group(1))
    return {
        "rps": round(stats["requests"] / (stats["duration_us"] / 1e6), 1),
        "p50_ms": stats["p50_us"] / 1000,
        "p99_ms": stats["p99_us"] / 1000,
        "requests": stats["requests"],
        "errors": stats["errors"] + stats["status_errors"],
    }


def statuses_during(action, call, seconds: float) -> dict:
    """Calls call() in a loop for seconds, running action() a quarter in: status counts before/after."""
    counts = {"before": {}, "after": {}}
    phase, started, acted = "before", time.monotonic(), None
    first_ok_after = None
    while time.monotonic() - started < seconds:
        if phase == "before" and time.monotonic() - started > seconds / 4:
            action()
            phase, acted = "after", time.monotonic()
        try:
            status = call()
        except OSError as error:
            status = type(error).__name__
        counts[phase][str(status)] = counts[phase].get(str(status), 0) + 1
        if phase == "after" and status in (200, 201) and first_ok_after is None:
            first_ok_after = round(time.monotonic() - acted, 2)
        time.sleep(0.02)
    return {**counts, "first_success_after_s": first_ok_after}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5000, help="synthetic records on top of the seed")
    parser.add_argument("--write-rate", type=float, default=5.0, help="writes per second for the lag run")
    parser.add_argument("--write-seconds", type=float, default=30.0)
    parser.add_argument("--read-seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "scale")
    args = parser.parse_args()
    results = {
        "command": " ".join(["python", "bench/scale.py", *sys.argv[1:]]),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "records": args.records,
    }
    with tempfile.TemporaryDirectory(prefix="icc-scale-") as work:
        work = Path(work)
        seed_db = work / "seed.db"
        build_database(seed_db)
        if args.records:
            add_synthetic_records(seed_db, args.records, seed=7)
        results["database_bytes"] = seed_db.stat().st_size
        with running_cluster(work / "cluster", seed_db, replicas=2) as cluster:
            results["lag"] = measure_lag(cluster, args.write_rate, args.write_seconds)
            print("lag", results["lag"], flush=True)
            paths = read_paths(seed_db)
            replica_ports = [port_of(url) for url in cluster["replica_urls"]]
            primary_port = port_of(cluster["primary_url"])
            reads = {}
            with running_nginx(work / "nginx-one", primary_port, replica_ports[:1]) as one:
                reads["1 replica"] = run_wrk(one, paths, args.read_seconds, args.connections)
            reads["2 replicas"] = run_wrk(cluster["nginx_port"], paths, args.read_seconds, args.connections)
            reads["primary alone, no nginx"] = run_wrk(
                primary_port, paths, args.read_seconds, args.connections
            )
            results["reads"] = reads
            print("reads", reads, flush=True)
            nginx = cluster["nginx_port"]
            some = iter(paths * 100)
            replica = cluster["replicas"][0]
            results["replica_killed"] = statuses_during(
                lambda: kill_server(replica), lambda: request(nginx, "GET", next(some))[0], 8
            )
            print("replica killed", results["replica_killed"], flush=True)
            primary = cluster["primary"]
            results["primary_killed_reads"] = statuses_during(
                lambda: kill_server(primary), lambda: request(nginx, "GET", next(some))[0], 6
            )
            counter = iter(range(10**6))
            results["primary_killed_writes"] = statuses_during(
                lambda: None,
                lambda: create_organization(
                    nginx, cluster["token"], f"down-{next(counter)}", WRITER_ADDRESSES[next(counter) % 40]
                )[0],
                3,
            )
            # The primary comes back on its port, on the same database; Litestream never stopped.
            restarted = {}

            def restart():
                restarted["server"] = start_primary(cluster, primary_port)

            results["primary_restarted_writes"] = statuses_during(
                restart,
                lambda: create_organization(
                    nginx, cluster["token"], f"back-{next(counter)}", WRITER_ADDRESSES[next(counter) % 40]
                )[0],
                12,
            )
            print("primary restarted", results["primary_restarted_writes"], flush=True)
            if "server" in restarted:
                restarted["server"].terminate()
                restarted["server"].wait(timeout=60)
    results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "results.md").write_text(report(results))
    print(f"wrote {args.out / 'results.json'} and results.md")


def start_primary(cluster: dict, port: int) -> subprocess.Popen:
    """`icc-events serve` for the primary again, on its old port (nginx's configuration names it)."""
    db_path = cluster["primary_db"]
    command = [
        sys.executable,
        "-m",
        "api",
        "serve",
        "--db",
        str(db_path),
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    log = (db_path.parent / "server-restarted.log").open("wb")
    env = {**os.environ, "ICC_EVENTS_TRUSTED_PROXIES": "127.0.0.1"}
    return subprocess.Popen(command, cwd=db_path.parent, stdout=subprocess.DEVNULL, stderr=log, env=env)


def report(results: dict) -> str:
    lag, reads, m = results["lag"], results["reads"], results["machine"]
    lines = [
        "# Read replicas: lag, read throughput, failures",
        "",
        f"`{results['command']}`, {results['started']} to {results['finished']} UTC.",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, {m['os']}, Python {m['python']};"
        f" load average before {', '.join(f'{x:.2f}' for x in m['load_average_before'])}; {m['network']}."
        " The machine is shared with other work.",
        f"Database: the seed plus {results['records']} synthetic records,"
        f" {results['database_bytes'] / 2**20:.1f} MiB.",
        "Everything runs on this one machine: primary, Litestream, two replicas with their followers, nginx",
        "and the load generators share its cores.",
        "",
        "## Replication lag",
        "",
        f"{lag['writes_per_second']} writes a second for {lag['seconds']} s through nginx (statuses"
        f" {lag['write_statuses']}); lag is from the write's acknowledgement to the first answer of a"
        " replica that names that change or a later one (`ICC-Events-Change`), polled every 5 ms.",
        "",
        "| samples | unseen | p50 | p99 | max |",
        "|---|---|---|---|---|",
        f"| {lag['samples']} | {lag['unseen']} | {lag['lag_ms_p50']} ms | {lag['lag_ms_p99']} ms"
        f" | {lag['lag_ms_max']} ms |",
        "",
        "## Reads through nginx",
        "",
        "wrk, 2 threads, random records (80%) and first pages of random sizes, 2,000 different URLs,"
        " each replica one worker process.",
        "",
        "| target | req/s | p50 | p99 | errors |",
        "|---|---|---|---|---|",
    ]
    for name, r in reads.items():
        lines.append(f"| {name} | {r['rps']} | {r['p50_ms']} ms | {r['p99_ms']} ms | {r['errors']} |")
    lines += ["", "## Failures", "", "Status counts before and after the event, one request every 20 ms.", ""]
    for key, title in [
        ("replica_killed", "A replica killed (SIGKILL) under reads"),
        ("primary_killed_reads", "The primary killed: reads"),
        ("primary_killed_writes", "The primary down: writes"),
        ("primary_restarted_writes", "The primary restarted: writes"),
    ]:
        r = results[key]
        lines.append(
            f"- **{title}**: before {r['before']}, after {r['after']};"
            f" first success after the event: {r['first_success_after_s']} s."
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
