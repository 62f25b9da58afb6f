"""fields= and include=, and the JSON, CSV and NDJSON representations."""

import csv
import io
import json
import re

import pytest

from api.model.collections import COLLECTIONS
from tests.conftest import assert_problem


def test_fields_keeps_only_those_fields_and_the_id(client):
    response = client.get("/v1/warrants?fields=title,status")
    assert response.status_code == 200
    for warrant in response.get_json()["data"]:
        assert set(warrant) == {"id", "title", "status"}


@pytest.mark.parametrize(
    ("fields", "kept"),
    [
        ("id", {"id"}),
        ("id,title", {"id", "title"}),
        ("title,id", {"id", "title"}),
        ("id,id", {"id"}),
    ],
)
@pytest.mark.parametrize("path", ["/v1/warrants", "/v1/warrants/warrant-yoav-gallant"])
def test_fields_may_name_the_id_that_is_always_kept(client, path, fields, kept):
    response = client.get(f"{path}?fields={fields}")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    for record in body["data"] if "data" in body else [body]:
        assert set(record) == kept


@pytest.mark.parametrize("name", list(COLLECTIONS))
def test_fields_id_works_on_every_collection_and_format(client, name):
    response = client.get(f"/v1/{name}?fields=id&limit=2")
    assert response.status_code == 200
    assert all(set(record) == {"id"} for record in response.get_json()["data"])
    text = client.get(f"/v1/{name}?fields=id&format=csv").get_data(as_text=True)
    assert text.split("\r\n")[0] == "id"


def test_unknown_fields_are_problem_400_naming_them(client):
    body = assert_problem(client.get("/v1/warrants?fields=title,shoe_size,hat"), 400)
    assert "shoe_size" in body["errors"]["fields"] and "hat" in body["errors"]["fields"]


def test_include_speaker_embeds_the_speaking_official(client):
    response = client.get("/v1/statements?speaker_official_id=tomoko-akane&include=speaker")
    assert response.status_code == 200
    for statement in response.get_json()["data"]:
        assert statement["included"]["speaker"]["id"] == "tomoko-akane"
        assert statement["included"]["speaker"]["name"] == "Tomoko Akane"


def test_include_combines_with_fields(client):
    response = client.get("/v1/warrants/warrant-yoav-gallant?fields=title&include=subject,citations")
    assert response.status_code == 200
    warrant = response.get_json()
    assert set(warrant) == {"id", "title", "included"}
    assert warrant["included"]["subject"]["id"] == "yoav-gallant"
    assert [s["id"] for s in warrant["included"]["citations"]] == [
        "trump-campaign-against-icc-faces-resistance"
    ]


def test_include_of_a_missing_reference_is_null(client):
    statements = client.get("/v1/statements?include=reported_by&limit=500").get_json()["data"]
    assert {s["included"]["reported_by"] is None for s in statements} == {True, False}


def test_unknown_include_is_problem_400(client):
    assert "include" in assert_problem(client.get("/v1/warrants?include=astrologer"), 400)["errors"]


@pytest.mark.parametrize("name", list(COLLECTIONS))
def test_csv_has_a_header_and_one_row_per_record(client, name):
    response = client.get(f"/v1/{name}?format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.endswith("\r\n")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    expected = client.get(f"/v1/{name}?limit=500").get_json()["data"]
    assert [r["id"] for r in rows] == [r["id"] for r in expected]


def test_csv_flattens_dates_into_columns_and_lists_into_json(client):
    text = client.get("/v1/warrants?format=csv&status=outstanding").get_data(as_text=True)
    row = next(csv.DictReader(io.StringIO(text, newline="")))
    assert row["issued.date"] == "2024" and row["issued.precision"] == "year"
    assert row["issued.text"] == "late 2024" and row["issued.basis"] == ""
    assert json.loads(row["crimes"]) == ["war_crimes", "crimes_against_humanity"]
    assert json.loads(row["citations"])[0]["source_id"] == "trump-campaign-against-icc-faces-resistance"


def test_csv_with_fields_has_only_those_columns(client):
    text = client.get("/v1/warrants?format=csv&fields=issued,title").get_data(as_text=True)
    header = text.split("\r\n")[0].split(",")
    assert header == [
        "id",
        "title",
        *(f"issued.{p}" for p in ("date", "precision", "text", "basis", "earliest", "latest")),
    ]


@pytest.mark.parametrize(
    ("accept", "mimetype"),
    [
        ("text/csv", "text/csv"),
        ("application/x-ndjson", "application/x-ndjson"),
        ("application/json", "application/json"),
        ("*/*", "application/json"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", "application/json"),
    ],
)
def test_accept_header_chooses_the_format(client, accept, mimetype):
    response = client.get("/v1/events", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == mimetype


def test_format_parameter_overrides_accept(client):
    response = client.get("/v1/events?format=csv", headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"


@pytest.mark.parametrize("path", ["/v1/events", "/v1/events/event-duterte-arrest"])
def test_unsupported_accept_is_problem_406(client, path):
    assert_problem(client.get(path, headers={"Accept": "application/xml"}), 406)


def test_ndjson_streams_every_record_one_per_line(client, db_path):
    import sqlite_utils

    from api.model.collections import COLLECTIONS
    from api.model.rendering import stamped

    db = sqlite_utils.Database(db_path)
    template = db["events"].get("event-duterte-arrest")
    rows = []
    for i in range(1234):  # more than one export batch
        row = dict(template, id=f"event-bulk-{i:04d}")
        row = stamped(COLLECTIONS["events"], row)
        rows.append(row)
    db["events"].insert_all(rows)
    db.conn.close()
    response = client.get("/v1/events?format=ndjson&sort=id")
    assert response.status_code == 200
    assert "Content-Length" not in response.headers  # streamed, not rendered whole first
    lines = response.get_data(as_text=True).splitlines()
    ids = [json.loads(line)["id"] for line in lines]
    assert len(ids) == len(set(ids)) >= 1234 + 10
    assert ids == sorted(ids)


def pages(client, url: str) -> list:
    """Every response from url on, following the Link header's next page."""
    responses = []
    while url:
        responses.append(client.get(url))
        assert responses[-1].status_code == 200
        link = re.fullmatch(r'<([^>]+)>; rel="next"', responses[-1].headers.get("Link", ""))
        url = link and link.group(1)
    return responses


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_a_limit_makes_csv_and_ndjson_pages_that_add_up_to_the_whole_stream(client, fmt):
    whole = client.get(f"/v1/statements?format={fmt}&sort=-said").get_data(as_text=True).splitlines()
    responses = pages(client, f"/v1/statements?format={fmt}&sort=-said&limit=5")
    lines = [r.get_data(as_text=True).splitlines() for r in responses]
    if fmt == "csv":
        assert all(page[0] == whole[0] for page in lines)  # each page has the header row
        lines = [whole[:1], *(page[1:] for page in lines)]
    assert all(len(page) <= 5 + (fmt == "csv") for page in lines)
    assert [line for page in lines for line in page] == whole
    assert len(responses) == -(-(len(whole) - (fmt == "csv")) // 5) > 1
    assert all("Content-Length" in r.headers for r in responses)  # a page is rendered, not streamed


def test_a_csv_page_by_accept_has_its_own_etag_and_revalidates(client):
    url = "/v1/warrants?limit=2"
    as_json = client.get(url)
    as_csv = client.get(url, headers={"Accept": "text/csv"})
    assert as_csv.mimetype == "text/csv"
    assert as_csv.headers["ETag"] != as_json.headers["ETag"]
    again = client.get(url, headers={"Accept": "text/csv", "If-None-Match": as_csv.headers["ETag"]})
    assert again.status_code == 304


def test_include_with_an_export_page_is_problem_400(client):
    body = assert_problem(client.get("/v1/warrants?format=ndjson&limit=2&facet=status"), 400)
    assert set(body["errors"]) == {"facet"}


def test_include_with_an_export_format_is_problem_400(client):
    assert "include" in assert_problem(client.get("/v1/warrants?format=csv&include=subject"), 400)["errors"]


def test_exports_read_in_batches_never_the_whole_table(seed_db_path, monkeypatch):
    from api.model.collections import COLLECTIONS as ALL
    from api.store import reads as store
    from api.store.db import connect

    monkeypatch.setattr(store, "EXPORT_BATCH", 3)
    db = connect(str(seed_db_path))
    fetched = []
    query = db.query

    def counting_query(sql, params):
        rows = list(query(sql, params))
        fetched.append(len(rows))
        return rows

    db.query = counting_query
    rows = store.iter_rows(db, ALL["events"], [], [], [("date", False)])
    first = next(rows)
    assert fetched == [3]
    rest = list(rows)
    assert max(fetched) == 3 and len(fetched) > 3
    assert len({first["id"], *(r["id"] for r in rest)}) == 1 + len(rest) == db["events"].count
