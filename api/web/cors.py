"""CORS on reads only: browsers may GET from the configured origins; writes never get CORS headers.
api/web/envelope.py adds these to every answer.

Hand-written rather than flask-cors, which adds Access-Control-Allow-Origin to every method's response.
"""

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


def preflight_headers() -> list[tuple[str, str]]:
    """What a preflight asking for a read is told beyond read_headers: the methods, headers and how
    long the answer holds."""
    return [
        ("Access-Control-Allow-Methods", ", ".join(READ_METHODS)),
        ("Access-Control-Allow-Headers", PREFLIGHT_HEADERS),
        ("Access-Control-Max-Age", PREFLIGHT_MAX_AGE),
    ]
