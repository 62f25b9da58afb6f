"""Storage faults (locked, read-only, full, I/O error, corrupt) answered as 503 problems, never 500s."""

import sqlite3
import weakref

from flask import current_app, request

from api.store.health import hold_wal_open
from api.web.errors import handle_unexpected_error, problem

# SQLite primary result codes (sqlite3 exposes them on every error since Python 3.11).
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY, SQLITE_IOERR = 5, 6, 8, 10
SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_NOTADB = 11, 13, 14, 26

# code -> (what the client is told, seconds after which a retry may succeed)
STORAGE_FAULTS = {
    SQLITE_BUSY: ("The database is busy with another writer; try again shortly.", 1),
    SQLITE_LOCKED: ("The database is busy with another writer; try again shortly.", 1),
    SQLITE_READONLY: ("The database is read-only at the moment; writes are not accepted.", 60),
    SQLITE_FULL: ("The database has no room left; writes are not accepted.", 60),
    SQLITE_IOERR: ("The database could not be read or written.", 30),
    SQLITE_CANTOPEN: ("The database could not be opened.", 30),
    SQLITE_CORRUPT: ("The database could not be read.", 60),
    SQLITE_NOTADB: ("The database could not be read.", 60),
}


def storage_fault(error: sqlite3.Error) -> tuple[str, int] | None:
    """(detail, retry-after seconds) when error is a storage fault rather than a bug."""
    code = getattr(error, "sqlite_errorcode", None)
    return STORAGE_FAULTS.get(code & 0xFF) if code is not None else None


def handle_database_error(error: sqlite3.Error):
    fault = storage_fault(error)
    if fault is None:
        return handle_unexpected_error(error)  # a bug, not a fault: logged, answered 500
    detail, retry_after = fault
    # The SQLite message and path stay in the log; the client gets a fixed sentence.
    current_app.logger.warning("Storage fault on %s %s: %s", request.method, request.path, error)
    return problem(503, detail, {"Retry-After": str(retry_after)})


def init_app(app) -> None:
    app.register_error_handler(sqlite3.Error, handle_database_error)
    # One idle connection per process keeps the -wal and -shm files (api/store/health.py).
    conn = hold_wal_open(app.config["DATABASE"])
    app.extensions["wal_holder"] = conn
    weakref.finalize(app, conn.close)
