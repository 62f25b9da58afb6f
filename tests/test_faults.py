"""Storage faults with real SQLite files: 503 problems with Retry-After, reads kept where possible."""

import contextlib
import sqlite3
import subprocess
import sys

import pytest

from api.store.health import DatabaseUnusable, ensure_usable
from api.web.app import create_app
from api.web.database import get_db
from tests.conftest import ContractClient, assert_problem, make_token
from tests.curation_data import new_organization


def app_with_write_probe(db_path, **config):
    """An app with a test-only write route, standing in for the write API until it exists."""
    app = create_app({"DATABASE": str(db_path), "TESTING": True, **config})
    app.test_client_class = ContractClient

    @app.post("/probe-write")
    def probe_write():
        get_db().execute("UPDATE officials SET notes = 'probe' WHERE id = 'tomoko-akane'")
        return {"written": True}

    return app


def integrity_check(path) -> str:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def assert_storage_503(response) -> None:
    body = assert_problem(response, 503)
    assert int(response.headers["Retry-After"]) >= 1
    assert "sqlite" not in body["detail"].lower() and "/" not in body["detail"]


def test_read_only_database_answers_reads_and_refuses_writes_with_503(db_path):
    client = app_with_write_probe(db_path, READ_ONLY=True).test_client()
    assert client.get("/v1/officials/tomoko-akane").status_code == 200
    assert_storage_503(client.post("/probe-write"))


def test_full_database_refuses_writes_with_503_and_keeps_reads(db_path):
    # Simulates a full disk: SQLite's own page cap raises the same SQLITE_FULL a full mount would.
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    app = app_with_write_probe(db_path)

    @app.post("/probe-fill")
    def probe_fill():
        db = get_db()
        db.execute(f"PRAGMA max_page_count = {pages}")
        db.execute("UPDATE officials SET notes = ? WHERE id = 'tomoko-akane'", ["x" * 200_000])
        return {"written": True}

    client = app.test_client()
    assert_storage_503(client.post("/probe-fill"))
    assert client.get("/v1/officials/tomoko-akane").status_code == 200


def test_database_locked_by_another_process_is_503_after_a_bounded_wait(db_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None);"
            "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); sys.stdin.read()",
            str(db_path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        client = app_with_write_probe(db_path, DB_BUSY_TIMEOUT_MS=200).test_client()
        assert_storage_503(client.post("/probe-write"))
        # WAL: readers are not blocked by a writer's lock.
        assert client.get("/v1/officials/tomoko-akane").status_code == 200
    finally:
        holder.communicate("")
    assert integrity_check(db_path) == "ok"


@pytest.mark.parametrize(
    "content",
    [b"not a database at all" * 100, b"SQLite format 3\x00" + b"\xff" * 4080],
    ids=["garbage", "header"],
)
def test_corrupt_database_stops_create_app_with_one_clear_line(tmp_path, content):
    path = tmp_path / "corrupt.db"
    path.write_bytes(content)
    with pytest.raises(DatabaseUnusable, match="corrupt.db") as raised:
        create_app({"DATABASE": str(path)})
    assert "\n" not in str(raised.value)


def test_truncated_database_is_refused_at_start(db_path):
    data = db_path.read_bytes()
    db_path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatabaseUnusable):
        create_app({"DATABASE": str(db_path)})


def test_an_app_told_its_file_was_checked_starts_without_checking_it_again(db_path):
    # What `serve` tells its workers, having checked the file itself: a corrupt page the check would
    # refuse is then only met by a query that reads it.
    data = bytearray(db_path.read_bytes())
    data[-8192:-4096] = b"\xff" * 4096  # a page the start-up reads do not touch
    db_path.write_bytes(bytes(data))
    with pytest.raises(DatabaseUnusable):
        create_app({"DATABASE": str(db_path)})
    app = create_app({"DATABASE": str(db_path), "CHECK_ON_START": False})
    assert app.test_client().get("/healthz").status_code == 200


def test_a_worker_started_with_the_check_turned_off_in_its_environment_skips_it(db_path, monkeypatch):
    # `serve` hands the setting to its Granian workers through the environment, not through config.
    data = bytearray(db_path.read_bytes())
    data[-8192:-4096] = b"\xff" * 4096
    db_path.write_bytes(bytes(data))
    monkeypatch.setenv("ICC_EVENTS_CHECK_ON_START", "false")
    app = create_app({"DATABASE": str(db_path)})
    assert app.test_client().get("/healthz").status_code == 200


def test_start_up_check_reads_a_seed_sized_file_whole(db_path):
    assert ensure_usable(str(db_path)) is True


def test_start_up_check_stops_at_its_budget_on_a_file_it_cannot_read_in_time(tmp_path):
    path = tmp_path / "large.db"
    conn = sqlite3.connect(path)
    # NOT NULL columns make quick_check visit every row: some 0.2 s for these 2M, here.
    conn.execute("CREATE TABLE t (n INTEGER NOT NULL, s TEXT NOT NULL)")
    conn.execute(
        "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 2000000) "
        "INSERT INTO t SELECT i, 'x' FROM k"
    )
    conn.commit()
    conn.close()
    assert ensure_usable(str(path), budget=0.005) is False
    assert ensure_usable(str(path), budget=60) is True


def test_serve_on_a_corrupt_database_exits_nonzero_with_one_line(tmp_path):
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"garbage" * 1000)
    result = subprocess.run(
        [sys.executable, "-m", "api", "serve", "--db", str(path), "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("Error:") and "corrupt.db" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_database_is_built_from_the_seed(tmp_path):
    app = create_app({"DATABASE": str(tmp_path / "new.db")})
    assert app.test_client().get("/v1/officials/tomoko-akane").status_code == 200


def test_a_bug_in_sql_stays_a_500_not_a_503(app):
    @app.get("/probe-bug")
    def probe_bug():
        get_db().execute("SELECT no_such_column FROM officials")

    from flask.testing import FlaskClient

    body = assert_problem(FlaskClient(app).get("/probe-bug"), 500)
    assert "no_such_column" not in body["detail"]


@pytest.fixture
def small_mount(tmp_path):
    """A 4 MiB tmpfs (the seed database is about 1 MiB), when this machine lets us mount one (root
    with CAP_SYS_ADMIN)."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        # Lazy: the app's idle connection may still hold files there until it is collected.
        subprocess.run(["umount", "--lazy", str(mount_point)], check=True)


def test_full_disk_refuses_writes_with_503_and_keeps_reads(small_mount, db_path):
    path = small_mount / "icc-events.db"
    path.write_bytes(db_path.read_bytes())
    app = app_with_write_probe(path)

    @app.post("/probe-fill")
    def probe_fill():
        get_db().execute("UPDATE officials SET notes = ? WHERE id = 'tomoko-akane'", ["x" * 600_000])
        return {"written": True}

    client = app.test_client()
    assert client.get("/v1/officials/tomoko-akane").status_code == 200  # creates -shm while there is room
    filler = small_mount / "filler"
    with filler.open("wb", buffering=0) as out, contextlib.suppress(OSError):
        while True:  # until the mount is full: ENOSPC ends it
            out.write(b"\0" * 4096)
    assert_storage_503(client.post("/probe-fill"))
    assert client.get("/v1/officials/tomoko-akane").status_code == 200
    filler.unlink()
    app.extensions["wal_holder"].close()
    assert integrity_check(path) == "ok"


@pytest.mark.parametrize("fault", ["read-only", "full", "locked"])
def test_real_write_under_a_storage_fault_is_503_and_reads_go_on(db_path, fault):
    config = {"DATABASE": str(db_path), "TESTING": True, "DB_BUSY_TIMEOUT_MS": 200}
    holder = None
    if fault == "read-only":
        config["READ_ONLY"] = True
    app = create_app(config)
    app.test_client_class = ContractClient
    client = app.test_client()
    token = make_token(db_path, "writer", "write")  # made before the fault
    if fault == "full":
        with contextlib.closing(sqlite3.connect(db_path)) as conn:
            pages = conn.execute("PRAGMA page_count").fetchone()[0]

        @app.before_request
        def cap_pages():
            get_db().execute(f"PRAGMA max_page_count = {pages}")

    if fault == "locked":
        holder = sqlite3.connect(db_path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
    try:
        # Notes long enough to need new pages, so a capped database cannot take them.
        body = new_organization("fault-probe", notes="x" * 19_000)
        headers = {"Authorization": f"Bearer {token}"}
        response = client.post("/v1/organizations", json=body, headers=headers)
        assert_storage_503(response)
        assert client.get("/v1/officials/tomoko-akane").status_code == 200
    finally:
        if holder is not None:
            holder.execute("ROLLBACK")
            holder.close()
    assert client.get("/v1/organizations/fault-probe").status_code == 404
    assert integrity_check(db_path) == "ok"
