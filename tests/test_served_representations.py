"""Records are rendered once, when written, and read as stored: the bytes equal a fresh render."""

import json
from urllib.parse import urljoin

import pytest
from flask import url_for

from api.model.collections import COLLECTIONS
from api.model.rendering import csv_line, encode_json, served_record, stamped
from api.model.rows import row_etag
from api.store.db import connect
from api.web.database import get_db
from tests.curation_data import PATCH_HEADERS

ICC = "/v1/organizations/icc"


def test_every_stored_record_is_what_its_columns_render_to(db_path):
    db = connect(str(db_path))
    checked = 0
    for collection in COLLECTIONS.values():
        for row in db.query(f"SELECT * FROM [{collection.table}]"):
            assert json.loads(row["served_json"]) == served_record(collection, row)
            assert stamped(collection, row) == row
            assert row["etag"] == row_etag(row)
            checked += 1
    assert checked >= 50  # the seed: every collection, every record


def test_an_item_is_sent_as_the_bytes_stored_for_it(client, db_path):
    row = next(connect(str(db_path)).query("SELECT * FROM organizations WHERE id = 'icc'"))
    response = client.get(ICC)
    assert response.get_data(as_text=True) == row["served_json"] + "\n"
    assert response.headers["ETag"] == f'"{row["etag"]}"'


def test_a_page_is_its_records_stored_bytes_in_order(client, db_path):
    body = client.get("/v1/statements?limit=5").get_data(as_text=True)
    ids = [record["id"] for record in json.loads(body)["data"]]
    stored = {
        row["id"]: row["served_json"]
        for row in connect(str(db_path)).query("SELECT id, served_json FROM statements")
    }
    assert body.startswith('{"data":[' + ",".join(stored[i] for i in ids) + "]")


def test_csv_and_ndjson_lines_are_the_stored_lines(client, db_path):
    rows = list(connect(str(db_path)).query("SELECT * FROM warrants ORDER BY issued_sort, id"))
    ndjson = client.get("/v1/warrants?format=ndjson").get_data(as_text=True)
    assert ndjson == "".join(row["served_json"] + "\n" for row in rows)
    csv_text = client.get("/v1/warrants?format=csv").get_data(as_text=True)
    assert csv_text.split("\r\n", 1)[1] == "".join(row["served_csv"] for row in rows)


@pytest.mark.parametrize("base_url", ["http://localhost", "https://api.example.org:8443"])
def test_stored_links_resolve_against_any_host_to_the_routes(app, base_url):
    with app.test_request_context("/", base_url=base_url):
        for name in COLLECTIONS:
            row = get_db().execute(f"SELECT served_json FROM [{name}] LIMIT 1").fetchone()
            record = json.loads(row[0])
            assert record["links"]["self"] == f"/v1/{name}/{record['id']}".replace(" ", "%20")
            page_of_request = url_for(f"records.list_{name}", _external=True)
            assert urljoin(page_of_request, record["links"]["self"]) == url_for(
                f"records.get_{name}", record_id=record["id"], _external=True
            )
            for citation in record.get("citations") or []:
                source = url_for("pages.source_page", source_id=citation["source_id"], _external=True)
                assert urljoin(page_of_request, citation["url"]) == (
                    f"{source}#char={citation['start']},{citation['end']}"
                )


def test_a_write_stores_the_new_rendering_and_serves_it_at_once(client, writer, db_path):
    first = client.get(ICC)
    edited = client.patch(
        ICC,
        data=json.dumps({"description": "Rendered when written."}),
        headers={**writer, **PATCH_HEADERS, "If-Match": first.headers["ETag"]},
    )
    assert edited.status_code == 200
    row = next(connect(str(db_path)).query("SELECT * FROM organizations WHERE id = 'icc'"))
    assert json.loads(row["served_json"])["description"] == "Rendered when written."
    assert edited.get_data(as_text=True) == row["served_json"] + "\n"
    assert client.get(ICC).get_data(as_text=True) == row["served_json"] + "\n"


def test_encoding_matches_the_standard_library_on_text_and_csv_quoting():
    record = {"quote": 'He said "no" — café', "n": 3, "list": ["a,b", None]}
    assert encode_json(record) == json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    assert csv_line(["a,b", 'say "hi"', ""]) == '"a,b","say ""hi""",\r\n'
