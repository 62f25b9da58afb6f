"""Rate limits on writes and expensive reads: 429 problem with Retry-After and RateLimit headers."""

import pytest

from api import create_app
from tests.conftest import ContractClient, assert_problem

EXPENSIVE = [
    ("get", "/v1/warrants?q=netanyahu", {}),
    ("get", "/v1/warrants?format=csv", {}),
    ("get", "/v1/warrants", {"Accept": "text/csv"}),
    ("get", "/v1/search?q=court", {}),
    ("get", "/v1/export/csv.zip", {}),
    ("post", "/v1/warrants", {}),
    ("delete", "/v1/warrants/x", {}),
]


def limited_client(db_path, **config):
    app = create_app(
        {
            "DATABASE": str(db_path),
            "RATE_LIMIT_WRITES": "3 per minute",
            "RATE_LIMIT_EXPENSIVE_READS": "3/minute",
        }
        | config
    )
    app.test_client_class = ContractClient
    return app.test_client()


@pytest.mark.parametrize(("method", "url", "headers"), EXPENSIVE)
def test_fourth_expensive_request_in_a_minute_is_problem_429(db_path, method, url, headers):
    client = limited_client(db_path)
    for remaining in (2, 1, 0):
        with getattr(client, method)(url, headers=headers) as response:  # exports stream: close each
            assert response.status_code != 429
            assert response.headers["RateLimit-Remaining"] == str(remaining)
    response = getattr(client, method)(url, headers=headers)
    assert_problem(response, 429)
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.headers["RateLimit-Limit"] == "3"
    assert response.headers["RateLimit-Remaining"] == "0"
    assert response.headers["RateLimit-Policy"] == "3;w=60"
    assert 0 <= int(response.headers["RateLimit-Reset"]) <= 60


def test_plain_reads_are_never_limited(db_path):
    client = limited_client(db_path)
    for _ in range(10):
        response = client.get("/v1/warrants?limit=1")
        assert response.status_code == 200
        assert "RateLimit-Limit" not in response.headers


def test_limits_can_be_switched_off(db_path):
    client = limited_client(db_path, RATE_LIMIT_ENABLED=False)
    statuses = {client.get("/v1/warrants?q=x").status_code for _ in range(6)}
    assert statuses == {200}


def test_malformed_limit_setting_fails_at_start(db_path):
    with pytest.raises(ValueError):
        create_app({"DATABASE": str(db_path), "RATE_LIMIT_WRITES": "lots"})


def test_rate_limit_settings_come_from_the_environment(monkeypatch, db_path):
    monkeypatch.setenv("ICC_EVENTS_RATE_LIMIT_EXPENSIVE_READS", "1 per hour")
    client = create_app({"DATABASE": str(db_path)}).test_client()
    assert client.get("/v1/warrants?q=x").status_code == 200
    response = client.get("/v1/warrants?q=x")
    assert response.status_code == 429
    assert response.headers["RateLimit-Policy"] == "1;w=3600"
