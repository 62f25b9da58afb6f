"""The timeline's query: every dated record of several collections, in date order, keyset-paged."""

from api.model.collections import COLLECTIONS
from api.model.rows import PARTIAL_DATE_PARTS
from api.store.paging import decode_cursor, encode_cursor, keyset_sql
from schemas.common import date_bounds

# Collection -> its partial date field.
DATED = {"events": "date", "warrants": "issued", "sanctions": "imposed", "statements": "said"}
# id before collection: each arm's order is then its (start, end, id) index, merged without sorting.
ORDER = [("earliest", False), ("latest", False), ("id", False), ("collection", False)]
ORDER_KEY = "timeline"


def entries_sql(names: list[str]) -> str:
    """Every dated record of these collections as (collection, id, label, date parts, earliest, latest)."""
    selects = []
    for name in names:
        collection, field = COLLECTIONS[name], DATED[name]
        parts = ", ".join(f"[{field}_{part}] AS [{part}]" for part in PARTIAL_DATE_PARTS)
        selects.append(
            f"SELECT '{name}' AS collection, id, [{collection.label_field}] AS label, {parts}, "
            f"[{field}_start] AS earliest, [{field}_end] AS latest, updated_at "
            f"FROM [{collection.table}] WHERE [{field}_start] IS NOT NULL"
        )
    return " UNION ALL ".join(selects)


def page_sql(names: list[str], args: dict, after: list | None) -> tuple[str, list]:
    """One page of entries overlapping the date range, after the cursor's entry; LIMIT left as ?."""
    where, params = [], []
    if "date_from" in args:
        where.append("latest >= ?")
        params.append(date_bounds(args["date_from"])[0])
    if "date_to" in args:
        where.append("earliest <= ?")
        params.append(date_bounds(args["date_to"])[1])
    return keyset_sql(f"({entries_sql(names)})", where, params, ORDER, after)


def read_page(db, args: dict) -> tuple[list[dict], str | None]:
    """One page of the timeline for validated arguments (collections, dates, cursor, limit), and the
    cursor of the next page, None on the last."""
    names = args.get("collections") or list(DATED)
    after = decode_cursor(args["cursor"], ORDER_KEY, len(ORDER)) if "cursor" in args else None
    sql, params = page_sql(names, args, after)
    rows = list(db.query(sql, [*params, args["limit"] + 1]))
    if len(rows) <= args["limit"]:
        return rows, None
    rows = rows[: args["limit"]]
    return rows, encode_cursor(ORDER_KEY, [rows[-1][c] for c, _ in ORDER])


def entry_date(row: dict) -> dict:
    """A timeline row's partial date as the API serves one: its stored parts and its day bounds."""
    return {
        **{part: row[part] for part in PARTIAL_DATE_PARTS},
        "earliest": row["earliest"],
        "latest": row["latest"],
    }
