"""HTTP caching: strong ETags of representations, conditional requests answered with 304, cache headers."""

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable

from flask import Response, current_app, request

from api import __version__


def representation_etag(*parts) -> str:
    """A digest of everything a representation is made from, taken before it is rendered."""
    canonical = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def version_etag(url: str, fmt: str, version: list) -> str:
    """The ETag of a representation made from the database as a whole (a page of a list): its URL
    and format, the data version it was read at (api.store.changes.data_version) and this release,
    whose code renders it. Any write changes it; checking it reads no record."""
    return representation_etag(url, fmt, version, __version__)


def streamed_etag(parts: list, rows: Iterable[dict]) -> tuple[str, dt.datetime | None]:
    """The ETag and Last-Modified of a representation of many rows, read once in constant memory."""
    digest = hashlib.sha256(json.dumps(parts, separators=(",", ":")).encode("utf-8"))
    latest = ""
    for row in rows:
        digest.update(f"\n{row['etag']}".encode())
        latest = max(latest, row["updated_at"] or "")
    return digest.hexdigest()[:32], parse_timestamp(latest)


def parse_timestamp(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).replace(microsecond=0)


def last_modified(rows) -> dt.datetime | None:
    """The latest updated_at of the rows a representation is made from."""
    stamps = [row["updated_at"] for row in rows if row.get("updated_at")]
    return parse_timestamp(max(stamps)) if stamps else None


def etag_matches(etag: str, tags, weak: bool = True) -> bool:
    """Whether a werkzeug ETags header value names this entity tag (weak=False for If-Match).

    flask-compress appends ":gzip" (or another coding) to the tag a client saw, so that form matches too.
    """
    if tags.star_tag:
        return True
    # An empty tag (W/"") parses as None: it names nothing.
    return any(t and (t == etag or t.startswith(etag + ":")) for t in tags.as_set(include_weak=weak))


def is_fresh(etag: str, modified: dt.datetime | None) -> bool:
    """Whether the client's copy is current: If-None-Match first, If-Modified-Since only without it."""
    if request.if_none_match:
        return etag_matches(etag, request.if_none_match)
    since = request.if_modified_since
    return bool(since and modified and modified <= since)


def cache_control(max_age: int) -> str:
    """Public data: cached for max_age seconds, or revalidated on every use when it is 0."""
    return f"public, max-age={max_age}" if max_age else "public, no-cache"


def read_response(
    etag: str,
    modified: dt.datetime | None,
    build: Callable[[], Response],
    max_age: int | None = None,
    mimetype: str = "application/json",
):
    """The one way a GET is answered: a 304 when the client's copy is current, else build()'s response;
    either way with the validators and Cache-Control (CACHE_MAX_AGE unless max_age is given).

    The ETag is a digest of what the representation is made from, taken before it is rendered, so
    a 304 costs the reads that find the tag and nothing more.
    """
    response = not_modified(mimetype) if is_fresh(etag, modified) else build()
    return cache_headers(response, etag, modified, max_age)


def cache_headers(response, etag: str, modified: dt.datetime | None, max_age=None):
    """ETag, Last-Modified and Cache-Control on a GET response (200 or 304)."""
    response.set_etag(etag)
    if modified:
        response.last_modified = modified
    age = current_app.config["CACHE_MAX_AGE"] if max_age is None else max_age
    response.headers["Cache-Control"] = cache_control(age)
    if "Vary" in response.headers:
        response.vary.add("Accept")
    else:
        response.headers["Vary"] = "Accept"  # the usual case, without parsing a header set
    return response


def not_modified(mimetype: str):
    """A 304 with no body; read_response gives it the validators.

    Its media type (that of the 200) only picks the Content-Security-Policy a 200 would carry
    (api/web/headers.py): a cache takes a 304's headers as the stored response's; werkzeug drops
    Content-Type from a 304.
    """
    return current_app.response_class(status=304, mimetype=mimetype)
