"""The change feed and record histories: every write logged with its actor, deletions as tombstones."""

import json

import pytest
import sqlite_utils

from api.model.collections import COLLECTIONS
from api.store.changes import apply_change
from api.store.migrations import create_tables
from api.store.paging import encode_cursor
from api.web.app import create_app
from seed.loader import build_database
from tests.conftest import assert_problem
from tests.curation_data import JSON_HEADERS, PATCH_HEADERS, new_organization

URL = "/v1/organizations/test-monitor"


def read_feed(client, url: str = "/v1/changes?limit=7") -> tuple[list[dict], str]:
    """Every entry from url on, following links.next, and the cursor to resume from."""
    entries = []
    while True:
        response = client.get(url)
        assert response.status_code == 200
        body = response.get_json()
        entries.extend(body["data"])
        if body["links"]["next"] is None:
            return entries, body["cursor"]
        url = body["links"]["next"]


def curate(client, writer, admin) -> None:
    """Create, edit and delete a record."""
    assert (
        client.post(
            "/v1/organizations", data=json.dumps(new_organization()), headers={**writer, **JSON_HEADERS}
        ).status_code
        == 201
    )
    etag = client.get(URL).headers["ETag"]
    edit = {**writer, **PATCH_HEADERS, "If-Match": etag}
    assert client.patch(URL, data=json.dumps({"description": "Edited."}), headers=edit).status_code == 200
    etag = client.get(URL).headers["ETag"]
    assert client.delete(URL, headers={**admin, "If-Match": etag}).status_code == 204


def test_feed_starts_with_the_seed_load(client):
    entries, _ = read_feed(client)
    counts = {name: len(client.get(f"/v1/{name}?limit=500").get_json()["data"]) for name in COLLECTIONS}
    assert len(entries) == sum(counts.values())
    assert {(e["action"], e["actor"]) for e in entries} == {("created", "(seed)")}
    assert [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)


def test_feed_lists_writes_oldest_first_with_a_tombstone(client, writer, admin):
    _, cursor = read_feed(client)
    curate(client, writer, admin)
    entries, _ = read_feed(client, f"/v1/changes?since={cursor}")
    assert [(e["action"], e["actor"]) for e in entries] == [
        ("created", "alice"),
        ("updated", "alice"),
        ("deleted", "root"),
    ]
    created, updated, deleted = entries
    assert created["before"] is None and created["after"]["name"] == "Test Monitor"
    assert updated["before"] == created["after"] and updated["after"]["description"] == "Edited."
    assert deleted["before"] == updated["after"]
    assert deleted["after"] is None and deleted["etag"] is None


def test_caught_up_feed_is_empty_with_the_same_cursor(client):
    _, cursor = read_feed(client)
    response = client.get(f"/v1/changes?since={cursor}")
    assert response.status_code == 200
    assert response.get_json()["data"] == []
    assert response.get_json()["cursor"] == cursor
    assert "Link" not in response.headers


def test_history_shows_every_version_even_after_deletion(client, writer, admin):
    curate(client, writer, admin)
    assert_problem(client.get(URL), 404)
    response = client.get(f"{URL}/history")
    assert response.status_code == 200
    assert [e["action"] for e in response.get_json()["data"]] == ["created", "updated", "deleted"]


def test_history_of_an_id_that_never_existed_is_404(client):
    assert_problem(client.get("/v1/organizations/never-was/history"), 404)


@pytest.mark.parametrize(
    "query",
    [
        "since=garbage",
        f"since={encode_cursor('issued', ['x'])}",
        f"since={encode_cursor('changes', ['any-feed', '1'])}",
        f"since={encode_cursor('changes', [1])}",
        "limit=0",
        "colour=red",
    ],
    ids=["garbage", "list cursor", "string seq", "cursor without its feed", "limit", "unknown"],
)
def test_bad_feed_parameter_is_400_naming_it(client, query):
    body = assert_problem(client.get(f"/v1/changes?{query}"), 400)
    assert query.split("=")[0] in body["errors"]


def test_cursor_from_before_a_rebuild_is_410_and_the_feed_restarts(client, db_path):
    _, cursor = read_feed(client)
    build_database(db_path)  # what `icc-events import --replace` does: a new file, changes from 1 again
    body = assert_problem(client.get(f"/v1/changes?since={cursor}"), 410)
    assert "since" in body["errors"] and "from the beginning" in body["detail"]
    assert_problem(client.get(f"/v1/organizations/icc/history?since={cursor}"), 410)
    entries, fresh = read_feed(client)
    assert entries[0]["seq"] == 1
    assert read_feed(client, f"/v1/changes?since={fresh}")[0] == []


def test_cursor_outlives_a_restart_and_an_old_database_gets_a_feed(db_path):
    db = sqlite_utils.Database(db_path)
    # A database built before feeds had an identity, so before migrations were recorded too.
    db.execute("DROP TABLE feed")
    db.execute("DROP TABLE _sqlite_migrations")
    db.conn.close()
    first = create_app({"DATABASE": str(db_path), "TESTING": True}).test_client()
    _, cursor = read_feed(first)
    restarted = create_app({"DATABASE": str(db_path), "TESTING": True}).test_client()
    assert restarted.get(f"/v1/changes?since={cursor}").get_json()["data"] == []
    assert sqlite_utils.Database(db_path).execute("SELECT count(*) FROM feed").fetchone() == (1,)


def test_failed_write_leaves_no_audit_entry(client, writer):
    _, cursor = read_feed(client)
    bad = new_organization(parent_id="no-such-org")
    assert (
        client.post("/v1/organizations", data=json.dumps(bad), headers={**writer, **JSON_HEADERS}).status_code
        == 422
    )
    assert read_feed(client, f"/v1/changes?since={cursor}")[0] == []


def table_rows(db: sqlite_utils.Database) -> dict[str, list[dict]]:
    return {name: list(db.query(f"SELECT * FROM [{name}] ORDER BY id")) for name in COLLECTIONS}


def test_feed_replayed_into_an_empty_database_reproduces_it(client, writer, admin, db_path, tmp_path):
    curate(client, writer, admin)
    assert (
        client.post(
            "/v1/organizations", data=json.dumps(new_organization("kept")), headers={**writer, **JSON_HEADERS}
        ).status_code
        == 201
    )
    mirror = sqlite_utils.Database(tmp_path / "mirror.db")
    create_tables(mirror)
    for entry in read_feed(client)[0]:
        apply_change(mirror, entry)
    assert table_rows(mirror) == table_rows(sqlite_utils.Database(db_path))


def test_the_change_log_keeps_each_new_version_as_the_schema_dumps_it(tmp_path):
    # The log's `after` is read off the version's served JSON (fresh_snapshot), not dumped again:
    # it must be exactly the schema's dump, for every collection, synthetic records included.
    from api.store.changes import _json, fresh_snapshot, snapshot
    from seed.synth import add_synthetic_records

    path = tmp_path / "icc-events.db"
    add_synthetic_records(path, 300, seed=5)
    db = sqlite_utils.Database(path)
    for collection in COLLECTIONS.values():
        rows = list(db[collection.table].rows)
        assert rows, collection.name
        for row in rows:
            assert _json(fresh_snapshot(row)) == _json(snapshot(collection, row))
        logged = {
            r["record_id"]: r["after"]
            for r in db.query("SELECT record_id, after FROM changes WHERE collection = ?", [collection.name])
        }
        assert all(logged[row["id"]] == _json(snapshot(collection, row)) for row in rows)
