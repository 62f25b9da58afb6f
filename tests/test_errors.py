"""Every error is one RFC 9457 problem shape, names what was wrong, and never leaks internals."""

import pytest

from api.model.errors import (
    Busy,
    Conflict,
    DomainError,
    InvalidArgument,
    InvalidRecord,
    NotFound,
    StaleVersion,
)
from api.store.paging import encode_cursor
from tests.conftest import assert_problem

BAD_QUERIES = [
    ("/v1/warrants?colour=red", "colour"),
    ("/v1/warrants?limit=0", "limit"),
    ("/v1/warrants?limit=501", "limit"),
    ("/v1/warrants?limit=ten", "limit"),
    ("/v1/warrants?sort=secret_column", "sort"),
    ("/v1/warrants?sort=title,title", "sort"),
    ("/v1/warrants?sort=id;DROP TABLE warrants", "sort"),
    ("/v1/warrants?status=pending", "status"),
    ("/v1/warrants?status=outstanding&status=withdrawn", "status"),
    ("/v1/warrants?cursor=not-a-cursor", "cursor"),
    ("/v1/officials?cursor=" + "A" * 3000, "cursor"),
    ("/v1/statements?kind=rumour", "kind"),
]


@pytest.mark.parametrize(("url", "parameter"), BAD_QUERIES)
def test_bad_query_parameter_is_problem_400_naming_it(client, url, parameter):
    body = assert_problem(client.get(url), 400)
    assert parameter in body["errors"]
    assert parameter in body["detail"]


def test_cursor_from_another_sort_is_rejected(client):
    cursor = encode_cursor("title", ["x", "y"])
    body = assert_problem(client.get(f"/v1/warrants?sort=issued&cursor={cursor}"), 400)
    assert "cursor" in body["errors"]


def test_tampered_cursor_values_are_rejected(client):
    cursor = encode_cursor("issued", [{"$gt": 1}, "x"])
    assert_problem(client.get(f"/v1/warrants?cursor={cursor}"), 400)


def test_unknown_path_is_problem_404(client):
    assert_problem(client.get("/v1/verdicts"), 404)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("put", "/v1/warrants"),
        ("patch", "/v1/warrants"),
        ("delete", "/v1/warrants"),
        ("post", "/v1/warrants/some-warrant"),
        ("post", "/v1/changes"),
    ],
)
def test_wrong_method_is_problem_405_with_allow(client, method, url):
    response = getattr(client, method)(url)
    assert_problem(response, 405)
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "HEAD"}


def test_unexpected_error_is_problem_500_without_internals(app):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internal detail /etc/passwd SELECT")

    response = app.test_client().get("/boom")
    body = assert_problem(response, 500)
    assert "secret" not in response.get_data(as_text=True)
    assert "SELECT" not in body["detail"]


class MissingSource(NotFound):
    """A kind of NotFound the status table does not name itself."""


@pytest.mark.parametrize(
    ("error", "status", "headers"),
    [
        (InvalidArgument("Bad cursor.", {"cursor": "Not ours."}), 400, {}),
        (NotFound("No such record."), 404, {}),
        (MissingSource("No such source."), 404, {}),
        (Conflict("Taken.", {"id": "Already taken."}), 409, {}),
        (StaleVersion("Changed since.", current_etag="abc"), 412, {"ETag": '"abc"'}),
        (InvalidRecord({"name": "Missing."}), 422, {}),
        (Busy("Busy.", retry_after=7), 503, {"Retry-After": "7"}),
        (DomainError("A kind nobody mapped."), 500, {}),
    ],
)
def test_each_domain_error_is_answered_with_its_status_and_headers(app, error, status, headers):
    @app.get("/domain")
    def domain():
        raise error

    response = app.test_client().get("/domain")
    body = assert_problem(response, status)
    assert {name: response.headers.get(name) for name in headers} == headers
    if status != 500:
        assert body["detail"] == error.detail
        assert body.get("errors") == error.errors
