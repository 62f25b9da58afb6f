"""Reading records: one parameterised query per page or item, keyset-paged."""

from collections.abc import Iterator

import sqlite_utils

from api.model.collections import Collection
from api.model.rows import sort_column
from api.store.paging import keyset_sql

EXPORT_BATCH = 500
# The columns a record sent as stored needs, per format: its id, version, time of change and stored
# text (the sort columns come along for the cursor). Reading only these skips the row's other columns.
SERVED_SELECT = {
    "json": "id, etag, updated_at, served_json",
    "ndjson": "id, etag, updated_at, served_json",
    "csv": "id, etag, updated_at, served_csv",
}


def get_row(
    db: sqlite_utils.Database, collection: Collection, record_id: str, select: str = "*"
) -> dict | None:
    """The stored row of one record (select's columns), or None.

    One statement on the connection itself: sqlite-utils' query() wraps each SELECT in a savepoint,
    three statements where a single read of one row is already consistent.
    """
    cursor = db.conn.execute(f"SELECT {select} FROM [{collection.table}] WHERE id = ?", [record_id])
    row = cursor.fetchone()
    return dict(zip([column[0] for column in cursor.description], row, strict=True)) if row else None


def order_columns(collection: Collection, sort: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    """The ORDER BY columns for a sort: the allowlisted fields, then id as the tie-breaker."""
    columns = []
    for name, descending in sort:
        if name == "id":  # unique, so nothing after it can change the order
            return [*columns, ("id", descending)]
        columns.append((sort_column(collection, name), descending))
    # The tie-breaker follows the last field's direction, so one index serves both directions.
    return [*columns, ("id", columns[-1][1])]


def page_sql(
    collection: Collection,
    where: list[str],
    params: list,
    columns: list[tuple[str, bool]],
    after: list | None,
    select: str = "*",
) -> tuple[str, list]:
    """SELECT ... WHERE filters AND after-the-cursor ORDER BY the sort columns LIMIT ?."""
    return keyset_sql(f"[{collection.table}]", where, params, columns, after, select)


def list_rows(
    db: sqlite_utils.Database,
    collection: Collection,
    where: list[str],
    params: list,
    sort: list[tuple[str, bool]],
    limit: int,
    after: list | None = None,
    select: str = "*",
) -> tuple[list[dict], list | None]:
    """One page of rows (select's columns, and the sort columns) and the sort values of its last row
    when another page follows."""
    columns = order_columns(collection, sort)
    select = with_sort_columns(select, columns)
    sql, values = page_sql(collection, where, params, columns, after, select)
    rows = list(db.query(sql, [*values, limit + 1]))
    next_after = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_after = [rows[-1][c] for c, _ in columns]
    return rows, next_after


def with_sort_columns(select: str, columns: list[tuple[str, bool]]) -> str:
    """The select list with the sort columns, so a page or batch can continue after its last row."""
    if select == "*":
        return select
    chosen = [c.strip() for c in select.split(",")]
    return ", ".join(dict.fromkeys([*chosen, *(c for c, _ in columns)]))


def iter_rows(
    db: sqlite_utils.Database,
    collection: Collection,
    where: list[str],
    params: list,
    sort: list[tuple[str, bool]],
    after: list | None = None,
    select: str = "*",
) -> Iterator[dict]:
    """Every matching row in sort order, fetched in keyset batches so memory stays constant."""
    columns = order_columns(collection, sort)
    keys = [c for c, _ in columns]
    select = with_sort_columns(select, columns)
    while True:
        sql, values = page_sql(collection, where, params, columns, after, select)
        rows = list(db.query(sql, [*values, EXPORT_BATCH]))
        yield from rows
        if len(rows) < EXPORT_BATCH:
            return
        after = [rows[-1][k] for k in keys]


def rows_by_ids(db: sqlite_utils.Database, collection: Collection, ids) -> list[dict]:
    """The rows of these ids that exist, in id order."""
    ids = sorted({i for i in ids if i})
    if not ids:
        return []
    sql = f"SELECT * FROM [{collection.table}] WHERE id IN ({','.join('?' * len(ids))}) ORDER BY id"
    return list(db.query(sql, ids))


def all_rows(db: sqlite_utils.Database, collection: Collection) -> Iterator[dict]:
    """Every row of the collection, in id order."""
    return db.query(f"SELECT * FROM [{collection.table}] ORDER BY id")


def labels_of(db: sqlite_utils.Database, collection: Collection, ids) -> dict[str, str]:
    """id -> the record's label (Collection.label_field), for the ids that exist."""
    ids = sorted({i for i in ids if i})
    if not ids:
        return {}
    sql = (
        f"SELECT id, [{collection.label_field}] AS label FROM [{collection.table}] "
        f"WHERE id IN ({','.join('?' * len(ids))})"
    )
    return {row["id"]: row["label"] for row in db.query(sql, ids)}
