"""CORS on reads only: browsers may GET from the configured origins; writes never get CORS headers.

Hand-written rather than flask-cors, which adds Access-Control-Allow-Origin to every method's response.
"""

from flask import current_app, request

READ_METHODS = ("GET", "HEAD")
EXPOSED = "ETag, Link, Last-Modified"
PREFLIGHT_HEADERS = "Accept, If-None-Match, If-Modified-Since"
PREFLIGHT_MAX_AGE = "600"


def allowed_origin(origin: str | None, setting: str) -> str | None:
    """What Access-Control-Allow-Origin says to this Origin under CORS_ORIGINS, or None: no CORS."""
    if not origin:
        return None
    origins = {o.strip() for o in setting.split(",")}
    if "*" in origins:
        return "*"
    return origin if origin in origins else None


def read_headers(allow: str) -> list[tuple[str, str]]:
    """The CORS headers of an answer to a GET or HEAD, for an allowed origin."""
    return [("Access-Control-Allow-Origin", allow), ("Access-Control-Expose-Headers", EXPOSED)]


def add_cors_headers(response):
    allow = allowed_origin(request.headers.get("Origin"), current_app.config["CORS_ORIGINS"])
    if allow is None:
        return response
    if request.method == "OPTIONS":
        if request.headers.get("Access-Control-Request-Method") not in READ_METHODS:
            return response
        response.headers["Access-Control-Allow-Methods"] = ", ".join(READ_METHODS)
        response.headers["Access-Control-Allow-Headers"] = PREFLIGHT_HEADERS
        response.headers["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
    elif request.method not in READ_METHODS:
        return response
    response.headers.extend(read_headers(allow))
    if allow != "*":
        response.vary.add("Origin")
    return response


def init_app(app) -> None:
    app.after_request(add_cors_headers)
