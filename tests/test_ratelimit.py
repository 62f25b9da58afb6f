"""Rate limits on writes and expensive reads: one budget per client, 429 problem with Retry-After and
RateLimit headers, never on health, the spec, docs or static files, never before a write's 401."""

import http.client
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
from flask.testing import FlaskClient
from limits import parse
from limits.strategies import SlidingWindowCounterRateLimiter

from api.web.app import create_app
from api.web.ratelimit_sqlite import SQLiteStorage
from tests.conftest import ContractClient, assert_problem, make_token
from tests.contract import load_spec, resolve
from tests.server_process import running_server

EXPENSIVE = [
    ("get", "/v1/warrants?q=netanyahu", {}),
    ("get", "/v1/warrants?format=csv", {}),
    ("get", "/v1/warrants", {"Accept": "text/csv"}),
    ("get", "/v1/search?q=court", {}),
    ("get", "/v1/export/csv.zip", {}),
    ("get", "/v1/statements.atom?q=court", {}),
    ("post", "/v1/verify", {"Content-Type": "application/json"}),
    ("post", "/v1/warrants", {"Content-Type": "application/json"}),
    ("delete", "/v1/warrants/x", {}),
]
NEVER_LIMITED = [
    ("get", "/healthz", {}),
    ("get", "/healthz", {"Accept": "text/csv"}),
    ("get", "/openapi.yaml", {}),
    ("get", "/docs", {}),
    ("get", "/docs/assets/swagger-ui.css", {}),
    ("get", "/static/site.css", {}),
    ("get", "/", {}),
    ("get", "/v1/warrants/warrant-benjamin-netanyahu?format=csv", {}),
    ("get", "/v1/timeline", {"Accept": "text/csv"}),
    ("get", "/v1/changes", {}),
    ("get", "/v1/changes.atom", {}),
    ("get", "/v1/warrants.atom?status=outstanding", {}),
    ("post", "/healthz", {}),
    ("get", "/nowhere?q=x", {}),
    ("options", "/v1/warrants?q=x", {"Origin": "https://a.example", "Access-Control-Request-Method": "GET"}),
]


def limited_app(db_path, **config):
    # Budgets per hour: a sliding window counter weighs the last window's requests, so a test that
    # ran across a window's end would see its count change. With windows of a minute that was
    # likely in a run of the suite; with an hour it is rare, though not impossible.
    app = create_app(
        {
            "DATABASE": str(db_path),
            "RATE_LIMIT_WRITES": "3 per hour",
            "RATE_LIMIT_EXPENSIVE_READS": "3/hour",
        }
        | config
    )
    app.test_client_class = ContractClient
    return app


def limited_client(db_path, **config):
    return limited_app(db_path, **config).test_client()


def bearer(db_path) -> dict:
    return {"Authorization": f"Bearer {make_token(db_path, 'alice', 'write')}"}


@pytest.mark.parametrize(("method", "url", "headers"), EXPENSIVE)
def test_fourth_expensive_request_in_an_hour_is_problem_429(db_path, method, url, headers):
    client = limited_client(db_path)
    headers = {**headers, **bearer(db_path)}
    for remaining in (2, 1, 0):
        with getattr(client, method)(url, headers=headers) as response:  # exports stream: close each
            assert response.status_code != 429
            assert response.headers["RateLimit-Remaining"] == str(remaining)
    response = getattr(client, method)(url, headers=headers)
    assert_problem(response, 429)
    assert 1 <= int(response.headers["Retry-After"]) <= 3600
    assert response.headers["RateLimit-Limit"] == "3"
    assert response.headers["RateLimit-Remaining"] == "0"
    assert response.headers["RateLimit-Policy"] == "3;w=3600"
    assert 0 <= int(response.headers["RateLimit-Reset"]) <= 3600


def test_plain_reads_are_never_limited(db_path):
    client = limited_client(db_path)
    for _ in range(10):
        response = client.get("/v1/warrants?limit=1")
        assert response.status_code == 200
        assert "RateLimit-Limit" not in response.headers


@pytest.mark.parametrize(("method", "url", "headers"), NEVER_LIMITED)
def test_exempt_requests_never_get_429_once_every_budget_is_spent(db_path, method, url, headers):
    app = limited_app(db_path, RATE_LIMIT_WRITES="1 per hour", RATE_LIMIT_EXPENSIVE_READS="1 per hour")
    client = FlaskClient(app)  # some of these are 404s and 405s the contract client would question
    writer = bearer(db_path)
    for _ in range(2):
        client.get("/v1/warrants?q=x")
        client.post("/v1/warrants", headers=writer, json={})
    assert client.get("/v1/search?q=x").status_code == 429
    assert client.post("/v1/warrants", headers=writer, json={}).status_code == 429
    for _ in range(3):
        with getattr(client, method)(url, headers={**headers, **writer}) as response:
            assert response.status_code != 429
            assert "RateLimit-Limit" not in response.headers


@pytest.mark.parametrize(
    "credentials", [{}, {"Authorization": "Bearer icc_nope_nope"}, {"Authorization": "Basic eDp5"}]
)
def test_a_write_without_valid_credentials_is_401_and_spends_no_budget(db_path, credentials):
    client = limited_client(db_path)
    writer = bearer(db_path)
    first = client.post("/v1/organizations", headers=writer, json={})
    assert first.headers["RateLimit-Remaining"] == "2"
    for _ in range(5):
        response = client.post("/v1/organizations", headers=credentials, json={})
        assert_problem(response, 401)
        assert "RateLimit-Remaining" not in response.headers
    after = client.post("/v1/organizations", headers=writer, json={})
    assert after.status_code != 429
    assert after.headers["RateLimit-Remaining"] == "1"


def test_apps_over_one_database_share_one_budget(db_path):
    # Two apps stand for two worker processes: each has its own connection to the same file.
    one, other = limited_client(db_path), limited_client(db_path)
    statuses = [client.get("/v1/warrants?q=x").status_code for client in (one, other, one, other)]
    assert statuses == [200, 200, 200, 429]
    assert (db_path.parent / "icc-events.ratelimit.db").exists()


def test_budgets_are_per_client_address(db_path):
    client = limited_client(db_path, RATE_LIMIT_EXPENSIVE_READS="1 per hour")
    assert client.get("/v1/warrants?q=x", environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 200
    assert client.get("/v1/warrants?q=x", environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 429
    assert client.get("/v1/warrants?q=x", environ_base={"REMOTE_ADDR": "192.0.2.2"}).status_code == 200


def test_the_storage_setting_takes_any_limits_storage_uri(db_path):
    client = limited_client(db_path, RATE_LIMIT_STORAGE="memory://")
    assert client.get("/v1/warrants?q=x").headers["RateLimit-Remaining"] == "2"
    assert not (db_path.parent / "icc-events.ratelimit.db").exists()


@pytest.mark.parametrize("uri", ["nosuch://host", "sqlite://", "sqlite:///no/such/directory/limits.db"])
def test_an_unusable_storage_setting_fails_at_start(db_path, uri):
    with pytest.raises(Exception):  # noqa: B017 - limits' ConfigurationError, ValueError or RuntimeError
        create_app({"DATABASE": str(db_path), "RATE_LIMIT_STORAGE": uri})


def test_limits_can_be_switched_off(db_path):
    client = limited_client(db_path, RATE_LIMIT_ENABLED=False)
    statuses = {client.get("/v1/warrants?q=x").status_code for _ in range(6)}
    assert statuses == {200}
    assert not (db_path.parent / "icc-events.ratelimit.db").exists()


def test_malformed_limit_setting_fails_at_start(db_path):
    with pytest.raises(ValueError):
        create_app({"DATABASE": str(db_path), "RATE_LIMIT_WRITES": "lots"})


def test_rate_limit_settings_come_from_the_environment(monkeypatch, db_path, tmp_path):
    monkeypatch.setenv("ICC_EVENTS_RATE_LIMIT_EXPENSIVE_READS", "1 per hour")
    monkeypatch.setenv("ICC_EVENTS_RATE_LIMIT_STORAGE", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    client = create_app({"DATABASE": str(db_path)}).test_client()
    assert client.get("/v1/warrants?q=x").status_code == 200
    response = client.get("/v1/warrants?q=x")
    assert response.status_code == 429
    assert response.headers["RateLimit-Policy"] == "1;w=3600"
    assert (tmp_path / "elsewhere.db").exists()


RACE = """
import sys
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter
import api.web.ratelimit_sqlite
limiter = SlidingWindowCounterRateLimiter(storage_from_string(sys.argv[1]))
item = parse("25 per hour")
print(sum(limiter.hit(item, "race", "client") for _ in range(20)))
"""


def test_processes_racing_for_one_budget_take_exactly_the_limit(tmp_path):
    uri = f"sqlite:///{tmp_path / 'limits.db'}"
    command = [sys.executable, "-c", RACE, uri]
    racers = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(4)]
    taken = [int(racer.communicate(timeout=60)[0]) for racer in racers]
    assert all(racer.returncode == 0 for racer in racers)
    assert sum(taken) == 25


OPEN_AT_ONCE = """
import sys, time
from api.web.ratelimit_sqlite import SQLiteStorage
storage = SQLiteStorage(sys.argv[1])
while time.time() < float(sys.argv[2]):  # every racer opens the file in the same millisecond
    pass
print(storage.check())
"""


def test_workers_opening_a_new_storage_file_at_once_all_get_it(tmp_path):
    # A server's workers start together and each opens the budget file; on a new file, SQLite
    # answered one of them SQLITE_BUSY at once while another was setting WAL mode (38 times in 100
    # rounds of 3 processes before the fix).
    outcomes = []
    for round_number in range(12):
        uri = f"sqlite:///{tmp_path / f'limits-{round_number}.db'}"
        start_at = str(time.time() + 1.0)
        command = [sys.executable, "-c", OPEN_AT_ONCE, uri, start_at]
        racers = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(3)]
        outcomes += [racer.communicate(timeout=60)[0].strip() for racer in racers]
    assert outcomes == ["True"] * 36


def test_the_sqlite_storage_counts_fixed_and_sliding_windows_and_clears(tmp_path):
    storage = SQLiteStorage(f"sqlite:///{tmp_path / 'limits.db'}", clock=lambda: 7_200_000.0)
    assert [storage.incr("k", 60) for _ in range(3)] == [1, 2, 3]
    assert storage.get("k") == 3 and storage.get_expiry("k") > 0
    assert storage.acquire_sliding_window_entry("m", 2, 3600)
    assert storage.acquire_sliding_window_entry("m", 2, 3600)
    assert not storage.acquire_sliding_window_entry("m", 2, 3600)
    assert storage.get_sliding_window("m", 3600)[2] == 2
    storage.clear_sliding_window("m", 3600)
    assert storage.get_sliding_window("m", 3600)[2] == 0
    assert storage.reset() == 1 and storage.get("k") == 0
    assert storage.check()


def test_the_last_windows_requests_count_by_how_much_of_it_the_window_still_covers(tmp_path):
    window_start = (time.time() // 100 + 1) * 100  # a window of 100 s starts here
    now = [window_start - 99.5]  # early in the window before it: its counter must outlive it
    storage = SQLiteStorage(f"sqlite:///{tmp_path / 'limits.db'}", clock=lambda: now[0])
    limiter = SlidingWindowCounterRateLimiter(storage)
    item = parse("10 per 100 seconds")
    assert all(limiter.hit(item, "reads", "c") for _ in range(10))  # the last window: all 10
    now[0] = window_start + 25
    # 75 s of the last window are still in the moving window: 10 x 0.75 = 7.5 counted, rounded down
    # as the library does, so 3 more fit.
    assert [limiter.hit(item, "reads", "c") for _ in range(4)] == [True, True, True, False]
    now[0] = window_start + 75
    # 25 s still covered: 10 x 0.25 + 3 = 5.5, so 5 more fit (to 9.5, then 10.5 is refused).
    assert sum(limiter.hit(item, "reads", "c") for _ in range(8)) == 5
    now[0] = window_start + 300
    # Both windows and the one after have passed: a full budget again, and the counters of the two
    # are gone from the file (each lives two windows from its first request).
    assert limiter.hit(item, "reads", "c")
    assert storage.connection().execute("SELECT count(*) FROM counters").fetchone()[0] == 1


def test_a_budget_is_one_counter_a_window_however_many_requests_it_holds(tmp_path):
    # The moving window kept one row per request, and counted them on every check.
    storage = SQLiteStorage(f"sqlite:///{tmp_path / 'limits.db'}", clock=lambda: 7_200_000.0)
    limiter = SlidingWindowCounterRateLimiter(storage)
    item = parse("1000000 per hour")
    for _ in range(2000):
        limiter.hit(item, "reads", "c")
    rows = storage.connection().execute("SELECT value FROM counters").fetchall()
    assert rows == [(2000,)]
    assert storage.get_sliding_window(item.key_for("reads", "c"), 3600)[2] == 2000


def test_starting_on_a_moving_window_file_drops_its_entries(tmp_path):
    path = tmp_path / "limits.db"
    with sqlite3.connect(path) as old:
        old.execute("CREATE TABLE window_entries (key TEXT, at REAL, expires_at REAL)")
    storage = SQLiteStorage(f"sqlite:///{path}")
    assert storage.check()
    with sqlite3.connect(path) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"counters"}


def endpoint_variants(path: str, method: str) -> list[tuple[str, dict]]:
    """The requests that could make an operation expensive: plain, a search, CSV by parameter or Accept."""
    url = path.replace("{record_id}", "x").replace("{source_id}", "x").replace("{name}", "x")
    if method != "get":
        return [(url, {"Content-Type": "application/json"})]
    return [(url, {}), (f"{url}?q=x", {}), (f"{url}?format=csv", {}), (url, {"Accept": "text/csv"})]


def test_openapi_lists_429_on_exactly_the_operations_that_can_return_it(db_path):
    app = limited_app(db_path, RATE_LIMIT_WRITES="1 per hour", RATE_LIMIT_EXPENSIVE_READS="1 per hour")
    client, writer = FlaskClient(app), bearer(db_path)
    documented, limited = set(), set()
    for number, (path, operations) in enumerate(load_spec()["paths"].items()):
        for method, operation in operations.items():
            if "429" in operation["responses"]:
                documented.add((method, path))
                headers = resolve(operation["responses"]["429"])["headers"]
                assert {"Retry-After", "RateLimit-Limit", "RateLimit-Remaining"} <= set(headers)
                assert {"RateLimit-Reset", "RateLimit-Policy"} <= set(headers)
            for variant, (url, headers) in enumerate(endpoint_variants(path, method)):
                # Each operation and variant from an address of its own: budgets are per client.
                environ = {"REMOTE_ADDR": f"10.{number}.{variant}.{len(method)}"}
                for _ in range(2):
                    headers = {**headers, **writer}
                    response = client.open(url, method=method, headers=headers, environ_base=environ)
                    response.close()
                if response.status_code == 429:
                    limited.add((method, path))
    assert limited, "no operation was ever limited"
    assert documented == limited


def raw_get(base_url: str, path: str) -> tuple[int, http.client.HTTPMessage]:
    """One request over a new connection (a new connection may go to either worker)."""
    connection = http.client.HTTPConnection(urlsplit(base_url).hostname, urlsplit(base_url).port, timeout=10)
    try:
        connection.request("GET", path, headers={"Connection": "close"})
        response = connection.getresponse()
        response.read()
        return response.status, response.headers  # names compare case-insensitively
    finally:
        connection.close()


def test_two_worker_processes_of_the_real_server_share_one_budget(seed_db_path, tmp_path):
    db_path = tmp_path / "icc-events.db"
    db_path.write_bytes(seed_db_path.read_bytes())
    env = {"ICC_EVENTS_RATE_LIMIT_EXPENSIVE_READS": "20 per hour"}
    with running_server(db_path, tmp_path / "server.log", workers=2, env=env) as (base_url, _):
        # All at once, so that both workers take some; with a budget per worker, all 21 would pass.
        with ThreadPoolExecutor(21) as pool:
            answers = list(pool.map(lambda n: raw_get(base_url, "/v1/search?q=court"), range(21)))
        exempt = [raw_get(base_url, path)[0] for path in ("/healthz", "/openapi.yaml", "/docs")]
    assert sorted(status for status, _ in answers) == [200] * 20 + [429]
    # RateLimit-Remaining is read after the hit, so two requests at once may report the same number;
    # the one that took the last entry reads after every hit, so 0 is always among them.
    remaining = {int(headers["RateLimit-Remaining"]) for status, headers in answers if status == 200}
    assert remaining <= set(range(20)) and 0 in remaining
    [(_, refused)] = [answer for answer in answers if answer[0] == 429]
    assert refused["Content-Type"] == "application/problem+json"
    assert int(refused["Retry-After"]) >= 1 and refused["RateLimit-Remaining"] == "0"
    assert exempt == [200, 200, 200]
