"""Indexes of the read path beyond each table's own: full-text search, its ranking queue and the timeline."""

import sqlite_utils

from api.model.collections import COLLECTIONS
from api.store.ranking import create_search_queue
from api.store.search import enable_search
from api.store.timeline import DATED


def create_read_indexes(db: sqlite_utils.Database) -> None:
    """Every collection's FTS5 index, the ranking index's queue (api/store/ranking.py) and the
    timeline's (start, end, id) index per dated collection."""
    for collection in COLLECTIONS.values():
        enable_search(db, collection)
    create_search_queue(db)
    create_timeline_indexes(db)


def create_timeline_indexes(db: sqlite_utils.Database) -> None:
    # In timeline order, so each arm of the timeline's UNION ALL is read in order from its cursor on.
    for name, field in DATED.items():
        table = COLLECTIONS[name].table
        db.execute(
            f"CREATE INDEX IF NOT EXISTS [timeline_{table}] ON [{table}] ([{field}_start], [{field}_end], id)"
        )
