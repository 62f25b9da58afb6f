"""The pages for people, read as a browser gets them: records, collections, search, timeline, landing."""

from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import sqlite_utils
from markupsafe import escape

from api.model.collections import COLLECTIONS
from api.model.rendering import stamped
from api.web.html_pages import RECORD_PAGES, highlighted, partial_date_words
from tests.conftest import assert_problem
from tests.html_page import Page

SOURCE_ID = "trump-campaign-against-icc-faces-resistance"


def get_page(client, url: str) -> tuple[Page, str]:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    html = response.get_data(as_text=True)
    return Page(html), html


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def record_hrefs(page: Page, name: str) -> list[str]:
    """The ids of the records of a collection a page links to (a.record), in order."""
    return [a["href"].removeprefix(f"/{name}/") for a in page.all("a") if "record" in a.get("class", "")]


def all_records(client):
    for name in RECORD_PAGES:
        yield from ((name, r) for r in client.get(f"/v1/{name}?limit=500").get_json()["data"])


def test_every_seed_record_has_a_page_linked_from_its_json(client, db_path):
    seen = 0
    for name, record in all_records(client):
        assert path_of(record["links"]["html"]) == f"/{name}/{record['id']}"
        page, html = get_page(client, path_of(record["links"]["html"]))
        assert {"href": f"/v1/{name}/{record['id']}"} in page.all("a")
        assert page.inline_scripts == []
        seen += 1
    assert seen == sum(sqlite_utils.Database(db_path)[name].count for name in RECORD_PAGES)


def test_source_records_link_to_the_source_viewer(client):
    source = client.get(f"/v1/sources/{SOURCE_ID}").get_json()
    assert path_of(source["links"]["html"]) == f"/sources/{SOURCE_ID}"


def test_record_page_quotes_every_citation_inline_with_a_link_to_its_span(client):
    for name, record in all_records(client):
        page, html = get_page(client, f"/{name}/{record['id']}")
        spans = {a["href"] for a in page.with_class("span")}
        for citation in record["citations"]:
            assert citation["url"] in spans, (name, record["id"], citation["start"])
            assert f"<q>{escape(citation['quote'])}</q>" in html


def test_record_page_shows_each_citation_basis_and_an_inference_s_reasoning(client):
    record = client.get("/v1/warrants/warrant-benjamin-netanyahu").get_json()
    page, html = get_page(client, "/warrants/warrant-benjamin-netanyahu")
    inferred = [c for c in record["citations"] if c["basis"] == "inferred"]
    assert inferred
    for citation in inferred:
        assert f"Curators' reasoning: {escape(citation['reasoning'])}" in html
    assert page.with_class("basis-inferred") and page.with_class("basis-stated")
    assert "inferred by the curators" in html and "stated by the source" in html


def test_record_page_shows_a_partial_date_with_its_precision_and_the_source_s_words(client):
    _, html = get_page(client, "/warrants/warrant-benjamin-netanyahu")
    assert '<time datetime="2024">2024 (year only); the source says \u201clate 2024\u201d</time>' in html


@pytest.mark.parametrize(
    ("date", "words"),
    [
        (
            {"date": "2024", "precision": "year", "text": "late 2024"},
            "2024 (year only); the source says “late 2024”",
        ),
        ({"date": "2025-11", "precision": "month", "text": None}, "November 2025 (month only)"),
        ({"date": "2024-11-21", "precision": "day", "text": None}, "21 November 2024"),
        ({"date": None, "precision": None, "text": None}, "date not known"),
    ],
)
def test_partial_dates_are_worded_no_more_exactly_than_they_are(date, words):
    assert partial_date_words(date) == words


def test_record_page_links_the_records_it_refers_to_and_those_referring_to_it(client):
    page, _ = get_page(client, "/officials/tomoko-akane")
    hrefs = {a["href"] for a in page.all("a")}
    assert "/organizations/icc" in hrefs
    statements = client.get("/v1/statements?speaker_official_id=tomoko-akane&limit=500").get_json()["data"]
    assert statements
    assert {f"/statements/{s['id']}" for s in statements} <= hrefs
    assert "/statements?speaker_official_id=tomoko-akane" in hrefs


def test_record_page_links_referrers_through_list_references(client):
    page, _ = get_page(client, "/warrants/warrant-benjamin-netanyahu")
    citing = client.get("/v1/statements?warrant_id=warrant-benjamin-netanyahu&limit=500").get_json()["data"]
    assert citing
    hrefs = {a["href"] for a in page.all("a")}
    assert {f"/statements/{s['id']}" for s in citing} <= hrefs


def test_record_page_history_is_labelled_as_times_of_recording(client):
    history = client.get("/v1/warrants/warrant-yoav-gallant/history").get_json()["data"]
    _, html = get_page(client, "/warrants/warrant-yoav-gallant")
    assert "recorded at" in html and "not when anything in it happened" in html
    for change in history:
        assert f'<time datetime="{change["at"]}">' in html


@pytest.mark.parametrize("name", RECORD_PAGES)
def test_unknown_record_page_is_problem_404(client, name):
    body = assert_problem(client.get(f"/{name}/no-such-record"), 404)
    assert "no-such-record" in body["detail"]


def test_record_page_with_a_query_parameter_is_problem_400(client):
    body = assert_problem(client.get("/warrants/warrant-yoav-gallant?fields=title"), 400)
    assert "fields" in body["errors"]


@pytest.mark.parametrize(
    "query",
    [
        "status=outstanding",
        "crime=war_crimes&issued_from=2024-11",
        "sort=-issued",
        "q=netanyahu",
        "changed_since=2000-01-01T00:00:00Z",
    ],
)
def test_warrants_page_lists_what_the_api_lists_for_the_same_query(client, query):
    expected = [r["id"] for r in client.get(f"/v1/warrants?{query}").get_json()["data"]]
    page, _ = get_page(client, f"/warrants?{query}")
    assert record_hrefs(page, "warrants") == expected
    api_links = [urlsplit(a["href"]) for a in page.all("a") if a["href"].startswith("/v1/warrants?")]
    assert parse_qsl(query) in [parse_qsl(link.query) for link in api_links]


@pytest.mark.parametrize("name", list(COLLECTIONS))
def test_each_collection_page_shows_the_api_s_facet_counts_as_links(client, name):
    from api.store.facets import facet_fields
    from api.web.html_pages import filter_params

    collection = COLLECTIONS[name]
    fields = facet_fields(collection)
    facets = client.get(f"/v1/{name}?limit=1&facet={','.join(fields)}").get_json()["facets"]
    page, html = get_page(client, f"/{name}")
    hrefs = {a["href"] for a in page.all("a")}
    for field, values in facets.items():
        for value in values:
            if value["value"] is not None:
                query = urlencode({filter_params(collection)[field]: value["value"]})
                assert f"/{name}?{query}" in hrefs, (field, value)
    assert record_hrefs(page, name) == [r["id"] for r in client.get(f"/v1/{name}").get_json()["data"]]


def test_facet_link_filters_the_page_like_the_api(client):
    page, _ = get_page(client, "/statements")
    link = next(a["href"] for a in page.all("a") if a["href"].startswith("/statements?kind="))
    query = link.split("?", 1)[1]
    filtered, _ = get_page(client, link)
    expected = [r["id"] for r in client.get(f"/v1/statements?{query}").get_json()["data"]]
    assert record_hrefs(filtered, "statements") == expected


def test_collection_page_pages_with_the_api_s_keyset_cursor(client):
    expected = [r["id"] for r in client.get("/v1/organizations?limit=500").get_json()["data"]]
    url, seen = "/organizations?limit=4", []
    while url:
        page, _ = get_page(client, url)
        seen.extend(record_hrefs(page, "organizations"))
        url = next((a["href"] for a in page.all("a") if a.get("rel") == "next"), None)
    assert seen == expected
    assert len(expected) > 4


def test_empty_form_fields_redirect_to_the_same_query_without_them(client):
    response = client.get("/warrants?q=&status=outstanding&issued_from=&changed_since=&sort=-issued")
    assert response.status_code == 303
    assert response.headers["Location"] == "/warrants?status=outstanding&sort=-issued"
    assert client.get("/search?q=").headers["Location"] == "/search"


def test_empty_form_fields_beside_a_bad_one_are_the_api_s_problem_400(client):
    body = assert_problem(client.get("/timeline?limit=lots&date_from="), 400)
    assert list(body["errors"]) == ["limit"]


@pytest.mark.parametrize(
    "url",
    [
        "/warrants?status=nope",
        "/warrants?sort=nope",
        "/warrants?cursor=bm90LWEtY3Vyc29y",
        "/warrants?limit=0",
        "/warrants?limit=",
        "/warrants?format=csv",
        "/warrants?facet=status",
        "/warrants?unknown=1",
        "/warrants?status=outstanding&status=withdrawn",
        "/statements?said_from=2024-13",
        "/search?q=court&cursor=bm90LWEtY3Vyc29y",
        "/search?q=court&collections=nope",
        "/timeline?date_from=2024-02-30",
        "/timeline?cursor=bm90LWEtY3Vyc29y",
    ],
)
def test_bad_page_query_is_the_api_s_problem_400(client, url):
    assert_problem(client.get(url), 400)


def test_search_page_ranks_hits_like_the_api_and_marks_the_matches(client):
    expected = [(h["collection"], h["id"]) for h in client.get("/v1/search?q=akane").get_json()["data"]]
    page, html = get_page(client, "/search?q=akane")
    hits = [tuple(a["href"].strip("/").split("/")) for a in page.all("a") if "record" in a.get("class", "")]
    assert hits == expected
    assert ("officials", "tomoko-akane") in hits
    assert "<mark>Akane</mark>" in html


def test_search_page_filters_by_collection(client):
    page, _ = get_page(client, "/search?q=judge&collections=officials")
    hrefs = [a["href"] for a in page.all("a") if "record" in a.get("class", "")]
    assert hrefs and all(h.startswith("/officials/") for h in hrefs)
    everywhere, _ = get_page(client, "/search?q=judge")
    assert {"href": "/search?q=judge&collections=officials"} in everywhere.all("a")
    assert any(not a["href"].startswith("/officials/") for a in everywhere.with_class("record"))


def test_search_page_without_words_is_the_empty_form(client):
    page, _ = get_page(client, "/search")
    assert page.all("input", name="q")
    assert not page.with_class("hits")


def test_search_snippets_escape_the_record_and_keep_only_the_marks(client, db_path):
    sqlite_utils.Database(db_path)["officials"].update(
        "tomoko-akane", {"description": "Akane <script>alert(1)</script> <img src=x onerror=alert(2)>"}
    )
    _, html = get_page(client, "/search?q=onerror&collections=officials")
    assert "<mark>onerror</mark>" in html
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html


def test_highlighted_keeps_marks_and_escapes_everything_else():
    assert highlighted("a <mark>b</mark> <b>c</b>") == "a <mark>b</mark> &lt;b&gt;c&lt;/b&gt;"
    assert highlighted("</mark><mark>x") == "&lt;/mark&gt;<mark>x</mark>"


def test_timeline_page_lists_the_api_s_entries_in_order_with_their_words(client):
    entries = client.get("/v1/timeline?limit=500").get_json()["data"]
    page, html = get_page(client, "/timeline?limit=500")
    linked = [a["href"] for a in page.with_class("record")]
    assert linked == [f"/{e['collection']}/{e['id']}" for e in entries]
    assert "the source says \u201clate 2024\u201d" in html


def test_timeline_page_takes_the_api_s_date_range(client):
    entries = client.get("/v1/timeline?date_from=2025-11").get_json()["data"]
    page, _ = get_page(client, "/timeline?date_from=2025-11")
    linked = {a["href"] for a in page.all("a")}
    assert {f"/{e['collection']}/{e['id']}" for e in entries} <= linked
    assert {"href": "/v1/timeline?date_from=2025-11"} in page.all("a")


def test_landing_page_says_what_the_dataset_is_its_licence_and_how_to_cite_and_correct_it(client):
    page, html = get_page(client, "/")
    assert {"href": "https://creativecommons.org/licenses/by/4.0/", "rel": "license"} in page.all("a")
    assert "outlet not stated in the source" in html
    assert "on a date the source does not state" in html
    assert "Cite a record" in html and "Corrections" in html
    assert page.all("form", action="/search")
    hrefs = {a["href"] for a in page.all("a")}
    assert {"/timeline", "/v1/changes", "/feeds/changes.atom"} & hrefs >= {"/timeline", "/v1/changes"}
    assert {f"/{name}" for name in COLLECTIONS} <= hrefs


def test_landing_page_labels_change_times_as_times_of_recording(client):
    _, html = get_page(client, "/")
    assert "recorded at (UTC)" in html
    assert "not dates of the events" in html


@pytest.mark.parametrize(
    "url",
    ["/warrants", "/warrants/warrant-yoav-gallant", "/search?q=court", "/timeline", "/organizations/icc"],
)
def test_page_revalidates_with_its_etag(client, url):
    first = client.get(url)
    assert first.status_code == 200
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_record_page_escapes_the_record(client, db_path):
    db = sqlite_utils.Database(db_path)
    row = {**db["warrants"].get("warrant-yoav-gallant"), "title": "<script>x()</script>"}
    db["warrants"].update(row["id"], stamped(COLLECTIONS["warrants"], row))
    _, html = get_page(client, "/warrants/warrant-yoav-gallant")
    assert "<script>x()" not in html
    assert "&lt;script&gt;x()&lt;/script&gt;" in html
