"""Content negotiation per RFC 9110 section 12.5.1: one table, in-process and against a real server."""

import json
import urllib.error
import urllib.request

import pytest

from tests.conftest import assert_problem
from tests.server_process import running_server

JSON = "application/json"
CSV = "text/csv; charset=utf-8; header=present"
NDJSON = "application/x-ndjson"
NOT_ACCEPTABLE = 406
AVAILABLE = [JSON, CSV, NDJSON]

# Accept header -> the Content-Type answered, or 406 when nothing offered is acceptable.
NEGOTIATION_TABLE = [
    (None, JSON),
    ("", JSON),
    ("*/*", JSON),
    ("application/json", JSON),
    ("application/json; charset=utf-8", JSON),
    ("application/json;charset=UTF-8", JSON),
    ('application/json; charset="utf-8"', JSON),
    ("text/csv", CSV),
    ("text/csv; charset=utf-8", CSV),
    ("text/csv; charset=utf-8; header=present", CSV),
    ("text/csv; header=present", CSV),
    ("TEXT/CSV", CSV),
    ("application/x-ndjson", NDJSON),
    ("application/x-ndjson; charset=utf-8", NDJSON),
    # Wildcards, and the order of equal weights
    ("application/*", JSON),
    ("text/*", CSV),
    ("*/*; charset=utf-8", JSON),
    # q weights: the highest acceptable one wins, whatever the order
    ("application/json;q=0.5, text/csv", CSV),
    ("text/csv;q=0.4, application/x-ndjson;q=0.9", NDJSON),
    ("text/*;q=0.5, application/json;q=0.4", CSV),
    # q=0 means "not acceptable", also where a wildcard would allow the type
    ("application/json;q=0, */*", CSV),
    ("text/csv;q=0, */*", JSON),
    ("application/*;q=0.2, application/json;q=0", NDJSON),
    # the most specific range sets a type's weight
    ("text/csv;q=0, text/csv;charset=utf-8", CSV),
    ("text/*;q=0.9, text/csv;q=0, application/json;q=0.1", JSON),
    # what common clients send
    ("application/json, text/plain, */*", JSON),  # axios, many SPA clients
    ("application/json, text/javascript, */*; q=0.01", JSON),  # jQuery
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", JSON),  # a browser
    ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8", JSON),
    ("text/csv, application/vnd.ms-excel, */*;q=0.1", CSV),  # a spreadsheet's data import
    ("text/csv, text/tab-separated-values;q=0.9, text/plain;q=0.8, */*;q=0.1", CSV),
    ("text/plain, */*;q=0.5", JSON),
    # nothing offered is acceptable
    ("application/xml", NOT_ACCEPTABLE),
    ("text/html", NOT_ACCEPTABLE),
    ("*/*;q=0", NOT_ACCEPTABLE),
    ("application/json;q=0", NOT_ACCEPTABLE),
    ("text/csv; charset=latin-1", NOT_ACCEPTABLE),
    ("text/csv; header=absent", NOT_ACCEPTABLE),
    ("application/json;q=0, text/csv;q=0, application/x-ndjson;q=0", NOT_ACCEPTABLE),
    ("*/csv", NOT_ACCEPTABLE),
    ("not a media type", NOT_ACCEPTABLE),
]
PATHS = ["/v1/warrants?limit=2", "/v1/warrants/warrant-yoav-gallant"]


def headers_for(accept: str | None) -> dict:
    return {} if accept is None else {"Accept": accept}


def check(status: int, content_type: str, body: bytes, expected) -> None:
    """The answer is the expected representation, or a 406 problem listing what is available."""
    if expected == NOT_ACCEPTABLE:
        assert status == 406, body
        assert content_type == "application/problem+json"
        assert json.loads(body)["available"] == AVAILABLE
    else:
        assert status == 200, body
        assert content_type == expected
        assert body


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("accept", "expected"), NEGOTIATION_TABLE)
def test_accept_header_negotiates_per_rfc_9110_in_process(client, path, accept, expected):
    response = client.get(path, headers=headers_for(accept))
    check(response.status_code, response.headers["Content-Type"], response.get_data(), expected)
    if expected == NOT_ACCEPTABLE:
        assert_problem(response, 406)
    assert "Accept" in response.headers["Vary"]


@pytest.fixture(scope="module")
def server_url(seed_db_path, tmp_path_factory):
    directory = tmp_path_factory.mktemp("negotiation")
    db_path = directory / "icc-events.db"
    db_path.write_bytes(seed_db_path.read_bytes())
    env = {"ICC_EVENTS_RATE_LIMIT_ENABLED": "false"}
    with running_server(db_path, directory / "server.log", env=env) as (base_url, _):
        yield base_url


def fetch(url: str, headers: dict) -> tuple[int, str, bytes]:
    """(status, Content-Type, body) of a GET, errors included."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(("accept", "expected"), NEGOTIATION_TABLE)
def test_accept_header_negotiates_per_rfc_9110_on_the_real_server(server_url, path, accept, expected):
    # urllib sends no Accept of its own, so None is a request without the header.
    check(*fetch(server_url + path, headers_for(accept)), expected)
