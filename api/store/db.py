"""The SQLite database: connections with their pragmas, one per thread, and the tables and indexes."""

import os
import sqlite3
import threading
import uuid

import sqlite_utils

from api.config import DEFAULTS
from api.model.collections import Collection
from api.model.rows import column_types, sort_column
from api.store.search import register_search_functions


def connect(
    path: str, readonly: bool = False, busy_timeout_ms: int = DEFAULTS["DB_BUSY_TIMEOUT_MS"]
) -> sqlite_utils.Database:
    """A connection with the pragmas every connection needs."""
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    conn.execute("PRAGMA foreign_keys = ON")
    register_search_functions(conn)
    return sqlite_utils.Database(conn)


def thread_connection(local: threading.local, config) -> sqlite_utils.Database:
    """The thread's open connection to the database, reopened when its file was replaced (a rebuild)."""
    path = config["DATABASE"]
    identity = file_identity(path)
    if getattr(local, "db", None) is not None and local.identity == identity:
        return local.db
    if getattr(local, "db", None) is not None:
        local.db.conn.close()
    local.db = connect(path, config["READ_ONLY"], config["DB_BUSY_TIMEOUT_MS"])
    local.identity = identity
    return local.db


def file_identity(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def create_table(db: sqlite_utils.Database, collection: Collection) -> None:
    table = db[collection.table]
    sorts = [sort_column(collection, name) for name in collection.sorts]
    table.create(column_types(collection), pk="id", not_null=set(sorts))
    for column in sorts:
        if column != "id":
            table.create_index([column, "id"], find_unique_name=True)
    default = sort_column(collection, collection.default_sort)
    for name in collection.filters():
        columns = [name, default, "id"] if default != "id" else [name, "id"]
        table.create_index(columns, find_unique_name=True)


def create_curation_tables(db: sqlite_utils.Database) -> None:
    """The API tokens and the change log; safe to run on a database that already has them."""
    db.execute(
        """CREATE TABLE IF NOT EXISTS tokens (
            key TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            scope TEXT NOT NULL,
            secret_sha256 TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        )"""
    )
    # AUTOINCREMENT: a sequence number is never reused, so a client's cursor never skips a change.
    db.execute(
        """CREATE TABLE IF NOT EXISTS changes (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            collection TEXT NOT NULL,
            record_id TEXT NOT NULL,
            action TEXT NOT NULL,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            etag TEXT,
            before TEXT,
            after TEXT
        )"""
    )
    db.execute("CREATE INDEX IF NOT EXISTS changes_record ON changes (collection, record_id, seq)")
    # The change log's identity. A rebuilt or imported database numbers its changes from 1 again, so
    # a feed cursor names the log it came from, and one from another log is refused (410), not read.
    db.execute("CREATE TABLE IF NOT EXISTS feed (id TEXT NOT NULL)")
    if db.execute("SELECT 1 FROM feed").fetchone() is None:
        db.execute("INSERT INTO feed (id) SELECT ? WHERE NOT EXISTS (SELECT 1 FROM feed)", [uuid.uuid4().hex])
    create_webhook_tables(db)


def create_webhook_tables(db: sqlite_utils.Database) -> None:
    """Subscriptions, the outbox (one row per change and matching subscription) and the attempt log."""
    db.execute(
        """CREATE TABLE IF NOT EXISTS webhook_subscriptions (
            id TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            secret TEXT NOT NULL,
            collections TEXT NOT NULL,
            actions TEXT NOT NULL,
            enabled INTEGER NOT NULL,
            failure_count INTEGER NOT NULL,
            disabled_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )
    # A row lives until its message is delivered (the log keeps the history). AUTOINCREMENT: the id
    # is the message's webhook-id, which receivers dedupe on, so it is never reused.
    db.execute(
        """CREATE TABLE IF NOT EXISTS webhook_outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
            change_seq INTEGER NOT NULL,
            collection TEXT NOT NULL,
            record_id TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL,
            leased_until REAL NOT NULL DEFAULT 0
        )"""
    )
    # The pending messages of one record, oldest first: the deliverer only sends a record's oldest.
    db.execute(
        "CREATE INDEX IF NOT EXISTS webhook_outbox_pending ON webhook_outbox"
        " (subscription_id, collection, record_id, id)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS webhook_outbox_due ON webhook_outbox (next_attempt_at)")
    db.execute(
        """CREATE TABLE IF NOT EXISTS webhook_deliveries (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
            outbox_id INTEGER NOT NULL,
            change_seq INTEGER NOT NULL,
            attempt INTEGER NOT NULL,
            attempted_at TEXT NOT NULL,
            status_code INTEGER,
            error TEXT,
            duration_ms INTEGER NOT NULL,
            delivered INTEGER NOT NULL
        )"""
    )
    db.execute(
        "CREATE INDEX IF NOT EXISTS webhook_deliveries_subscription"
        " ON webhook_deliveries (subscription_id, id)"
    )


def feed_id(db: sqlite_utils.Database) -> str:
    """This database's change log's identity (api.store.db.create_curation_tables gives it one)."""
    return db.execute("SELECT id FROM feed").fetchone()[0]
