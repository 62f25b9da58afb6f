"""Request ids on every response and one JSON access-log line per request."""

import json
import re

import pytest

from tests.conftest import assert_problem

GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")
UTC_MILLISECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.mark.parametrize("request_id", ["abc", "7f3a-11.x:y_z", "A" * 128])
def test_well_formed_request_id_is_returned(client, request_id):
    response = client.get("/healthz", headers={"X-Request-ID": request_id})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == request_id


@pytest.mark.parametrize("request_id", ["", "a b", "A" * 129, "<script>", "naïve", "a,b"])
def test_malformed_request_id_is_replaced_by_a_new_one(client, request_id):
    response = client.get("/healthz", headers={"X-Request-ID": request_id})
    assert response.status_code == 200
    assert GENERATED_ID.match(response.headers["X-Request-ID"])


@pytest.mark.parametrize("url", ["/healthz", "/v1/warrants/no-such", "/nowhere", "/", "/docs/assets/nope"])
def test_every_response_carries_a_fresh_request_id(client, url):
    ids = {client.get(url).headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3 and all(GENERATED_ID.match(i) for i in ids)


def test_access_log_is_one_json_line_per_request(client, capsys):
    capsys.readouterr()
    response = client.get("/v1/warrants/no-such?fields=title", headers={"X-Request-ID": "trace-42"})
    assert_problem(response, 404)
    [line] = capsys.readouterr().err.splitlines()
    entry = json.loads(line)
    assert entry["method"] == "GET"
    assert entry["path"] == "/v1/warrants/no-such"
    assert entry["status"] == 404
    assert entry["request_id"] == "trace-42"
    assert isinstance(entry["duration_ms"], float) and entry["duration_ms"] >= 0
    assert UTC_MILLISECONDS.match(entry["time"])


def test_access_log_can_be_turned_off(db_path, capsys):
    from api.web.app import create_app

    app = create_app({"DATABASE": str(db_path), "ACCESS_LOG": False})
    capsys.readouterr()
    assert app.test_client().get("/healthz").status_code == 200
    assert capsys.readouterr().err == ""


def test_access_log_follows_the_log_level(db_path, capsys):
    from api.web.app import create_app

    quiet = create_app({"DATABASE": str(db_path), "LOG_LEVEL": "WARNING"})
    capsys.readouterr()
    assert quiet.test_client().get("/healthz").status_code == 200
    assert capsys.readouterr().err == ""


def test_unexpected_error_is_logged_as_json_with_its_traceback_and_request_id(app, capsys):
    def broken():
        raise RuntimeError("disk on fire")

    app.add_url_rule("/broken", "broken", broken)
    capsys.readouterr()
    response = app.test_client().get("/broken", headers={"X-Request-ID": "trace-500"})
    assert_problem(response, 500)
    assert "disk on fire" not in response.get_data(as_text=True)
    error, access = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert error["level"] == "error"
    assert error["request_id"] == "trace-500"
    assert "RuntimeError: disk on fire" in error["exception"]
    assert (access["status"], access["request_id"]) == (500, "trace-500")


def test_a_lower_case_method_is_logged_and_given_cors_as_werkzeug_names_it(app, capsys):
    client = app.test_client()
    response = client.open("/v1/warrants", method="get", headers={"Origin": "https://newsroom.example"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
    assert [line["method"] for line in lines if line.get("path") == "/v1/warrants"] == ["GET"]
