"""304s answered outside Flask (api/web/revalidation.py): the views' own answer, or no answer at all."""

import json

import pytest

from tests.conftest import assert_problem

ITEM = "/v1/warrants/warrant-yoav-gallant"
PAGE = "/v1/warrants?status=outstanding&sort=-issued&limit=2&include=subject&facet=crimes"


@pytest.fixture
def flask_calls(app):
    """The requests that reached Flask, behind the revalidation middleware."""
    calls = []
    middleware = app.wsgi_app
    inner = middleware.wsgi_app

    def counting(environ, start_response):
        calls.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    middleware.wsgi_app = counting
    return calls


def current_etag(client, url=ITEM) -> str:
    return client.get(url).headers["ETag"]


def without_request_id(response) -> dict:
    return {k: v for k, v in response.headers.items() if k not in ("X-Request-ID", "Date")}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Accept": "application/json"},
        {"Accept": "*/*"},
        {"Accept-Encoding": "gzip"},
        {"X-Request-ID": "trace-1"},
    ],
)
@pytest.mark.parametrize("url", [ITEM, PAGE])
def test_a_current_copy_gets_the_same_304_without_reaching_flask(app, client, flask_calls, headers, url):
    etag = current_etag(client, url)
    client.get(url, headers={**headers, "If-None-Match": etag})  # a page's tag is learnt from Flask
    flask_calls.clear()
    fast = client.get(url, headers={**headers, "If-None-Match": etag})
    assert flask_calls == []
    app.wsgi_app = app.wsgi_app.wsgi_app  # the view's own 304, for comparison
    slow = client.get(url, headers={**headers, "If-None-Match": etag})
    assert fast.status_code == slow.status_code == 304
    assert fast.get_data() == slow.get_data() == b""
    assert without_request_id(fast) == without_request_id(slow)
    if "X-Request-ID" in headers:
        assert fast.headers["X-Request-ID"] == slow.headers["X-Request-ID"] == "trace-1"


@pytest.mark.parametrize(
    "if_none_match",
    ["*", '"other", {etag}', "W/{etag}", "{etag_gzip}"],
)
def test_every_form_of_a_matching_tag_is_recognised(client, flask_calls, if_none_match):
    etag = current_etag(client)
    value = if_none_match.format(etag=etag, etag_gzip=etag[:-1] + ':gzip"')
    flask_calls.clear()
    assert client.get(ITEM, headers={"If-None-Match": value}).status_code == 304
    assert flask_calls == []


@pytest.mark.parametrize(
    ("url", "headers"),
    [
        (ITEM, {"If-None-Match": '"not-the-tag"'}),
        (ITEM + "?fields=title", {}),
        (ITEM, {"Origin": "https://newsroom.example"}),
        (ITEM, {"Accept": "text/csv"}),
        ("/v1/warrants/no-such-warrant", {}),
        ("/v1/nothing/warrant-yoav-gallant", {}),
        (ITEM + "/history", {}),
    ],
)
def test_anything_else_reaches_flask(client, flask_calls, url, headers):
    etag = current_etag(client)
    headers = {"If-None-Match": etag, **headers}
    flask_calls.clear()
    client.get(url, headers=headers)
    assert flask_calls == [url.split("?")[0]]


def test_a_cross_origin_revalidation_still_gets_its_cors_headers(client):
    etag = current_etag(client)
    response = client.get(ITEM, headers={"If-None-Match": etag, "Origin": "https://newsroom.example"})
    assert response.status_code == 304
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_an_oversized_id_is_still_refused(client, app):
    long_id = "x" * (app.config["MAX_ID_LENGTH"] + 1)
    assert_problem(client.get(f"/v1/warrants/{long_id}", headers={"If-None-Match": "*"}), 400)


def test_a_write_makes_the_old_tag_stale(client, admin):
    etag = current_etag(client)
    changed = client.patch(
        ITEM,
        json={"title": "Arrest warrant for Yoav Gallant (edited)"},
        headers={**admin, "If-Match": etag, "Content-Type": "application/merge-patch+json"},
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    response = client.get(ITEM, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.get_json()["title"] == "Arrest warrant for Yoav Gallant (edited)"
    assert response.headers["ETag"] == changed.headers["ETag"] != etag


def test_a_fast_304_writes_its_access_log_line(client, capsys):
    etag = current_etag(client)
    capsys.readouterr()
    client.get(ITEM, headers={"If-None-Match": etag, "X-Request-ID": "revalidate-1"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [(line["method"], line["path"], line["status"], line["request_id"]) for line in lines] == [
        ("GET", ITEM, 304, "revalidate-1")
    ]
    assert lines[0]["duration_ms"] >= 0 and lines[0]["remote_addr"] == "127.0.0.1"


def test_a_storage_fault_leaves_the_answer_to_flask(client, flask_calls, db_path):
    etag = current_etag(client)
    db_path.unlink()
    flask_calls.clear()
    response = client.get(ITEM, headers={"If-None-Match": etag})
    assert flask_calls == [ITEM]
    assert response.status_code != 304


def test_a_page_tag_is_learnt_from_flask_for_that_exact_url_and_host(client, flask_calls):
    etag = current_etag(client, PAGE)
    flask_calls.clear()
    assert client.get(PAGE, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(PAGE, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(PAGE + "&x=", headers={"If-None-Match": etag}).status_code == 400
    other_host = client.get(PAGE, headers={"If-None-Match": etag}, base_url="http://mirror.example")
    assert other_host.status_code == 200  # its links name another host: another representation
    assert flask_calls == ["/v1/warrants"] * 3


@pytest.mark.parametrize("url", [PAGE, "/v1/warrants?q=gallant", "/v1/warrants?format=csv&limit=2"])
def test_a_page_revalidates_again_after_any_commit(client, flask_calls, db_path, url):
    import sqlite_utils

    etag = current_etag(client, url)
    client.get(url, headers={"If-None-Match": etag})
    db = sqlite_utils.Database(db_path)
    with db.conn:
        db.execute("UPDATE sources SET publisher = publisher")  # a commit that changes no value
    db.conn.close()
    flask_calls.clear()
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert flask_calls == ["/v1/warrants"]  # unchanged rows, but the commit sent it to Flask again


def test_a_page_changed_by_a_write_is_sent_again(client, admin):
    etag = current_etag(client, PAGE)
    assert client.get(PAGE, headers={"If-None-Match": etag}).status_code == 304
    changed = client.patch(
        ITEM,
        json={"title": "Arrest warrant for Yoav Gallant (edited)"},
        headers={**admin, "If-Match": current_etag(client), "Content-Type": "application/merge-patch+json"},
    )
    assert changed.status_code == 200
    response = client.get(PAGE, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.headers["ETag"] != etag
