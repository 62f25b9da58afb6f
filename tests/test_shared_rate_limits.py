"""Several app servers share one rate-limit budget through Redis or Memcached, as the README says:
real servers (`python -m api serve`), a real Redis and a real memcached on loopback, over sockets."""

import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import ExitStack, contextmanager

import pytest

from tests.server_process import free_port, running_server

DAEMONS = {
    # No persistence, loopback only: a budget store that lives and dies with the test.
    "redis": (
        "redis-server",
        ["--port", "{port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    ),
    # -u: memcached will not run as root without naming a user; -U 0: no UDP.
    "memcached": ("memcached", ["-l", "127.0.0.1", "-p", "{port}", "-U", "0", "-m", "16", "-u", "nobody"]),
}


def program(name: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if path is None:
        message = f"{name} is not installed (Debian: apt-get install {name})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"the shared rate-limit tests must run in CI: {message}")
        pytest.skip(message)
    return path


@contextmanager
def daemon(kind: str):
    """A fresh Redis or memcached on a free loopback port; yields its limits storage URI."""
    name, arguments = DAEMONS[kind]
    port = free_port()
    command = [program(name), *(argument.format(port=port) for argument in arguments)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        yield process, f"{kind}://127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait(timeout=10)


def wait_for_port(port: int, process, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the daemon exited with {process.returncode}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listened on port {port} within {timeout} s")


def status_of(url: str):
    """The status and headers (names compared case-insensitively, as Granian sends them lowercase)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


@pytest.mark.parametrize("kind", sorted(DAEMONS))
def test_two_app_servers_on_one_shared_storage_share_one_budget(kind, seed_db_path, tmp_path):
    with ExitStack() as stack:
        _, uri = stack.enter_context(daemon(kind))
        env = {"ICC_EVENTS_RATE_LIMIT_STORAGE": uri, "ICC_EVENTS_RATE_LIMIT_EXPENSIVE_READS": "3 per hour"}
        bases = []
        for host in ("one", "other"):  # two servers, each with a database of its own, as two hosts
            folder = tmp_path / host
            folder.mkdir()
            db_path = folder / "icc-events.db"
            db_path.write_bytes(seed_db_path.read_bytes())
            base, _ = stack.enter_context(running_server(db_path, folder / "server.log", env=env))
            bases.append(base)
        answers = [status_of(f"{base}/v1/search?q=court") for base in (*bases, *bases)]
    assert [status for status, _ in answers] == [200, 200, 200, 429]
    assert [headers["RateLimit-Remaining"] for _, headers in answers] == ["2", "1", "0", "0"]
    assert answers[3][1]["Content-Type"] == "application/problem+json"
    assert not any(path.name.endswith(".ratelimit.db") for path in tmp_path.rglob("*"))


@pytest.mark.parametrize("kind", sorted(DAEMONS))
def test_reads_go_on_uncounted_when_the_shared_storage_goes_away(kind, seed_db_path, tmp_path):
    db_path = tmp_path / "icc-events.db"
    db_path.write_bytes(seed_db_path.read_bytes())
    log_path = tmp_path / "server.log"
    with daemon(kind) as (store, uri):
        env = {"ICC_EVENTS_RATE_LIMIT_STORAGE": uri, "ICC_EVENTS_RATE_LIMIT_EXPENSIVE_READS": "3 per hour"}
        with running_server(db_path, log_path, env=env) as (base, _):
            counted = status_of(f"{base}/v1/search?q=court")
            store.kill()
            store.wait(timeout=10)
            uncounted = [status_of(f"{base}/v1/search?q=court") for _ in range(4)]
    assert counted[0] == 200 and counted[1]["RateLimit-Remaining"] == "2"
    assert [status for status, _ in uncounted] == [200] * 4
    assert not any("RateLimit-Remaining" in headers for _, headers in uncounted)
    log = log_path.read_text()
    assert "Rate limit storage failed" in log
    assert uri not in log  # a storage URI may hold a password: never logged
