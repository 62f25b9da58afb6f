"""Keyset paging: an opaque cursor holds the last row's sort values, never an OFFSET."""

import base64
import json

from api.model.errors import InvalidArgument


def encode_cursor(sort: str, values: list) -> str:
    raw = json.dumps([sort, values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def invalid_cursor() -> InvalidArgument:
    """The 400 for a cursor this API did not issue for the sort (or search) it is given to."""
    return InvalidArgument(
        "The cursor is not one this API issued for this sort.",
        errors={"cursor": "Not a cursor issued for this sort."},
    )


def decode_cursor(cursor: str, sort: str, width: int) -> list:
    """The sort values (strings and integers) stored in a cursor made for this sort; a 400 for
    anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        stored_sort, values = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        valid = (
            stored_sort == sort
            and isinstance(values, list)
            and len(values) == width
            and all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values)
        )
    except (ValueError, TypeError, UnicodeError):
        valid = False
    if not valid:
        raise invalid_cursor()
    return values


def keyset_condition(columns: list[tuple[str, bool]], values: list) -> tuple[str, list]:
    """SQL (with ? parameters) selecting rows strictly after values under the ordering columns.

    Columns sorted the same way are compared as one row value, ([a], [id]) > (?, ?), which SQLite
    answers with an index seek; an OR of per-column comparisons would walk the index from its start.
    columns are (name, descending) pairs whose names come from an allowlist, never the request.
    """
    descending = columns[0][1]
    width = next((i for i, (_, d) in enumerate(columns) if d != descending), len(columns))
    names = "(" + ", ".join(f"[{c}]" for c, _ in columns[:width]) + ")"
    marks = "(" + ", ".join("?" * width) + ")"
    after = "<" if descending else ">"
    if width == len(columns):
        return f"{names} {after} {marks}", list(values)
    # A later column sorts the other way: at or after the leading run, and past it or past the rest.
    rest, rest_values = keyset_condition(columns[width:], values[width:])
    lead = values[:width]
    sql = f"({names} {after}= {marks} AND ({names} {after} {marks} OR {rest}))"
    return sql, [*lead, *lead, *rest_values]


def keyset_sql(
    source: str,
    where: list[str],
    params: list,
    columns: list[tuple[str, bool]],
    after: list | None,
    select: str = "*",
) -> tuple[str, list]:
    """SELECT ... FROM source WHERE filters AND after-the-cursor ORDER BY columns LIMIT ?.

    source is a quoted table name or a parenthesised subquery the caller built from allowlisted names.
    """
    where, params = list(where), list(params)
    if after is not None:
        condition, values = keyset_condition(columns, after)
        where.append(condition)
        params.extend(values)
    sql = f"SELECT {select} FROM {source}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY " + ", ".join(f"[{c}] {'DESC' if d else 'ASC'}" for c, d in columns)
    return sql + " LIMIT ?", params
