"""Representations: JSON, CSV (RFC 4180) and NDJSON, chosen by format= or the Accept header."""

import functools
from collections.abc import Iterable, Iterator

from flask import request
from werkzeug.http import parse_accept_header

from api.model.collections import Collection
from api.model.columns import csv_row, field_of, public_columns
from api.model.encoding import encode_json
from api.model.rendering import csv_line
from api.web.errors import APIProblem

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


def media_type_parts(value: str) -> tuple[str, str, set[tuple[str, str]]]:
    """(type, subtype, parameters) of a media type or range, lowercased, quoted values unquoted."""
    essence, *parameters = value.lower().split(";")
    kind, _, subtype = essence.strip().partition("/")
    pairs = set()
    for parameter in parameters:
        name, _, parameter_value = parameter.strip().partition("=")
        pairs.add((name.strip(), parameter_value.strip().strip('"')))
    return kind, subtype, pairs


def specificity(media_range: tuple, offered: tuple) -> int | None:
    """How specific a media range is when it matches an offered type (RFC 9110 section 12.5.1), or
    None when it does not: a range matches a type when its own parameters are among the type's.
    """
    kind, subtype, parameters = media_range
    offered_kind, offered_subtype, offered_parameters = offered
    if kind == "*" and subtype != "*":
        return None  # */csv is no media range
    if not parameters <= offered_parameters:
        return None
    if kind == "*":
        return len(parameters)
    if kind != offered_kind or subtype not in ("*", offered_subtype):
        return None
    return (100 if subtype == "*" else 200) + len(parameters)


def accepted_format(accept: str) -> str | None:
    """The format an Accept header asks for: json when it is empty, None when nothing fits.

    werkzeug parses the header (values and q weights); the matching is RFC 9110's, where werkzeug's
    own best_match needs a range's parameters to equal the type's, so `text/csv; charset=utf-8`
    would miss `text/csv; charset=utf-8; header=present`. Each offered type takes the weight of the
    most specific range that matches it; the highest weight above 0 wins, ties in OFFERED's order.
    """
    ranges = [(media_type_parts(value), quality) for value, quality in parse_accept_header(accept)]
    if not ranges:
        return "json"
    best, best_quality = None, 0.0
    for name, offered in OFFERED.items():
        offered_parts = media_type_parts(offered)
        matches = [(rank, q) for r, q in ranges if (rank := specificity(r, offered_parts)) is not None]
        quality = max(matches)[1] if matches else 0.0
        if quality > best_quality:
            best, best_quality = name, quality
    return best


# Clients send one of a few Accept headers again and again; parsing `*/*` and matching it took 11 us.
@functools.lru_cache(maxsize=256)
def format_for_accept(accept: str | None) -> str | None:
    """accepted_format of an Accept header's raw value (json when absent)."""
    return accepted_format(accept or "")


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
    """The header row: the collection's public columns, only the wanted fields' (and id) if any."""
    columns = public_columns(collection)
    return [c for c in columns if not wanted or field_of(c)[0] in wanted or c == "id"]


def csv_lines(columns: list[str], records: Iterable[dict]) -> Iterator[str]:
    """The header, then one CRLF-terminated RFC 4180 line per record."""
    yield csv_line(columns)
    for record in records:
        yield csv_line(csv_row(columns, record))


def ndjson_lines(records: Iterable[dict]) -> Iterator[str]:
    for record in records:
        yield encode_json(record) + "\n"


def text_lines(fmt: str, collection: Collection, records: Iterable[dict], wanted: list[str] | None):
    """The CSV or NDJSON lines of these records (shaped records: fields= or a changed record)."""
    return csv_lines(csv_columns(collection, wanted), records) if fmt == "csv" else ndjson_lines(records)


def text_rows(fmt: str, collection: Collection, rows: Iterable[dict]) -> Iterator[str]:
    """The CSV or NDJSON lines of stored rows, every column: their stored representations as they are."""
    if fmt == "csv":
        yield csv_line(public_columns(collection))
        for row in rows:
            yield row["served_csv"]
    else:
        for row in rows:
            yield row["served_json"] + "\n"


def json_object_text(data: list[str], **rest) -> str:
    """The JSON text of {"data": [...], **rest} and a newline, from records already encoded as JSON."""
    tail = encode_json(rest)[1:] if rest else "}"
    return '{"data":[' + ",".join(data) + "]" + ("," if rest else "") + tail + "\n"


def content_type(fmt: str) -> str:
    return CSV_CONTENT_TYPE if fmt == "csv" else MEDIA_TYPES[fmt]
