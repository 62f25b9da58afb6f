"""export writes the database as seed files; import builds an identical database from them."""

import sqlite_utils
from click.testing import CliRunner

from api.cli import cli
from api.model.collections import COLLECTIONS
from api.store.changes import snapshot
from api.store.db import connect
from api.store.editing import create_record
from api.store.webhooks import create_subscription
from tests.curation_data import new_organization


def invoke(*arguments):
    return CliRunner().invoke(cli, [str(a) for a in arguments])


def records_without_timestamps(db_path) -> dict[str, list[dict]]:
    db = sqlite_utils.Database(db_path)
    records = {}
    for name, collection in COLLECTIONS.items():
        rows = db.query(f"SELECT * FROM [{collection.table}] ORDER BY id")
        records[name] = [
            {k: v for k, v in snapshot(collection, row).items() if k not in ("created_at", "updated_at")}
            for row in rows
        ]
    return records


def test_export_then_import_round_trips_a_curated_database(db_path, tmp_path):
    db = connect(str(db_path))
    text = "Second article.\r\nWith a CR LF, which must survive the files."
    source = {
        "id": "second",
        "title": "Second",
        "text": text,
        "published": {"date": "2025", "precision": "year"},
    }
    create_record(db, COLLECTIONS["sources"], source, "alice")
    citation = {
        "source_id": "second",
        "start": 0,
        "end": 15,
        "quote": "Second article.",
        "supports": ["name", "kind"],
        "basis": "stated",
    }
    create_record(db, COLLECTIONS["organizations"], new_organization(citations=[citation]), "alice")
    db.conn.close()

    out, copy = tmp_path / "out", tmp_path / "copy.db"
    exported = invoke("export", "--db", db_path, out)
    assert exported.exit_code == 0, exported.output
    assert (out / "sources" / "second.txt").read_bytes() == text.encode()
    imported = invoke("import", "--db", copy, out)
    assert imported.exit_code == 0, imported.output
    assert records_without_timestamps(copy) == records_without_timestamps(db_path)

    again = tmp_path / "again"
    assert invoke("export", "--db", copy, again).exit_code == 0
    for path in out.rglob("*"):
        if path.is_file():
            assert (again / path.relative_to(out)).read_bytes() == path.read_bytes(), path


def test_import_refuses_to_overwrite_without_replace_and_keeps_tokens_with_it(db_path, tmp_path):
    out = tmp_path / "out"
    assert invoke("export", "--db", db_path, out).exit_code == 0
    assert invoke("tokens", "create", "--name", "alice", "--db", db_path).exit_code == 0
    refused = invoke("import", "--db", db_path, out)
    assert refused.exit_code == 1
    assert "--replace" in refused.output
    assert invoke("import", "--db", db_path, "--replace", out).exit_code == 0
    assert invoke("tokens", "list", "--db", db_path).output.startswith("alice\twrite")
    actors = {
        row["actor"] for row in sqlite_utils.Database(db_path).query("SELECT DISTINCT actor FROM changes")
    }
    assert actors == {"(import)"}


def test_import_keeps_webhook_subscriptions_and_drops_their_old_outbox(db_path, tmp_path):
    out = tmp_path / "out"
    assert invoke("export", "--db", db_path, out).exit_code == 0
    db = connect(str(db_path))
    subscription = create_subscription(db, "https://example.org/hook", [], [])
    create_record(db, COLLECTIONS["organizations"], new_organization("queued"), "alice")
    assert db["webhook_outbox"].count == 1
    db.conn.close()
    assert invoke("import", "--db", db_path, "--replace", out).exit_code == 0
    db = sqlite_utils.Database(db_path)
    kept = list(db.query("SELECT id, secret FROM webhook_subscriptions"))
    assert kept == [{"id": subscription["id"], "secret": subscription["secret"]}]
    assert db["webhook_outbox"].count == 0


def test_import_of_an_edited_file_with_a_bad_citation_fails_naming_it(db_path, tmp_path):
    out = tmp_path / "out"
    assert invoke("export", "--db", db_path, out).exit_code == 0
    path = out / "data" / "organizations.yaml"
    path.write_text(
        path.read_text().replace(
            "quote: International Criminal Court (ICC)", "quote: International Criminal Court [ICC]", 1
        )
    )
    result = invoke("import", "--db", tmp_path / "new.db", out)
    assert result.exit_code == 1
    assert "organizations.yaml" in result.output and "citations.0.quote" in result.output
    assert not (tmp_path / "new.db").exists()


def test_export_refuses_a_non_empty_directory(db_path, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    result = invoke("export", "--db", db_path, tmp_path / "out")
    assert result.exit_code == 1
    assert (tmp_path / "out" / "keep.txt").read_text() == "mine"
