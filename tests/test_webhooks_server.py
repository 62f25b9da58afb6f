"""Webhooks end to end: a real server, a real `icc-events deliver` process, a real receiver on loopback."""

import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlite_utils
import trustme
from standardwebhooks import Webhook

from tests.conftest import make_token
from tests.curation_data import new_official, new_organization
from tests.test_curation_server import bearer, call, running_server

# Fast retries for tests: attempt n waits min(0.05 * 2**(n-1), 0.2) s, jittered; disabled after 3.
DELIVERER_ENVIRONMENT = {
    "ICC_EVENTS_WEBHOOKS_ALLOW_PRIVATE": "true",
    "ICC_EVENTS_WEBHOOKS_RETRY_BASE_SECONDS": "0.05",
    "ICC_EVENTS_WEBHOOKS_RETRY_MAX_SECONDS": "0.2",
    "ICC_EVENTS_WEBHOOKS_DISABLE_AFTER_FAILURES": "3",
    "ICC_EVENTS_WEBHOOKS_TIMEOUT_SECONDS": "1",
    "ICC_EVENTS_WEBHOOKS_POLL_SECONDS": "0.05",
}
MERGE_PATCH = "application/merge-patch+json"
WAIT_SECONDS = 30


class Inbox:
    """What one receiver path got; answers with the statuses queued in `failures`, then 204."""

    def __init__(self):
        self.secret = None
        self.received, self.failures = [], []
        self.hold = None  # an Event: requests wait for it before they are answered
        self.changed = threading.Condition()

    def wait_for(self, predicate, timeout: float = WAIT_SECONDS):
        with self.changed:
            assert self.changed.wait_for(lambda: predicate(self.received), timeout), self.received

    def delivered_seqs(self) -> list[int]:
        return [message["payload"]["data"]["seq"] for message in self.received if message["status"] < 300]


class Receiver(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), ReceiverHandler)
        self.inboxes: dict[str, Inbox] = {}

    def handle_error(self, request, client_address):
        pass  # a deliverer killed mid-request leaves a broken pipe; that is the test, not an error


class ReceiverHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        inbox = self.server.inboxes[self.path]
        body = self.rfile.read(int(self.headers["Content-Length"]))
        # Raises if the signature, id or timestamp is wrong: the deliverer then logs a failure.
        payload = Webhook(inbox.secret).verify(body, dict(self.headers))
        with inbox.changed:
            status = inbox.failures.pop(0) if inbox.failures else 204
            inbox.received.append(
                {
                    "id": self.headers["webhook-id"],
                    "payload": payload,
                    "status": status,
                    "at": time.monotonic(),
                }
            )
            inbox.changed.notify_all()
            hold = inbox.hold
        if hold is not None:
            hold.wait(WAIT_SECONDS)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def receiver():
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def server(seed_db_path, tmp_path_factory):
    directory = tmp_path_factory.mktemp("webhooks")
    db_path, log_path = directory / "icc-events.db", directory / "server.log"
    shutil.copy(seed_db_path, db_path)
    tokens = {"write": make_token(db_path, "alice", "write"), "admin": make_token(db_path, "root", "admin")}
    with running_server(db_path, log_path, {"ICC_EVENTS_WEBHOOKS_ALLOW_PRIVATE": "true"}) as (base, _):
        yield {"base": base, "db_path": db_path, "log_path": log_path, **tokens}


@contextmanager
def deliverer(db_path, log_path, environment: dict | None = None):
    """`python -m api deliver` with fast retries; yields the process."""
    command = [sys.executable, "-m", "api", "deliver", "--db", str(db_path)]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **DELIVERER_ENVIRONMENT, **(environment or {})},
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture
def subscribe(server, receiver):
    """subscribe(name, **filters) -> (subscription, inbox); each is deleted after the test."""
    created = []

    def subscribe(name: str, **filters):
        inbox = receiver.inboxes[f"/{name}"] = Inbox()
        url = f"http://127.0.0.1:{receiver.server_port}/{name}"
        status, _, body = call(
            "POST", f"{server['base']}/v1/webhooks", {"url": url, **filters}, admin(server)
        )
        assert status == 201, body
        inbox.secret = body["secret"]
        created.append(body["id"])
        return body, inbox

    yield subscribe
    for subscription_id in created:
        call("DELETE", f"{server['base']}/v1/webhooks/{subscription_id}", headers=admin(server))


def admin(server) -> dict:
    return bearer(server["admin"])


def write(server, method: str, path: str, body=None) -> dict:
    """One write as the admin token, asserted to succeed; returns the record (None for a delete)."""
    url = f"{server['base']}{path}"
    headers = admin(server)
    if method in ("PATCH", "DELETE"):
        headers["If-Match"] = call("GET", url)[1]["ETag"]
    media_type = MERGE_PATCH if method == "PATCH" else "application/json"
    status, _, record = call(method, url, body, headers, media_type)
    assert status < 300, record
    return record


def changes_of(server, collection: str, record_id: str) -> list[int]:
    body = call("GET", f"{server['base']}/v1/{collection}/{record_id}/history?limit=500")[2]
    return sorted(entry["seq"] for entry in body["data"])


def subscription_state(server, subscription_id: str) -> dict:
    status, _, body = call("GET", f"{server['base']}/v1/webhooks/{subscription_id}", headers=admin(server))
    assert status == 200
    return body


def deliveries(server, subscription_id: str) -> list[dict]:
    url = f"{server['base']}/v1/webhooks/{subscription_id}/deliveries"
    status, _, body = call("GET", url, headers=admin(server))
    assert status == 200
    return body["data"]


def test_every_change_reaches_the_receiver_once_in_order_per_record(server, subscribe, tmp_path):
    subscription, inbox = subscribe("ordered", collections=["organizations"])
    record_ids = [f"hooked-{n}" for n in range(3)]
    with deliverer(server["db_path"], tmp_path / "deliver.log"):
        for record_id in record_ids:
            write(server, "POST", "/v1/organizations", new_organization(record_id))
        write(server, "POST", "/v1/officials", new_official("hooked-official"))  # filtered out
        for round_number in range(2):
            for record_id in record_ids:
                write(server, "PATCH", f"/v1/organizations/{record_id}", {"name": f"Round {round_number}"})
        write(server, "DELETE", "/v1/organizations/hooked-0")
        expected = sorted(
            seq for record_id in record_ids for seq in changes_of(server, "organizations", record_id)
        )
        inbox.wait_for(lambda received: len(received) >= len(expected))
    assert len(expected) == 10
    assert sorted(inbox.delivered_seqs()) == expected  # each once, nothing else
    assert len({message["id"] for message in inbox.received}) == len(expected)
    for record_id in record_ids:
        arrived = [
            m["payload"]["data"]["seq"]
            for m in inbox.received
            if m["payload"]["data"]["record_id"] == record_id
        ]
        assert arrived == sorted(arrived), record_id
    last = inbox.received[-1]["payload"]
    assert last["type"] == "organizations.deleted" and last["data"]["after"] is None
    log = deliveries(server, subscription["id"])
    assert len(log) == len(expected) and all(
        entry["delivered"] and entry["status_code"] == 204 for entry in log
    )


def test_receiver_errors_are_retried_with_backoff_until_delivered(server, subscribe, tmp_path):
    subscription, inbox = subscribe("flaky", collections=["organizations"])
    inbox.failures = [500, 503]
    with deliverer(server["db_path"], tmp_path / "deliver.log"):
        write(server, "POST", "/v1/organizations", new_organization("hooked-flaky"))
        inbox.wait_for(lambda received: any(message["status"] == 204 for message in received))
    assert [message["status"] for message in inbox.received] == [500, 503, 204]
    assert len({message["id"] for message in inbox.received}) == 1  # one webhook-id for every retry
    first, second, third = (message["at"] for message in inbox.received)
    assert second - first >= 0.025 and third - second >= 0.05  # waits of base * 2**(n-1) * [0.5, 1]
    log = deliveries(server, subscription["id"])
    assert [(entry["attempt"], entry["status_code"], entry["delivered"]) for entry in log] == [
        (3, 204, True),
        (2, 503, False),
        (1, 500, False),
    ]
    assert subscription_state(server, subscription["id"])["failure_count"] == 0


def test_repeated_failure_disables_the_subscription_until_it_is_re_enabled(server, subscribe, tmp_path):
    subscription, inbox = subscribe("broken", collections=["organizations"])
    inbox.failures = [500] * 3
    url = f"{server['base']}/v1/webhooks/{subscription['id']}"
    with deliverer(server["db_path"], tmp_path / "deliver.log"):
        write(server, "POST", "/v1/organizations", new_organization("hooked-broken"))
        inbox.wait_for(lambda received: len(received) == 3)
        state = subscription_state(server, subscription["id"])
        while state["enabled"]:  # the third failure's log entry and the disabling are one commit
            state = subscription_state(server, subscription["id"])
        assert state["failure_count"] == 3 and state["disabled_at"]
        write(server, "PATCH", "/v1/organizations/hooked-broken", {"name": "Changed while disabled"})
        status, _, state = call("PATCH", url, {"enabled": True}, admin(server), MERGE_PATCH)
        assert status == 200
        assert state["enabled"] and state["failure_count"] == 0 and state["disabled_at"] is None
        inbox.wait_for(lambda received: len(received) == 5)
    assert [message["status"] for message in inbox.received] == [500, 500, 500, 204, 204]
    assert inbox.delivered_seqs() == changes_of(server, "organizations", "hooked-broken")


def test_a_killed_deliverer_resends_under_the_same_webhook_id_and_loses_nothing(server, subscribe, tmp_path):
    subscription, inbox = subscribe("interrupted", collections=["organizations"])
    record_ids = [f"hooked-kill-{n}" for n in range(12)]
    for record_id in record_ids:
        write(server, "POST", "/v1/organizations", new_organization(record_id))
    inbox.hold = threading.Event()  # the receiver keeps the first requests waiting for an answer
    with deliverer(server["db_path"], tmp_path / "deliver.log") as process:
        inbox.wait_for(lambda received: len(received) >= 1)
        process.kill()  # SIGKILL while messages are in flight, unacknowledged
        process.wait(timeout=10)
    in_flight = {message["id"] for message in inbox.received}
    inbox.hold.set()
    inbox.hold = None
    with deliverer(server["db_path"], tmp_path / "deliver.log"):
        inbox.wait_for(
            lambda received: {m["payload"]["data"]["record_id"] for m in received} == set(record_ids)
        )
        inbox.wait_for(lambda received: in_flight <= {m["id"] for m in received[len(in_flight) :]})
    seqs_by_id = {}
    for message in inbox.received:
        seqs_by_id.setdefault(message["id"], set()).add(message["payload"]["data"]["seq"])
    assert all(len(seqs) == 1 for seqs in seqs_by_id.values())  # a duplicate always repeats its id
    assert len(seqs_by_id) == len(record_ids)
    assert len(inbox.received) > len(record_ids)  # the in-flight ones came twice
    assert subscription_state(server, subscription["id"])["enabled"]


def test_an_acknowledged_write_has_its_outbox_row_after_kill_9(seed_db_path, tmp_path):
    db_path = tmp_path / "icc-events.db"
    shutil.copy(seed_db_path, db_path)
    token = make_token(db_path, "root", "admin")
    environment = {"ICC_EVENTS_WEBHOOKS_ALLOW_PRIVATE": "true"}
    with running_server(db_path, tmp_path / "server.log", environment) as (base, process):
        body = {"url": "http://127.0.0.1:9/never-called"}
        status, _, subscription = call("POST", f"{base}/v1/webhooks", body, bearer(token))
        assert status == 201
        status, _, _ = call("POST", f"{base}/v1/organizations", new_organization("outboxed"), bearer(token))
        assert status == 201
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    db = sqlite_utils.Database(db_path)
    (seq,) = db.execute("SELECT seq FROM changes WHERE record_id = 'outboxed'").fetchone()
    rows = list(
        db.query("SELECT subscription_id, change_seq FROM webhook_outbox WHERE change_seq = ?", [seq])
    )
    assert rows == [{"subscription_id": subscription["id"], "change_seq": seq}]


@pytest.fixture
def tls_receiver(tmp_path):
    """A receiver on https://localhost with a certificate from a test CA; yields (receiver, CA file)."""
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    server = Receiver()
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, ca_file
    server.shutdown()
    server.server_close()


def test_https_goes_to_the_checked_address_with_the_host_name_for_sni_and_certificate(
    server, tls_receiver, tmp_path
):
    receiver, ca_file = tls_receiver
    inbox = receiver.inboxes["/tls"] = Inbox()
    url = f"https://localhost:{receiver.server_port}/tls"
    status, _, subscription = call("POST", f"{server['base']}/v1/webhooks", {"url": url}, admin(server))
    assert status == 201
    inbox.secret = subscription["secret"]
    try:
        # The deliverer trusts the test CA (OpenSSL reads SSL_CERT_FILE); the certificate names
        # localhost only, so this passes only if SNI and the check use the name, not 127.0.0.1.
        with deliverer(server["db_path"], tmp_path / "deliver.log", {"SSL_CERT_FILE": str(ca_file)}):
            write(server, "POST", "/v1/organizations", new_organization("hooked-tls"))
            inbox.wait_for(lambda received: len(received) >= 1)
    finally:
        call("DELETE", f"{server['base']}/v1/webhooks/{subscription['id']}", headers=admin(server))
    assert inbox.received[0]["payload"]["data"]["record_id"] == "hooked-tls"


def test_an_untrusted_certificate_is_a_logged_tls_failure(server, tls_receiver, tmp_path):
    receiver, _ = tls_receiver
    receiver.inboxes["/untrusted"] = Inbox()
    url = f"https://localhost:{receiver.server_port}/untrusted"
    status, _, subscription = call("POST", f"{server['base']}/v1/webhooks", {"url": url}, admin(server))
    assert status == 201
    try:
        write(server, "POST", "/v1/organizations", new_organization("hooked-untrusted"))
        once = subprocess.run(
            [sys.executable, "-m", "api", "deliver", "--db", str(server["db_path"]), "--once"],
            env={**os.environ, **DELIVERER_ENVIRONMENT},
            capture_output=True,
            timeout=60,
        )
        assert once.returncode == 0, once.stderr
        log = deliveries(server, subscription["id"])
    finally:
        call("DELETE", f"{server['base']}/v1/webhooks/{subscription['id']}", headers=admin(server))
    assert [(entry["error"], entry["delivered"]) for entry in log] == [("tls-error", False)]
    assert receiver.inboxes["/untrusted"].received == []


def test_the_signing_secret_never_reaches_the_logs(server, subscribe, tmp_path):
    subscription, inbox = subscribe("quiet")
    with deliverer(server["db_path"], tmp_path / "deliver.log"):
        write(server, "POST", "/v1/organizations", new_organization("hooked-quiet"))
        inbox.wait_for(lambda received: len(received) >= 1)
    secret = inbox.secret.removeprefix("whsec_")
    assert "secret" not in subscription_state(server, subscription["id"])
    assert secret not in server["log_path"].read_text()
    delivered_log = (tmp_path / "deliver.log").read_text()
    attempts = [json.loads(line) for line in delivered_log.splitlines()]
    assert any(line.get("subscription_id") == subscription["id"] and line["delivered"] for line in attempts)
    assert secret not in delivered_log
    assert json.dumps(secret) not in delivered_log
