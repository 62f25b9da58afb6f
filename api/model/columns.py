"""The public columns of a collection: the one list every tabular export uses.

The API's CSV pages, the CSV bundle and the SQLite export all take their columns from
public_columns, so they cannot drift apart; the stored-only columns (etag, *_sort) are never in it.
"""

import functools

from marshmallow import fields

from api.model.collections import Collection, per_collection
from api.model.encoding import encode_json
from api.model.rows import DUMPED_DATE_PARTS
from schemas.common import is_partial_date

# The day bounds are stored as <field>_start and <field>_end (api/model/rows.py).
STORED_PART = {"earliest": "start", "latest": "end"}


def public_columns(collection: Collection) -> list[str]:
    """The schema's fields in order, partial dates spread as field.part; no links (a new list on
    every call)."""
    return list(_public_columns(collection))


@per_collection
def _public_columns(collection: Collection) -> list[str]:
    columns = []
    for name, f in collection.schema.fields.items():
        if name == "links":
            continue
        if is_partial_date(f):
            columns.extend(f"{name}.{part}" for part in DUMPED_DATE_PARTS)
        else:
            columns.append(name)
    return columns


@functools.lru_cache(maxsize=1024)  # public columns only: a CSV line asks for each, per record
def field_of(column: str) -> tuple[str, str | None]:
    """issued.date -> ("issued", "date"); title -> ("title", None)."""
    name, _, part = column.partition(".")
    return name, part or None


def stored_column(column: str) -> str:
    """The table column a public column is read from: issued.earliest -> issued_start."""
    name, part = field_of(column)
    return f"{name}_{STORED_PART.get(part, part)}" if part else name


def is_integer(collection: Collection, column: str) -> bool:
    return isinstance(collection.schema.fields.get(column), fields.Int)


def column_value(record: dict, column: str):
    """A record's value in a column: issued.date reads record["issued"]["date"]."""
    name, part = field_of(column)
    value = record.get(name)
    return value.get(part) if part and isinstance(value, dict) else value


def cell(value) -> str:
    """Lists and objects as compact JSON, null as the empty string, everything else as text."""
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return encode_json(value)
    return str(value)


def csv_row(columns: list[str], record: dict) -> list[str]:
    return [cell(column_value(record, column)) for column in columns]
