"""Webhook subscriptions over the API: admin only, SSRF refusals, filters, the outbox, the schedule."""

import dataclasses
import datetime as dt
import http.server
import json
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import sqlite_utils

from api.config import DEFAULTS
from api.integrations.delivery import DeliverySettings, backoff_seconds, deliver, signed_headers
from api.model.webhook_targets import UnsafeTarget, check_url
from api.store.webhooks import new_secret
from api.web.app import create_app
from tests.conftest import ContractClient, assert_problem, make_token
from tests.curation_data import new_official, new_organization

MERGE_PATCH = {"Content-Type": "application/merge-patch+json"}
LOOPBACK_HOOK = "http://127.0.0.1:9/hook"  # port 9 (discard): nothing listens, a refused connection


@pytest.fixture
def dev_client(db_path):
    """A client of an app that allows private webhook targets, as in tests and development."""
    app = create_app(
        {
            "DATABASE": str(db_path),
            "TESTING": True,
            "RATE_LIMIT_ENABLED": False,
            "WEBHOOKS_ALLOW_PRIVATE": True,
        }
    )
    app.test_client_class = ContractClient
    return app.test_client()


def bearer(db_path, scope: str) -> dict:
    return {"Authorization": f"Bearer {make_token(db_path, f'{scope}-user', scope)}"}


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[fe80::1]/hook",
        "https://0.0.0.0/hook",
        "https://224.0.0.1/hook",
        "https://localhost/hook",
        "http://example.org/hook",
        "https://user:password@example.org/hook",
    ],
)
def test_private_or_plain_http_targets_are_refused_with_422(client, admin, url):
    response = client.post("/v1/webhooks", json={"url": url}, headers=admin)
    body = assert_problem(response, 422)
    assert "url" in body["errors"]
    with pytest.raises(UnsafeTarget):  # the same check the deliverer makes before each attempt
        check_url(url, allow_private=False)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/webhooks"),
        ("GET", "/v1/webhooks"),
        ("GET", "/v1/webhooks/wh_x"),
        ("PATCH", "/v1/webhooks/wh_x"),
        ("DELETE", "/v1/webhooks/wh_x"),
        ("GET", "/v1/webhooks/wh_x/deliveries"),
    ],
)
def test_webhooks_need_an_admin_token(client, writer, method, path):
    assert_problem(client.open(path, method=method), 401)
    body = assert_problem(client.open(path, method=method, headers=writer), 403)
    assert "admin" in body["detail"]


def test_unknown_webhook_is_problem_404(client, admin):
    assert_problem(client.get("/v1/webhooks/wh_missing", headers=admin), 404)
    assert_problem(client.patch("/v1/webhooks/wh_missing", json={}, headers={**admin, **MERGE_PATCH}), 404)
    assert_problem(client.delete("/v1/webhooks/wh_missing", headers=admin), 404)


def test_invalid_filters_are_problem_422(dev_client, admin):
    body = {"url": LOOPBACK_HOOK, "collections": ["nope"], "actions": ["renamed"], "extra": 1}
    problem = assert_problem(dev_client.post("/v1/webhooks", json=body, headers=admin), 422)
    assert set(problem["errors"]) == {"collections.0", "actions.0", "extra"}


def test_secret_is_shown_once_and_the_filters_choose_the_outbox_rows(dev_client, admin, db_path):
    body = {"url": LOOPBACK_HOOK, "collections": ["organizations"], "actions": ["created"]}
    response = dev_client.post("/v1/webhooks", json=body, headers=admin)
    assert response.status_code == 201
    created = response.get_json()
    assert created["secret"].startswith("whsec_")
    assert response.headers["Location"].endswith(f"/v1/webhooks/{created['id']}")
    assert "secret" not in dev_client.get(response.headers["Location"], headers=admin).get_json()
    assert "secret" not in dev_client.get("/v1/webhooks", headers=admin).get_json()["data"][0]
    everything = dev_client.post("/v1/webhooks", json={"url": LOOPBACK_HOOK}, headers=admin).get_json()
    assert (
        dev_client.post("/v1/organizations", json=new_organization("filtered"), headers=admin).status_code
        == 201
    )
    assert dev_client.post("/v1/officials", json=new_official("filtered"), headers=admin).status_code == 201
    db = sqlite_utils.Database(db_path)
    rows = list(db.query("SELECT subscription_id, collection FROM webhook_outbox ORDER BY id"))
    assert sorted((r["subscription_id"], r["collection"]) for r in rows) == sorted(
        [
            (created["id"], "organizations"),
            (everything["id"], "organizations"),
            (everything["id"], "officials"),
        ]
    )


def test_a_failed_write_leaves_no_outbox_row(dev_client, admin, db_path):
    dev_client.post("/v1/webhooks", json={"url": LOOPBACK_HOOK}, headers=admin)
    bad = new_organization("unsourced", citations=[{"source_id": "nope", "start": 0, "end": 1, "quote": "x"}])
    assert_problem(dev_client.post("/v1/organizations", json=bad, headers=admin), 422)
    assert sqlite_utils.Database(db_path)["webhook_outbox"].count == 0


def test_patch_changes_a_webhook_and_delete_removes_it(dev_client, admin):
    created = dev_client.post("/v1/webhooks", json={"url": LOOPBACK_HOOK}, headers=admin).get_json()
    url = f"/v1/webhooks/{created['id']}"
    response = dev_client.patch(
        url, json={"enabled": False, "actions": ["deleted"]}, headers={**admin, **MERGE_PATCH}
    )
    assert response.status_code == 200
    assert response.get_json()["enabled"] is False and response.get_json()["actions"] == ["deleted"]
    assert response.get_json()["disabled_at"]
    assert dev_client.delete(url, headers=admin).status_code == 204
    assert_problem(dev_client.get(url, headers=admin), 404)


def test_the_deliverer_refuses_a_private_target_the_server_allowed(dev_client, admin, db_path):
    created = dev_client.post("/v1/webhooks", json={"url": LOOPBACK_HOOK}, headers=admin).get_json()
    assert (
        dev_client.post("/v1/organizations", json=new_organization("refused"), headers=admin).status_code
        == 201
    )
    settings = dataclasses.replace(delivery_settings(), allow_private=False)
    deliver(str(db_path), settings, once=True)
    log = dev_client.get(f"/v1/webhooks/{created['id']}/deliveries", headers=admin).get_json()["data"]
    assert [(entry["error"], entry["status_code"], entry["delivered"]) for entry in log] == [
        ("refused-address", None, False)
    ]


def test_a_refused_connection_is_logged_and_retried_later(dev_client, admin, db_path):
    created = dev_client.post("/v1/webhooks", json={"url": LOOPBACK_HOOK}, headers=admin).get_json()
    assert (
        dev_client.post("/v1/organizations", json=new_organization("unheard"), headers=admin).status_code
        == 201
    )
    deliver(str(db_path), delivery_settings(), once=True)
    log = dev_client.get(f"/v1/webhooks/{created['id']}/deliveries?limit=1", headers=admin).get_json()
    assert log["data"][0]["error"] == "ConnectionRefusedError"
    assert log["data"][0]["webhook_id"].startswith("msg_")
    state = dev_client.get(f"/v1/webhooks/{created['id']}", headers=admin).get_json()
    assert state["failure_count"] == 1 and state["enabled"]
    (row,) = sqlite_utils.Database(db_path).query("SELECT attempts, next_attempt_at FROM webhook_outbox")
    assert row["attempts"] == 1 and row["next_attempt_at"] > 0


def test_the_delivery_log_keeps_the_newest_attempts(dev_client, admin, db_path):
    created = dev_client.post("/v1/webhooks", json={"url": LOOPBACK_HOOK}, headers=admin).get_json()
    assert (
        dev_client.post("/v1/organizations", json=new_organization("retried"), headers=admin).status_code
        == 201
    )
    quick = {"retry_base_seconds": 0.001, "retry_max_seconds": 0.001, "disable_after_failures": 6}
    settings = dataclasses.replace(delivery_settings(), log_kept=4, **quick)
    deadline = time.monotonic() + 30
    while enabled(db_path, created["id"]) and time.monotonic() < deadline:
        deliver(str(db_path), settings, once=True)  # each pass sends what is due at that moment
    state = dev_client.get(f"/v1/webhooks/{created['id']}", headers=admin).get_json()
    assert not state["enabled"] and state["failure_count"] == 6  # six refused connections, then disabled
    log = dev_client.get(f"/v1/webhooks/{created['id']}/deliveries", headers=admin).get_json()["data"]
    assert [entry["attempt"] for entry in log] == [6, 5, 4, 3]


def enabled(db_path, subscription_id: str) -> bool:
    rows = sqlite_utils.Database(db_path).query(
        "SELECT enabled FROM webhook_subscriptions WHERE id = ?", [subscription_id]
    )
    return bool(next(rows)["enabled"])


def delivery_settings() -> DeliverySettings:
    return DeliverySettings.from_config(
        {**DEFAULTS, "WEBHOOKS_ALLOW_PRIVATE": True, "WEBHOOKS_TIMEOUT_SECONDS": 1}
    )


@pytest.mark.parametrize(
    ("attempt", "longest"),
    [(1, 5), (2, 10), (3, 20), (10, 2560), (11, 3600), (40, 3600)],
)
def test_retries_wait_exponentially_longer_with_jitter_up_to_the_cap(attempt, longest):
    waits = [backoff_seconds(attempt, 5, 3600) for _ in range(200)]
    assert all(longest / 2 <= wait <= longest for wait in waits)
    assert len(set(waits)) > 1


def test_a_public_address_is_allowed_and_pinned():
    target = check_url("https://93.184.215.14:8443/hooks?x=1", allow_private=False)
    assert (target.host, target.port, target.path, target.addresses) == (
        "93.184.215.14",
        8443,
        "/hooks?x=1",
        ("93.184.215.14",),
    )
    with pytest.raises(UnsafeTarget):
        check_url("https://100.64.0.1/", allow_private=False)  # shared address space (CGNAT)


def readme_receiver() -> str:
    text = (Path(__file__).parent.parent / "README.md").read_text()
    start = text.index("```python\n", text.index("## Webhooks")) + len("```python\n")
    return text[start : text.index("```\n", start)]


def test_the_readme_receiver_accepts_signed_messages_and_refuses_forged_ones():
    secret = new_secret()
    code = readme_receiver().replace('"whsec_..."', repr(secret))
    code = code.replace('HTTPServer(("127.0.0.1", 9000), Receiver).serve_forever()', "")
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    receiver = http.server.HTTPServer(("127.0.0.1", 0), namespace["Receiver"])
    receiver.RequestHandlerClass.log_message = lambda *args: None
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{receiver.server_port}/"
        data = {"seq": 1, "record_id": "warrant-x", "action": "created"}
        body = json.dumps({"type": "warrants.created", "timestamp": "now", "data": data}).encode()
        headers = signed_headers(secret, "msg_1", body, dt.datetime.now(dt.UTC))
        assert post(url, body, headers) == 204
        assert post(url, body, {**headers, "webhook-signature": "v1,Zm9yZ2Vk"}) == 401
    finally:
        receiver.shutdown()
        receiver.server_close()


def post(url: str, body: bytes, headers: dict) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        with error:
            return error.code
