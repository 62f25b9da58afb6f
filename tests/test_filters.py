"""Filters the questions need, facets over them, and the errors for bad values."""

import json

import pytest
import sqlite_utils

from api.model.collections import COLLECTIONS
from api.store.editing import writable
from tests.conftest import assert_problem
from tests.curation_data import JSON_HEADERS


def ids(client, url: str) -> set[str]:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return {r["id"] for r in response.get_json()["data"]}


def records(client, url: str) -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["data"]


@pytest.mark.parametrize(
    ("url", "field", "check"),
    [
        ("/v1/warrants?crime=war_crimes", "crimes", lambda v: "war_crimes" in v),
        ("/v1/warrants?situation=afghanistan", "situation", lambda v: v == "afghanistan"),
        (
            "/v1/warrants?subject_official_id=yoav-gallant",
            "subject_official_id",
            lambda v: v == "yoav-gallant",
        ),
        ("/v1/sanctions?measure=travel_ban", "measures", lambda v: "travel_ban" in v),
        ("/v1/sanctions?authority_id=us-government", "authority_id", lambda v: v == "us-government"),
        ("/v1/sanctions?target_kind=person", "target_kind", lambda v: v == "person"),
        ("/v1/officials?country=israel", "country", lambda v: v == "Israel"),
        ("/v1/officials?organization_id=icc", "organization_id", lambda v: v == "icc"),
        ("/v1/officials?role=president", "role", lambda v: v == "President"),
        ("/v1/statements?kind=paraphrase", "kind", lambda v: v == "paraphrase"),
        ("/v1/statements?speaker_organization_id=icc", "speaker_organization_id", lambda v: v == "icc"),
        ("/v1/events?type=arrest", "type", lambda v: v == "arrest"),
    ],
)
def test_filter_returns_only_and_all_matching_records(client, url, field, check):
    name = url.split("?")[0].rsplit("/", 1)[1]
    everything = records(client, f"/v1/{name}?limit=500")
    expected = {r["id"] for r in everything if check(r[field])}
    assert expected, "the filter should match something in the seed"
    assert ids(client, url) == expected


def test_in_operator_matches_any_of_the_values(client):
    assert ids(client, "/v1/warrants?status__in=outstanding,in_custody") == ids(
        client, "/v1/warrants?status=outstanding"
    ) | ids(client, "/v1/warrants?status=in_custody")


def test_topic_filter_matches_statements_tagged_with_it(client):
    statement = records(client, "/v1/statements?limit=1")[0]
    topic = statement["topics"][0]
    found = records(client, f"/v1/statements?topic={topic}")
    assert statement["id"] in {s["id"] for s in found}
    assert all(topic in s["topics"] for s in found)


@pytest.mark.parametrize(
    ("query", "included"),
    [
        ("issued_from=2024-11&issued_to=2024-11", True),  # "late 2024" overlaps November 2024
        ("issued_from=2024", True),
        ("issued_to=2024-01-01", True),
        ("issued_from=2025", False),
        ("issued_to=2023-12-31", False),
    ],
)
def test_date_ranges_overlap_partial_dates(client, query, included):
    assert ("warrant-benjamin-netanyahu" in ids(client, f"/v1/warrants?{query}")) is included


def test_records_without_a_date_are_left_out_of_date_ranges(client):
    for record in records(client, "/v1/events?date_from=1900&limit=500"):
        assert record["date"]["earliest"] is not None


def test_changed_since_returns_only_records_updated_since(client, db_path):
    db = sqlite_utils.Database(db_path)
    db["warrants"].update("warrant-yoav-gallant", {"updated_at": "2999-01-01T00:00:00.000000Z"})
    db.conn.close()
    assert ids(client, "/v1/warrants?changed_since=2998-12-31T23:00:00Z") == {"warrant-yoav-gallant"}
    assert ids(client, "/v1/warrants?changed_since=2999-01-01T01:00:00%2B02:00") == {"warrant-yoav-gallant"}
    assert len(ids(client, "/v1/warrants?changed_since=2000-01-01")) > 1


@pytest.mark.parametrize("name", list(COLLECTIONS))
def test_changed_since_exists_on_every_collection(client, name):
    assert client.get(f"/v1/{name}?changed_since=2000-01-01T00:00:00Z").status_code == 200


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/v1/warrants?crime=piracy", "crime"),
        ("/v1/warrants?issued_from=2024-13", "issued_from"),
        ("/v1/warrants?issued_to=2023-02-30", "issued_to"),
        ("/v1/warrants?issued_from=late%202024", "issued_from"),
        ("/v1/statements?changed_since=yesterday", "changed_since"),
        ("/v1/events?facet=nope", "facet"),
        ("/v1/events?format=xml", "format"),
        ("/v1/officials?country=" + "x" * 301, "country"),
        ("/v1/warrants?status__in=outstanding,lost", "status__in"),
        ("/v1/warrants?situation=Palestine", "situation"),  # a code is a slug
        ("/v1/warrants?court_id__in=" + ",".join(f"c{i}" for i in range(51)), "court_id__in"),
    ],
)
def test_bad_filter_value_is_problem_400_naming_it(client, url, parameter):
    body = assert_problem(client.get(url), 400)
    assert parameter in body["errors"]


@pytest.mark.parametrize(
    ("name", "field"),
    [("warrants", "status"), ("warrants", "crimes"), ("statements", "kind"), ("events", "type")],
)
def test_facet_counts_match_the_records(client, name, field):
    response = client.get(f"/v1/{name}?facet={field}&limit=1")
    assert response.status_code == 200
    counts = {f["value"]: f["count"] for f in response.get_json()["facets"][field]}
    expected: dict = {}
    for record in records(client, f"/v1/{name}?limit=500"):
        for value in record[field] if isinstance(record[field], list) else [record[field]]:
            expected[value] = expected.get(value, 0) + 1
    assert counts == expected


def test_facets_count_the_filtered_records_only(client):
    facets = client.get("/v1/warrants?situation=palestine&facet=status").get_json()["facets"]
    assert facets["status"] == [{"value": "outstanding", "count": 2}]


def test_a_situation_code_no_record_has_yet_matches_nothing(client):
    assert ids(client, "/v1/warrants?situation=ukraine") == set()
    assert ids(client, "/v1/warrants?situation__in=ukraine,palestine") == ids(
        client, "/v1/warrants?situation=palestine"
    )


def test_a_warrant_in_a_newly_opened_situation_is_stored_and_found(client, writer):
    first = records(client, "/v1/warrants?limit=1")[0]
    body = {**writable(COLLECTIONS["warrants"].schema, first), "id": "warrant-new", "situation": "ukraine"}
    created = client.post("/v1/warrants", data=json.dumps(body), headers={**writer, **JSON_HEADERS})
    assert created.status_code == 201, created.get_json()
    assert ids(client, "/v1/warrants?situation=ukraine") == {"warrant-new"}
    facets = client.get("/v1/warrants?facet=situation&limit=1").get_json()["facets"]["situation"]
    assert {"value": "ukraine", "count": 1} in facets
