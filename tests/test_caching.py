"""HTTP caching (ETag, 304, Last-Modified, Cache-Control), CORS on reads only, gzip."""

import gzip
import json

import pytest
import sqlite_utils
from flask.testing import FlaskClient

from api.model.collections import COLLECTIONS
from api.store.db import connect
from api.store.editing import replace_record
from api.web.app import create_app

GETS = [
    "/v1/warrants",
    "/v1/warrants?status=outstanding&fields=title&include=subject&facet=crimes",
    "/v1/warrants?format=csv",
    "/v1/warrants?format=ndjson",
    "/v1/warrants/warrant-yoav-gallant",
    "/v1/warrants/warrant-yoav-gallant?include=subject",
    "/v1/search?q=gallant",
    "/v1/timeline",
]


@pytest.mark.parametrize("url", GETS)
def test_every_get_has_a_strong_etag_and_answers_304_when_it_matches(client, url):
    response = client.get(url)
    assert response.status_code == 200
    etag, weak = response.get_etag()
    assert etag and not weak
    assert response.headers["Cache-Control"]
    again = client.get(url, headers={"If-None-Match": f'"{etag}"'})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.get_etag() == (etag, False)


@pytest.mark.parametrize("url", [u for u in GETS if "search" not in u and "timeline" not in u])
def test_etag_changes_when_a_record_in_it_changes(client, db_path, url):
    before = client.get(url).get_etag()[0]
    db = connect(str(db_path))
    edits = {
        "warrants": ("warrant-yoav-gallant", "title", "Changed title"),
        "officials": ("yoav-gallant", "notes", "Changed."),
    }
    for name, (record_id, field, value) in edits.items():
        replace_record(
            db, COLLECTIONS[name], record_id, lambda c, f=field, v=value: {**c, f: v}, lambda _: True, "test"
        )
    db.conn.close()
    response = client.get(url, headers={"If-None-Match": f'"{before}"'})
    assert response.status_code == 200
    assert response.get_etag()[0] != before


def test_a_pages_etag_changes_with_any_write_and_only_then(client, db_path):
    # A page is tagged by the data version (api.web.caching.version_etag): a write anywhere changes it.
    url = "/v1/warrants?limit=2"
    before = client.get(url).get_etag()[0]
    assert client.get(url).get_etag()[0] == before
    db = connect(str(db_path))
    replace_record(
        db,
        COLLECTIONS["officials"],
        "tomoko-akane",
        lambda c: {**c, "notes": "Changed."},
        lambda _: True,
        "test",
    )
    db.conn.close()
    assert client.get(url, headers={"If-None-Match": f'"{before}"'}).status_code == 200
    assert client.get(url).get_etag()[0] != before


def test_plain_item_etag_is_the_stored_row_digest(client, db_path):
    stored = sqlite_utils.Database(db_path)["warrants"].get("warrant-yoav-gallant")["etag"]
    assert client.get("/v1/warrants/warrant-yoav-gallant").get_etag() == (stored, False)


def test_last_modified_allows_if_modified_since(client):
    response = client.get("/v1/officials")
    assert response.status_code == 200
    modified = response.headers["Last-Modified"]
    assert client.get("/v1/officials", headers={"If-Modified-Since": modified}).status_code == 304


def test_large_json_is_gzipped_and_its_etag_still_revalidates(client):
    response = client.get("/v1/statements", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(response.get_data()))["data"]
    etag = response.get_etag()[0]
    again = client.get("/v1/statements", headers={"Accept-Encoding": "gzip", "If-None-Match": f'"{etag}"'})
    assert again.status_code == 304


def test_reads_carry_cors_headers_exposing_link_and_etag(client):
    response = client.get("/v1/warrants", headers={"Origin": "https://newsroom.example"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert {"ETag", "Link"} <= {
        h.strip() for h in response.headers["Access-Control-Expose-Headers"].split(",")
    }


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_writes_get_no_cors_headers(client, admin, method):
    url = "/v1/organizations" if method == "post" else "/v1/organizations/icc"
    response = getattr(client, method)(url, headers={**admin, "Origin": "https://newsroom.example"})
    assert response.status_code in (400, 415, 428)  # refused before any change, without CORS
    assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_origins_are_configurable(db_path, monkeypatch):
    monkeypatch.setenv("ICC_EVENTS_CORS_ORIGINS", "https://a.example, https://b.example")
    app = create_app({"DATABASE": str(db_path)})
    client = FlaskClient(app)  # OPTIONS preflights are not operations in the spec
    allowed = client.get("/v1/warrants", headers={"Origin": "https://b.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://b.example"
    assert "Origin" in allowed.headers["Vary"]
    other = client.get("/v1/warrants", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = client.options(
        "/v1/warrants",
        headers={"Origin": "https://a.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, HEAD"
    write_preflight = client.options(
        "/v1/warrants",
        headers={"Origin": "https://a.example", "Access-Control-Request-Method": "DELETE"},
    )
    assert "Access-Control-Allow-Origin" not in write_preflight.headers


def test_a_write_accepts_the_etag_of_a_compressed_read(client, admin):
    url = "/v1/organizations/icc"
    read = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert read.status_code == 200
    assert read.headers["Content-Encoding"] == "gzip"
    assert read.get_etag()[0].endswith(":gzip")
    patched = client.patch(
        url,
        data="{}",
        headers={**admin, "Content-Type": "application/merge-patch+json", "If-Match": read.headers["ETag"]},
    )
    assert patched.status_code == 200


@pytest.mark.parametrize("url", ["/v1/warrants?format=csv", "/v1/warrants", "/v1/export/ftm"])
def test_an_empty_tag_in_if_none_match_matches_nothing(client, url):
    response = client.get(url, headers={"If-None-Match": 'W/"x", W/""'})
    assert response.status_code == 200


def test_a_listed_origin_is_named_once_in_vary_beside_what_the_answer_already_varies_on(db_path, monkeypatch):
    monkeypatch.setenv("ICC_EVENTS_CORS_ORIGINS", "https://a.example")
    client = FlaskClient(create_app({"DATABASE": str(db_path)}))
    full = client.get("/v1/warrants", headers={"Origin": "https://a.example"})
    revalidated = client.get(
        "/v1/warrants", headers={"Origin": "https://a.example", "If-None-Match": full.headers["ETag"]}
    )
    assert revalidated.status_code == 304
    for response in (full, revalidated):
        fields = [field.strip() for field in response.headers["Vary"].split(",")]
        assert fields.count("Origin") == 1
        assert "Accept" in fields
        assert response.headers.getlist("Vary") == [response.headers["Vary"]]


def test_an_html_pages_304_keeps_the_pages_policy_not_the_datas(client):
    page = client.get("/warrants")
    assert page.status_code == 200
    revalidated = client.get("/warrants", headers={"If-None-Match": page.headers["ETag"]})
    assert revalidated.status_code == 304
    assert revalidated.headers["Content-Security-Policy"] == page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in revalidated.headers["Content-Security-Policy"]
    assert revalidated.headers.getlist("Content-Security-Policy") == [page.headers["Content-Security-Policy"]]
