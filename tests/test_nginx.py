"""The production deployment: Debian's nginx with deploy/nginx.conf in front of the real app server.

nginx and the app run on loopback. Clients bind their sockets to addresses of 127.0.0.0/8 other than
127.0.0.1, so the address nginx forwards is told apart from nginx's own. Without nginx these tests
skip, except under CI=true, where they fail (.ci/run installs it).
"""

import contextlib
import gzip
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from seed.synth import add_synthetic_records
from tests.server_process import debian_program, free_port, running_server

ROOT = Path(__file__).parent.parent
SITE_CONFIG = ROOT / "deploy" / "nginx.conf"
UPSTREAM, LISTEN = "server 127.0.0.1:8000;", "listen 80;"
EXPORTS = ("/v1/export/sqlite", "/v1/export/csv.zip", "/v1/export/ftm")
SEARCH_BUDGET = 5


def nginx_binary() -> str:
    return debian_program("nginx")


def write_configuration(directory: Path, site: str) -> Path:
    """The site (a deploy/ configuration, rendered) inside a main configuration that keeps every
    file nginx writes in directory; returns the main configuration's path."""
    (directory / "icc-events.conf").write_text(site)
    # As root (CI), workers would run as nobody, who cannot enter pytest's private temp directory.
    user = "user root;\n" if os.geteuid() == 0 else ""
    main = f"""{user}worker_processes 2;
pid {directory}/nginx.pid;
error_log {directory}/error.log info;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {directory}/access.log;
    client_body_temp_path {directory}/client_body;
    proxy_temp_path {directory}/proxy;
    fastcgi_temp_path {directory}/fastcgi;
    uwsgi_temp_path {directory}/uwsgi;
    scgi_temp_path {directory}/scgi;
    include {directory}/icc-events.conf;
}}
"""
    (directory / "nginx.conf").write_text(main)
    return directory / "nginx.conf"


def render(directory: Path, listen_port: int, app_port: int) -> Path:
    """deploy/nginx.conf for these ports, inside a main configuration that keeps every file here."""
    site = SITE_CONFIG.read_text()
    assert site.count(UPSTREAM) == 1 and site.count(LISTEN) == 1
    site = site.replace(UPSTREAM, f"server 127.0.0.1:{app_port};")
    # A small send buffer, as a distant client's window would be: on loopback the kernel would
    # otherwise hold megabytes of a response for a reader that is not reading.
    site = site.replace(LISTEN, f"listen 127.0.0.1:{listen_port} sndbuf=16k;")
    return write_configuration(directory, site)


@contextlib.contextmanager
def running_nginx(directory: Path, app_port: int):
    """nginx in the foreground on a free loopback port; yields the port."""
    binary, port = nginx_binary(), free_port()
    config = render(directory, port, app_port)
    command = [binary, "-p", str(directory), "-c", str(config), "-e", str(directory / "error.log")]
    with subprocess.Popen([*command, "-g", "daemon off;"], stderr=subprocess.PIPE) as process:
        try:
            deadline = time.monotonic() + 20
            while True:
                assert process.poll() is None, process.stderr.read().decode()
                try:
                    if request(port, "GET", "/healthz")[0] == 200:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, "nginx did not come up"
                time.sleep(0.1)
            yield port
        finally:
            process.terminate()
            process.wait(timeout=10)


def request(port: int, method: str, path: str, headers=None, body=None, source: str = "127.0.0.1"):
    """One request over a new connection from the source address: (status, headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


@pytest.fixture(scope="module")
def deployment(seed_db_path, tmp_path_factory):
    """The app (2 workers, trusting nginx) and nginx in front of it: (nginx port, app log path)."""
    nginx_binary()
    directory = tmp_path_factory.mktemp("nginx")
    db_path, log_path = directory / "icc-events.db", directory / "server.log"
    db_path.write_bytes(seed_db_path.read_bytes())
    add_synthetic_records(db_path, 5000, seed=3)  # exports of megabytes: more than nginx keeps in memory
    env = {
        "ICC_EVENTS_TRUSTED_PROXIES": "127.0.0.1",
        "ICC_EVENTS_RATE_LIMIT_EXPENSIVE_READS": f"{SEARCH_BUDGET} per hour",
    }
    with running_server(db_path, log_path, workers=2, env=env) as (base_url, _):
        with running_nginx(directory, urlsplit(base_url).port) as port:
            yield port, log_path


def logged(log_path: Path, request_id: str) -> list[dict]:
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("request_id") == request_id]


def test_requests_through_nginx_reach_the_app(deployment):
    port, log_path = deployment
    status, headers, body = request(port, "GET", "/v1/warrants/warrant-benjamin-netanyahu")
    assert status == 200
    assert json.loads(body)["id"] == "warrant-benjamin-netanyahu"
    assert headers["Server"] == "nginx"  # server_tokens off: no version shown
    assert logged(log_path, headers["X-Request-ID"])


def test_the_app_logs_the_client_address_nginx_saw(deployment):
    port, log_path = deployment
    status, _, _ = request(port, "GET", "/healthz", {"X-Request-ID": "from-127-0-0-2"}, source="127.0.0.2")
    assert status == 200
    [entry] = logged(log_path, "from-127-0-0-2")
    assert entry["remote_addr"] == "127.0.0.2"


def test_a_client_cannot_choose_its_address_by_sending_x_forwarded_for(deployment):
    port, log_path = deployment
    headers = {"X-Forwarded-For": "6.6.6.6", "X-Request-ID": "spoofer"}
    assert request(port, "GET", "/healthz", headers, source="127.0.0.3")[0] == 200
    [entry] = logged(log_path, "spoofer")
    assert entry["remote_addr"] == "127.0.0.3"


def test_the_rate_limit_budget_is_per_client_address_behind_nginx(deployment):
    port, _ = deployment
    spent = [request(port, "GET", "/v1/search?q=court", source="127.0.0.4") for _ in range(SEARCH_BUDGET + 1)]
    assert [status for status, _, _ in spent] == [200] * SEARCH_BUDGET + [429]
    remaining = [int(headers["RateLimit-Remaining"]) for _, headers, _ in spent]
    assert remaining == [*range(SEARCH_BUDGET - 1, -1, -1), 0]
    assert spent[-1][1]["Content-Type"] == "application/problem+json"
    # Another client has its own budget, and cannot spend the first one's by naming it.
    other = request(port, "GET", "/v1/search?q=court", {"X-Forwarded-For": "127.0.0.4"}, source="127.0.0.5")
    assert other[0] == 200
    assert other[1]["RateLimit-Remaining"] == str(SEARCH_BUDGET - 1)


def test_a_body_over_the_size_limit_is_refused_by_nginx_with_413(deployment):
    port, log_path = deployment
    head = (
        "POST /v1/organizations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"X-Request-ID: too-large\r\nContent-Length: {5 * 1024 * 1024}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head.encode() + b"{" * 65536)
        # Read the answer while the body is still "coming" (a client that shuts its side down first
        # makes nginx see a client gone mid-body, and it then sends its own HTML page).
        response = b""
        with contextlib.suppress(ConnectionResetError):
            while b"\r\n\r\n" not in response or len(response.partition(b"\r\n\r\n")[2]) < int(
                re.search(rb"Content-Length: (\d+)", response)[1]
            ):
                if not (chunk := s.recv(65536)):
                    break
                response += chunk
    status_line, _, rest = response.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 413")
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert b"Content-Type: application/problem+json" in headers
    assert json.loads(body)["status"] == 413
    assert not logged(log_path, "too-large")  # nginx answered: the app never saw it


@pytest.mark.parametrize("path", ["/v1/warrants", "/v1/statements?limit=100", "/docs/assets/swagger-ui.css"])
def test_gzip_applies_through_nginx(deployment, path):
    port, _ = deployment
    status, headers, body = request(port, "GET", path, {"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    text = gzip.decompress(body)
    if path.startswith("/v1/"):
        assert json.loads(text)["data"]


class SlowReader(threading.Thread):
    """Downloads a path through a small receive window, 1 KiB every quarter second (4 KiB/s)."""

    def __init__(self, port: int, path: str, source: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.path, self.source, self.stop = port, path, source, stop
        self.received, self.reading = 0, threading.Event()

    def run(self) -> None:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.bind((self.source, 0))
            s.connect(("127.0.0.1", self.port))
            s.sendall(f"GET {self.path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            while chunk := s.recv(1024):
                self.received += len(chunk)
                self.reading.set()
                if self.stop.wait(0.25):
                    return


def partial_requests(port: int, count: int) -> list[socket.socket]:
    """Connections that send half a request and then nothing: headers cut short, or half a body."""
    sockets = []
    for n in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        if n % 2:
            s.sendall(b"GET /v1/warrants HTTP/1.1\r\nHost: x\r\nAccept: application/")
        else:
            s.sendall(b'POST /v1/organizations HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"id":')
        sockets.append(s)
    return sockets


def still_waiting(s: socket.socket) -> bool:
    """Whether the connection is open with nothing sent back yet."""
    s.setblocking(False)  # a socket with a timeout would wait for an answer instead
    try:
        s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except BlockingIOError:
        return True
    except OSError:  # reset
        return False
    return False


def test_slow_clients_through_nginx_leave_the_app_answering_others_quickly(deployment):
    port, _ = deployment
    sizes = {path: len(request(port, "GET", path, source="127.0.1.1")[2]) for path in EXPORTS}
    largest = max(sizes, key=sizes.get)
    assert sizes[largest] > 1024 * 1024
    stop = threading.Event()
    # Each reader from an address of its own, so the export's rate limit lets each one start.
    readers = [SlowReader(port, largest, f"127.0.2.{n + 1}", stop) for n in range(8)]
    for reader in readers:
        reader.start()
    stalled = []
    try:
        # Measured once every export is under way: the app has made them, the readers hold them.
        started = all(reader.reading.wait(timeout=60) for reader in readers)
        assert started, "an export never began: the app's workers are held by the readers before"
        # nginx drops these after client_header_timeout or client_body_timeout (10 s): opened now.
        stalled = partial_requests(port, 64)
        latencies = []
        paths = ["/healthz", "/v1/warrants/warrant-benjamin-netanyahu", "/v1/officials/tomoko-akane"]
        for n in range(90):
            started = time.perf_counter()
            status, _, _ = request(port, "GET", paths[n % len(paths)], source="127.0.3.1")
            latencies.append(time.perf_counter() - started)
            assert status == 200
        # The scenario held to the end: every reader still mid-export, every partial request open.
        assert all(reader.is_alive() and reader.received < sizes[largest] for reader in readers)
        assert all(still_waiting(s) for s in stalled)
    finally:
        stop.set()
        for s in stalled:
            s.close()
        for reader in readers:
            reader.join(timeout=10)
    p99 = statistics.quantiles(latencies, n=100)[98]
    # A correctness bound, generous on purpose: a worker held by a slow client would take seconds.
    assert p99 < 1.0, f"p99 {p99:.3f} s"
