"""Reading records: one parameterised query per page or item, keyset-paged."""

import sqlite_utils

from api.collections import Collection
from api.paging import keyset_condition
from api.rows import from_row, sort_column


def get_row(db: sqlite_utils.Database, collection: Collection, record_id: str) -> dict | None:
    """The stored row of one record, or None."""
    rows = list(db.query(f"SELECT * FROM [{collection.table}] WHERE id = ?", [record_id]))
    return rows[0] if rows else None


def order_columns(collection: Collection, sort: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """The ORDER BY columns for a sort: the allowlisted fields, then id as the tie-breaker."""
    columns = []
    for name, descending in sort:
        if name == "id":  # unique, so nothing after it can change the order
            return [*columns, ("id", descending)]
        columns.append((sort_column(collection, name), descending))
    # The tie-breaker follows the last field's direction, so one index serves both directions.
    return [*columns, ("id", columns[-1][1])]


def list_records(
    db: sqlite_utils.Database,
    collection: Collection,
    filters: dict[str, str],
    sort: list[tuple[str, bool]],
    limit: int,
    after: list | None = None,
) -> tuple[list[dict], list | None]:
    """One page of records and the sort values of its last row when another page follows."""
    columns = order_columns(collection, sort)
    where, params = [], []
    for name, value in filters.items():
        where.append(f"[{name}] = ?")
        params.append(value)
    if after is not None:
        condition, values = keyset_condition(columns, after)
        where.append(condition)
        params.extend(values)
    sql = f"SELECT * FROM [{collection.table}]"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY " + ", ".join(f"[{c}] {'DESC' if d else 'ASC'}" for c, d in columns)
    sql += " LIMIT ?"
    rows = list(db.query(sql, [*params, limit + 1]))
    next_after = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_after = [rows[-1][c] for c, _ in columns]
    return [from_row(collection, row) for row in rows], next_after
