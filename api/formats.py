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
from api.columns import csv_row, field_of, public_columns
from api.errors import APIProblem

MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv",
    "ndjson": "application/x-ndjson",
}
CSV_CONTENT_TYPE = "text/csv; charset=utf-8; header=present"


def accepted_format(accept: MIMEAccept) -> str | None:
    """The format an Accept header asks for: json when it is absent, None when nothing fits."""
    if not accept:
        return "json"
    best = accept.best_match(list(MEDIA_TYPES.values()))
    return next((name for name, media in MEDIA_TYPES.items() if media == best), None)


# Clients send one of a few Accept headers again and again; parsing `*/*` and matching it took 11 us.
@functools.lru_cache(maxsize=256)
def format_for_accept(accept: str | None) -> str | None:
    """accepted_format of an Accept header's raw value (None when absent)."""
    return accepted_format(parse_accept_header(accept, MIMEAccept))


def negotiate(requested: str | None) -> str:
    """The format to answer in: format= wins, then the Accept header; a 406 when nothing fits."""
    if requested:
        return requested
    fmt = format_for_accept(request.headers.get("Accept"))
    if fmt is None:
        offered = ", ".join(MEDIA_TYPES.values())
        raise APIProblem(406, f"Cannot answer in any type the Accept header allows; offered: {offered}.")
    return fmt


def csv_columns(collection: Collection, wanted: list[str] | None) -> list[str]:
    """The header row: the collection's public columns, only the wanted fields' (and id) if any."""
    columns = public_columns(collection)
    return [c for c in columns if not wanted or field_of(c)[0] in wanted or c == "id"]


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
