"""The download files through the real server: ranges, `curl -C -` resuming, rebuilds under load."""

import json
import shutil
import subprocess
import threading
import urllib.error
import urllib.request

import pytest

from api.exports.download_files import family_files
from tests.conftest import make_token
from tests.curation_data import new_organization
from tests.server_process import running_server

NO_RATE_LIMITS = {"ICC_EVENTS_RATE_LIMIT_ENABLED": "false"}
RESUMABLE = ["/v1/export/sqlite", "/v1/export/ftm", "/v1/statements?format=ndjson"]


@pytest.fixture(scope="module")
def server(seed_db_path, tmp_path_factory):
    directory = tmp_path_factory.mktemp("downloads-server")
    db_path = directory / "icc-events.db"
    shutil.copy(seed_db_path, db_path)
    with running_server(db_path, directory / "server.log", workers=2, env=NO_RATE_LIMITS) as (base_url, _):
        yield base_url


def fetch(url: str, method: str = "GET", **headers) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


@pytest.mark.parametrize("path", RESUMABLE)
def test_the_server_answers_ranges_suffixes_and_unsatisfiable_ones(server, path):
    status, headers, body = fetch(server + path)
    assert status == 200 and int(headers["Content-Length"]) == len(body)
    status, headers, part = fetch(server + path, Range="bytes=100-199")
    assert status == 206
    assert headers["Content-Range"] == f"bytes 100-199/{len(body)}"
    assert part == body[100:200]
    status, _, tail = fetch(server + path, Range="bytes=-7")
    assert (status, tail) == (206, body[-7:])
    status, headers, problem = fetch(server + path, Range=f"bytes={len(body)}-")
    assert status == 416
    assert headers["Content-Range"] == f"bytes */{len(body)}"
    assert headers["Content-Type"] == "application/problem+json"
    assert json.loads(problem)["status"] == 416
    status, headers, empty = fetch(server + path, method="HEAD")
    assert (status, int(headers["Content-Length"]), empty) == (200, len(body), b"")


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs the curl binary")
@pytest.mark.parametrize("path", RESUMABLE)
def test_curl_continue_at_resumes_a_broken_download(server, path, tmp_path):
    _, _, whole = fetch(server + path)
    saved = tmp_path / "download"
    saved.write_bytes(whole[: len(whole) // 3])  # what a broken connection left behind
    # curl fails (exit 33) when the server answers the resumed request with anything but a 206.
    command = ["curl", "-s", "-S", "-f", "-C", "-", "-o", str(saved), server + path]
    subprocess.run(command, check=True, timeout=60)
    assert saved.read_bytes() == whole


def add_organization(base_url: str, token: str, record_id: str) -> None:
    request = urllib.request.Request(
        f"{base_url}/v1/organizations",
        data=json.dumps(new_organization(record_id)).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201


def test_downloads_during_rebuilds_are_always_complete_and_match_their_etag(seed_db_path, tmp_path):
    db_path = tmp_path / "icc-events.db"
    shutil.copy(seed_db_path, db_path)
    token = make_token(db_path, "alice", "write")
    paths, writes = ["/v1/organizations?format=ndjson", "/v1/export/ftm"], 6
    bodies: dict[tuple[str, str], set[bytes]] = {}
    failures: list[str] = []
    writing = threading.Event()
    readers_started = threading.Barrier(len(paths) * 2 + 1, timeout=120)

    def download_until_written(path: str) -> None:
        # Downloads go on while the writer commits, so some race a rebuild of the file they ask for.
        first = True
        while True:
            done = writing.is_set()
            status, headers, body = fetch(f"{base_url}{path}")
            if first:
                readers_started.wait()  # every reader has the first version before the writes begin
                first = False
            if status != 200 or int(headers["Content-Length"]) != len(body):
                failures.append(f"{path}: {status}, {len(body)} of {headers['Content-Length']} bytes")
            elif not all(json.loads(line) for line in body.decode().splitlines()):
                failures.append(f"{path}: an empty line")
            bodies.setdefault((path, headers["ETag"]), set()).add(body)
            if done:
                return

    with running_server(db_path, tmp_path / "server.log", workers=2, env=NO_RATE_LIMITS) as (base_url, _):
        readers = [threading.Thread(target=download_until_written, args=(p,)) for p in paths * 2]
        for reader in readers:
            reader.start()
        try:
            readers_started.wait()
            for number in range(writes):
                add_organization(base_url, token, f"race-monitor-{number}")
        finally:
            writing.set()
            for reader in readers:
                reader.join(timeout=120)
        _, _, last = fetch(f"{base_url}/v1/organizations?format=ndjson")
    assert failures == []
    assert all(len(seen) == 1 for seen in bodies.values()), "one ETag, two different bodies"
    assert all(len({etag for p, etag in bodies if p == path}) > 1 for path in paths)  # across rebuilds
    ids = {json.loads(line)["id"] for line in last.decode().splitlines()}
    assert {f"race-monitor-{number}" for number in range(writes)} <= ids
    directory = tmp_path / "icc-events.db.downloads"
    assert not [p for p in directory.iterdir() if p.name.endswith(".tmp")]
    for path in family_files(directory, "organizations.ndjson"):
        assert all(json.loads(line) for line in path.read_text().splitlines())
