"""X-Forwarded-For and X-Forwarded-Proto are believed only from a trusted proxy, and then only its hop."""

import http.client
import json
from urllib.parse import urlsplit

import pytest

from api.config import SettingError, settings_from_environment
from api.web.app import create_app
from api.web.proxies import TrustedProxies
from tests.server_process import running_server


def app_behind(db_path, trusted, **config):
    return create_app({"DATABASE": str(db_path), "TRUSTED_PROXIES": trusted} | config)


def logged_addresses(capsys) -> list[str]:
    return [json.loads(line)["remote_addr"] for line in capsys.readouterr().err.splitlines()]


@pytest.mark.parametrize(
    ("trusted", "peer", "forwarded", "client"),
    [
        ((), "127.0.0.1", "6.6.6.6", "127.0.0.1"),  # nothing trusted: the header is ignored
        (("127.0.0.1",), "192.0.2.7", "6.6.6.6", "192.0.2.7"),  # not from the proxy: ignored
        (("127.0.0.1",), "127.0.0.1", "203.0.113.5", "203.0.113.5"),
        (("127.0.0.1",), "127.0.0.1", "6.6.6.6, 203.0.113.5", "203.0.113.5"),  # only the proxy's hop
        (("10.0.0.0/8",), "10.1.2.3", "203.0.113.5", "203.0.113.5"),
        (("127.0.0.1",), "::ffff:127.0.0.1", "203.0.113.5", "203.0.113.5"),
        (("::1",), "::1", "2001:db8::1", "2001:db8::1"),
        (("127.0.0.1",), "127.0.0.1", None, "127.0.0.1"),
    ],
)
def test_the_logged_client_is_the_proxys_hop_only_from_a_trusted_proxy(
    db_path, capsys, trusted, peer, forwarded, client
):
    app = app_behind(db_path, trusted)
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    capsys.readouterr()
    response = app.test_client().get("/healthz", headers=headers, environ_base={"REMOTE_ADDR": peer})
    assert response.status_code == 200
    assert logged_addresses(capsys) == [client]


def test_rate_limits_count_per_forwarded_client(db_path):
    app = app_behind(db_path, ("127.0.0.1",), RATE_LIMIT_EXPENSIVE_READS="1 per hour")
    client = app.test_client()

    def search(forwarded: str):
        headers = {"X-Forwarded-For": forwarded}
        return client.get("/v1/search?q=court", headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"})

    assert search("203.0.113.5").status_code == 200
    assert search("203.0.113.5").status_code == 429
    assert search("6.6.6.6, 203.0.113.5").status_code == 429  # a spoofed first hop changes nothing
    assert search("203.0.113.6").status_code == 200


def test_forwarded_proto_makes_links_https_only_from_a_trusted_proxy(db_path):
    headers = {"X-Forwarded-Proto": "https"}
    trusted = app_behind(db_path, ("127.0.0.1",)).test_client().get("/v1/warrants?limit=1", headers=headers)
    direct = app_behind(db_path, ()).test_client().get("/v1/warrants?limit=1", headers=headers)
    assert trusted.get_json()["links"]["self"].startswith("https://")
    assert direct.get_json()["links"]["self"].startswith("http://")


def test_a_304_answered_before_flask_logs_the_forwarded_client(db_path, capsys):
    client = app_behind(db_path, ("127.0.0.1",)).test_client()
    path = "/v1/warrants/warrant-benjamin-netanyahu"
    etag = client.get(path).headers["ETag"]
    capsys.readouterr()
    headers = {"If-None-Match": etag, "X-Forwarded-For": "203.0.113.5"}
    assert client.get(path, headers=headers).status_code == 304
    assert logged_addresses(capsys) == ["203.0.113.5"]


def test_with_no_proxy_trusted_nothing_wraps_the_app(db_path):
    assert not isinstance(app_behind(db_path, ()).wsgi_app, TrustedProxies)
    assert isinstance(app_behind(db_path, ("127.0.0.1",)).wsgi_app, TrustedProxies)


@pytest.mark.parametrize(
    ("value", "parsed"),
    [("", ()), ("127.0.0.1", ("127.0.0.1",)), (" 10.0.0.0/8, ::1 ", ("10.0.0.0/8", "::1"))],
)
def test_trusted_proxies_come_from_the_environment(value, parsed):
    assert settings_from_environment({"ICC_EVENTS_TRUSTED_PROXIES": value}) == {"TRUSTED_PROXIES": parsed}


@pytest.mark.parametrize("value", ["localhost", "10.0.0.0/33", "127.0.0.1;10.0.0.1"])
def test_a_trusted_proxy_that_is_no_address_is_an_error_naming_the_variable(value):
    with pytest.raises(SettingError, match="^ICC_EVENTS_TRUSTED_PROXIES="):
        settings_from_environment({"ICC_EVENTS_TRUSTED_PROXIES": value})


def get_forwarded(base_url: str, forwarded: str, request_id: str) -> int:
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.request(
            "GET", "/healthz", headers={"X-Forwarded-For": forwarded, "X-Request-ID": request_id}
        )
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.parametrize(("trusted", "logged"), [("127.0.0.1", "203.0.113.5"), ("", "127.0.0.1")])
def test_the_real_server_logs_the_forwarded_client_only_when_its_peer_is_trusted(
    seed_db_path, tmp_path, trusted, logged
):
    db_path, log_path = tmp_path / "icc-events.db", tmp_path / "server.log"
    db_path.write_bytes(seed_db_path.read_bytes())
    with running_server(db_path, log_path, env={"ICC_EVENTS_TRUSTED_PROXIES": trusted}) as (base_url, _):
        assert get_forwarded(base_url, "203.0.113.5", "forwarded-1") == 200
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    [entry] = [line for line in lines if line.get("request_id") == "forwarded-1"]
    assert entry["remote_addr"] == logged
