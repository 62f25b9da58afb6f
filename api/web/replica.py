"""Read replicas: a server with ICC_EVENTS_PRIMARY_URL refuses writes and lets clients read their writes.

The primary's write responses carry `ICC-Events-Change: <seq>`, the change log's position after the
write. A client sends it back as `ICC-Events-Min-Change`; a replica that has not reached that change
waits up to ICC_EVENTS_REPLICA_WAIT_MS for it, then answers a 503 problem naming the primary. A
replica's every answer carries the change it has reached. The server never contacts the primary:
its URL only appears in problems.
"""

import time
from urllib.parse import quote

from flask import current_app, g, request

from api.store.changes import last_change
from api.store.db import thread_connection
from api.web.database import CONNECTIONS, get_db
from api.web.errors import APIProblem

CHANGE_HEADER = "ICC-Events-Change"
MIN_CHANGE_HEADER = "ICC-Events-Min-Change"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# POSTs that only read: a replica answers them like any read.
READS_BY_POST = frozenset({"reconcile.reconcile", "verify.verify_quotes"})
POLL_SECONDS = 0.05
# deploy/replicas/nginx.conf's internal location that proxies to the primary.
PRIMARY_LOCATION = "/_primary"
# A change number is a SQLite integer: at most 19 digits.
MAX_CHANGE_DIGITS = 19


def is_replica(config) -> bool:
    return bool(config["PRIMARY_URL"])


def reached_change(db) -> int:
    """The last change in this database's log (0 when empty)."""
    return last_change(db)[0]


def refuse_writes():
    """A replica's database is the primary's copy: a write sent here is a 421 naming the primary."""
    if request.method in SAFE_METHODS or request.endpoint in READS_BY_POST:
        return
    primary = current_app.config["PRIMARY_URL"]
    raise APIProblem(
        421,
        f"This server is a read replica; send writes to the primary, {primary}.",
        {"Link": f'<{primary}>; rel="primary"'},
        primary=primary,
    )


def wanted_change() -> int | None:
    value = request.headers.get(MIN_CHANGE_HEADER)
    if value is None:
        return None
    value = value.strip()
    if not value.isascii() or not value.isdigit() or len(value) > MAX_CHANGE_DIGITS:
        raise APIProblem(400, f"{MIN_CHANGE_HEADER} must be a change number, as {CHANGE_HEADER} gave it.")
    return int(value)


def wait_for_change():
    """Hold a read until this replica has the change the client names, for a bounded time."""
    wanted = wanted_change()
    if wanted is None:
        return
    deadline = time.monotonic() + current_app.config["REPLICA_WAIT_MS"] / 1000
    while True:
        # thread_connection reopens when the replica's file has been swapped for a newer copy.
        db = thread_connection(current_app.extensions[CONNECTIONS], current_app.config)
        reached = reached_change(db)
        if reached >= wanted or time.monotonic() >= deadline:
            break
        time.sleep(POLL_SECONDS)
    if reached < wanted:
        primary = current_app.config["PRIMARY_URL"]
        raise APIProblem(
            503,
            f"This replica has reached change {reached}, not yet {wanted}; retry, or read from the"
            f" primary, {primary}.",
            # Behind deploy/replicas/nginx.conf, nginx answers the read from the primary instead.
            {"Retry-After": "1", CHANGE_HEADER: str(reached), "X-Accel-Redirect": primary_location()},
            primary=primary,
            reached_change=reached,
            wanted_change=wanted,
        )


def primary_location() -> str:
    """This read at nginx's internal location for the primary (the client's own path and query)."""
    query = request.query_string.decode("latin-1")
    return PRIMARY_LOCATION + quote(request.path) + (f"?{query}" if query else "")


def add_change_header(response):
    """The change log's position: on a primary's successful writes, and on a replica's answers."""
    replica = is_replica(current_app.config)
    if CHANGE_HEADER in response.headers:
        return response
    if not replica and (request.method in SAFE_METHODS or not 200 <= response.status_code < 300):
        return response
    try:
        db = g.db if "db" in g else get_db()
        response.headers[CHANGE_HEADER] = str(reached_change(db))
    except Exception:  # noqa: BLE001 - a header, never a reason to fail an answer
        pass
    return response


def init_app(app) -> None:
    if is_replica(app.config):
        app.before_request(refuse_writes)
        app.before_request(wait_for_change)
    app.after_request(add_change_header)
