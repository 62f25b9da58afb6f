"""A record's served representations, made once when its row is written and stored beside it.

A row holds the record's data columns (api/model/rows.py) and, made from them at write time, the
record exactly as the API serves it: `served_json` (the JSON object, links relative to the root) and
`served_csv` (its CSV line under the public columns). Reads send these stored bytes as they are, so
a record read for the first time costs what a second read costs. The row's etag is a digest of all
of it, so a change to how records render (shipped with a migration that re-renders) changes the tag.
"""

import csv
import io

import orjson

from api.model.collections import Collection
from api.model.columns import csv_row, public_columns
from api.model.encoding import encode_json
from api.model.links import STORED_ROOT, with_links
from api.model.rows import SERVED_COLUMNS, from_row, row_etag


def csv_line(values: list[str]) -> str:
    """One CRLF-terminated RFC 4180 line."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()


def served_record(collection: Collection, row: dict) -> dict:
    """A row's record as the API serves it, rendered afresh: the schema's dump and relative links."""
    return with_links(collection, collection.schema.dump(from_row(collection, row)), STORED_ROOT)


def stamped(collection: Collection, row: dict) -> dict:
    """The row as stored: its data columns, the record rendered from them, and the etag over both."""
    data = {k: v for k, v in row.items() if k not in SERVED_COLUMNS and k != "etag"}
    record = served_record(collection, data)
    data["served_json"] = encode_json(record)
    data["served_csv"] = csv_line(csv_row(public_columns(collection), record))
    data["etag"] = row_etag(data)
    return data


def served(row: dict) -> dict:
    """The record a stored row serves, parsed from its stored JSON (a new dict on every call)."""
    return orjson.loads(row["served_json"])
