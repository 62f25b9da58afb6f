"""The deliverer (`icc-events deliver`): sends due outbox rows, signed per Standard Webhooks, and retries.

At least once: a row is leased before it is sent and deleted only after a 2xx, in one transaction with
its log entry. A deliverer killed in between leaves the row; once the lease runs out it is sent again
under the same webhook-id, which receivers dedupe on. A record's changes go out in order: a row is
only claimed while no older row of the same record and subscription is waiting.
"""

import datetime as dt
import http.client
import json
import logging
import random
import sqlite3
import ssl
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

import sqlite_utils
from standardwebhooks import Webhook

from api import __version__
from api.integrations.pinned_http import connection
from api.model.clock import now_iso
from api.model.webhook_targets import UnsafeTarget, check_url
from api.store.changes import change_entry
from api.store.db import connect
from api.store.webhooks import webhook_id

log = logging.getLogger("icc_events.webhooks")
BATCH = 32
SENDERS = 4
MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class DeliverySettings:
    allow_private: bool
    retry_base_seconds: float
    retry_max_seconds: float
    disable_after_failures: int
    timeout_seconds: float
    poll_seconds: float
    log_kept: int

    @property
    def lease_seconds(self) -> float:
        """Longer than one attempt can take (connect, send, read), so a live sender keeps its rows."""
        return 2 * self.timeout_seconds + 1

    @classmethod
    def from_config(cls, config: Mapping) -> "DeliverySettings":
        return cls(
            allow_private=config["WEBHOOKS_ALLOW_PRIVATE"],
            retry_base_seconds=config["WEBHOOKS_RETRY_BASE_SECONDS"],
            retry_max_seconds=config["WEBHOOKS_RETRY_MAX_SECONDS"],
            disable_after_failures=config["WEBHOOKS_DISABLE_AFTER_FAILURES"],
            timeout_seconds=config["WEBHOOKS_TIMEOUT_SECONDS"],
            poll_seconds=config["WEBHOOKS_POLL_SECONDS"],
            log_kept=config["WEBHOOKS_LOG_KEPT"],
        )


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def backoff_seconds(attempt: int, base: float, maximum: float) -> float:
    """The wait after a message's attempt-th failure: min(base * 2**(attempt-1), maximum), jittered."""
    return min(base * 2 ** (attempt - 1), maximum) * random.uniform(0.5, 1.0)


def claim(db: sqlite_utils.Database, now: float, lease_seconds: float, limit: int = BATCH) -> list[dict]:
    """Lease up to limit due rows of enabled subscriptions, each the oldest waiting for its record."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        rows = list(
            db.query(
                """SELECT o.id, o.subscription_id, o.change_seq, o.attempts, s.url, s.secret
                FROM webhook_outbox o JOIN webhook_subscriptions s ON s.id = o.subscription_id
                WHERE s.enabled = 1 AND o.next_attempt_at <= ? AND o.leased_until <= ?
                  AND NOT EXISTS (
                    SELECT 1 FROM webhook_outbox earlier
                    WHERE earlier.subscription_id = o.subscription_id
                      AND earlier.collection = o.collection AND earlier.record_id = o.record_id
                      AND earlier.id < o.id)
                ORDER BY o.id LIMIT ?""",
                [now, now, limit],
            )
        )
        db.conn.executemany(
            "UPDATE webhook_outbox SET leased_until = ? WHERE id = ?",
            [(now + lease_seconds, row["id"]) for row in rows],
        )
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")
    return rows


def message_body(db: sqlite_utils.Database, change_seq: int) -> bytes:
    """The JSON sent for a change: the Standard Webhooks envelope around the /v1/changes entry."""
    change = change_entry(next(db.query("SELECT * FROM changes WHERE seq = ?", [change_seq])))
    kind = f"{change['collection']}.{change['action']}"
    payload = {"type": kind, "timestamp": change["at"], "data": change}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signed_headers(secret: str, message_id: str, body: bytes, at: dt.datetime) -> dict:
    return {
        "Content-Type": "application/json",
        "User-Agent": f"icc-events-webhooks/{__version__}",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body.decode("utf-8")),
    }


def send(url: str, headers: dict, body: bytes, settings: DeliverySettings) -> Outcome:
    """One POST to the URL's checked address; redirects are not followed (a 3xx is a failure)."""
    started = time.monotonic()

    def outcome(status_code: int | None, error: str | None) -> Outcome:
        return Outcome(status_code, error, round((time.monotonic() - started) * 1000))

    try:
        target = check_url(url, settings.allow_private)
    except UnsafeTarget:
        return outcome(None, "refused-address")
    conn = connection(target, settings.timeout_seconds)
    try:
        conn.request("POST", target.path, body=body, headers=headers)
        response = conn.getresponse()
        response.read(MAX_RESPONSE_BYTES)
        return outcome(response.status, None)
    except TimeoutError:
        return outcome(None, "timeout")
    except ssl.SSLError:
        return outcome(None, "tls-error")
    except (OSError, http.client.HTTPException) as error:
        return outcome(None, type(error).__name__)
    finally:
        conn.close()


def record(db: sqlite_utils.Database, row: dict, result: Outcome, settings: DeliverySettings) -> None:
    """Log the attempt; delete the row if delivered, else schedule its retry; count, maybe disable."""
    attempt, stamp = row["attempts"] + 1, now_iso()
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        still_there = db.execute("SELECT 1 FROM webhook_outbox WHERE id = ?", [row["id"]]).fetchone()
        if still_there:  # else its subscription was deleted meanwhile
            db.execute(
                "INSERT INTO webhook_deliveries (subscription_id, outbox_id, change_seq, attempt,"
                " attempted_at, status_code, error, duration_ms, delivered)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    row["subscription_id"],
                    row["id"],
                    row["change_seq"],
                    attempt,
                    stamp,
                    result.status_code,
                    result.error,
                    result.duration_ms,
                    int(result.delivered),
                ],
            )
            db.execute(
                """DELETE FROM webhook_deliveries WHERE subscription_id = :id AND id <= (
                    SELECT id FROM webhook_deliveries WHERE subscription_id = :id
                    ORDER BY id DESC LIMIT 1 OFFSET :kept)""",
                {"id": row["subscription_id"], "kept": settings.log_kept},
            )
            if result.delivered:
                db.execute("DELETE FROM webhook_outbox WHERE id = ?", [row["id"]])
                db.execute(
                    "UPDATE webhook_subscriptions SET failure_count = 0 WHERE id = ?",
                    [row["subscription_id"]],
                )
            else:
                retry_at = time.time() + backoff_seconds(
                    attempt, settings.retry_base_seconds, settings.retry_max_seconds
                )
                db.execute(
                    "UPDATE webhook_outbox SET attempts = ?, next_attempt_at = ?, leased_until = 0"
                    " WHERE id = ?",
                    [attempt, retry_at, row["id"]],
                )
                db.execute(
                    # One statement, so every CASE sees the row as it was before it.
                    """UPDATE webhook_subscriptions SET failure_count = failure_count + 1,
                    enabled = CASE WHEN failure_count + 1 >= :limit THEN 0 ELSE enabled END,
                    disabled_at = CASE WHEN failure_count + 1 >= :limit AND enabled = 1
                        THEN :stamp ELSE disabled_at END,
                    updated_at = CASE WHEN failure_count + 1 >= :limit AND enabled = 1
                        THEN :stamp ELSE updated_at END
                    WHERE id = :id""",
                    {"limit": settings.disable_after_failures, "stamp": stamp, "id": row["subscription_id"]},
                )
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")
    fields = {
        "webhook_id": webhook_id(row["id"]),
        "subscription_id": row["subscription_id"],
        "change_seq": row["change_seq"],
        "attempt": attempt,
        "status": result.status_code,
        "error": result.error,
        "duration_ms": result.duration_ms,
        "delivered": result.delivered,
    }
    # The URL stays out: its query string may be a credential of the receiver's.
    log.info("webhook attempt", extra={"fields": fields})


def attempt(db: sqlite_utils.Database, row: dict, settings: DeliverySettings):
    """What one sender thread needs: the signed request for a claimed row."""
    body = message_body(db, row["change_seq"])
    headers = signed_headers(row["secret"], webhook_id(row["id"]), body, dt.datetime.now(dt.UTC))
    return row["url"], headers, body


def seconds_until_due(db: sqlite_utils.Database, now: float) -> float | None:
    """How long until the next row of an enabled subscription may be sent; None if there is none."""
    due = db.execute(
        """SELECT MIN(MAX(o.next_attempt_at, o.leased_until)) FROM webhook_outbox o
        JOIN webhook_subscriptions s ON s.id = o.subscription_id WHERE s.enabled = 1"""
    ).fetchone()[0]
    return None if due is None else max(0.0, due - now)


def send_due(db: sqlite_utils.Database, senders: ThreadPoolExecutor, settings: DeliverySettings) -> int:
    """Claim, send (in parallel) and record one batch of due rows; how many there were."""
    rows = claim(db, time.time(), settings.lease_seconds)
    sending = {senders.submit(send, *attempt(db, row, settings), settings): row for row in rows}
    for future in as_completed(sending):
        record(db, sending[future], future.result(), settings)
    return len(rows)


def deliver(
    db_path: str, settings: DeliverySettings, once: bool = False, stop: threading.Event | None = None
) -> None:
    """Send what is due until stopped; with once, until nothing is due now."""
    stop = stop or threading.Event()
    db = connect(db_path)
    try:
        with ThreadPoolExecutor(SENDERS, thread_name_prefix="webhook-sender") as senders:
            while not stop.is_set():
                try:
                    sent = send_due(db, senders, settings)
                except sqlite3.OperationalError as error:
                    if "locked" not in str(error) and "busy" not in str(error):
                        raise
                    # Writers held the lock past the busy timeout. Unrecorded attempts are sent
                    # again once their lease ends: at least once still holds.
                    log.warning("database busy; retrying", extra={"fields": {"error": str(error)}})
                    stop.wait(settings.poll_seconds)
                    continue
                if sent:
                    continue
                if once:
                    return
                wait = seconds_until_due(db, time.time())
                stop.wait(settings.poll_seconds if wait is None else min(wait, settings.poll_seconds))
    finally:
        db.conn.close()
