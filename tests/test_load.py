"""A real server under concurrent readers and writers: zero 5xx, no write lost or doubled.

LOAD_SECONDS (default 10; the issue's figure is 60) and LOAD_CLIENTS (default 32) size the run;
the figures go to build/reliability/load.json, which docs/RELIABILITY.md quotes.
"""

import contextlib
import http.client
import itertools
import json
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import make_token
from tests.curation_data import new_organization

LOAD_SECONDS = float(os.environ.get("LOAD_SECONDS", "10"))
LOAD_CLIENTS = int(os.environ.get("LOAD_CLIENTS", "32"))
REPORT = Path(os.environ.get("RELIABILITY_REPORT_DIR", "build/reliability")) / "load.json"

READS = [
    "/v1/warrants",
    "/v1/warrants?status=outstanding&sort=-issued",
    "/v1/officials/tomoko-akane",
    "/v1/statements?speaker_official_id=tomoko-akane",
    "/v1/events?sort=-date&limit=2",
    "/v1/sanctions?limit=1",
    "/v1/organizations?sort=name",
    "/v1/sources",
    "/v1/officials/no-such-official",
    "/v1/warrants?limit=0",
    "/healthz",
]
# One request in WRITE_SHARE creates an organization; each acknowledged one is then checked
# present exactly once, with exactly one "created" entry in the change log.
WRITE_SHARE = float(os.environ.get("LOAD_WRITE_SHARE", "0.2"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(
    port: int, method: str, path: str, headers: dict | None = None, body: bytes | None = None
) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_until_serving(port: int, server: subprocess.Popen, log: Path, deadline_s: float = 30) -> None:
    """Polls /healthz until the server answers (readiness, not timing)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        assert server.poll() is None, log.read_text()
        try:
            if request(port, "GET", "/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("server did not start")


@pytest.fixture(scope="module")
def load_db(tmp_path_factory, seed_db_path) -> Path:
    db = tmp_path_factory.mktemp("load") / "icc-events.db"
    db.write_bytes(Path(seed_db_path).read_bytes())
    return db


@pytest.fixture(scope="module")
def write_headers(load_db) -> dict:
    token = make_token(load_db, "load", "write")
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def server_port(load_db, write_headers):
    db = load_db
    port = free_port()
    env = {**os.environ, "ICC_EVENTS_RATE_LIMIT_ENABLED": "0"}
    command = [sys.executable, "-m", "api", "serve", "--db", str(db), "--port", str(port), "--workers", "2"]
    log = db.parent / "server.log"
    with log.open("w") as log_file:
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log_file)
        try:
            wait_until_serving(port, server, log)
            yield port
        finally:
            server.terminate()
            server.wait(timeout=30)
    assert "Traceback" not in log.read_text()


class LoadRun:
    """What the clients saw: latencies, statuses, connection errors, acknowledged writes."""

    def __init__(self, port: int, write_headers: dict):
        self.port, self.write_headers = port, write_headers
        self.latencies, self.statuses, self.errors, self.created = [], Counter(), [], []

    def client(self, until: float, seed: int) -> None:
        rng = random.Random(seed)
        for i in itertools.count():
            if time.monotonic() >= until:
                return
            record_id = f"load-{seed}-{i}"
            write = rng.random() < WRITE_SHARE
            start = time.perf_counter()
            try:
                if write:
                    body = json.dumps(new_organization(record_id)).encode()
                    status, _ = request(self.port, "POST", "/v1/organizations", self.write_headers, body)
                else:
                    status, _ = request(self.port, "GET", rng.choice(READS))
            except OSError as error:
                self.errors.append(repr(error))
                continue
            self.latencies.append(time.perf_counter() - start)
            self.statuses[status] += 1
            if write and status == 201:
                self.created.append(record_id)


def test_concurrent_clients_get_no_5xx_and_lose_no_write(server_port, load_db, write_headers):
    run = LoadRun(server_port, write_headers)
    until = time.monotonic() + LOAD_SECONDS
    threads = [threading.Thread(target=run.client, args=(until, i)) for i in range(LOAD_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with contextlib.closing(sqlite3.connect(load_db)) as conn:
        stored = Counter(r[0] for r in conn.execute("SELECT id FROM organizations WHERE id LIKE 'load-%'"))
        logged = Counter(
            r[0]
            for r in conn.execute(
                "SELECT record_id FROM changes WHERE action = 'created' AND record_id LIKE 'load-%'"
            )
        )
    cuts = statistics.quantiles(run.latencies, n=100)
    report = {
        "clients": LOAD_CLIENTS,
        "seconds": LOAD_SECONDS,
        "workers": 2,
        "requests": len(run.latencies),
        "requests_per_second": round(len(run.latencies) / LOAD_SECONDS, 1),
        "statuses": {str(k): v for k, v in sorted(run.statuses.items())},
        "connection_errors": len(run.errors),
        "p50_ms": round(cuts[49] * 1000, 1),
        "p99_ms": round(cuts[98] * 1000, 1),
        "max_ms": round(max(run.latencies) * 1000, 1),
        "writes_acknowledged": len(run.created),
        "writes_stored": sum(stored.values()),
        "writes_in_change_log": sum(logged.values()),
    }
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2))
    print("load:", json.dumps(report))
    assert not run.errors, run.errors[:5]
    assert set(run.statuses) <= {200, 201, 400, 404}, run.statuses
    assert run.created, "no write was acknowledged"
    # Every acknowledged write stored exactly once and logged exactly once; nothing unacknowledged.
    assert stored == Counter(run.created) == logged


@pytest.mark.parametrize(
    "headers",
    [{"X-Huge": "x" * 20_000}, {f"X-H{i}": "1" for i in range(200)}],
    ids=["one-huge-header", "too-many-headers"],
)
def test_real_server_refuses_oversized_headers_with_4xx_and_keeps_serving(server_port, headers):
    status, _ = request(server_port, "GET", "/v1/warrants?limit=1", headers)
    assert 400 <= status < 500
    assert request(server_port, "GET", "/healthz")[0] == 200


def test_real_server_answers_an_overlong_request_line_with_4xx(server_port):
    status, _ = request(server_port, "GET", "/v1/warrants?status=" + "x" * 10_000)
    assert 400 <= status < 500
