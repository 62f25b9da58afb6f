"""Read replicas as deployed: primary + Litestream, a replica kept by `icc-events follow`, nginx in front.

Everything runs as deploy/replicas/README.md runs it, on loopback. Without nginx or Litestream these
tests skip, except under CI=true, where they fail (.ci/run installs nginx; the [test] extra, Litestream).
"""

import json
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime

import pytest

from api.config import SettingError, settings_from_environment
from api.web.app import create_app
from tests.replication_cluster import (
    background,
    create_organization,
    kill_server,
    litestream_binary,
    request,
    running_cluster,
    wait_for,
)
from tests.test_nginx import nginx_binary

# Bounds for a loaded 2-core machine, far above what the bench measures (bench/results/scale/).
CAUGHT_UP_WITHIN = 30


@pytest.fixture(scope="module")
def cluster(seed_db_path, tmp_path_factory):
    nginx_binary()
    litestream_binary()
    with running_cluster(tmp_path_factory.mktemp("replication"), seed_db_path, replicas=1) as cluster:
        yield cluster


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def logged_request_ids(log_path) -> set[str]:
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    return {line.get("request_id") for line in lines}


def assert_problem(status, headers, body, expected: int) -> dict:
    assert status == expected, body
    assert headers["Content-Type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == expected
    return problem


def new_id() -> str:
    return f"ngo-{uuid.uuid4().hex[:10]}"


def test_a_write_on_the_primary_is_read_back_through_nginx_from_the_replica(cluster, tmp_path_factory):
    port, record_id = cluster["nginx_port"], new_id()
    status, headers, body = create_organization(port, cluster["token"], record_id)
    assert status == 201, body
    change = headers["ICC-Events-Change"]
    assert int(change) > 0
    read = {"ICC-Events-Min-Change": change, "X-Request-ID": f"read-{record_id}"}
    status, headers, body = request(port, "GET", f"/v1/organizations/{record_id}", read)
    assert status == 200, body
    assert json.loads(body)["id"] == record_id
    assert int(headers["ICC-Events-Change"]) >= int(change)
    # Served by the replica (whose answers name the change they reached), not redirected.
    replica_log = cluster["replica_dirs"][0] / "replica1.log"
    wait_for(lambda: f"read-{record_id}" in logged_request_ids(replica_log), 10, "the replica's access line")


def test_a_replica_catches_up_without_being_asked(cluster):
    record_id = new_id()
    assert create_organization(cluster["nginx_port"], cluster["token"], record_id)[0] == 201
    replica = port_of(cluster["replica_urls"][0])
    started = time.monotonic()
    wait_for(
        lambda: request(replica, "GET", f"/v1/organizations/{record_id}")[0] == 200, CAUGHT_UP_WITHIN, "lag"
    )
    assert time.monotonic() - started < CAUGHT_UP_WITHIN


@pytest.mark.parametrize(
    "method, path, content_type",
    [
        ("POST", "/v1/organizations", "application/json"),
        ("PUT", "/v1/organizations/icc", "application/json"),
        ("PATCH", "/v1/organizations/icc", "application/merge-patch+json"),
        ("DELETE", "/v1/organizations/icc", None),
        ("POST", "/v1/webhooks", "application/json"),
        ("DELETE", "/v1/webhooks/anything", None),
    ],
)
def test_a_replica_refuses_writes_with_a_problem_naming_the_primary(cluster, method, path, content_type):
    replica = port_of(cluster["replica_urls"][0])
    headers = {"Authorization": f"Bearer {cluster['token']}", "If-Match": "*"}
    if content_type:
        headers["Content-Type"] = content_type
    status, response_headers, body = request(replica, method, path, headers, b"{}" if content_type else None)
    problem = assert_problem(status, response_headers, body, 421)
    assert problem["primary"] == cluster["primary_url"]
    assert cluster["primary_url"] in problem["detail"]


def test_writes_through_nginx_never_reach_the_replica(cluster):
    record_id = new_id()
    status, headers, _ = create_organization(cluster["nginx_port"], cluster["token"], record_id)
    assert status == 201
    replica_log = (cluster["replica_dirs"][0] / "replica1.log").read_text()
    assert headers["X-Request-ID"] not in replica_log


def test_a_replica_behind_answers_503_and_nginx_reads_from_the_primary(cluster):
    far = {"ICC-Events-Min-Change": str(10**12), "X-Request-ID": "far-ahead"}
    replica = port_of(cluster["replica_urls"][0])
    started = time.monotonic()
    status, headers, body = request(replica, "GET", "/v1/organizations/icc", far)
    waited = time.monotonic() - started
    problem = assert_problem(status, headers, body, 503)
    assert headers["Retry-After"] == "1"
    assert problem["primary"] == cluster["primary_url"] and problem["wanted_change"] == 10**12
    assert 2.0 <= waited < 2.0 + CAUGHT_UP_WITHIN  # ICC_EVENTS_REPLICA_WAIT_MS, 2000 by default
    far["X-Request-ID"] = "far-ahead-nginx"
    status, _, body = request(cluster["nginx_port"], "GET", "/v1/organizations/icc", far)
    assert status == 200, body
    assert json.loads(body)["id"] == "icc"
    primary_log = cluster["primary_db"].parent / "server.log"
    wait_for(lambda: "far-ahead-nginx" in logged_request_ids(primary_log), 10, "the primary's access line")


def test_a_malformed_min_change_is_a_400(cluster):
    replica = port_of(cluster["replica_urls"][0])
    status, headers, body = request(replica, "GET", "/v1/warrants", {"ICC-Events-Min-Change": "soon"})
    assert_problem(status, headers, body, 400)


def test_etags_and_cursors_stay_valid_across_replicas(cluster):
    primary, replica = port_of(cluster["primary_url"]), port_of(cluster["replica_urls"][0])
    record_id = new_id()
    status, headers, _ = create_organization(primary, cluster["token"], record_id)
    assert status == 201
    wanted = {"ICC-Events-Min-Change": headers["ICC-Events-Change"]}
    # One public host, as behind nginx: a page's links (and so its ETag) are built from it.
    host = {"Host": "icc-events.example"}
    for path in (f"/v1/organizations/{record_id}", "/v1/organizations?limit=5"):
        status, headers, _ = request(primary, "GET", path, host)
        assert status == 200
        status, _, _ = request(replica, "GET", path, {**host, **wanted, "If-None-Match": headers["ETag"]})
        assert status == 304, path
    status, _, body = request(primary, "GET", "/v1/changes?limit=2")
    next_page = json.loads(body)["links"]["next"]
    path = next_page[next_page.index("/v1/") :]
    status, _, body = request(replica, "GET", path, wanted)
    assert status == 200, body
    assert json.loads(body)["data"]


def test_point_in_time_restore_from_the_replica_store(cluster, tmp_path):
    port = port_of(cluster["primary_url"])
    replica = port_of(cluster["replica_urls"][0])
    before, after = new_id(), new_id()
    status, headers, _ = create_organization(port, cluster["token"], before)
    assert status == 201
    # Once a replica has it, the store has it.
    wanted = {"ICC-Events-Min-Change": headers["ICC-Events-Change"]}
    wait_for(
        lambda: request(replica, "GET", "/healthz", wanted)[0] == 200, CAUGHT_UP_WITHIN, "the first write"
    )
    moment = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    status, headers, _ = create_organization(port, cluster["token"], after)
    assert status == 201
    wanted = {"ICC-Events-Min-Change": headers["ICC-Events-Change"]}
    wait_for(
        lambda: request(replica, "GET", "/healthz", wanted)[0] == 200, CAUGHT_UP_WITHIN, "the second write"
    )
    restored = tmp_path / "restored.db"
    command = [
        litestream_binary(),
        "restore",
        "-timestamp",
        moment,
        "-o",
        str(restored),
        cluster["store_url"],
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    conn = sqlite3.connect(restored)
    try:
        ids = {
            row[0] for row in conn.execute("SELECT id FROM organizations WHERE id IN (?, ?)", [before, after])
        }
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    assert ids == {before}


def test_killed_servers_reads_go_on_and_writes_fail_cleanly_then_resume(cluster):
    """Last, as it kills servers: the primary (then started again), then the replica."""
    nginx = cluster["nginx_port"]
    kill_server(cluster["primary"])
    status, headers, body = create_organization(nginx, cluster["token"], new_id())
    problem = assert_problem(status, headers, body, 502)
    assert headers["Retry-After"] == "5" and problem["title"] == "Bad Gateway"
    assert [request(nginx, "GET", "/v1/warrants")[0] for _ in range(5)] == [200] * 5  # the replica's
    primary_db = cluster["primary_db"]
    command = [sys.executable, "-m", "api", "serve", "--db", str(primary_db), "--workers", "1"]
    command += ["--port", str(port_of(cluster["primary_url"]))]
    env = {"ICC_EVENTS_TRUSTED_PROXIES": "127.0.0.1"}
    with background(command, primary_db.parent / "server-again.log", env):
        resumed = wait_for(
            lambda: create_organization(nginx, cluster["token"], new_id())[0] == 201,
            CAUGHT_UP_WITHIN,
            "a write",
        )
        assert resumed
        kill_server(cluster["replicas"][0])
        with pytest.raises(OSError):
            request(port_of(cluster["replica_urls"][0]), "GET", "/healthz")
        # nginx leaves the dead replica out and reads from the primary, its backup server.
        assert [request(nginx, "GET", "/v1/warrants")[0] for _ in range(5)] == [200] * 5


@pytest.mark.parametrize("value", ["primary", "ftp://primary", "http://primary/?q=1"])
def test_a_bad_primary_url_names_the_variable(value):
    with pytest.raises(SettingError, match="ICC_EVENTS_PRIMARY_URL"):
        settings_from_environment({"ICC_EVENTS_PRIMARY_URL": value})


@pytest.mark.parametrize("value", ["-1", "10001", "soon"])
def test_a_bad_replica_wait_names_the_variable(value):
    with pytest.raises(SettingError, match="ICC_EVENTS_REPLICA_WAIT_MS"):
        settings_from_environment({"ICC_EVENTS_REPLICA_WAIT_MS": value})


def test_a_replica_opens_its_database_read_only_and_never_builds_one(db_path, tmp_path):
    before = db_path.read_bytes()
    app = create_app({"DATABASE": str(db_path), "PRIMARY_URL": "https://primary.example"})
    assert app.config["READ_ONLY"] is True
    assert app.test_client().get("/v1/warrants").status_code == 200
    assert db_path.read_bytes() == before
    with pytest.raises(Exception):  # noqa: B017 - whichever check finds it missing first
        create_app({"DATABASE": str(tmp_path / "missing.db"), "PRIMARY_URL": "https://primary.example"})
    assert not (tmp_path / "missing.db").exists()


def test_the_replica_serves_a_rollback_journal_copy_never_litestreams_follow_file(cluster):
    """A WAL-mode file swapped in would meet the old file's -wal and -shm; Litestream's follow file,
    read directly, would be blocked by (and go stale for) the server's open connections."""
    served = cluster["replica_dirs"][0] / "icc-events.db"
    header = served.read_bytes()[:20]
    assert header[18:20] == b"\x01\x01"  # rollback journal, not WAL
    assert not served.with_name("icc-events.db-wal").exists()
    assert (served.parent / "icc-events.db.follow" / "staging.db").exists()
