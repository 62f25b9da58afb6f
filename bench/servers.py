"""Start and stop the three servers the benchmark compares, each in its own process group."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

BENCH_DIR = Path(__file__).parent
ROOT = BENCH_DIR.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def commands(target: str, db_path: Path, port: int, workers: int) -> tuple[list[str], dict]:
    """The command line and extra environment that serve db_path on port."""
    python = sys.executable
    if target == "ours":
        return [
            python,
            "-m",
            "api",
            "serve",
            "--db",
            str(db_path),
            "--port",
            str(port),
            "--workers",
            str(workers),
            # Rate limits on, as deployed; wrk is one client asking for searches and exports far past
            # the per-client budget for them (30 a minute), so that one budget is raised, not removed.
        ], {"ICC_EVENTS_RATE_LIMIT_EXPENSIVE_READS": "1000000 per minute"}
    if target == "floor":
        # The same server (Granian, WSGI), worker count and keep-alive as `icc-events serve`; like
        # it, no Granian access log (bench/floor.py writes its own line, as the API does).
        return [
            python, "-m", "granian", "--interface", "wsgi", "--workers", str(workers),
            "--host", "127.0.0.1", "--port", str(port),
            "--working-dir", str(BENCH_DIR), "floor:app",
        ], {"FLOOR_DB": str(db_path)}  # fmt: skip
    if target == "datasette":
        return [
            python,
            "-m",
            "datasette",
            "serve",
            "-i",
            str(db_path),
            "--host",
            "127.0.0.1",
            "-p",
            str(port),
        ], {}
    raise ValueError(target)


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited early with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up in {timeout} s")


@contextmanager
def running(target: str, db_path: Path, workers: int, ready_path: str):
    """A server for target on a free loopback port, stopped (its whole process group) on exit."""
    port = free_port()
    command, env = commands(target, db_path, port, workers)
    # The server's own output beside the database: when one dies mid-run, its log says why.
    log = open(f"{db_path}.{target}.log", "ab")  # noqa: SIM115 (closed when the server stops)
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + ready_path, process)
        yield base, process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
