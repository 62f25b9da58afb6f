"""Representations: JSON, CSV (RFC 4180) and NDJSON, chosen by format= or the Accept header."""

import csv
import functools
import io
import itertools
import json
from collections.abc import Iterable, Iterator

from flask import request
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from api.collections import Collection
from api.errors import APIProblem
from schemas.common import PartialDateSchema, is_partial_date

MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv",
    "ndjson": "application/x-ndjson",
}
CSV_CONTENT_TYPE = "text/csv; charset=utf-8; header=present"
# Each format as Accept is matched against it: its media type with every parameter it has. JSON and
# NDJSON are UTF-8 by definition (RFC 8259), so `application/json; charset=utf-8` asks for them too.
OFFERED = {
    "json": "application/json; charset=utf-8",
    "csv": CSV_CONTENT_TYPE,
    "ndjson": "application/x-ndjson; charset=utf-8",
}
PARTIAL_DATE_PARTS = list(PartialDateSchema().fields)


def media_type_parts(value: str) -> tuple[str, str, set[tuple[str, str]]]:
    """(type, subtype, parameters) of a media type or range, lowercased, quoted values unquoted."""
    essence, *parameters = value.lower().split(";")
    kind, _, subtype = essence.strip().partition("/")
    pairs = set()
    for parameter in parameters:
        name, _, parameter_value = parameter.strip().partition("=")
        pairs.add((name.strip(), parameter_value.strip().strip('"')))
    return kind, subtype, pairs


class RepresentationAccept(MIMEAccept):
    """werkzeug's Accept parsing, q weights and precedence, with RFC 9110 section 12.5.1 matching.

    werkzeug matches a range only when its parameters equal the offer's exactly, so
    `text/csv; charset=utf-8` misses `text/csv; charset=utf-8; header=present` and `text/csv` misses
    both. Here a range matches a representation of its type whose parameters include the range's.
    """

    def _value_matches(self, value: str, item: str) -> bool:
        if "/" not in item:
            return False  # not a media range: it matches nothing
        offered_type, offered_subtype, offered_parameters = media_type_parts(value)
        kind, subtype, parameters = media_type_parts(item)
        if kind == "*" and subtype != "*":
            return False  # */csv is no media range
        types_match = kind == "*" or (kind == offered_type and subtype in ("*", offered_subtype))
        return types_match and parameters <= offered_parameters


def accepted_format(accept: MIMEAccept) -> str | None:
    """The format an Accept header asks for: json when it is absent, None when nothing fits."""
    if not accept:
        return "json"
    best = accept.best_match(list(OFFERED.values()))
    return next((name for name, media in OFFERED.items() if media == best), None)


# Clients send one of a few Accept headers again and again; parsing `*/*` and matching it took 11 us.
@functools.lru_cache(maxsize=256)
def format_for_accept(accept: str | None) -> str | None:
    """accepted_format of an Accept header's raw value (None when absent)."""
    return accepted_format(parse_accept_header(accept, RepresentationAccept))


def negotiate(requested: str | None) -> str:
    """The format to answer in: format= wins, then the Accept header; a 406 when nothing fits."""
    if requested:
        return requested
    fmt = format_for_accept(request.headers.get("Accept"))
    if fmt is None:
        offered = ", ".join(content_type(name) for name in MEDIA_TYPES)
        raise APIProblem(
            406,
            f"Cannot answer in any type the Accept header allows; offered: {offered} "
            "(or ask with format=json, csv or ndjson).",
            {"Vary": "Accept"},  # another Accept gets another answer: caches must keep them apart
            available=[content_type(name) for name in MEDIA_TYPES],
        )
    return fmt


def csv_columns(collection: Collection, wanted: list[str] | None) -> list[str]:
    """The header row: the schema's fields in order, partial dates spread as field.part; no links."""
    names = [n for n in collection.schema.fields if n != "links" and (not wanted or n in wanted or n == "id")]
    columns = []
    for name in names:
        if is_partial_date(collection.schema.fields[name]):
            columns.extend(f"{name}.{part}" for part in PARTIAL_DATE_PARTS)
        else:
            columns.append(name)
    return columns


def csv_value(value) -> str:
    """Lists and objects as compact JSON, null as the empty string, everything else as text."""
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def csv_row(columns: list[str], record: dict) -> list[str]:
    row = []
    for column in columns:
        name, _, part = column.partition(".")
        value = record.get(name)
        row.append(csv_value(value.get(part) if part and isinstance(value, dict) else value))
    return row


def csv_lines(columns: list[str], records: Iterable[dict]) -> Iterator[str]:
    """The header, then one CRLF-terminated RFC 4180 line per record."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in itertools.chain([columns], (csv_row(columns, r) for r in records)):
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def ndjson_lines(records: Iterable[dict]) -> Iterator[str]:
    for record in records:
        yield json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def text_lines(fmt: str, collection: Collection, records: Iterable[dict], wanted: list[str] | None):
    """The CSV or NDJSON lines of these records."""
    return csv_lines(csv_columns(collection, wanted), records) if fmt == "csv" else ndjson_lines(records)


def content_type(fmt: str) -> str:
    return CSV_CONTENT_TYPE if fmt == "csv" else MEDIA_TYPES[fmt]
