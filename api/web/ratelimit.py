"""Rate limits on writes and on expensive reads: a 429 problem with Retry-After and RateLimit headers.

Headers follow draft-ietf-httpapi-ratelimit-headers-06: RateLimit-Limit, RateLimit-Remaining,
RateLimit-Reset (seconds until the window resets) and RateLimit-Policy ("limit;w=window-seconds").
One budget per client address, whichever worker or process serves it: counters live in a `limits`
storage shared by all of them, by default a SQLite file next to the database (api/web/ratelimit_sqlite.py),
or the Redis or Memcached that ICC_EVENTS_RATE_LIMIT_STORAGE names when several hosts serve the API.
`budget_of` decides which operations count; openapi.yaml documents a 429 on exactly those.
A budget is counted by the library's sliding window counter: this window's requests plus the last
window's, weighted by how much of it the moving window still covers. A check costs the same however
many requests the client made, and every storage the library has (Redis, Memcached, memory) counts
it; the moving window counted before did not run on Memcached at all.
"""

import math
import time
from pathlib import Path

from flask import current_app, g, request
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import SlidingWindowCounterRateLimiter

from api.web import ratelimit_sqlite
from api.web.auth import authenticated_token
from api.web.errors import APIProblem
from api.web.formats import format_for_accept

WRITES, EXPENSIVE_READS = "writes", "expensive-reads"
SETTINGS = {WRITES: "RATE_LIMIT_WRITES", EXPENSIVE_READS: "RATE_LIMIT_EXPENSIVE_READS"}
DESCRIPTIONS = {
    WRITES: "Too many writes from this client; retry after `Retry-After` seconds.",
    EXPENSIVE_READS: "Too many expensive reads (searches, exports, CSV or NDJSON lists, quote checks) from "
    "this client; "
    "retry after `Retry-After` seconds.",
}

# A list is an expensive read when it searches or is exported whole.
EXPENSIVE_QUERY_PARAMETERS = ("q", "format")
EXPENSIVE_FORMATS = ("csv", "ndjson")


def budget_of(endpoint: str | None) -> str | None:
    """The budget an operation may spend, by Flask endpoint; None for those never limited.

    Health, the OpenAPI file, docs, static files, pages (but a page that searches, q=), single records,
    histories and the change feed are never limited; nor is a request no route answers (its 404 or
    405 costs nothing).
    """
    blueprint, _, view = (endpoint or "").partition(".")
    if blueprint == "writes":
        return WRITES
    if blueprint == "downloads" or endpoint == "search.search":
        return EXPENSIVE_READS
    if blueprint in ("records", "html_pages") and view.startswith("list_"):
        return EXPENSIVE_READS
    if endpoint == "html_pages.search_page":
        return EXPENSIVE_READS  # the search page runs the same ranked query as /v1/search
    if blueprint == "atom" and view.startswith("feed_"):
        return EXPENSIVE_READS  # a collection feed with q= searches like its list
    if endpoint == "verify.verify_quotes":
        return EXPENSIVE_READS  # every sentence is matched against every source
    return None


def is_expensive_list_read() -> bool:
    """A list read that searches (q=) or asks for CSV or NDJSON (format= or Accept)."""
    if any(name in request.args for name in EXPENSIVE_QUERY_PARAMETERS):
        return True
    return format_for_accept(request.headers.get("Accept")) in EXPENSIVE_FORMATS


def budget_for_request() -> str | None:
    """The budget this request spends, or None when it is free."""
    budget = budget_of(request.endpoint)
    if budget == EXPENSIVE_READS:
        if request.method == "OPTIONS":
            return None  # a CORS preflight is free
        if request.blueprint in ("records", "atom", "html_pages") and not is_expensive_list_read():
            return None
    return budget


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
    """Count the request against its budget; a 429 once the client has used it up."""
    budget = budget_for_request()
    if budget is None or not current_app.config["RATE_LIMIT_ENABLED"]:
        return
    if budget == WRITES:
        authenticated_token()  # a write without valid credentials gets its 401 here, before spending
    limiter: SlidingWindowCounterRateLimiter = current_app.extensions["rate_limiter"]
    item = current_app.extensions["rate_limits"][budget]
    client = request.remote_addr or "unknown"
    try:
        allowed = limiter.hit(item, budget, client)
        stats = limiter.get_window_stats(item, budget, client)
    except Exception as error:  # noqa: BLE001 - a broken limiter must not take the API down with it
        # The class only: a storage error's text may hold its URI, and with it a password.
        failure = type(error).__name__
        current_app.logger.warning("Rate limit storage failed (%s); request not counted", failure)
        return
    headers = rate_limit_headers(item, stats.remaining, stats.reset_time)
    if not allowed:
        headers["Retry-After"] = str(max(1, int(headers["RateLimit-Reset"])))
        raise APIProblem(
            429, f"Rate limit of {item.amount} {budget} per {item.get_expiry()} s reached.", headers
        )
    g.rate_limit_headers = headers


def add_rate_limit_headers(response):
    response.headers.extend(g.pop("rate_limit_headers", {}))
    return response


def storage_uri(config) -> str:
    """RATE_LIMIT_STORAGE, or by default a SQLite file beside the database: icc-events.ratelimit.db."""
    if config["RATE_LIMIT_STORAGE"]:
        return config["RATE_LIMIT_STORAGE"]
    return f"{ratelimit_sqlite.SCHEME}:///{Path(config['DATABASE']).with_suffix('.ratelimit.db')}"


def init_app(app) -> None:
    # Parsed once: a malformed limit fails at start, not on a request.
    limits = {budget: parse(app.config[setting]) for budget, setting in SETTINGS.items()}
    app.extensions["rate_limits"] = limits
    if app.config["RATE_LIMIT_ENABLED"]:
        uri = storage_uri(app.config)
        options = {}
        if uri.startswith(f"{ratelimit_sqlite.SCHEME}:"):
            options["busy_timeout_ms"] = app.config["DB_BUSY_TIMEOUT_MS"]
        # An unknown scheme, a missing client library or an unusable file fails at start too.
        storage = storage_from_string(uri, **options)
        if not storage.check():
            raise RuntimeError("The rate-limit storage (ICC_EVENTS_RATE_LIMIT_STORAGE) does not answer.")
        app.extensions["rate_limiter"] = SlidingWindowCounterRateLimiter(storage)
    app.before_request(check_rate_limit)
    app.after_request(add_rate_limit_headers)
