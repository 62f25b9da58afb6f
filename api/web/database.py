"""The request's database connection: the worker thread's own, opened on first use and reused."""

import threading

import sqlite_utils
from flask import current_app, g

from api.store.db import thread_connection

CONNECTIONS = "icc_events.connections"


def get_db() -> sqlite_utils.Database:
    """The request's connection: this thread's, opened on its first request and kept for the next.

    Opening a connection and reading the schema was about half of an item request; a connection is
    only used by one request at a time, so reusing it per thread is safe.
    """
    if "db" not in g:
        g.db = thread_connection(current_app.extensions[CONNECTIONS], current_app.config)
    return g.db


def release_db(error=None) -> None:
    """End the request's use of the connection; a transaction it left open is not the next one's."""
    db = g.pop("db", None)
    if db is not None and db.conn.in_transaction:
        db.conn.rollback()


def init_app(app) -> None:
    app.extensions[CONNECTIONS] = threading.local()
    app.teardown_appcontext(release_db)
