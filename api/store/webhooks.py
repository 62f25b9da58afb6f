"""Webhook subscriptions, their outbox (filled in the write's own transaction) and their delivery log."""

import base64
import json
import secrets

import sqlite_utils

from api.model.clock import now_iso

SECRET_PREFIX = "whsec_"
ID_PREFIX = "wh_"
PUBLIC_COLUMNS = "id, url, collections, actions, enabled, failure_count, disabled_at, created_at, updated_at"


class WebhookNotFound(LookupError):
    """No subscription has this id."""


def new_secret() -> str:
    """A Standard Webhooks signing secret: whsec_ and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def subscription(row: dict) -> dict:
    """A stored subscription as served: filters as lists, enabled as a boolean, never the secret."""
    return {
        **{key: value for key, value in row.items() if key != "secret"},
        "collections": json.loads(row["collections"]),
        "actions": json.loads(row["actions"]),
        "enabled": bool(row["enabled"]),
    }


def create_subscription(db: sqlite_utils.Database, url: str, collections: list, actions: list) -> dict:
    """A new enabled subscription, with its secret: the one time the secret is returned."""
    stamp = now_iso()
    row = {
        "id": ID_PREFIX + secrets.token_hex(8),
        "url": url,
        "secret": new_secret(),
        "collections": json.dumps(sorted(set(collections))),
        "actions": json.dumps(sorted(set(actions))),
        "enabled": 1,
        "failure_count": 0,
        "disabled_at": None,
        "created_at": stamp,
        "updated_at": stamp,
    }
    with db.conn:
        db.execute(
            f"INSERT INTO webhook_subscriptions ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )
    return {**subscription(row), "secret": row["secret"]}


def list_subscriptions(db: sqlite_utils.Database) -> list[dict]:
    sql = f"SELECT {PUBLIC_COLUMNS} FROM webhook_subscriptions ORDER BY created_at, id"
    return [subscription(row) for row in db.query(sql)]


def get_subscription(db: sqlite_utils.Database, subscription_id: str) -> dict:
    """One subscription without its secret; WebhookNotFound if there is none."""
    sql = f"SELECT {PUBLIC_COLUMNS} FROM webhook_subscriptions WHERE id = ?"
    rows = list(db.query(sql, [subscription_id]))
    if not rows:
        raise WebhookNotFound(subscription_id)
    return subscription(rows[0])


def update_subscription(db: sqlite_utils.Database, subscription_id: str, changes: dict) -> dict:
    """Change url, filters or enabled; enabling resets the failure count and makes waiting messages due."""
    columns = {"updated_at": now_iso()}
    if "url" in changes:
        columns["url"] = changes["url"]
    for name in ("collections", "actions"):
        if name in changes:
            columns[name] = json.dumps(sorted(set(changes[name])))
    if "enabled" in changes:
        columns["enabled"] = int(changes["enabled"])
        columns["disabled_at"] = None if changes["enabled"] else columns["updated_at"]
        if changes["enabled"]:
            columns["failure_count"] = 0
    assignments = ", ".join(f"{name} = ?" for name in columns)
    with db.conn:
        cursor = db.execute(
            f"UPDATE webhook_subscriptions SET {assignments} WHERE id = ?",
            [*columns.values(), subscription_id],
        )
        if cursor.rowcount == 0:
            raise WebhookNotFound(subscription_id)
        if changes.get("enabled"):
            db.execute(
                "UPDATE webhook_outbox SET next_attempt_at = 0 WHERE subscription_id = ?",
                [subscription_id],
            )
    return get_subscription(db, subscription_id)


def delete_subscription(db: sqlite_utils.Database, subscription_id: str) -> None:
    """The subscription, its undelivered messages and its log are gone."""
    with db.conn:
        cursor = db.execute("DELETE FROM webhook_subscriptions WHERE id = ?", [subscription_id])
    if cursor.rowcount == 0:
        raise WebhookNotFound(subscription_id)


# One outbox row per subscription whose filters match. Disabled subscriptions get their rows too:
# re-enabling one delivers what it missed. An empty filter matches everything.
ENQUEUE_SQL = """INSERT INTO webhook_outbox
    (subscription_id, change_seq, collection, record_id, next_attempt_at)
    SELECT id, ?, ?, ?, 0 FROM webhook_subscriptions
    WHERE (collections = '[]' OR EXISTS (SELECT 1 FROM json_each(collections) WHERE value = ?))
      AND (actions = '[]' OR EXISTS (SELECT 1 FROM json_each(actions) WHERE value = ?))
    ORDER BY id"""


def enqueue_change(db: sqlite_utils.Database, seq: int, collection: str, record_id: str, action: str) -> None:
    """The change's outbox rows, one per matching subscription; run inside the write's transaction."""
    db.execute(ENQUEUE_SQL, [seq, collection, record_id, collection, action])


def enqueue_changes(db: sqlite_utils.Database, changes: list[tuple[int, str, str, str]]) -> None:
    """enqueue_change for each (seq, collection, record_id, action) in order, in one executemany."""
    db.conn.executemany(ENQUEUE_SQL, [(seq, c, r, c, action) for seq, c, r, action in changes])


def list_deliveries(
    db: sqlite_utils.Database, subscription_id: str, limit: int, before: int | None = None
) -> tuple[list[dict], bool]:
    """The subscription's delivery attempts, newest first, and whether older ones follow."""
    get_subscription(db, subscription_id)
    where, params = ["subscription_id = ?"], [subscription_id]
    if before is not None:
        where.append("id < ?")
        params.append(before)
    rows = list(
        db.query(
            f"SELECT * FROM webhook_deliveries WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?",
            [*params, limit + 1],
        )
    )
    entries = [
        {
            **row,
            "webhook_id": webhook_id(row["outbox_id"]),
            "delivered": bool(row["delivered"]),
        }
        for row in rows[:limit]
    ]
    return entries, len(rows) > limit


def webhook_id(outbox_id: int) -> str:
    """The message id receivers dedupe on: the same for every attempt at one outbox row."""
    return f"msg_{outbox_id}"
