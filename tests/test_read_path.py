"""The read path's shortcuts give what the long way gives: links, reused connections, rendered records."""

import json
import os
import sqlite3

import pytest
from flask import request, url_for
from werkzeug.wrappers import Request as WerkzeugRequest

from api.model.collections import COLLECTIONS
from api.web.database import get_db
from api.web.links import add_citation_urls, list_url, record_url
from tests.curation_data import PATCH_HEADERS

ICC = "/v1/organizations/icc"


@pytest.mark.parametrize("base_url", ["http://localhost", "https://api.example.org:8443/icc"])
@pytest.mark.parametrize("collection", sorted(COLLECTIONS))
def test_formatted_links_equal_url_for(app, base_url, collection):
    with app.test_request_context("/", base_url=base_url):
        record_id = get_db().execute(f"SELECT id FROM [{collection}] LIMIT 1").fetchone()[0]
        record = {"citations": [{"source_id": "a-source", "start": 3, "end": 9}]}
        add_citation_urls(record)
        assert record_url(collection, record_id) == url_for(
            f"records.get_{collection}", record_id=record_id, _external=True
        )
        assert list_url(collection, status="x y&z") == url_for(
            f"records.list_{collection}", status="x y&z", _external=True
        )
        source = url_for("pages.source_page", source_id="a-source", _external=True)
        assert record["citations"][0]["url"] == f"{source}#char=3,9"


def test_root_url_is_werkzeugs_for_each_host_and_root_in_turn(app):
    urls = ["http://localhost", "https://api.example.org:8443/icc", "http://[::1]:8080/caf%C3%A9/a%20b"]
    for base_url in urls + urls[::-1]:
        with app.test_request_context("/v1/warrants", base_url=base_url):
            assert request.root_url == WerkzeugRequest(request.environ).root_url


def test_edited_record_is_served_as_edited_not_as_first_rendered(client, writer):
    first = client.get(ICC)
    assert first.status_code == 200
    edited = client.patch(
        ICC,
        data=json.dumps({"description": "Edited for the render cache."}),
        headers={**writer, **PATCH_HEADERS, "If-Match": first.headers["ETag"]},
    )
    assert edited.status_code == 200
    again = client.get(ICC)
    assert again.status_code == 200
    assert again.get_json()["description"] == "Edited for the render cache."
    assert again.headers["ETag"] != first.headers["ETag"]


def test_requests_on_one_thread_share_one_connection(app):
    with app.test_request_context("/"):
        first = get_db()
    with app.test_request_context("/"):
        assert get_db() is first


def test_transaction_a_request_leaves_open_is_rolled_back(app):
    with app.test_request_context("/"):
        get_db().execute("BEGIN")
        get_db().execute("DELETE FROM statements")
    with app.test_request_context("/"):
        db = get_db()
        assert not db.conn.in_transaction
        assert db.execute("SELECT count(*) FROM statements").fetchone()[0] > 0


def test_replaced_database_file_is_read_on_the_next_request(client, db_path, tmp_path):
    assert client.get(ICC).status_code == 200
    replacement = tmp_path / "replacement.db"
    copy = sqlite3.connect(replacement)
    sqlite3.connect(db_path).backup(copy)
    copy.execute("DELETE FROM organizations WHERE id = 'icc'")
    copy.commit()
    copy.close()
    os.replace(replacement, db_path)
    assert client.get(ICC).status_code == 404
