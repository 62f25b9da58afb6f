"""Indexes of the read path beyond each table's own: full-text search and the timeline."""

import sqlite3

import sqlite_utils

from api.model.collections import COLLECTIONS
from api.store.search import enable_search, fts_table
from api.store.timeline import DATED


def create_read_indexes(db: sqlite_utils.Database) -> None:
    """Every collection's FTS5 index and the timeline's (start, end, id) index per dated collection."""
    for collection in COLLECTIONS.values():
        enable_search(db, collection)
    create_timeline_indexes(db)


def create_timeline_indexes(db: sqlite_utils.Database) -> None:
    # In timeline order, so each arm of the timeline's UNION ALL is read in order from its cursor on.
    for name, field in DATED.items():
        table = COLLECTIONS[name].table
        db.execute(
            f"CREATE INDEX IF NOT EXISTS [timeline_{table}] ON [{table}] ([{field}_start], [{field}_end], id)"
        )


def ensure_read_indexes(path: str) -> None:
    """Add what is missing to a database built before these indexes; current rows are indexed too."""
    from api.store.db import connect

    db = connect(path)
    try:
        existing = set(db.table_names())
        for collection in COLLECTIONS.values():
            if fts_table(collection) not in existing:
                try:
                    enable_search(db, collection)
                except sqlite3.OperationalError:
                    # Another worker starting at the same moment may have just built it.
                    if fts_table(collection) not in db.table_names():
                        raise
        create_timeline_indexes(db)
    finally:
        db.conn.close()
