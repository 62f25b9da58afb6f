"""Atom feeds of the change log and of list queries: valid Atom, stable ids, discoverable, cached."""

import urllib.request
from html.parser import HTMLParser

import feedparser
import pytest

from api.store.db import connect
from tests.conftest import assert_problem
from tests.server_process import running_server

FEEDS = [
    "/v1/changes.atom",
    "/v1/warrants.atom?status=outstanding",
    "/v1/statements.atom?q=pressure",
    "/v1/sanctions.atom",
    "/v1/officials.atom?limit=3",
]


def alternate(entry) -> str:
    return next(link.href for link in entry.links if link.rel == "alternate")


def parsed(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/atom+xml"
    feed = feedparser.parse(response.get_data())
    assert feed.bozo == 0, feed.get("bozo_exception")
    return feed


def source_text(db_path, source_id: str) -> str:
    db = connect(str(db_path), readonly=True)
    try:
        return db.execute("SELECT text FROM sources WHERE id = ?", [source_id]).fetchone()[0]
    finally:
        db.conn.close()


@pytest.mark.parametrize("url", FEEDS)
def test_each_feed_is_atom_that_feedparser_reads_without_bozo(client, url):
    feed = parsed(client.get(url))
    assert feed.version == "atom10"
    assert feed.feed.id and feed.feed.updated and feed.entries
    for entry in feed.entries:
        assert entry.id and entry.updated and entry.title
        rels = [link.rel for link in entry.links]
        assert rels[0] == "alternate"
        assert "related" in rels  # every record here cites a span


def test_feed_entries_keep_their_ids_across_requests(client):
    first = [e.id for e in parsed(client.get("/v1/changes.atom")).entries]
    again = [e.id for e in parsed(client.get("/v1/changes.atom")).entries]
    assert first == again and len(set(first)) == len(first)


def test_collection_feed_has_the_records_the_list_filter_selects(client):
    listed = client.get("/v1/warrants?status=outstanding&fields=id").get_json()["data"]
    feed = parsed(client.get("/v1/warrants.atom?status=outstanding"))
    wanted = {f"http://localhost/v1/warrants/{w['id']}" for w in listed}
    assert {entry.id for entry in feed.entries} == wanted
    assert {alternate(entry) for entry in feed.entries} == wanted


def test_related_links_point_at_spans_whose_text_the_summary_quotes(client, db_path):
    entry = parsed(client.get("/v1/statements.atom?q=pressure&limit=1")).entries[0]
    related = [link.href for link in entry.links if link.rel == "related"]
    path, _, span = related[0].partition("#char=")
    start, end = map(int, span.split(","))
    quote = source_text(db_path, path.rsplit("/", 1)[1])[start:end]
    assert f'"{quote}"' in entry.summary


def test_change_entries_are_updated_when_the_change_was_recorded(client, db_path):
    entry = parsed(client.get("/v1/changes.atom?limit=1")).entries[0]
    db = connect(str(db_path), readonly=True)
    latest = db.execute("SELECT at, collection, record_id FROM changes ORDER BY seq DESC LIMIT 1").fetchone()
    db.conn.close()
    assert entry.updated == latest[0]
    assert alternate(entry) == f"http://localhost/v1/{latest[1]}/{latest[2]}"


def test_unchanged_feed_is_304_with_its_etag(client):
    first = client.get("/v1/warrants.atom")
    assert first.status_code == 200
    again = client.get("/v1/warrants.atom", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert not again.get_data()


@pytest.mark.parametrize("query", ["cursor=abc", "sort=id", "format=csv", "limit=0", "status=nonsense"])
def test_feed_arguments_it_does_not_take_are_problem_400(client, query):
    assert_problem(client.get(f"/v1/warrants.atom?{query}"), 400)


class AlternateLinks(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "link" and attributes.get("rel") == "alternate":
            self.found.append(attributes)


def test_landing_page_lets_feed_readers_discover_the_feeds(client):
    response = client.get("/")
    assert response.status_code == 200
    parser = AlternateLinks()
    parser.feed(response.get_data(as_text=True))
    atom = {a["href"] for a in parser.found if a.get("type") == "application/atom+xml"}
    assert {"/v1/changes.atom", "/v1/warrants.atom", "/v1/statements.atom"} <= atom
    for href in atom:
        parsed(client.get(href))


def test_feed_from_the_real_server_parses_and_links_back_to_it(db_path, tmp_path):
    with running_server(db_path, tmp_path / "server.log") as (base_url, _):
        with urllib.request.urlopen(f"{base_url}/v1/warrants.atom?status=outstanding", timeout=10) as r:
            assert r.headers.get_content_type() == "application/atom+xml"
            feed = feedparser.parse(r.read())
        with urllib.request.urlopen(alternate(feed.entries[0]), timeout=10) as r:
            assert r.status == 200
    assert feed.bozo == 0
    assert alternate(feed.entries[0]).startswith(base_url)
