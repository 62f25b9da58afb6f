"""Revalidation of a single record, answered before Flask: a client whose copy is current gets its 304
from one indexed read of the record's etag.

A 304 through Flask cost what the full answer costs, as the full answer is the stored bytes
(api/model/rendering.py) and most of both is Flask's own work per request. Polling clients
(newsroom tools watching records) ask this more than anything else.

Only `GET|HEAD /v1/<collection>/<id>` with If-None-Match, no query string and an Accept that JSON
satisfies, on a primary, is answered here, and only when the tag matches; everything else (a changed
record, a missing one, any other format, oversized input, a storage fault) goes to the Flask app,
which answers as before. tests/test_revalidation.py holds the two to the same headers.
"""

import re
import sqlite3
import time

from flask import Flask
from werkzeug.http import parse_etags

from api.model.collections import COLLECTIONS
from api.store.db import thread_connection
from api.web import cors, headers, request_log
from api.web.caching import cache_control, etag_matches
from api.web.database import CONNECTIONS
from api.web.formats import format_for_accept
from api.web.replica import is_replica
from api.web.security import header_bytes

ITEM_PATH = re.compile(r"/v1/([a-z_]+)/([^/]+)")
READS = ("GET", "HEAD")
# What flask-compress adds to Vary on every answer it could have compressed; the 304 a Flask view
# sends carries it too.
VARY = "Accept, Accept-Encoding"


def wsgi_path(environ: dict) -> str:
    """PATH_INFO as the text it encodes (WSGI hands it over as latin-1), as werkzeug decodes it."""
    return environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")


class Revalidation:
    """WSGI middleware in front of the Flask app: answers a current copy's If-None-Match with a 304."""

    def __init__(self, wsgi_app, app: Flask):
        self.wsgi_app = wsgi_app
        self.app = app

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        answer = self.not_modified(environ)
        if answer is None:
            return self.wsgi_app(environ, start_response)
        path, response_headers = answer
        request_id = request_log.request_id_from(environ.get("HTTP_X_REQUEST_ID"))
        response_headers.append((request_log.REQUEST_ID_HEADER, request_id))
        start_response("304 NOT MODIFIED", response_headers)
        if self.app.config["ACCESS_LOG"]:
            method, address = environ["REQUEST_METHOD"], environ.get("REMOTE_ADDR")
            request_log.log_request(method, path, 304, started, request_id, address)
        return []

    def not_modified(self, environ) -> tuple[str, list[tuple[str, str]]] | None:
        """The path and headers of a 304 for this request, or None when Flask must answer it."""
        tags = environ.get("HTTP_IF_NONE_MATCH")
        if not tags or environ["REQUEST_METHOD"] not in READS or environ.get("QUERY_STRING"):
            return None
        config = self.app.config
        if environ.get("SCRIPT_NAME") or header_bytes(environ) > config["MAX_HEADER_BYTES"]:
            return None
        path = wsgi_path(environ)
        match = ITEM_PATH.fullmatch(path)
        if match is None or match[1] not in COLLECTIONS or len(match[2]) > config["MAX_ID_LENGTH"]:
            return None
        if format_for_accept(environ.get("HTTP_ACCEPT")) != "json":
            return None
        try:
            db = thread_connection(self.app.extensions[CONNECTIONS], config)
            row = db.conn.execute(
                f"SELECT etag FROM [{COLLECTIONS[match[1]].table}] WHERE id = ?", [match[2]]
            ).fetchone()
        except sqlite3.Error:
            return None  # the Flask app answers a storage fault with its 503 problem
        if row is None or not etag_matches(row[0], parse_etags(tags)):
            return None
        allow = cors.allowed_origin(environ.get("HTTP_ORIGIN"), config["CORS_ORIGINS"])
        response_headers = [
            ("ETag", f'"{row[0]}"'),
            ("Cache-Control", cache_control(config["CACHE_MAX_AGE"])),
            # Answers to listed origins differ by origin (Access-Control-Allow-Origin names it).
            ("Vary", VARY + (", Origin" if allow not in (None, "*") else "")),
        ]
        if allow is not None:
            response_headers += cors.read_headers(allow)
        response_headers += headers.security_headers(headers.DATA_POLICY)
        return path, response_headers


def init_app(app: Flask) -> None:
    """Call after the app's own hooks are set and before proxies.init_app, which must see requests
    first. A replica answers through Flask only: it waits for the change a client asks for first."""
    if not is_replica(app.config):
        app.wsgi_app = Revalidation(app.wsgi_app, app)
