"""What every answer carries, whoever makes it (a Flask view, an error handler, the 304s of
api/web/revalidation.py): its request id, the security headers, CORS on reads, and one access line.

A WSGI layer around the app rather than Flask hooks: it adds to the header list the server is
handed, reading the request from the WSGI environ, so an answer pays for a few list operations
instead of four hooks' worth of werkzeug header sets and request-proxy lookups (in process, a
record went from 0.53x to 0.62x the floor's speed), and the answers made before Flask need no copy
of these rules.
"""

import time

from flask import Flask
from werkzeug.wsgi import get_path_info

from api.web import cors, headers, request_log


def request_path(environ: dict) -> str:
    """The path as the access line names it: werkzeug's request.path (PATH_INFO as UTF-8 text)."""
    return "/" + get_path_info(environ).lstrip("/")


def header_index(response_headers: list[tuple[str, str]], name: str) -> int | None:
    lowered = name.lower()
    return next((i for i, (key, _) in enumerate(response_headers) if key.lower() == lowered), None)


def vary_on(response_headers: list[tuple[str, str]], field: str) -> None:
    """Add a field to the answer's Vary, once."""
    index = header_index(response_headers, "Vary")
    if index is None:
        response_headers.append(("Vary", field))
        return
    value = response_headers[index][1]
    if field.lower() not in {part.strip().lower() for part in value.split(",")}:
        response_headers[index] = ("Vary", f"{value}, {field}" if value.strip() else field)


def add_security_headers(response_headers: list[tuple[str, str]]) -> None:
    """Each security header the answer does not have yet (an HTML page sets its own policy: see
    api/web/headers.py), under the policy for data."""
    names = [name for name, _ in response_headers]
    response_headers.extend(headers.missing_security_headers(names, headers.DATA_POLICY))


def add_cors_headers(environ: dict, response_headers: list[tuple[str, str]], setting: str) -> None:
    """CORS on reads only, for an allowed Origin: a GET or HEAD, or a preflight asking for one.

    An answer that carries its own CORS (the reconciliation service is open to every origin and
    method, api/web/reconcile.py) keeps it whole.
    """
    allow = cors.allowed_origin(environ.get("HTTP_ORIGIN"), setting)
    if allow is None or header_index(response_headers, "Access-Control-Allow-Origin") is not None:
        return
    method = environ["REQUEST_METHOD"].upper()  # as werkzeug's request.method, which routed it
    if method == "OPTIONS":
        if environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD") not in cors.READ_METHODS:
            return
        response_headers.extend(cors.preflight_headers())
    elif method not in cors.READ_METHODS:
        return
    response_headers.extend(cors.read_headers(allow))
    if allow != "*":
        vary_on(response_headers, "Origin")  # answers to listed origins name the origin


class Envelope:
    """WSGI middleware: the request id, security and CORS headers and the access line of every answer."""

    def __init__(self, wsgi_app, app: Flask):
        self.wsgi_app = wsgi_app
        self.config = app.config

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        request_id = request_log.request_id_from(environ.get("HTTP_X_REQUEST_ID"))
        environ[request_log.REQUEST_ID_KEY] = request_id

        def start(status: str, response_headers: list, exc_info=None):
            add_cors_headers(environ, response_headers, self.config["CORS_ORIGINS"])
            add_security_headers(response_headers)
            response_headers.append((request_log.REQUEST_ID_HEADER, request_id))
            if self.config["ACCESS_LOG"]:
                method, address = environ["REQUEST_METHOD"].upper(), environ.get("REMOTE_ADDR")
                path = request_path(environ)
                request_log.log_request(method, path, int(status[:3]), started, request_id, address)
            return start_response(status, response_headers, exc_info)

        return self.wsgi_app(environ, start)


def init_app(app: Flask) -> None:
    """Call after every other middleware but proxies.init_app, which must see requests first."""
    app.wsgi_app = Envelope(app.wsgi_app, app)
