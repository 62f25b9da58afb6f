"""A real icc-events server process on a free loopback port, for tests that need one."""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from api.server.process import GRACEFUL_TIMEOUT

# How long a stopping server may take: its grace period, and then some. Granian stops at once when
# nothing is in flight, but a SIGTERM that lands while a worker is still starting leaves that
# worker to be killed at the end of the grace period.
STOP_TIMEOUT = GRACEFUL_TIMEOUT + 15


def debian_program(name: str) -> str:
    """The path of a program that .ci/run installs from Debian (package and program share the name):
    the test fails under CI=true when it is missing, and is skipped elsewhere."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not installed; .ci/run installs Debian's {name}")
        pytest.skip(f"{name} is not installed (apt-get install {name})")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assert_running(process, log_path: Path) -> str:
    """The server's log so far; AssertionError with its tail when the server has exited."""
    log = log_path.read_text(errors="replace")
    assert process.poll() is None, f"the server exited early; the log ends:\n{log[-3000:]}"
    return log


def wait_until_workers_started(log_path: Path, workers: int, process, timeout: float = 60.0) -> None:
    """Until Granian has logged "Started worker-N" for every worker: /healthz answers as soon as one
    worker is up, and a SIGTERM that reaches a worker still loading the app is ignored until the
    grace period ends (the stop then takes 30 s and may exit 1)."""
    wanted = {f"Started worker-{n}" for n in range(1, workers + 1)}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = assert_running(process, log_path)
        if all(line in log for line in wanted):
            return
        time.sleep(0.05)
    raise AssertionError(f"not every worker of {workers} started; the log ends:\n{log[-3000:]}")


def wait_until_up(url: str, process, log_path: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert_running(process, log_path)
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


@contextlib.contextmanager
def running_server(db_path: Path, log_path: Path, workers: int = 1, env: dict | None = None):
    """`python -m api serve` (Granian); yields (base URL, process); its stderr goes to log_path."""
    port = free_port()
    command = [sys.executable, "-m", "api", "serve", "--db", str(db_path), "--port", str(port)]
    command += ["--workers", str(workers)]
    with (
        log_path.open("wb") as log,
        subprocess.Popen(
            command,
            cwd=db_path.parent,
            stdout=subprocess.DEVNULL,
            stderr=log,
            env={**os.environ, **(env or {})},
        ) as process,
    ):
        try:
            wait_until_up(f"http://127.0.0.1:{port}/healthz", process, log_path)
            wait_until_workers_started(log_path, workers, process)
            yield f"http://127.0.0.1:{port}", process
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=STOP_TIMEOUT)
