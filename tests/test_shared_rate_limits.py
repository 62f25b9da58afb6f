"""Several app servers share one rate-limit budget through Redis or Memcached, as the README says:
real servers (`python -m api serve`), a real Redis and a real memcached on loopback, over sockets."""

import socket
import subprocess
import urllib.error
import urllib.request
from contextlib import ExitStack, contextmanager

import pytest

from tests.replication_cluster import wait_for
from tests.server_process import debian_program, free_port, running_server

DAEMONS = {
    # No persistence, loopback only: a budget store that lives and dies with the test.
    "redis": (
        "redis-server",
        ["--port", "{port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    ),
    # -u: memcached will not run as root without naming a user; -U 0: no UDP.
    "memcached": ("memcached", ["-l", "127.0.0.1", "-p", "{port}", "-U", "0", "-m", "16", "-u", "nobody"]),
}


@contextmanager
def daemon(kind: str):
    """A fresh Redis or memcached on a free loopback port; yields its process and limits storage URI."""
    name, arguments = DAEMONS[kind]
    port = free_port()
    command = [debian_program(name), *(argument.format(port=port) for argument in arguments)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: listening(port, process), 10, f"a listener on port {port}")
        yield process, f"{kind}://127.0.0.1:{port}"
    finally:
        process.kill()
        process.wait(timeout=10)


def listening(port: int, process) -> bool:
    assert process.poll() is None, f"the daemon exited with {process.returncode}"
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


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
