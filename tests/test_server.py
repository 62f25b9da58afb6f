"""The real server process: JSON access logs, request ids, how connections end, exit on SIGTERM."""

import http.client
import json
import signal
import socket
import sqlite3
import time
import urllib.request
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from gunicorn.config import Config
from gunicorn.http.body import LengthReader
from gunicorn.http.parser import RequestParser
from gunicorn.http.wsgi import create

from api.server import client_is_done, revalidation_environ
from seed.synth import add_synthetic_records
from tests.server_process import running_server


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
        assert process.wait(timeout=15) == 0
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    entry = next(line for line in lines if line.get("request_id") == "sigterm-test")
    assert {k: entry[k] for k in ("method", "path", "status")} == {
        "method": "GET",
        "path": "/v1/warrants",
        "status": 200,
    }
    assert entry["duration_ms"] > 0
    assert "Shutting down" in log_path.read_text()


def test_sigterm_lets_a_response_in_flight_finish_and_serves_nothing_new(seed_db_path, tmp_path):
    db_path, log_path = tmp_path / "icc-events.db", tmp_path / "server.log"
    db_path.write_bytes(seed_db_path.read_bytes())
    add_synthetic_records(db_path, 5000, seed=3)  # an NDJSON dump of ~6 MB: more than the socket buffers
    statements = sqlite3.connect(db_path).execute("SELECT count(*) FROM statements").fetchone()[0]
    with running_server(db_path, log_path) as (base_url, process):
        host, port = urlsplit(base_url).hostname, urlsplit(base_url).port
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
        # A new request is not served while the worker drains (it times out, or is reset at exit).
        with pytest.raises(OSError):
            urllib.request.urlopen(f"{base_url}/healthz", timeout=1)
        body += response.read()
        connection.close()
        assert process.wait(timeout=15) == 0
    lines = body.decode().splitlines()
    assert len(lines) == statements
    assert all(json.loads(line)["id"] for line in lines)
    logged = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    assert any(e.get("request_id") == "in-flight" and e["status"] == 200 for e in logged)


def raw_exchange(base_url: str, request: bytes) -> tuple[int, dict, bytes]:
    """Send raw bytes, read until the server closes: (status, headers, body)."""
    with socket.create_connection((urlsplit(base_url).hostname, urlsplit(base_url).port), timeout=5) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return int(status_line.split(" ")[1]), headers, body


def test_requests_gunicorn_refuses_get_a_problem_too(seed_db_path, tmp_path):
    db_path, log_path = tmp_path / "icc-events.db", tmp_path / "server.log"
    db_path.write_bytes(seed_db_path.read_bytes())
    many_headers = b"".join(b"X-H%d: 1\r\n" % i for i in range(150))
    cases = {
        414: b"GET /v1/warrants?x=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        431: b"GET /v1/warrants HTTP/1.1\r\nHost: x\r\n" + many_headers + b"\r\n",
        400: b"NOT HTTP AT ALL\r\n\r\n",
    }
    with running_server(db_path, log_path) as (base_url, _):
        for expected, request in cases.items():
            status, headers, body = raw_exchange(base_url, request)
            assert status == expected
            assert headers["Content-Type"] == "application/problem+json"
            assert headers["X-Content-Type-Options"] == "nosniff"
            problem = json.loads(body)
            assert problem["status"] == expected and problem["title"] and problem["detail"]
            assert b"aaaa" not in body and b"X-H1" not in body  # nothing of the request is echoed


@pytest.fixture(scope="module")
def live_server(seed_db_path, tmp_path_factory):
    directory = tmp_path_factory.mktemp("live")
    db_path = directory / "icc-events.db"
    db_path.write_bytes(seed_db_path.read_bytes())
    with running_server(db_path, directory / "server.log") as (base_url, _):
        yield urlsplit(base_url).hostname, urlsplit(base_url).port


def read_until_closed(s: socket.socket) -> bytes:
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    return data


def test_a_client_that_sent_its_whole_request_is_let_go_once_answered(live_server):
    with socket.create_connection(live_server, timeout=5) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        response = read_until_closed(s)
        assert response.startswith(b"HTTP/1.1 200 ")
        # The server's end is closed, not half-closed and waiting for ours: late bytes are reset.
        s.sendall(b"late")
        time.sleep(0.2)
        with pytest.raises((ConnectionResetError, BrokenPipeError)):
            s.sendall(b"late")
            s.recv(1)


def request_with_body_left(length: int) -> SimpleNamespace:
    return SimpleNamespace(body=SimpleNamespace(reader=LengthReader(None, length)))


@pytest.mark.parametrize(
    ("client_sends", "body_left", "done"),
    [
        (None, 0, True),  # nothing more waits on the socket
        ("close", 0, True),  # the client closed as soon as it had its answer
        (b"more", 0, False),  # late bytes: closing now would answer them with a reset
        (None, 10, False),  # the body was not read to its end
    ],
)
def test_a_client_is_done_only_when_nothing_but_its_close_is_left(client_sends, body_left, done):
    server, client = socket.socketpair()
    with server, client:
        if client_sends == "close":
            client.shutdown(socket.SHUT_WR)
        elif client_sends:
            client.sendall(client_sends)
        assert client_is_done(server, request_with_body_left(body_left)) is done
        if client_sends and client_sends != "close":
            assert server.recv(16) == client_sends  # looked at, not consumed


def test_a_client_still_sending_its_body_gets_the_whole_answer_and_no_reset(live_server):
    body = b'{"name": "' + b"x" * 20000 + b'"}'
    head = b"POST /v1/officials HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    head += b"Content-Length: %d\r\n\r\n" % len(body)
    with socket.create_connection(live_server, timeout=5) as s:
        s.sendall(head + body[:1000])
        response = read_until_closed(s)  # answered (401) before the body is read, then half-closed
        # The server lingers and reads the rest, rather than answering it with a reset.
        s.sendall(body[1000:10000])
        time.sleep(0.2)
        s.sendall(body[10000:])
        assert s.recv(1) == b""
    status_line, _, rest = response.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 401 UNAUTHORIZED"
    headers, _, problem = rest.partition(b"\r\n\r\n")
    assert b"Content-Type: application/problem+json" in headers
    assert json.loads(problem)["status"] == 401


def gunicorn_request(raw: bytes):
    """A request as gunicorn parses it, and the WSGI environ it would build for it."""
    cfg, peer = Config(), ("127.0.0.1", 50000)
    req = next(iter(RequestParser(cfg, iter([raw]), peer)))
    sink = SimpleNamespace(send=lambda data: len(data), sendall=lambda data: None)
    _, environ = create(req, sink, peer, "127.0.0.1:8000", cfg)
    return req, peer, environ


@pytest.mark.parametrize(
    "head",
    [
        b'GET /v1/warrants/warrant-benjamin-netanyahu HTTP/1.1\r\nHost: api.example\r\nIf-None-Match: "a"\r\n'
        b"Accept: application/json\r\n",
        b'HEAD /v1/statements?limit=5&kind=said HTTP/1.0\r\nIf-None-Match: W/"a", "b"\r\nAccept: */*\r\n'
        b"Origin: https://news.example\r\nX-Request-ID: r-1\r\n",
        b'GET /v1/officials/%C3%A9t%C3%A9 HTTP/1.1\r\nHost: h\r\nIf-None-Match: "a"\r\n',
    ],
)
def test_the_workers_early_environ_is_what_gunicorn_would_give_the_app(head):
    req, peer, environ = gunicorn_request(head + b"\r\n")
    early = revalidation_environ(req, peer)
    assert early is not None
    assert early == {key: environ[key] for key in early}


@pytest.mark.parametrize(
    "head",
    [
        b"GET /v1/warrants HTTP/1.1\r\nHost: h\r\n",  # nothing to revalidate
        b'POST /v1/warrants HTTP/1.1\r\nIf-None-Match: "a"\r\nContent-Length: 0\r\n',
        b'GET /v1/warrants HTTP/1.1\r\nIf-None-Match: "a"\r\nIf-None-Match: "b"\r\n',  # gunicorn joins them
        b'GET /v1/warrants HTTP/1.1\r\nIf-None-Match: "a"\r\nContent-Length: 2\r\n\r\nab',
    ],
)
def test_anything_but_a_plain_revalidation_is_left_to_the_app(head):
    req, peer, _ = gunicorn_request(head if head.endswith(b"ab") else head + b"\r\n")
    assert revalidation_environ(req, peer) is None


def exchange(address, request: bytes) -> tuple[bytes, dict]:
    with socket.create_connection(address, timeout=5) as s:
        s.sendall(request)
        response = read_until_closed(s)
    head, _, body = response.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return status.encode() + body, headers


@pytest.mark.parametrize("path", ["/v1/warrants/warrant-benjamin-netanyahu", "/v1/statements?limit=5"])
def test_a_304_the_worker_answers_itself_is_the_304_the_app_answers(live_server, path):
    host = f"Host: {live_server[0]}:{live_server[1]}\r\n"
    _, first = exchange(live_server, f"GET {path} HTTP/1.1\r\n{host}\r\n".encode())
    tag = first["ETag"]
    request = f"GET {path} HTTP/1.1\r\n{host}X-Request-ID: same\r\nIf-None-Match: {tag}\r\n"
    early = exchange(live_server, f"{request}\r\n".encode())
    # The same tag twice: gunicorn joins the two headers, so the worker leaves this one to the app.
    through_app = exchange(live_server, f"{request}If-None-Match: {tag}\r\n\r\n".encode())
    assert early[0] == through_app[0] == b"HTTP/1.1 304 NOT MODIFIED"
    assert early[1].pop("Date") and through_app[1].pop("Date")
    assert early[1] == through_app[1]
    assert early[1]["ETag"] == tag and early[1]["X-Request-ID"] == "same"


def test_a_stale_tag_still_gets_the_whole_record_from_the_worker(live_server):
    path = "/v1/warrants/warrant-benjamin-netanyahu"
    status_and_body, headers = exchange(
        live_server, f'GET {path} HTTP/1.1\r\nHost: x\r\nIf-None-Match: "stale"\r\n\r\n'.encode()
    )
    assert status_and_body.startswith(b"HTTP/1.1 200 OK")
    assert json.loads(status_and_body.split(b"OK", 1)[1])["id"] == "warrant-benjamin-netanyahu"
    assert headers["ETag"] != '"stale"'
