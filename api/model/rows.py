"""How a record maps to a table row and back: partial dates spread over columns, lists as JSON."""

import hashlib

import orjson
from marshmallow import fields

from api.model.collections import Collection, per_collection
from api.model.encoding import canonical_json, encode_json
from schemas.common import PartialDateSchema, date_bounds

# A partial date's parts as the API serves them (issued.date ... issued.latest), from its schema,
DUMPED_DATE_PARTS = tuple(PartialDateSchema().fields)
# and those stored in a column each (<field>_date ...); the day bounds, computed from the date, are
# stored as <field>_start and <field>_end.
PARTIAL_DATE_PARTS = tuple(name for name, f in PartialDateSchema().fields.items() if not f.dump_only)
# Sorts after every ISO date, so records with no known date come last in ascending order.
UNKNOWN_DATE_SORT = "~"
# A row's served representations, rendered from its data columns at write time (api/model/rendering.py).
SERVED_COLUMNS = ("served_json", "served_csv")


def _is_json(f: fields.Field) -> bool:
    return isinstance(f, (fields.List, fields.Nested, fields.Dict))


def sort_column(collection: Collection, name: str) -> str:
    """The column a sort field orders by: partial dates order by their earliest day."""
    return f"{name}_sort" if name in collection.partial_dates() else name


def to_row(collection: Collection, record: dict) -> dict:
    """A loaded (validated) record as a flat row for its table."""
    row = {}
    for name, kind in _read_plan(collection):
        if name == "links" or name not in record:
            continue
        value = record[name]
        if kind == "date":
            row.update(partial_date_columns(name, value))
        elif kind == "json":
            row[name] = encode_json(value)
        else:
            row[name] = value
    return row


def partial_date_columns(name: str, value: dict) -> dict:
    start = end = None
    if value.get("date"):
        start, end = date_bounds(value["date"])
    columns = {f"{name}_{part}": value.get(part) for part in PARTIAL_DATE_PARTS}
    columns.update({f"{name}_start": start, f"{name}_end": end, f"{name}_sort": start or UNKNOWN_DATE_SORT})
    return columns


def from_row(collection: Collection, row: dict) -> dict:
    """A table row back as a record, ready to dump."""
    record = {}
    for name, kind in _read_plan(collection):
        if kind == "date":
            record[name] = {part: row[f"{name}_{part}"] for part in PARTIAL_DATE_PARTS}
            record[name]["earliest"] = row[f"{name}_start"]
            record[name]["latest"] = row[f"{name}_end"]
        elif name not in row:
            continue
        elif kind == "json" and row[name] is not None:
            # orjson: every cold render parses its lists here; the stdlib parser made it ~8% slower.
            record[name] = orjson.loads(row[name])
        else:
            record[name] = row[name]
    return record


@per_collection
def _read_plan(collection: Collection) -> list[tuple[str, str]]:
    """(field, "date" | "json" | "plain") for each of the collection's fields, in schema order: how
    each is stored, worked out once, as every write and every page's read asks it per record."""
    dated = collection.partial_dates()
    return [
        (name, "date" if name in dated else "json" if _is_json(f) else "plain")
        for name, f in collection.schema.fields.items()
    ]


def column_types(collection: Collection) -> dict:
    """Column name -> Python type, for sqlite-utils to create the table (a new dict on every call)."""
    return dict(_column_types(collection))


@per_collection
def _column_types(collection: Collection) -> dict:
    columns = {}
    dated = collection.partial_dates()
    for name, f in collection.schema.fields.items():
        if name == "links":
            continue
        if name in dated:
            for part in (*PARTIAL_DATE_PARTS, "start", "end", "sort"):
                columns[f"{name}_{part}"] = str
        elif isinstance(f, fields.Int):
            columns[name] = int
        else:
            columns[name] = str
    columns.update(dict.fromkeys(SERVED_COLUMNS, str))
    columns["etag"] = str
    return columns


def row_etag(row: dict) -> str:
    """A digest of everything stored in a row: it changes whenever the record changes."""
    content = {k: v for k, v in row.items() if k != "etag"}
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()[:32]
