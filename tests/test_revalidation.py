"""A current copy of a record is revalidated before Flask (api/web/revalidation.py), with the very
answer the Flask app gives; everything else still reaches the Flask app."""

import json
import urllib.request

import pytest
from werkzeug.test import Client
from werkzeug.wrappers import Response

from api.web.app import create_app
from api.web.envelope import Envelope
from api.web.revalidation import Revalidation
from tests.server_process import running_server

ITEM = "/v1/officials/tomoko-akane"
REQUEST_ID = "revalidation-test-1"


class CountingApp:
    """The Flask app behind the middleware, counting the requests that reach it."""

    def __init__(self, wsgi_app):
        self.wsgi_app, self.calls = wsgi_app, 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.wsgi_app(environ, start_response)


def clients(db_path, **config):
    """(the middleware in front of a counting Flask app, the Flask app alone, the counter), each
    inside the envelope every answer goes through (request id, security and CORS headers, log line)."""
    app = create_app({"DATABASE": str(db_path), "TESTING": True, "RATE_LIMIT_ENABLED": False, **config})
    envelope = app.wsgi_app
    assert isinstance(envelope, Envelope)
    middleware = envelope.wsgi_app
    assert isinstance(middleware, Revalidation)
    flask_app = CountingApp(middleware.wsgi_app)
    middleware.wsgi_app = flask_app
    return Client(envelope, Response), Client(Envelope(flask_app, app), Response), flask_app


def current_etag(client: Client, path: str = ITEM) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.headers["ETag"]


def answer(response: Response) -> tuple:
    return response.status_code, sorted(response.headers.items()), response.get_data()


def tag_with_coding(etag: str) -> str:
    return etag[:-1] + ':gzip"'


REVALIDATIONS = {
    "the tag": lambda etag: {"If-None-Match": etag},
    "the weak tag": lambda etag: {"If-None-Match": f"W/{etag}"},
    "any tag": lambda etag: {"If-None-Match": "*"},
    "one of several": lambda etag: {"If-None-Match": f'"other", {etag}'},
    "the gzip tag": lambda etag: {"If-None-Match": tag_with_coding(etag), "Accept-Encoding": "gzip"},
    "json accepted": lambda etag: {"If-None-Match": etag, "Accept": "application/json"},
    "a spreadsheet's accept": lambda etag: {"If-None-Match": etag, "Accept": "text/html, */*;q=0.1"},
    "from a browser origin": lambda etag: {"If-None-Match": etag, "Origin": "https://newsroom.example"},
}


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("config", [{}, {"CACHE_MAX_AGE": 60}], ids=["no-cache", "max-age"])
@pytest.mark.parametrize("name", REVALIDATIONS)
def test_a_current_copy_gets_the_flask_apps_304_without_reaching_it(db_path, name, config, method):
    middleware, flask_app, counter = clients(db_path, **config)
    request_headers = {**REVALIDATIONS[name](current_etag(flask_app)), "X-Request-ID": REQUEST_ID}
    calls = counter.calls
    ours = middleware.open(ITEM, method=method, headers=request_headers)
    assert counter.calls == calls, "the middleware handed the request to Flask"
    flasks = flask_app.open(ITEM, method=method, headers=request_headers)
    assert ours.status_code == 304
    assert answer(ours) == answer(flasks)


LISTS = [
    "/v1/warrants",
    "/v1/warrants?limit=2",
    "/v1/statements?limit=3&sort=-said&include=speaker_official&fields=summary",
    "/v1/warrants?facet=status,situation",
]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("path", LISTS)
def test_a_current_page_gets_the_flask_apps_304_without_reaching_it(db_path, path, method):
    middleware, flask_app, counter = clients(db_path)
    etag = current_etag(flask_app, path)
    for request_headers in (
        {"If-None-Match": etag},
        {"If-None-Match": tag_with_coding(etag), "Accept-Encoding": "gzip"},
    ):
        request_headers = {**request_headers, "X-Request-ID": REQUEST_ID}
        calls = counter.calls
        ours = middleware.open(path, method=method, headers=request_headers)
        assert counter.calls == calls, "the middleware handed the request to Flask"
        assert ours.status_code == 304
        assert answer(ours) == answer(flask_app.open(path, method=method, headers=request_headers))


def test_a_listed_origin_gets_the_flask_apps_304_varying_by_origin(db_path):
    middleware, flask_app, counter = clients(db_path, CORS_ORIGINS="https://newsroom.example")
    etag = current_etag(flask_app)
    for origin in ("https://newsroom.example", "https://elsewhere.example"):
        request_headers = {"If-None-Match": etag, "Origin": origin, "X-Request-ID": REQUEST_ID}
        calls = counter.calls
        ours = middleware.get(ITEM, headers=request_headers)
        assert counter.calls == calls
        assert answer(ours) == answer(flask_app.get(ITEM, headers=request_headers))
    assert "Origin" in ours.headers["Vary"] or "Access-Control-Allow-Origin" not in ours.headers


FLASKS_TO_ANSWER = {
    "a stale tag": (ITEM, lambda etag: {"If-None-Match": '"stale"'}, 200),
    "no tag": (ITEM, lambda etag: {}, 200),
    "only a date": (ITEM, lambda etag: {"If-Modified-Since": "Wed, 01 Jan 2020 00:00:00 GMT"}, 200),
    "a query": (ITEM + "?fields=name", lambda etag: {"If-None-Match": etag}, 200),
    "CSV asked": (ITEM, lambda etag: {"If-None-Match": etag, "Accept": "text/csv"}, 200),
    "nothing acceptable": (ITEM, lambda etag: {"If-None-Match": etag, "Accept": "image/png"}, 406),
    "a missing record": ("/v1/officials/nobody", lambda etag: {"If-None-Match": "*"}, 404),
    "an unknown collection": ("/v1/nothing/tomoko-akane", lambda etag: {"If-None-Match": "*"}, 404),
    "a trailing slash": (ITEM + "/", lambda etag: {"If-None-Match": etag}, 308),
    "an overlong id": ("/v1/officials/" + "x" * 201, lambda etag: {"If-None-Match": "*"}, 400),
    "oversized headers": (ITEM, lambda etag: {"If-None-Match": etag, "X-Padding": "x" * 9000}, 431),
    "a search": ("/v1/warrants?q=gallant", lambda etag: {"If-None-Match": etag}, 200),
    "a CSV page": ("/v1/warrants?format=csv&limit=2", lambda etag: {"If-None-Match": etag}, 200),
    "any page": ("/v1/warrants?limit=2", lambda etag: {"If-None-Match": "*"}, 304),
    "any page of a bad query": ("/v1/warrants?limit=zero", lambda etag: {"If-None-Match": "*"}, 400),
    "a page of an unknown collection": ("/v1/nothing", lambda etag: {"If-None-Match": "*"}, 404),
}


@pytest.mark.parametrize("name", FLASKS_TO_ANSWER)
def test_anything_but_a_current_plain_copy_is_answered_by_the_flask_app(db_path, name):
    middleware, flask_app, counter = clients(db_path)
    path, request_headers, status = FLASKS_TO_ANSWER[name]
    request_headers = {**request_headers(current_etag(flask_app)), "X-Request-ID": REQUEST_ID}
    calls = counter.calls
    ours = middleware.get(path, headers=request_headers)
    assert counter.calls == calls + 1
    assert ours.status_code == status
    assert answer(ours) == answer(flask_app.get(path, headers=request_headers))


def test_a_page_the_rate_limit_counts_is_left_to_flask_and_its_budget(db_path):
    # format= makes a list an expensive read (api/web/ratelimit.py): its 304 spends the budget too.
    middleware, flask_app, counter = clients(
        db_path, RATE_LIMIT_ENABLED=True, RATE_LIMIT_EXPENSIVE_READS="2 per hour"
    )
    path = "/v1/warrants?format=json&limit=2"
    etag = current_etag(flask_app, path)
    revalidated = middleware.get(path, headers={"If-None-Match": etag})
    assert revalidated.status_code == 304
    assert revalidated.headers["RateLimit-Remaining"] == "0"
    assert counter.calls == 2
    assert middleware.get(path, headers={"If-None-Match": etag}).status_code == 429


def test_a_304_answers_with_the_tag_a_write_leaves(client, writer, db_path):
    middleware, flask_app, counter = clients(db_path)
    before = current_etag(flask_app)
    patched = client.patch(
        ITEM,
        json={"notes": "Revalidated."},
        headers={**writer, "If-Match": before, "Content-Type": "application/merge-patch+json"},
    )
    assert patched.status_code == 200, patched.get_data(as_text=True)
    after = patched.headers["ETag"]
    assert middleware.get(ITEM, headers={"If-None-Match": before}).status_code == 200
    assert middleware.get(ITEM, headers={"If-None-Match": after}).status_code == 304


def test_the_served_304_is_logged_and_tagged_over_a_socket(tmp_path, seed_db_path):
    db_path = tmp_path / "icc-events.db"
    db_path.write_bytes(seed_db_path.read_bytes())
    log_path = tmp_path / "server.log"
    with running_server(db_path, log_path) as (base, _process):
        with urllib.request.urlopen(base + ITEM) as full:
            etag = full.headers["ETag"]
            full_headers = {name.lower() for name in full.headers}
        request = urllib.request.Request(
            base + ITEM, headers={"If-None-Match": etag, "X-Request-ID": REQUEST_ID}
        )
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(request)
    revalidated = raised.value
    revalidated.close()
    assert revalidated.code == 304
    assert revalidated.headers["ETag"] == etag
    assert revalidated.headers["X-Request-ID"] == REQUEST_ID
    # The validators and policies of the full answer, and none of its body's headers.
    expected = {"etag", "cache-control", "vary", "content-security-policy", "x-content-type-options"}
    assert expected <= {name.lower() for name in revalidated.headers} <= full_headers | {"content-length"}
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    logged = [line for line in lines if line.get("request_id") == REQUEST_ID]
    assert [(line["method"], line["path"], line["status"]) for line in logged] == [("GET", ITEM, 304)]
