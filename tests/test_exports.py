"""The data as files: a SQLite snapshot Datasette opens and a CSV bundle Frictionless validates."""

import asyncio
import csv
import io
import json
import re
import shutil
import sqlite3
import stat
import subprocess
import zipfile

import pytest
import sqlite_utils
from click.testing import CliRunner
from datasette.app import Datasette
from frictionless import Package, validate

from api.cli import cli
from api.exports.bulk import read_records, read_transaction
from api.model.collections import COLLECTIONS
from api.model.columns import public_columns
from api.model.rows import column_types
from tests.conftest import assert_problem

EXPORTS = ["/v1/export/ftm", "/v1/export/sqlite", "/v1/export/csv.zip"]


@pytest.mark.parametrize("path", EXPORTS)
def test_export_with_a_query_parameter_is_problem_400_naming_it(client, path):
    body = assert_problem(client.get(f"{path}?limit=5"), 400)
    assert set(body["errors"]) == {"limit"}


@pytest.mark.parametrize(
    ("path", "media_type", "filename"),
    [
        ("/v1/export/sqlite", "application/vnd.sqlite3", "icc-events.db"),
        ("/v1/export/csv.zip", "application/zip", "icc-events-csv.zip"),
    ],
)
def test_file_exports_are_attachments_with_a_filename(client, path, media_type, filename):
    response = client.get(path, buffered=True)
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert response.headers["Content-Disposition"] == f"attachment; filename={filename}"
    assert response.content_length == len(response.get_data()) > 0


@pytest.mark.parametrize("path", EXPORTS)
def test_export_answers_304_to_its_etag_until_a_record_changes(client, db_path, path):
    first = client.get(path, buffered=True)
    assert first.status_code == 200
    etag, weak = first.get_etag()
    assert etag and not weak
    again = client.get(path, headers={"If-None-Match": f'"{etag}"'}, buffered=True)
    assert again.status_code == 304
    assert again.get_data() == b"" and again.get_etag() == (etag, False)
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE officials SET name = 'Renamed', etag = 'changed' WHERE id = 'tomoko-akane'")
    changed = client.get(path, headers={"If-None-Match": f'"{etag}"'}, buffered=True)
    assert changed.status_code == 200
    assert changed.get_etag()[0] != etag


def test_an_export_reads_one_moment_while_records_change(db_path):
    with read_transaction(db_path) as db:
        before = read_records(db)
        with sqlite3.connect(db_path) as writer:  # commits while the export is still reading
            writer.execute("UPDATE officials SET name = 'Renamed' WHERE id = 'tomoko-akane'")
        assert read_records(db) == before
    with read_transaction(db_path) as db:
        assert read_records(db) != before


@pytest.fixture
def snapshot_path(client, db_path, tmp_path):
    # Something private beside the data, as a tokens table would be: it must not be exported.
    with sqlite3.connect(db_path) as conn:
        conn.execute("CREATE TABLE api_tokens (token TEXT)")
        conn.execute("INSERT INTO api_tokens VALUES ('secret')")
        conn.execute("CREATE VIEW token_list AS SELECT token FROM api_tokens")
        conn.execute(
            "CREATE TRIGGER log AFTER UPDATE ON officials BEGIN INSERT INTO api_tokens VALUES ('x'); END"
        )
    response = client.get("/v1/export/sqlite", buffered=True)
    assert response.status_code == 200
    path = tmp_path / "snapshot.db"
    path.write_bytes(response.get_data())
    return path


def test_sqlite_snapshot_holds_every_record_and_nothing_private(snapshot_path, db_path):
    snapshot, live = sqlite_utils.Database(snapshot_path), sqlite_utils.Database(db_path)
    for collection in COLLECTIONS.values():
        assert snapshot[collection.table].count == live[collection.table].count > 0
    assert "api_tokens" not in snapshot.table_names()
    # Only the collections and their full-text indexes: no tokens, no change log.
    indexes = tuple(fts for c in COLLECTIONS.values() if (fts := snapshot[c.table].detect_fts()))
    assert {t for t in snapshot.table_names() if not t.startswith(indexes)} == {
        c.table for c in COLLECTIONS.values()
    }
    # The view and trigger that named the dropped table are gone; full-text triggers stay.
    assert "token_list" not in snapshot.view_names()
    assert [t.name for t in snapshot.triggers if "api_tokens" in t.sql] == []
    assert b"secret" not in snapshot_path.read_bytes()  # not even in free pages


def test_sqlite_snapshot_is_one_self_contained_file(snapshot_path):
    header = snapshot_path.read_bytes()[:20]
    assert header.startswith(b"SQLite format 3\x00")
    assert header[18:20] == b"\x01\x01"  # rollback journal, not WAL: no -wal file needed beside it
    with sqlite3.connect(f"file:{snapshot_path}?mode=ro", uri=True) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def datasette_get(path, url: str):
    """GET a URL of this database from Datasette serving the file, in-process."""

    async def get():
        datasette = Datasette([str(path)])
        await datasette.invoke_startup()
        return await datasette.client.get(f"/{path.stem}{url}")

    return asyncio.run(get())


def test_sqlite_snapshot_opens_in_datasette(snapshot_path):
    response = datasette_get(snapshot_path, "/warrants.json?_shape=array&_sort=id")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()][:1] == ["warrant-benjamin-netanyahu"]


def test_full_text_search_works_in_datasette_on_every_indexed_table(snapshot_path):
    snapshot = sqlite_utils.Database(snapshot_path)
    indexed = {c.table: snapshot[c.table].detect_fts() for c in COLLECTIONS.values()}
    indexed = {table: fts for table, fts in indexed.items() if fts}
    if not indexed:
        pytest.skip("the database has no full-text tables yet")
    for table, fts in indexed.items():
        column = snapshot[fts].columns[0].name
        record_id, text = snapshot.execute(
            f"SELECT id, [{column}] FROM [{table}] WHERE [{column}] <> '' ORDER BY id LIMIT 1"
        ).fetchone()
        word = re.findall(r"\w{3,}", text)[0]
        url = f"/{table}.json?_shape=array&_size=max&_search={word}"
        response = datasette_get(snapshot_path, url)
        assert response.status_code == 200, (table, response.text)
        assert record_id in [row["id"] for row in response.json()], (table, word)


@pytest.fixture
def bundle_dir(client, tmp_path):
    response = client.get("/v1/export/csv.zip", buffered=True)
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as bundle:
        names = bundle.namelist()
        bundle.extractall(tmp_path / "bundle")
    assert names == ["datapackage.json", *(f"{name}.csv" for name in COLLECTIONS)]
    return tmp_path / "bundle"


@pytest.fixture
def bundle_path(client, tmp_path):
    response = client.get("/v1/export/csv.zip", buffered=True)
    assert response.status_code == 200
    path = tmp_path / "icc-events-csv.zip"
    path.write_bytes(response.get_data())
    return path


def test_every_bundle_entry_is_a_regular_file_readable_by_all(bundle_path):
    with zipfile.ZipFile(bundle_path) as bundle:
        modes = {info.filename: info.external_attr >> 16 for info in bundle.infolist()}
    assert modes and set(modes.values()) == {stat.S_IFREG | 0o644}, {k: oct(v) for k, v in modes.items()}


@pytest.mark.skipif(shutil.which("unzip") is None, reason="no unzip binary")
def test_unzip_unpacks_the_bundle_as_rw_r_r(bundle_path, tmp_path):
    out = tmp_path / "unzipped"
    subprocess.run(["unzip", "-q", str(bundle_path), "-d", str(out)], check=True)
    modes = {path.name: stat.filemode(path.stat().st_mode) for path in out.iterdir()}
    assert len(modes) == len(COLLECTIONS) + 1
    assert set(modes.values()) == {"-rw-r--r--"}, modes


def test_csv_bundle_is_a_valid_frictionless_data_package(bundle_dir):
    report = validate(bundle_dir / "datapackage.json")
    assert report.valid, report.flatten(["resourcePath", "rowNumber", "fieldName", "type", "note"])


def test_csv_bundle_holds_every_record_and_describes_every_field(bundle_dir, db_path):
    package = Package(bundle_dir / "datapackage.json")
    live = sqlite_utils.Database(db_path)
    assert [r.name for r in package.resources] == list(COLLECTIONS)
    for resource in package.resources:
        assert len(resource.read_rows()) == live[resource.name].count
        assert resource.schema.field_names == public_columns(COLLECTIONS[resource.name])
        assert all(field.description for field in resource.schema.fields), resource.name


def test_frictionless_catches_a_broken_reference_in_the_bundle(bundle_dir):
    # The check has teeth: a warrant pointing at no organization fails validation.
    path = bundle_dir / "warrants.csv"
    rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
    rows[0]["court_id"] = "no-such-court"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
    report = validate(bundle_dir / "datapackage.json")
    assert not report.valid
    assert "foreign-key" in [error.type for error in report.tasks[0].errors]


def test_csv_array_columns_hold_json(bundle_dir):
    row = next(csv.DictReader((bundle_dir / "warrants.csv").read_text(encoding="utf-8").splitlines()))
    assert json.loads(row["citations"])[0]["source_id"] == "trump-campaign-against-icc-faces-resistance"


@pytest.mark.parametrize(
    ("export_format", "name"), [("sqlite", "out.db"), ("csv", "out.zip"), ("ftm", "out.ftm.json")]
)
def test_cli_export_writes_each_format(db_path, tmp_path, export_format, name):
    out = tmp_path / name
    result = CliRunner().invoke(cli, ["export", "--format", export_format, "--db", str(db_path), str(out)])
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0


def test_cli_export_of_ftm_to_standard_output(db_path):
    result = CliRunner().invoke(cli, ["export", "--format", "ftm", "--db", str(db_path), "-"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) > 1 and all(json.loads(line)["id"].startswith("icc-events-") for line in lines)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "sqlite", "-"], "only the ftm format"),
        (["--format", "xml", "out"], "'xml' is not one of"),
        (["--format", "ftm", "--db", "missing.db", "out"], "No database at missing.db"),
        (["--format", "csv", "existing.zip"], "existing.zip exists"),
    ],
)
def test_cli_export_refuses_bad_arguments(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "existing.zip").write_bytes(b"keep me")
    result = CliRunner().invoke(cli, ["export", *args])
    assert result.exit_code != 0
    assert message in result.output


def csv_header(text: str) -> list[str]:
    return next(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize("name", list(COLLECTIONS))
def test_api_csv_page_and_bundle_csv_have_one_header(client, bundle_dir, name):
    response = client.get(f"/v1/{name}?format=csv")
    assert response.status_code == 200
    page_header = csv_header(response.get_data(as_text=True))
    assert page_header == csv_header((bundle_dir / f"{name}.csv").read_text(encoding="utf-8"))
    assert "issued.date" in page_header or name != "warrants"  # the API's documented, dotted naming


# Columns only the store has: the row digest, the sort keys, partial dates under their storage names.
INTERNAL_NAMES = {
    column
    for collection in COLLECTIONS.values()
    for column in set(column_types(collection)) - set(public_columns(collection))
}


def is_internal(name: str) -> bool:
    return name in INTERNAL_NAMES or name == "etag" or name.endswith("_sort")


def names_in_api_pages(client, tmp_path) -> set[str]:
    names = set()
    for collection in COLLECTIONS:
        csv_page = client.get(f"/v1/{collection}?format=csv")
        ndjson_page = client.get(f"/v1/{collection}?format=ndjson")
        assert csv_page.status_code == ndjson_page.status_code == 200
        names.update(csv_header(csv_page.get_data(as_text=True)))
        for line in ndjson_page.get_data(as_text=True).splitlines():
            names.update(json.loads(line))
    return names


def names_in_csv_bundle(client, tmp_path) -> set[str]:
    response = client.get("/v1/export/csv.zip", buffered=True)
    assert response.status_code == 200
    names = set()
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as bundle:
        for resource in json.loads(bundle.read("datapackage.json"))["resources"]:
            names.update(field["name"] for field in resource["schema"]["fields"])
            names.update(csv_header(bundle.read(resource["path"]).decode("utf-8")))
    return names


def names_in_sqlite_export(client, tmp_path) -> set[str]:
    response = client.get("/v1/export/sqlite", buffered=True)
    assert response.status_code == 200
    path = tmp_path / "export.db"
    path.write_bytes(response.get_data())
    snapshot = sqlite_utils.Database(path)
    return {*snapshot.table_names(), *(c.name for t in snapshot.tables for c in t.columns)}


def names_in_ftm_export(client, tmp_path) -> set[str]:
    response = client.get("/v1/export/ftm")
    assert response.status_code == 200
    names = set()
    for line in response.get_data(as_text=True).splitlines():
        entity = json.loads(line)
        names.update(entity, entity["properties"])
    return names


@pytest.mark.parametrize(
    "exported_names",
    [names_in_api_pages, names_in_csv_bundle, names_in_sqlite_export, names_in_ftm_export],
    ids=["csv-and-ndjson-pages", "csv-bundle", "sqlite", "ftm"],
)
def test_no_export_carries_internal_columns(client, tmp_path, exported_names):
    names = exported_names(client, tmp_path)
    assert names
    assert sorted(n for n in names if is_internal(n)) == []


def test_sqlite_export_has_the_public_columns_of_the_csv_exports(snapshot_path):
    snapshot = sqlite_utils.Database(snapshot_path)
    for collection in COLLECTIONS.values():
        assert snapshot[collection.table].columns_dict.keys() == set(public_columns(collection))


def test_sqlite_export_declares_a_foreign_key_for_every_reference(snapshot_path):
    with sqlite3.connect(snapshot_path) as conn:
        for collection in COLLECTIONS.values():
            declared = {
                (row[3], row[2], row[4])  # from, table, to
                for row in conn.execute(f"PRAGMA foreign_key_list([{collection.table}])")
            }
            expected = {(name, COLLECTIONS[to].table, "id") for name, to in collection.references().items()}
            assert declared == expected, collection.name
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_datasette_links_a_record_to_the_records_it_references(snapshot_path):
    labelled = datasette_get(
        snapshot_path, "/warrants.json?_shape=array&_labels=on&id=warrant-benjamin-netanyahu"
    )
    assert labelled.status_code == 200
    [warrant] = labelled.json()
    assert warrant["court_id"] == {"value": "icc", "label": "International Criminal Court"}
    assert warrant["subject_official_id"] == {"value": "benjamin-netanyahu", "label": "Benjamin Netanyahu"}
    # Datasette links a foreign key in table pages (its row page does not expand them) ...
    listed = datasette_get(snapshot_path, "/warrants?id=warrant-benjamin-netanyahu")
    assert listed.status_code == 200
    db = snapshot_path.stem
    assert f'<a href="/{db}/organizations/icc">International Criminal Court</a>' in listed.text
    # ... and the referenced record's page links back to the records that refer to it.
    court = datasette_get(snapshot_path, "/organizations/icc")
    assert court.status_code == 200
    assert f'<a href="/{db}/warrants?court_id=icc">' in court.text
