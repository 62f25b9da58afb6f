"""The real server process: JSON logs, keep-alive and its timeouts, slow clients, SIGTERM and SIGHUP."""

import http.client
import json
import os
import signal
import socket
import sqlite3
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from seed.synth import add_synthetic_records
from tests.server_process import STOP_TIMEOUT, assert_running, running_server

# Short, so the tests that watch a timeout end soon; the default (10 s) is documented in the README.
SHORT_TIMEOUT = {"ICC_EVENTS_HEADER_READ_TIMEOUT": "1"}


def address(base_url: str) -> tuple[str, int]:
    return urlsplit(base_url).hostname, urlsplit(base_url).port


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants, in KB."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return total


def test_server_logs_json_lines_and_exits_0_on_sigterm(seed_db_path, tmp_path):
    db_path, log_path = tmp_path / "icc-events.db", tmp_path / "server.log"
    db_path.write_bytes(seed_db_path.read_bytes())
    with running_server(db_path, log_path, workers=2) as (base_url, process):
        request = urllib.request.Request(f"{base_url}/v1/warrants", headers={"X-Request-ID": "sigterm-test"})
        with urllib.request.urlopen(request) as response:
            assert response.status == 200
            assert response.headers["X-Request-ID"] == "sigterm-test"
        process.send_signal(signal.SIGTERM)
        # A bound, not a measurement: a server that ignores SIGTERM would hang here and fail.
        assert process.wait(timeout=STOP_TIMEOUT) == 0
    # Every line is JSON: the server's own lines are formatted like the access log.
    lines = [json.loads(line) for line in log_path.read_text().splitlines()]
    entry = next(line for line in lines if line.get("request_id") == "sigterm-test")
    assert {k: entry[k] for k in ("method", "path", "status")} == {
        "method": "GET",
        "path": "/v1/warrants",
        "status": 200,
    }
    assert entry["duration_ms"] > 0
    assert any("shutdown" in line["message"].lower() for line in lines)


@pytest.fixture(scope="module")
def big_db_path(seed_db_path, tmp_path_factory):
    """The seed plus 50,000 synthetic records: downloads far larger than the socket buffers, and than
    what a worker needs to serve them."""
    path = tmp_path_factory.mktemp("big") / "icc-events.db"
    path.write_bytes(seed_db_path.read_bytes())
    add_synthetic_records(path, 50_000, seed=3)
    return path


def test_sigterm_lets_a_response_in_flight_finish_and_serves_nothing_new(big_db_path, tmp_path):
    db_path, log_path = tmp_path / "icc-events.db", tmp_path / "server.log"
    db_path.write_bytes(big_db_path.read_bytes())
    statements = sqlite3.connect(db_path).execute("SELECT count(*) FROM statements").fetchone()[0]
    with running_server(db_path, log_path) as (base_url, process):
        host, port = address(base_url)
        client = socket.socket()
        # A small receive window: the server blocks mid-response until the client reads on.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        client.connect((host, port))
        connection = http.client.HTTPConnection(host, port)
        connection.sock = client
        connection.request("GET", "/v1/statements?format=ndjson", headers={"X-Request-ID": "in-flight"})
        response = connection.getresponse()
        assert response.status == 200
        body = response.read(1000)
        process.send_signal(signal.SIGTERM)
        time.sleep(1)
        assert process.poll() is None, "the server exited with a response still being sent"
        # A new request is not served while the workers drain (it times out, or is refused at exit).
        with pytest.raises(OSError):
            urllib.request.urlopen(f"{base_url}/healthz", timeout=1)
        body += response.read()
        connection.close()
        assert process.wait(timeout=STOP_TIMEOUT) == 0
    lines = body.decode().splitlines()
    assert len(lines) == statements
    assert all(json.loads(line)["id"] for line in lines)
    logged = [json.loads(line) for line in log_path.read_text().splitlines()]
    in_flight = [e for e in logged if e.get("request_id") == "in-flight"]
    # Its access line, and the line of the download file it built.
    assert any(e.get("status") == 200 for e in in_flight)
    assert any(e.get("download") == "statements.ndjson" for e in in_flight)


@pytest.fixture(scope="module")
def live_server(seed_db_path, tmp_path_factory):
    directory = tmp_path_factory.mktemp("live")
    db_path = directory / "icc-events.db"
    db_path.write_bytes(seed_db_path.read_bytes())
    with running_server(db_path, directory / "server.log", env=SHORT_TIMEOUT) as (base_url, _):
        yield address(base_url)


def test_connections_are_kept_alive_between_requests(live_server):
    connection = http.client.HTTPConnection(*live_server, timeout=5)
    for path in ("/healthz", "/v1/warrants", "/v1/statements?limit=2"):
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        assert response.headers.get("Connection", "").lower() != "close"
    first_socket = connection.sock
    connection.request("GET", "/healthz")
    connection.getresponse().read()
    assert connection.sock is first_socket  # the same TCP connection answered all four
    connection.close()


def closed_within(s: socket.socket, seconds: float) -> bool:
    """Whether the server closes its end (recv gives b"" or a reset) within seconds."""
    s.settimeout(seconds)
    try:
        while s.recv(65536):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


def test_an_idle_kept_alive_connection_is_closed_after_the_header_read_timeout(live_server):
    with socket.create_connection(live_server, timeout=5) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(65536).startswith(b"HTTP/1.1 200 ")
        assert closed_within(s, 5)


def test_a_client_that_sends_half_a_request_is_cut_off_after_the_header_read_timeout(live_server):
    with socket.create_connection(live_server, timeout=5) as s:
        s.sendall(b"GET /v1/warr")
        assert closed_within(s, 5)


def test_requests_the_server_refuses_are_4xx_and_the_server_goes_on(live_server):
    many_headers = b"".join(b"X-H%d: 1\r\n" % i for i in range(150))
    refused = [
        b"GET /v1/warrants HTTP/1.1\r\nHost: x\r\n" + many_headers + b"\r\n",
        b"NOT HTTP AT ALL\r\n\r\n",
    ]
    for request in refused:
        with socket.create_connection(live_server, timeout=5) as s:
            s.sendall(request)
            answer = s.recv(65536)
        assert answer.split(b" ")[1] in (b"400", b"431")
        assert b"X-H1" not in answer  # nothing of the request is echoed
    # A request line past the app's cap reaches the app, which answers in problem+json.
    connection = http.client.HTTPConnection(*live_server, timeout=5)
    connection.request("GET", "/v1/warrants?x=" + "a" * 9000)
    response = connection.getresponse()
    assert response.status == 414
    assert response.headers["Content-Type"] == "application/problem+json"
    assert b"aaaa" not in response.read()
    connection.request("GET", "/healthz")
    assert connection.getresponse().status == 200
    connection.close()


def read_slowly(address: tuple[str, int], path: str, stop: threading.Event, received: list) -> None:
    """Ask for path, then read 1 KB every 0.25 s (about 4 KB/s) until stopped."""
    with socket.create_connection(address, timeout=30) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        try:
            while not stop.is_set() and (chunk := s.recv(1024)):
                received.append(len(chunk))
                time.sleep(0.25)
        except TimeoutError:
            received.append(None)  # the test fails on it: a reader got nothing for 30 s


def test_no_client_delays_another_and_slow_readers_are_not_buffered(big_db_path, tmp_path):
    """64 half-sent requests and 8 slow readers of the largest download: others still get answers."""
    db_path = tmp_path / "icc-events.db"
    db_path.write_bytes(big_db_path.read_bytes())
    ids = [row[0] for row in sqlite3.connect(db_path).execute("SELECT id FROM statements LIMIT 200")]
    with running_server(db_path, tmp_path / "server.log", workers=2) as (base_url, process):
        server = address(base_url)
        sizes = {}
        for path in ("/v1/export/sqlite", "/v1/export/csv.zip", "/v1/statements?format=ndjson"):
            with urllib.request.urlopen(base_url + path, timeout=60) as response:
                sizes[path] = len(response.read())
        download = max(sizes, key=sizes.get)
        idle_kb = tree_rss_kb(process.pid)
        partial = [socket.create_connection(server) for _ in range(64)]
        for s in partial:
            s.sendall(b"GET /v1/warr")
        stop, received = threading.Event(), []
        readers = [
            threading.Thread(target=read_slowly, args=(server, download, stop, received)) for _ in range(8)
        ]
        for reader in readers:
            reader.start()
        latencies, peak_kb = [], idle_kb
        try:
            time.sleep(0.5)
            deadline = time.monotonic() + 6
            paths = ["/healthz"] + [f"/v1/statements/{i}" for i in ids]
            while time.monotonic() < deadline:
                path = paths[len(latencies) % len(paths)]
                started = time.perf_counter()
                with urllib.request.urlopen(base_url + path, timeout=5) as response:
                    assert response.status == 200
                    response.read()
                latencies.append(time.perf_counter() - started)
                peak_kb = max(peak_kb, tree_rss_kb(process.pid))
        finally:
            stop.set()
            for reader in readers:
                reader.join()
            for s in partial:
                s.close()
    latencies.sort()
    assert len(latencies) >= 50
    # A bound on correctness, not a speed target: a server with every worker held takes seconds.
    assert latencies[int(len(latencies) * 0.99)] < 1.0
    assert None not in received and sum(received) > 0  # the slow readers were served meanwhile
    # Eight readers of a download were not each buffered whole: memory grew by less than a quarter
    # of their eight copies (what is left is the workers' own working memory).
    assert (peak_kb - idle_kb) * 1024 < 8 * sizes[download] / 4


def test_sighup_reloads_the_workers_and_a_client_that_retries_a_reset_once_gets_every_answer(
    seed_db_path, tmp_path
):
    """Granian stops an old worker gracefully, but a connection that worker had accepted and not yet
    read is closed without an answer (about 1 request in 2,000, in 1 reload of 10, with
    net.ipv4.tcp_migrate_req set). The README tells clients to retry an idempotent request once on a
    reset; a client that does is answered every time, and resets stay that rare."""
    db_path, log_path = tmp_path / "icc-events.db", tmp_path / "server.log"
    db_path.write_bytes(seed_db_path.read_bytes())
    with running_server(db_path, log_path, workers=2) as (base_url, process):
        outcomes, resets, stop = [], [], threading.Event()

        def get_retrying_a_reset_once() -> int | str:
            for attempt in range(2):
                try:
                    with urllib.request.urlopen(base_url + "/v1/warrants", timeout=10) as response:
                        return response.status
                except (OSError, http.client.HTTPException) as error:
                    # http.client.RemoteDisconnected is a ConnectionResetError; urllib wraps one met
                    # while sending (a BrokenPipeError, say) in a URLError. Any other failure counts.
                    reset = isinstance(error, ConnectionError) or isinstance(
                        getattr(error, "reason", None), ConnectionError
                    )
                    if not reset or attempt:
                        return repr(error)
                    resets.append(repr(error))

        def ask_again_and_again():
            while not stop.is_set():
                outcomes.append(get_retrying_a_reset_once())

        clients = [threading.Thread(target=ask_again_and_again) for _ in range(4)]
        for client in clients:
            client.start()
        time.sleep(0.5)
        process.send_signal(signal.SIGHUP)
        # Granian starts each new worker before it stops the old one; wait until both were replaced.
        deadline = time.monotonic() + 30
        while log_path.read_text().count("Stopped old worker") < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)
        stop.set()
        for client in clients:
            client.join()
        assert log_path.read_text().count("Stopped old worker") == 2
    assert len(outcomes) > 20
    assert set(outcomes) == {200}
    # Rare, not routine: at most the one connection each stopped worker had accepted and not read.
    assert len(resets) <= 2


def worker_pids(pid: int) -> list[int]:
    """The Granian workers of a server: the child processes of its main process."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()]


def test_a_worker_that_dies_is_replaced_and_the_server_goes_on(seed_db_path, tmp_path):
    db_path, log_path = tmp_path / "icc-events.db", tmp_path / "server.log"
    db_path.write_bytes(seed_db_path.read_bytes())
    with running_server(db_path, log_path, workers=2) as (base_url, process):
        victim = worker_pids(process.pid)[0]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while "Unexpected exit" not in log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        # The replacement logs "Started worker-N" again: three starts for two workers.
        while assert_running(process, log_path).count("Started worker-") < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert log_path.read_text().count("Started worker-") == 3
        assert victim not in worker_pids(process.pid)
        assert len(worker_pids(process.pid)) == 2
        for _ in range(10):
            with urllib.request.urlopen(base_url + "/v1/warrants", timeout=10) as response:
                assert response.status == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=STOP_TIMEOUT) == 0
