"""Hostile input on reads and writes: always a 4xx problem, never a 5xx, the database untouched."""

import contextlib
import hashlib
import json
import sqlite3
from urllib.parse import quote, unquote, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.model.collections import COLLECTIONS
from api.store.paging import encode_cursor
from tests.conftest import assert_problem

SQL_INJECTIONS = [
    "' OR '1'='1",
    "1; DROP TABLE warrants; --",
    '" UNION SELECT sql FROM sqlite_master --',
    "x') OR 1=1 --",
    "]; DELETE FROM officials; --",
]
PARAMETERS = ["limit", "cursor", "sort", "status", "speaker_official_id", "id", "q"]
LEAKS = ("Traceback", "sqlite", "SELECT", "/work/", "/tmp/", ".py", "icc-events.db")

ATTACKS = [
    # q= is full-text search: any text is a valid query, so injections there are plain words (200).
    *[
        (f"/v1/warrants?{name}={quote(value)}", 200 if name == "q" else 400)
        for name in PARAMETERS
        for value in SQL_INJECTIONS
    ],
    *[(f"/v1/officials/{quote(value, safe='')}", 404) for value in SQL_INJECTIONS],
    ("/v1/warrants?status=outstanding%00", 400),
    ("/v1/warrants?sort=id%00", 400),
    ("/v1/officials/tomoko-akane%00", 404),
    ("/v1/warrants?status=%ED%A0%80", 400),  # an encoded lone surrogate: invalid UTF-8
    ("/v1/warrants?status=%E0%A4%A", 400),  # a truncated percent-escape
    ("/v1/warrants?status=%ZZ", 400),
    ("/v1/officials/..%2F..%2Fetc%2Fpasswd", 404),
    ("/v1/officials/..%5C..%5Cwindows", 404),
    ("/v1/../../etc/passwd", 404),
    ("/v1/officials/" + "a" * 201, 400),
    ("/v1/warrants?limit=99999999999999999999999", 400),
    ("/v1/warrants?limit=-1", 400),
    ("/v1/warrants?limit=1e9", 400),
    ("/v1/warrants?limit=NaN", 400),
    ("/v1/warrants?cursor=" + encode_cursor("issued", [["nested"], "x"]), 400),
    ("/v1/warrants?cursor=" + encode_cursor("issued", ["x"] * 50), 400),
    ("/v1/warrants?cursor=" + "A" * 1999, 400),
    ("/v1/warrants?cursor=%FF%FE", 400),
    ("/v1/warrants?status=" + "x" * 5000, 414),
    ("/v1/warrants?" + "&".join(f"p{i}=1" for i in range(1000)), 414),
]


def checksum(path) -> str:
    """The sha256 of the database file with its WAL checkpointed in: a change cannot hide in -wal."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leaks(response, sent: str) -> list[str]:
    """Internals in the response; an error may quote the client's own input back, nothing else."""
    text = response.get_data(as_text=True)
    return [leak for leak in LEAKS if leak in text and leak not in sent]


@pytest.fixture
def untouched_db(db_path):
    """Fails the test if the database file changed by a single byte."""
    before = checksum(db_path)
    yield
    assert checksum(db_path) == before


@pytest.mark.parametrize(("url", "status"), ATTACKS)
def test_known_attack_is_refused_or_harmless_and_changes_nothing(client, untouched_db, url, status):
    response = client.get(url)
    if status == 200:
        assert response.status_code == 200, response.get_json()
    else:
        assert not leaks(response, unquote(url)), assert_problem(response, status)


@pytest.mark.parametrize(
    "header", [("X-Padding", "x" * 100_000), ("Accept", "application/json;" * 2000), ("Cookie", "a=" * 5000)]
)
def test_huge_header_on_a_read_is_answered_without_error(client, untouched_db, header):
    response = client.get("/v1/warrants?limit=1", headers=[header])
    assert response.status_code < 500


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    collection=st.sampled_from(sorted(COLLECTIONS)),
    params=st.dictionaries(
        st.sampled_from(["limit", "cursor", "sort", "status", "kind", "q", "id", "x"]),
        st.text(st.characters(codec="utf-8"), max_size=300),
        max_size=4,
    ),
)
def test_any_query_string_is_never_a_server_error(client, untouched_db, collection, params):
    response = client.get(f"/v1/{collection}", query_string=params)
    if response.status_code != 200:
        body = assert_problem(response, response.status_code)
        assert 400 <= body["status"] < 500


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(collection=st.sampled_from(sorted(COLLECTIONS)), record_id=st.text(min_size=1, max_size=300))
def test_any_id_is_a_record_or_a_problem_4xx(client, untouched_db, collection, record_id):
    response = client.get(f"/v1/{collection}/{quote(record_id, safe='')}")
    if response.status_code == 308:
        # An id of slashes reaches the app as a path with a trailing or repeated slash (WSGI decodes
        # %2F): it is redirected to the path without, never off the API.
        assert "/" in record_id
        assert urlsplit(response.headers["Location"]).path.startswith(f"/v1/{collection}")
    elif response.status_code != 200:
        assert 400 <= assert_problem(response, response.status_code)["status"] < 500


def test_every_response_carries_the_security_headers(client):
    for url in ["/v1/warrants", "/v1/warrants/nope", "/healthz", "/openapi.yaml", "/nowhere"]:
        response = client.get(url)
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        assert response.headers["Referrer-Policy"], url
        assert "default-src 'none'" in response.headers["Content-Security-Policy"], url


def test_a_page_may_set_its_own_content_security_policy(app):
    @app.get("/page")
    def page():
        return "<p>hi</p>", 200, {"Content-Security-Policy": "default-src 'self'"}

    from flask.testing import FlaskClient

    response = FlaskClient(app).get("/page")  # not in the spec, so not the contract-checking client
    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == "default-src 'self'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


NESTED = "[" * 5000 + "]" * 5000
WARRANT = "/v1/warrants"
NETANYAHU = "/v1/warrants/warrant-benjamin-netanyahu"
WRITE_ATTACKS = [
    ("post", WARRANT, "application/json", "{not json", 400),
    ("post", WARRANT, "application/json", NESTED, 400),
    ("post", WARRANT, "application/json", '{"id": "a", "id": "b"}', 400),
    ("post", WARRANT, "application/json", '{"title": NaN}', 400),
    ("post", WARRANT, "application/json", "\x00\xff\xfe", 400),
    ("post", WARRANT, "application/json", '"\\ud800"', 422),
    ("post", WARRANT, "application/json", "[]", 422),
    ("post", WARRANT, "application/json", '{"id": 7, "title": ["x"], "status": {"$ne": 1}}', 422),
    ("post", WARRANT, "application/json", '{"id": "x\'; DROP TABLE warrants; --", "title": "t"}', 422),
    ("post", WARRANT, "application/json", '{"id": "../../etc/passwd", "title": "t"}', 422),
    ("post", WARRANT, "text/plain", '{"id": "x"}', 415),
    ("post", WARRANT, "application/x-www-form-urlencoded", "id=x", 415),
    ("patch", NETANYAHU, "application/json", '{"title": "x"}', 428),  # If-Match is checked first
    ("patch", NETANYAHU, "application/merge-patch+json", '{"court_id": "\' OR 1=1 --"}', 428),
]


@pytest.fixture
def admin_headers(db_path):
    from tests.conftest import make_token

    return {"Authorization": f"Bearer {make_token(db_path, 'attacker', 'admin')}"}


@pytest.mark.parametrize(("method", "url", "media_type", "body", "status"), WRITE_ATTACKS)
def test_hostile_write_is_problem_4xx_and_changes_nothing(
    client, db_path, admin_headers, method, url, media_type, body, status
):
    before = checksum(db_path)
    headers = {**admin_headers, "Content-Type": media_type}
    response = getattr(client, method)(url, data=body.encode("utf-8", "surrogatepass"), headers=headers)
    problem = assert_problem(response, status)
    assert not leaks(response, body), problem
    assert checksum(db_path) == before


@pytest.mark.parametrize("text", SQL_INJECTIONS)
def test_sql_in_a_text_field_is_stored_verbatim_and_runs_nothing(client, db_path, admin_headers, text):
    etag = client.get(NETANYAHU).headers["ETag"]
    headers = {**admin_headers, "Content-Type": "application/merge-patch+json", "If-Match": etag}
    response = client.patch(NETANYAHU, data=f'{{"notes": {json.dumps(text)}}}', headers=headers)
    assert response.status_code == 200, response.get_json()
    assert client.get(NETANYAHU).get_json()["notes"] == text
    counts = {
        name: client.get(f"/v1/{name}?limit=500").get_json()["data"] for name in ("warrants", "officials")
    }
    assert all(counts.values())
