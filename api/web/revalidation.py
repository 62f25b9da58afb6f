"""304s for unchanged records and pages, answered before Flask sees the request.

Revalidating JSON (If-None-Match, JSON acceptable, no Origin) needs only to know the current ETag;
routing, hooks and response objects cost more than finding it out. This WSGI middleware answers a
request itself when the client's tag is current, with the headers and access-log line of the views'
own 304 (tests/test_revalidation.py compares them):

- a plain record, `GET /v1/<collection>/<id>` with no query string: one indexed read of its row's
  stored etag, which is the record's ETag;
- a page, `GET /v1/<collection>?...` (not q= or format=, which count against rate limits): the ETag
  Flask last answered for this exact URL in this thread, while SQLite's data_version says no
  connection has committed anything since it was computed.

Anything else, and any error, goes on to Flask untouched, which answers it in full.
"""

import re
import threading
import time
from urllib.parse import parse_qsl

from werkzeug.http import parse_etags, unquote_etag

from api.model.collections import COLLECTIONS
from api.store.db import thread_connection
from api.web.caching import cache_control, etag_matches
from api.web.formats import format_for_accept
from api.web.headers import DATA_POLICY, security_headers
from api.web.request_log import REQUEST_ID_HEADER, log_request, request_id_from

ITEM_PATH = re.compile(r"/v1/([a-z_]+)/([^/]+)")
LIST_PATH = re.compile(r"/v1/([a-z_]+)")
TABLES = {name: collection.table for name, collection in COLLECTIONS.items()}
# Parameters that make a list an expensive read (api/web/ratelimit.py): Flask counts those.
COUNTED_PARAMETERS = {"q", "format"}
KNOWN_PAGES = 4096  # per thread; the oldest is forgotten first


def names_tag(if_none_match: str, etag: str) -> bool:
    """Whether If-None-Match names this tag; the usual header, the one tag a client was sent, unparsed."""
    return if_none_match == f'"{etag}"' or etag_matches(etag, parse_etags(if_none_match))


def entity_tag(header: str) -> str:
    """The tag of an ETag header, without quotes, weakness or the coding flask-compress appends."""
    return unquote_etag(header)[0].split(":")[0]


class Revalidation:
    """WSGI middleware: a 304 when If-None-Match names the current tag of a record or a page."""

    def __init__(self, app, wsgi_app):
        self.config, self.wsgi_app = app.config, wsgi_app
        # Its own read-only connection per thread: it never writes, so data_version counts every
        # commit (this process's included), and it never creates a missing file.
        self.threads = threading.local()
        self.database = {**{k: app.config[k] for k in ("DATABASE", "DB_BUSY_TIMEOUT_MS")}, "READ_ONLY": True}
        # The headers every fast 304 has besides its ETag and request id.
        self.headers = [
            ("Cache-Control", cache_control(app.config["CACHE_MAX_AGE"])),
            ("Vary", "Accept, Accept-Encoding"),
            *security_headers(DATA_POLICY),
        ]

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        etag, remember = self.checked(environ)
        if etag is not None:
            return self.not_modified(environ, start_response, etag, started)
        if remember is not None:
            return self.wsgi_app(environ, remembering(start_response, remember))
        return self.wsgi_app(environ, start_response)

    def checked(self, environ):
        """check(), where any fault leaves the answer to Flask: (None, None)."""
        try:
            return self.check(environ)
        except Exception:  # noqa: BLE001 - Flask answers it, storage faults and all
            return None, None

    def check(self, environ):
        """(the current tag when the client has it, else None; a callback to learn a page's tag, or None)."""
        if environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
            return None, None
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if (
            not if_none_match
            or "HTTP_ORIGIN" in environ
            or format_for_accept(environ.get("HTTP_ACCEPT")) != "json"
        ):
            return None, None
        path = environ.get("PATH_INFO", "")
        if (match := ITEM_PATH.fullmatch(path)) and match.group(1) in TABLES:
            if environ.get("QUERY_STRING"):
                return None, None
            etag = self.record_etag(match.group(1), match.group(2).encode("latin-1").decode("utf-8"))
            return (etag if etag and names_tag(if_none_match, etag) else None), None
        if (match := LIST_PATH.fullmatch(path)) and match.group(1) in TABLES:
            query = environ.get("QUERY_STRING", "")
            if COUNTED_PARAMETERS & {name for name, _ in parse_qsl(query, keep_blank_values=True)}:
                return None, None
            return self.page_etag(environ, query, if_none_match)
        return None, None

    def connection(self):
        """This thread's connection, and its known pages (forgotten when the connection is new)."""
        local = self.threads
        db = thread_connection(local, self.database)
        if getattr(local, "pages_of", None) is not db:
            local.pages_of, local.pages = db, {}
        return db, local.pages

    def record_etag(self, collection: str, record_id: str) -> str | None:
        if len(record_id) > self.config["MAX_ID_LENGTH"]:
            return None
        db, _ = self.connection()
        row = db.conn.execute(f"SELECT etag FROM [{TABLES[collection]}] WHERE id = ?", [record_id]).fetchone()
        return row[0] if row else None

    def page_etag(self, environ, query: str, if_none_match: str):
        db, pages = self.connection()
        # Read before Flask reads: a commit in between makes the tag it learns look stale, never fresh.
        (version,) = db.conn.execute("PRAGMA data_version").fetchone()
        key = (environ["wsgi.url_scheme"], environ.get("HTTP_HOST"), environ["PATH_INFO"], query)
        known = pages.get(key)
        if known and known[1] == version and names_tag(if_none_match, known[0]):
            return known[0], None

        def remember(status: str, headers: list) -> None:
            etag = next((value for name, value in headers if name.lower() == "etag"), None)
            if etag and status[:3] in ("200", "304"):
                pages.pop(key, None)
                pages[key] = (entity_tag(etag), version)
                if len(pages) > KNOWN_PAGES:
                    del pages[next(iter(pages))]

        return None, remember

    def not_modified(self, environ, start_response, etag: str, started: float):
        request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID"))
        start_response(
            "304 NOT MODIFIED",
            [("ETag", f'"{etag}"'), *self.headers, (REQUEST_ID_HEADER, request_id)],
        )
        if self.config["ACCESS_LOG"]:
            path = environ["PATH_INFO"].encode("latin-1").decode("utf-8")
            log_request(environ["REQUEST_METHOD"], path, 304, started, request_id, environ.get("REMOTE_ADDR"))
        return []


def remembering(start_response, remember):
    """start_response, telling remember the status and headers Flask answers with."""

    def wrapped(status, headers, exc_info=None):
        remember(status, headers)
        return start_response(status, headers, exc_info)

    return wrapped
