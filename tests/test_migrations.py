"""Schema migrations: a database from the last release (c33979d) upgrades in place; a fresh one needs none."""

import gzip
import json
import shutil
import threading
import urllib.request
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

from api.cli import cli
from api.model.collections import COLLECTIONS
from api.store import migrations
from api.store.migrations import MIGRATIONS, migrate, pending
from api.web.app import create_app
from tests.conftest import make_token
from tests.curation_data import JSON_HEADERS, new_organization
from tests.server_process import STOP_TIMEOUT, running_server

# Built by that release's own `python -m api seed` (git archive c33979d), gzipped: 47 kB, not 600 kB.
RELEASE_DB = Path(__file__).parent / "fixtures" / "release-c33979d.db.gz"
STEPS = pending(sqlite_utils.Database(memory=True))  # every step, in order


@pytest.fixture
def release_db(tmp_path) -> Path:
    path = tmp_path / "release.db"
    with gzip.open(RELEASE_DB) as packed, path.open("wb") as out:
        shutil.copyfileobj(packed, out)
    return path


def schema(path) -> dict[str, tuple[set[str], set[str]]]:
    """Each table's column names and index names."""
    db = sqlite_utils.Database(path)
    try:
        return {
            t.name: (set(t.columns_dict), {i.name for i in t.indexes})
            for t in db.tables
            if t.name != MIGRATIONS.migrations_table
        }
    finally:
        db.conn.close()


def records(path) -> dict[str, list[dict]]:
    db = sqlite_utils.Database(path)
    try:
        return {
            name: list(db.query(f"SELECT * FROM [{c.table}] ORDER BY id")) for name, c in COLLECTIONS.items()
        }
    finally:
        db.conn.close()


def applied(path) -> list[str]:
    db = sqlite_utils.Database(path)
    try:
        return [m.name for m in MIGRATIONS.applied(db)]
    finally:
        db.conn.close()


def test_release_database_lacks_what_the_current_schema_has(release_db, seed_db_path):
    # The premise of the upgrade tests: without migrations this database is missing tables and columns.
    old, current = schema(release_db), schema(seed_db_path)
    assert "webhook_subscriptions" not in old
    assert "aliases" not in old["officials"][0] and "aliases" in current["officials"][0]
    assert pending(sqlite_utils.Database(release_db)) == STEPS


def test_fresh_seed_database_has_every_step_recorded_and_nothing_pending(seed_db_path):
    assert applied(seed_db_path) == STEPS
    assert migrate(str(seed_db_path)) == []


def test_migrate_command_upgrades_release_database_to_the_current_schema(release_db, seed_db_path):
    result = CliRunner().invoke(cli, ["migrate", "--db", str(release_db)])
    assert result.exit_code == 0, result.output
    assert [line.removeprefix("Applied ") for line in result.output.splitlines()[:-1]] == STEPS
    assert schema(release_db) == schema(seed_db_path)
    assert applied(release_db) == STEPS


def test_upgrade_keeps_every_record_and_its_ids_and_values(release_db):
    before = records(release_db)
    migrate(str(release_db))
    after = records(release_db)
    assert {n: [r["id"] for r in rows] for n, rows in after.items()} == {
        n: [r["id"] for r in rows] for n, rows in before.items()
    }
    assert sum(len(rows) for rows in after.values()) == 61
    for name, rows in before.items():
        for old, new in zip(rows, after[name], strict=True):
            changed = {k for k in old if old[k] != new[k]}
            assert changed <= {"etag"}, (name, old["id"], changed)
    officials = {r["id"]: r for r in after["officials"]}
    assert officials["donald-trump"]["aliases"] == "[]"  # the field's load default, not NULL
    assert officials["donald-trump"]["wikidata_id"] is None


def test_upgraded_release_database_passes_check_except_unsupported_fields(release_db):
    # ensure_provenance_columns' promise, kept by the provenance_columns step: the old citations name
    # no supports, so check lists those fields, and nothing else (etags, full-text indexes, schema).
    migrate(str(release_db))
    result = CliRunner().invoke(cli, ["check", "--db", str(release_db), "--json"])
    report = json.loads(result.output.splitlines()[-1])
    assert result.exit_code == 1
    assert report["findings"]
    assert {finding["check"] for finding in report["findings"]} == {"support"}


def test_migrating_twice_changes_nothing(release_db):
    assert migrate(str(release_db)) == STEPS
    once = release_db.read_bytes()
    assert migrate(str(release_db)) == []
    result = CliRunner().invoke(cli, ["migrate", "--db", str(release_db)])
    assert result.exit_code == 0
    assert "0 migration(s) applied" in result.output
    assert release_db.read_bytes() == once


def test_migrate_list_names_pending_steps_and_applies_none(release_db):
    result = CliRunner().invoke(cli, ["migrate", "--db", str(release_db), "--list"])
    assert result.exit_code == 0
    assert result.stdout.splitlines() == STEPS
    assert applied(release_db) == []


def test_migrate_refuses_a_missing_database(tmp_path):
    result = CliRunner().invoke(cli, ["migrate", "--db", str(tmp_path / "none.db")])
    assert result.exit_code == 1
    assert "No database at" in result.output
    assert not (tmp_path / "none.db").exists()


def test_concurrent_migrations_apply_each_step_once(release_db):
    results, errors = [], []

    def run():
        try:
            results.append(migrate(str(release_db)))
        except Exception as error:  # noqa: BLE001 - the assertion below reports it
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(name for names in results for name in names) == sorted(STEPS)
    assert applied(release_db) == STEPS


def test_app_serves_and_writes_an_upgraded_release_database(release_db):
    app = create_app({"DATABASE": str(release_db), "TESTING": True, "RATE_LIMIT_ENABLED": False})
    assert applied(release_db) == STEPS
    client = app.test_client()
    official = client.get("/v1/officials/donald-trump")
    assert official.status_code == 200
    assert official.get_json()["aliases"] == []
    token = make_token(release_db, "alice", "write")
    created = client.post(
        "/v1/organizations",
        data=json.dumps(new_organization()),
        headers={"Authorization": f"Bearer {token}", **JSON_HEADERS},
    )
    assert created.status_code == 201, created.get_json()
    assert client.get("/v1/organizations/test-monitor").status_code == 200
    assert client.get("/v1/search?q=Monitor").status_code == 200


def test_serve_migrates_a_release_database_once_before_its_workers_start(release_db, tmp_path):
    log = tmp_path / "server.log"
    with running_server(release_db, log, workers=2) as (base_url, process):
        with urllib.request.urlopen(f"{base_url}/v1/officials/donald-trump") as response:
            assert response.status == 200
            assert json.loads(response.read())["aliases"] == []
        process.terminate()
        assert process.wait(timeout=STOP_TIMEOUT) == 0
    migrated = [line for line in log.read_text().splitlines() if line.startswith("Migrated ")]
    # Printed by the serve process itself, one line per step: the two workers applied nothing.
    assert [line.rsplit(": ", 1)[1] for line in migrated] == STEPS
    assert applied(release_db) == STEPS


def test_rerendering_in_small_batches_stores_what_one_batch_stores(release_db, tmp_path, monkeypatch):
    # A 1M-record database is re-rendered a batch at a time, not read into memory whole; the
    # batches must cover every row and every change once, whatever their size.
    whole = tmp_path / "whole.db"
    shutil.copy(release_db, whole)
    migrate(str(whole))
    monkeypatch.setattr(migrations, "MIGRATION_BATCH", 3)
    migrate(str(release_db))
    assert records(release_db) == records(whole)
    db = sqlite_utils.Database(release_db)
    try:
        etags = list(db.query("SELECT seq, etag FROM changes ORDER BY seq"))
    finally:
        db.conn.close()
    assert len(etags) > 3
    assert etags == list(sqlite_utils.Database(whole).query("SELECT seq, etag FROM changes ORDER BY seq"))
