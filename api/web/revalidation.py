"""Revalidation of a record or a page of a list, answered before Flask: a client whose copy is
current gets its 304 from one or three indexed reads.

A 304 through Flask cost what the full answer costs, as the full answer is the stored bytes
(api/model/rendering.py) and most of both is Flask's own work per request. Polling clients
(newsroom tools watching records and lists) ask this more than anything else.

Answered here, on a primary, when If-None-Match names the current tag: `GET|HEAD /v1/<collection>/<id>`
with no query string (tagged by the record's stored etag), and `GET|HEAD /v1/<collection>?...` in JSON
without q= or format= (tagged by the data version, api.web.caching.version_etag; a search or a named
format spends a rate-limit budget, so it goes through Flask). Everything else (a changed record, a
missing one, another format, `*`, oversized input, a storage fault) goes to the Flask app, which
answers as before.
tests/test_revalidation.py holds the two to the same headers.
"""

import re
import sqlite3
from urllib.parse import parse_qs

from flask import Flask
from werkzeug.http import parse_etags
from werkzeug.wsgi import get_current_url

from api.model.collections import COLLECTIONS
from api.store.changes import data_version
from api.store.db import thread_connection
from api.web.caching import cache_control, etag_matches, version_etag
from api.web.database import CONNECTIONS
from api.web.envelope import request_path
from api.web.formats import format_for_accept
from api.web.ratelimit import EXPENSIVE_QUERY_PARAMETERS
from api.web.replica import is_replica
from api.web.security import header_bytes

ITEM_PATH = re.compile(r"/v1/([a-z_]+)/([^/]+)")
LIST_PATH = re.compile(r"/v1/([a-z_]+)")
READS = ("GET", "HEAD")
# What flask-compress adds to Vary on every answer it could have compressed; the 304 a Flask view
# sends carries it too.
VARY = "Accept, Accept-Encoding"


class Revalidation:
    """WSGI middleware in front of the Flask app: answers a current copy's If-None-Match with a 304."""

    def __init__(self, wsgi_app, app: Flask):
        self.wsgi_app = wsgi_app
        self.app = app

    def __call__(self, environ, start_response):
        response_headers = self.not_modified(environ)
        if response_headers is None:
            return self.wsgi_app(environ, start_response)
        # The request id, security and CORS headers and the access line are api/web/envelope.py's.
        start_response("304 NOT MODIFIED", response_headers)
        return []

    def not_modified(self, environ) -> list[tuple[str, str]] | None:
        """The headers of a 304 for this request, or None when Flask must answer it."""
        tags = environ.get("HTTP_IF_NONE_MATCH")
        if not tags or environ["REQUEST_METHOD"] not in READS:
            return None
        config = self.app.config
        if environ.get("SCRIPT_NAME") or header_bytes(environ) > config["MAX_HEADER_BYTES"]:
            return None
        path = request_path(environ)
        if format_for_accept(environ.get("HTTP_ACCEPT")) != "json":
            return None
        try:
            etag = self.current_etag(environ, path)
        except sqlite3.Error:
            return None  # the Flask app answers a storage fault with its 503 problem
        if etag is None or not etag_matches(etag, parse_etags(tags)):
            return None
        return [
            ("ETag", f'"{etag}"'),
            ("Cache-Control", cache_control(config["CACHE_MAX_AGE"])),
            ("Vary", VARY),
        ]

    def current_etag(self, environ: dict, path: str) -> str | None:
        """The tag the Flask app gives this read, or None when it is not one answered here."""
        config = self.app.config
        item, listed = ITEM_PATH.fullmatch(path), LIST_PATH.fullmatch(path)
        if item and item[1] in COLLECTIONS and not environ.get("QUERY_STRING"):
            if len(item[2]) > config["MAX_ID_LENGTH"]:
                return None
            table = COLLECTIONS[item[1]].table
            row = self.db().conn.execute(f"SELECT etag FROM [{table}] WHERE id = ?", [item[2]]).fetchone()
            return row and row[0]
        if listed and listed[1] in COLLECTIONS:
            query = environ.get("QUERY_STRING", "")
            if (
                len(query) > config["MAX_QUERY_STRING_LENGTH"]
                or parse_etags(environ["HTTP_IF_NONE_MATCH"]).star_tag
            ):
                return None  # `*` is no tag of this query, which may be a bad one
            args = parse_qs(query, keep_blank_values=True)
            if any(name in args for name in EXPENSIVE_QUERY_PARAMETERS):
                return None  # a read the rate limit counts (a search, an export): Flask's to answer
            return version_etag(get_current_url(environ), "json", data_version(self.db()))
        return None

    def db(self):
        return thread_connection(self.app.extensions[CONNECTIONS], self.app.config)


def init_app(app: Flask) -> None:
    """Call after the app's own hooks are set and before proxies.init_app, which must see requests
    first. A replica answers through Flask only: it waits for the change a client asks for first."""
    if not is_replica(app.config):
        app.wsgi_app = Revalidation(app.wsgi_app, app)
