"""The SQLite database: one sqlite-utils connection per request, pragmas set here, tables and indexes."""

import sqlite3

import sqlite_utils
from flask import current_app, g

from api.collections import COLLECTIONS, Collection
from api.rows import column_types, sort_column

BUSY_TIMEOUT_MS = 5000


def connect(
    path: str, readonly: bool = False, busy_timeout_ms: int = BUSY_TIMEOUT_MS
) -> sqlite_utils.Database:
    """A connection with the pragmas every connection needs."""
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    conn.execute("PRAGMA foreign_keys = ON")
    return sqlite_utils.Database(conn)


def get_db() -> sqlite_utils.Database:
    """The request's connection, opened on first use."""
    if "db" not in g:
        config = current_app.config
        g.db = connect(config["DATABASE"], config["READ_ONLY"], config["DB_BUSY_TIMEOUT_MS"])
    return g.db


def close_db(error=None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.conn.close()


def init_app(app) -> None:
    app.teardown_appcontext(close_db)


def create_tables(db: sqlite_utils.Database) -> None:
    """Every collection's table, with an index per sort and per filter, and the read path's indexes."""
    from api.indexes import create_read_indexes

    for collection in COLLECTIONS.values():
        create_table(db, collection)
    create_read_indexes(db)
    create_curation_tables(db)


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


def ensure_curation_tables(path: str) -> None:
    """Give a database built before curation existed its tokens and changes tables."""
    db = connect(path)
    try:
        create_curation_tables(db)
    finally:
        db.conn.close()


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
