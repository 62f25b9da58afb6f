"""Rate limits on writes and on expensive reads: a 429 problem with Retry-After and RateLimit headers.

Headers follow draft-ietf-httpapi-ratelimit-headers-06: RateLimit-Limit, RateLimit-Remaining,
RateLimit-Reset (seconds until the window resets) and RateLimit-Policy ("limit;w=window-seconds").
Counters live in each worker's memory (the `limits` library's MemoryStorage), so with N gunicorn
workers a client can get up to N times the limit; a shared storage (Redis) would make it exact.
"""

import math
import time

from flask import current_app, g, request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from api.errors import APIProblem
from api.formats import format_for_accept

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# A read is expensive when it searches or exports whole collections; add new such requests here.
EXPENSIVE_QUERY_PARAMETERS = ("q", "format")
EXPENSIVE_FORMATS = ("csv", "ndjson")
EXPENSIVE_PATH_PREFIXES = ("/v1/export/",)


def is_expensive_read() -> bool:
    """A full-text search or an export (by path, by parameter or by Accept)."""
    if request.path.startswith(EXPENSIVE_PATH_PREFIXES):
        return True
    if any(name in request.args for name in EXPENSIVE_QUERY_PARAMETERS):
        return True
    return format_for_accept(request.headers.get("Accept")) in EXPENSIVE_FORMATS


def limit_for_request() -> tuple[str, str] | None:
    """(bucket, setting name) of the limit this request counts against, or None when it is free."""
    if request.method not in SAFE_METHODS:
        return "writes", "RATE_LIMIT_WRITES"
    if is_expensive_read():
        return "expensive-reads", "RATE_LIMIT_EXPENSIVE_READS"
    return None


def documented_headers() -> dict:
    """The headers of a 429, as the OpenAPI description states them."""
    string = {"type": "string"}
    headers = {"Retry-After": {"description": "Seconds to wait before retrying.", "schema": string}}
    for name in ("RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy"):
        description = f"{name} (draft-ietf-httpapi-ratelimit-headers-06)."
        headers[name] = {"description": description, "schema": string}
    return headers


def rate_limit_headers(item: RateLimitItem, remaining: int, reset_at: float) -> dict[str, str]:
    reset = max(0, math.ceil(reset_at - time.time()))
    return {
        "RateLimit-Limit": str(item.amount),
        "RateLimit-Remaining": str(max(0, remaining)),
        "RateLimit-Reset": str(reset),
        "RateLimit-Policy": f"{item.amount};w={item.get_expiry()}",
    }


def check_rate_limit() -> None:
    """Count the request against its limit; a 429 once the client has used it up."""
    limit = limit_for_request()
    if limit is None or not current_app.config["RATE_LIMIT_ENABLED"]:
        return
    bucket, setting = limit
    limiter: MovingWindowRateLimiter = current_app.extensions["rate_limiter"]
    item = parse(current_app.config[setting])
    client = request.remote_addr or "unknown"
    allowed = limiter.hit(item, bucket, client)
    stats = limiter.get_window_stats(item, bucket, client)
    headers = rate_limit_headers(item, stats.remaining, stats.reset_time)
    if not allowed:
        headers["Retry-After"] = str(max(1, int(headers["RateLimit-Reset"])))
        raise APIProblem(
            429, f"Rate limit of {item.amount} {bucket} per {item.get_expiry()} s reached.", headers
        )
    g.rate_limit_headers = headers


def add_rate_limit_headers(response):
    response.headers.extend(g.pop("rate_limit_headers", {}))
    return response


def init_app(app) -> None:
    for setting in ("RATE_LIMIT_WRITES", "RATE_LIMIT_EXPENSIVE_READS"):
        parse(app.config[setting])  # a malformed limit fails at start, not on a request
    app.extensions["rate_limiter"] = MovingWindowRateLimiter(MemoryStorage())
    app.before_request(check_rate_limit)
    app.after_request(add_rate_limit_headers)
