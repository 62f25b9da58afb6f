"""The HTML pages: the landing page and the source viewer, read as a browser would get them."""

from pathlib import Path

import pytest
import sqlite_utils

from api.model.collections import COLLECTIONS
from tests.conftest import assert_problem
from tests.html_page import Page

SOURCE_ID = "trump-campaign-against-icc-faces-resistance"


def get_page(client, url: str) -> Page:
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    return Page(response.get_data(as_text=True))


def all_citations(client) -> list[tuple[str, str, dict]]:
    """(collection, record id, citation) for every citation the JSON API serves."""
    found = []
    for name, collection in COLLECTIONS.items():
        if "citations" not in collection.schema.fields:
            continue
        for record in client.get(f"/v1/{name}?limit=500").get_json()["data"]:
            found.extend((name, record["id"], citation) for citation in record["citations"])
    return found


def test_landing_page_counts_every_collection_and_links_onward(client, db_path):
    page = get_page(client, "/")
    hrefs = {a["href"] for a in page.all("a")}
    assert {"/docs", "/openapi.yaml", f"/sources/{SOURCE_ID}", "/v1/changes"} <= hrefs
    db = sqlite_utils.Database(db_path)
    for name in COLLECTIONS:
        assert f"/v1/{name}" in hrefs
        [row] = page.all("tr", **{"data-collection": name})
        assert row["data-count"] == str(db[name].count)


def test_landing_page_lists_the_latest_change_first(client, db_path):
    db = sqlite_utils.Database(db_path)
    latest_id = max(row["id"] for row in db["events"].rows)
    db["events"].update(latest_id, {"updated_at": "2099-01-01T00:00:00.000000Z"})
    page = get_page(client, "/")
    # /v1/<collection>/<id>; the export links (/v1/export/<file>) have the same shape.
    record_links = [
        a["href"]
        for a in page.all("a")
        if a["href"].count("/") == 3 and not a["href"].startswith("/v1/export/")
    ]
    assert record_links[0] == f"/v1/events/{latest_id}"


def test_landing_page_links_to_the_exports_the_server_has(app, client):
    app.add_url_rule("/v1/export/everything.zip", "export_everything", lambda: "")
    assert {"href": "/v1/export/everything.zip"} in get_page(client, "/").all("a")


def test_source_viewer_shows_the_full_text_unchanged(client):
    source = client.get(f"/v1/sources/{SOURCE_ID}").get_json()
    page = get_page(client, f"/sources/{SOURCE_ID}")
    assert "".join(page.text) == source["text"]
    assert page.inline_scripts == []


def test_every_citation_url_names_a_span_in_the_viewer_that_links_back_to_its_record(client):
    page = get_page(client, f"/sources/{SOURCE_ID}")
    ids, hrefs = page.ids(), {a["href"] for a in page.all("a")}
    citations = all_citations(client)
    assert len(citations) > 50
    for name, record_id, citation in citations:
        path, fragment = citation["url"].removeprefix("http://localhost").split("#")
        assert path == f"/sources/{SOURCE_ID}"
        assert fragment in ids, citation["url"]
        assert f"span-{citation['start']}-{citation['end']}" in ids
        assert f"/v1/{name}/{record_id}" in hrefs


def test_every_highlight_marks_text_its_spans_cover(client):
    source = client.get(f"/v1/sources/{SOURCE_ID}").get_json()
    page = get_page(client, f"/sources/{SOURCE_ID}")
    highlights = page.with_class("hl")
    assert highlights
    ids = page.ids()
    for highlight in highlights:
        spans = [tuple(map(int, s.split(","))) for s in highlight["data-spans"].split()]
        innermost = min(spans, key=lambda s: s[1] - s[0])
        assert highlight["href"] == f"#span-{innermost[0]}-{innermost[1]}"
        assert highlight["href"][1:] in ids
        assert all(0 <= start < end <= len(source["text"]) for start, end in spans)


def test_source_viewer_escapes_the_source(client, db_path):
    sqlite_utils.Database(db_path)["sources"].update(SOURCE_ID, {"title": "<script>alert(1)</script>"})
    html = client.get(f"/sources/{SOURCE_ID}").get_data(as_text=True)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_unknown_source_page_is_problem_404(client):
    body = assert_problem(client.get("/sources/no-such-source"), 404)
    assert "no-such-source" in body["detail"]


def test_landing_page_links_to_each_format_a_list_accepts(client):
    from api.model.collections import COLLECTIONS

    hrefs = {a["href"] for a in get_page(client, "/").all("a")}
    for name in COLLECTIONS:
        assert {f"/v1/{name}?format=csv", f"/v1/{name}?format=ndjson"} <= hrefs
        assert f"/v1/{name}?format=json" not in hrefs


@pytest.mark.parametrize("url", ["/", f"/sources/{SOURCE_ID}", "/docs"])
def test_page_revalidates_with_its_etag(client, url):
    first = client.get(url)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "public, no-cache"
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_source_page_etag_changes_when_a_citing_record_changes(client, db_path):
    before = client.get(f"/sources/{SOURCE_ID}").headers["ETag"]
    sqlite_utils.Database(db_path)["warrants"].update("warrant-yoav-gallant", {"title": "Renamed"})
    assert client.get(f"/sources/{SOURCE_ID}").headers["ETag"] != before


def test_viewer_shows_for_each_span_the_fields_it_supports_and_their_basis(client):
    page = get_page(client, f"/sources/{SOURCE_ID}")
    html = client.get(f"/sources/{SOURCE_ID}").get_data(as_text=True)
    supports = page.with_class("support")
    assert len(supports) == len(all_citations(client))
    for _name, record_id, citation in all_citations(client):
        assert f"supports {', '.join(citation['supports'])}" in html, (record_id, citation["start"])
    assert any("basis-inferred" in item["class"] for item in supports)


def test_viewer_colours_inferred_spans_apart_from_stated_ones(client):
    page = get_page(client, f"/sources/{SOURCE_ID}")
    classes = {c for h in page.with_class("hl") for c in h["class"].split() if c.startswith("basis-")}
    assert {"basis-stated", "basis-inferred"} <= classes
    # The caption's release request backs Duterte's open status: inferred, and shown as such.
    caption = next(h for h in page.with_class("hl") if "254,329" in h["data-spans"].split()[0])
    assert "basis-inferred" in caption["class"].split()
    css = (Path(__file__).parent.parent / "api" / "web" / "static" / "site.css").read_text(encoding="utf-8")
    assert ".hl.basis-inferred" in css
