"""Every collection is served per the contract: lists, items, links and keyset paging."""

import pytest

from api.model.collections import COLLECTIONS
from tests.conftest import assert_problem

NAMES = list(COLLECTIONS)
EXPECTED_MINIMUM = {
    "warrants": 4,
    "sanctions": 4,
    "officials": 9,
    "statements": 10,
    "organizations": 15,
    "events": 10,
    "sources": 1,
}


def fetch_all(client, url: str) -> list[dict]:
    """Follow links.next from url to the end; check the Link header agrees with it on every page."""
    records = []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        body = response.get_json()
        records.extend(body["data"])
        url = body["links"]["next"]
        if url:
            assert response.headers["Link"] == f'<{url}>; rel="next"'
        else:
            assert "Link" not in response.headers
    return records


@pytest.mark.parametrize("name", NAMES)
def test_list_returns_data_and_links(client, name):
    response = client.get(f"/v1/{name}")
    assert response.status_code == 200
    body = response.get_json()
    assert len(body["data"]) >= EXPECTED_MINIMUM[name]
    assert body["links"]["self"].endswith(f"/v1/{name}")
    assert body["links"]["next"] is None


@pytest.mark.parametrize("name", NAMES)
def test_every_listed_record_is_served_by_its_id(client, name):
    for record in client.get(f"/v1/{name}?limit=500").get_json()["data"]:
        response = client.get(f"/v1/{name}/{record['id']}")
        assert response.status_code == 200
        assert response.get_json() == record


@pytest.mark.parametrize("name", NAMES)
def test_record_links_lead_to_records(client, name):
    for record in client.get(f"/v1/{name}?limit=500").get_json()["data"]:
        assert record["links"]["self"].endswith(f"/v1/{name}/{record['id']}")
        for link in record["links"].values():
            for url in link if isinstance(link, list) else [link]:
                assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("sort_index", range(6))
def test_paging_one_by_one_equals_one_page_of_500(client, name, sort_index):
    sorts = COLLECTIONS[name].sorts
    sort = ("-" if sort_index % 2 else "") + sorts[sort_index % len(sorts)]
    whole = client.get(f"/v1/{name}?limit=500&sort={sort}").get_json()["data"]
    one_by_one = fetch_all(client, f"/v1/{name}?limit=1&sort={sort}")
    assert [r["id"] for r in one_by_one] == [r["id"] for r in whole]
    assert len({r["id"] for r in whole}) == len(whole)


def test_default_warrant_order_is_by_issue_date_with_unknown_dates_last(client):
    warrants = client.get("/v1/warrants").get_json()["data"]
    earliest = [w["issued"]["earliest"] for w in warrants]
    known = [e for e in earliest if e is not None]
    assert known == sorted(known)
    assert earliest == known + [None] * (len(earliest) - len(known))


def test_descending_sort_reverses_the_order(client):
    ascending = [r["id"] for r in client.get("/v1/officials?sort=name").get_json()["data"]]
    descending = [r["id"] for r in client.get("/v1/officials?sort=-name").get_json()["data"]]
    assert descending == ascending[::-1]


def test_filter_by_reference_returns_only_matching_records(client):
    statements = client.get("/v1/statements?speaker_official_id=tomoko-akane").get_json()["data"]
    assert statements
    assert {s["speaker_official_id"] for s in statements} == {"tomoko-akane"}


def test_filter_by_enum_value(client):
    warrants = client.get("/v1/warrants?status=outstanding").get_json()["data"]
    assert {w["id"] for w in warrants} == {"warrant-benjamin-netanyahu", "warrant-yoav-gallant"}


def test_official_links_to_their_warrants_statements_and_sanctions(client):
    official = client.get("/v1/officials/benjamin-netanyahu").get_json()
    warrants = client.get(official["links"]["warrants"]).get_json()["data"]
    assert [w["id"] for w in warrants] == ["warrant-benjamin-netanyahu"]
    assert "/v1/statements?speaker_official_id=benjamin-netanyahu" in official["links"]["statements"]


def test_citation_urls_point_at_the_cited_characters_in_the_source_viewer(client):
    warrant = client.get("/v1/warrants/warrant-benjamin-netanyahu").get_json()
    citation = warrant["citations"][0]
    assert citation["url"] == (f"/sources/{citation['source_id']}#char={citation['start']},{citation['end']}")


def test_source_serves_full_text_and_its_sha256(client):
    import hashlib

    source = client.get("/v1/sources").get_json()["data"][0]
    assert source["length"] == len(source["text"]) == 4242
    assert hashlib.sha256(source["text"].encode()).hexdigest() == source["sha256"]


def test_vague_dates_stay_vague(client):
    warrant = client.get("/v1/warrants/warrant-benjamin-netanyahu").get_json()
    assert warrant["issued"] == {
        "date": "2024",
        "precision": "year",
        "text": "late 2024",
        "basis": None,
        "earliest": "2024-01-01",
        "latest": "2024-12-31",
    }


def test_hearing_on_dutertes_release_is_dated_to_the_day(client):
    events = client.get("/v1/events?type=hearing").get_json()["data"]
    assert [e["date"]["date"] for e in events] == ["2025-11-28"]
    assert events[0]["date"]["precision"] == "day"


@pytest.mark.parametrize("name", NAMES)
def test_unknown_id_is_problem_404(client, name):
    body = assert_problem(client.get(f"/v1/{name}/no-such-record"), 404)
    assert "no-such-record" in body["detail"]


def test_item_carries_a_strong_etag_of_its_stored_row(client, db_path):
    import sqlite_utils

    response = client.get("/v1/warrants/warrant-yoav-gallant")
    etag, weak = response.get_etag()
    assert not weak
    stored = sqlite_utils.Database(db_path)["warrants"].get("warrant-yoav-gallant")["etag"]
    assert etag == stored
