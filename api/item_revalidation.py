"""A 304 for an unchanged record, answered before Flask sees the request.

Revalidating a plain JSON record (`GET /v1/<collection>/<id>` with If-None-Match, no query string, JSON
acceptable, no Origin) needs one indexed read of the row's etag. Routing, hooks and response objects
cost more than that read, so this WSGI middleware answers such a request itself when the tag matches,
with the headers the Flask view's 304 carries (tests/test_item_revalidation.py compares them) and the
same access-log line. Anything else, and any error, goes on to Flask untouched, which answers it fully.
"""

import re
import threading
import time

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header, parse_etags

from api.caching import etag_matches
from api.collections import COLLECTIONS
from api.db import thread_connection
from api.formats import MEDIA_TYPES
from api.headers import DATA_POLICY
from api.request_log import REQUEST_ID_HEADER, log_request, request_id_from

ITEM_PATH = re.compile(r"/v1/([a-z_]+)/([^/]+)")
TABLES = {name: collection.table for name, collection in COLLECTIONS.items()}


def accepts_json(accept: str | None) -> bool:
    """Whether content negotiation (api.formats.negotiate) would answer this Accept header in JSON."""
    if not accept:
        return True
    best = parse_accept_header(accept, MIMEAccept).best_match(list(MEDIA_TYPES.values()))
    return best == MEDIA_TYPES["json"]


class ItemRevalidation:
    """WSGI middleware: a 304 for If-None-Match on a plain JSON record whose etag it names."""

    def __init__(self, app, wsgi_app):
        self.config, self.wsgi_app = app.config, wsgi_app
        # Its own read-only connection per thread: it never writes, and never creates a missing file.
        self.connections = threading.local()
        self.database = {**{k: app.config[k] for k in ("DATABASE", "DB_BUSY_TIMEOUT_MS")}, "READ_ONLY": True}

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        try:
            etag = self.current_etag(environ)
        except Exception:  # noqa: BLE001 - Flask answers it, storage faults and all
            etag = None
        if etag is None:
            return self.wsgi_app(environ, start_response)
        request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID"))
        max_age = self.config["CACHE_MAX_AGE"]
        start_response(
            "304 NOT MODIFIED",
            [
                ("ETag", f'"{etag}"'),
                ("Cache-Control", f"public, max-age={max_age}" if max_age else "public, no-cache"),
                ("Vary", "Accept, Accept-Encoding"),
                ("Content-Security-Policy", DATA_POLICY),
                ("X-Content-Type-Options", "nosniff"),
                ("Referrer-Policy", "same-origin"),
                (REQUEST_ID_HEADER, request_id),
            ],
        )
        if self.config["ACCESS_LOG"]:
            path = environ["PATH_INFO"].encode("latin-1").decode("utf-8")
            log_request(environ["REQUEST_METHOD"], path, 304, started, request_id, environ.get("REMOTE_ADDR"))
        return []

    def current_etag(self, environ) -> str | None:
        """The record's etag when this request is one to answer here and the client's copy is current."""
        if environ["REQUEST_METHOD"] not in ("GET", "HEAD") or environ.get("QUERY_STRING"):
            return None
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if not if_none_match or "HTTP_ORIGIN" in environ or not accepts_json(environ.get("HTTP_ACCEPT")):
            return None
        match = ITEM_PATH.fullmatch(environ.get("PATH_INFO", ""))
        if match is None or match.group(1) not in TABLES:
            return None
        record_id = match.group(2).encode("latin-1").decode("utf-8")
        if len(record_id) > self.config["MAX_ID_LENGTH"]:
            return None
        db = thread_connection(self.connections, self.database)
        row = db.execute(f"SELECT etag FROM [{TABLES[match.group(1)]}] WHERE id = ?", [record_id]).fetchone()
        if row is None or not row[0]:
            return None
        return row[0] if etag_matches(row[0], parse_etags(if_none_match)) else None
