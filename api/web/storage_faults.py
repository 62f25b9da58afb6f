"""Storage faults (locked, read-only, full, I/O error, corrupt) answered as 503 problems, never 500s."""

import sqlite3
import weakref

from flask import current_app, request

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


class DatabaseUnusable(Exception):
    """The database file exists but cannot serve: not SQLite, corrupt, or unreadable."""


def ensure_usable(path: str) -> None:
    """Open the file read-only and check its structure; DatabaseUnusable with one clear line if not."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as error:
        raise DatabaseUnusable(f"{path} is not a usable SQLite database ({error}).") from None
    if result != "ok":
        raise DatabaseUnusable(
            f"{path} is corrupt (quick_check: {result}); rebuild it with `icc-events seed`."
        )


def hold_wal_open(app) -> None:
    """Keep one idle read-only connection per process, so SQLite keeps the -wal and -shm files.

    SQLite deletes them when its last connection closes; the next request must then create a new
    -shm, which fails on a full disk. With this connection open, reads go on when the disk is full.
    """
    conn = sqlite3.connect(f"file:{app.config['DATABASE']}?mode=ro", uri=True, check_same_thread=False)
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # maps the -shm now, while there is room
    app.extensions["wal_holder"] = conn
    weakref.finalize(app, conn.close)


def init_app(app) -> None:
    app.register_error_handler(sqlite3.Error, handle_database_error)
    hold_wal_open(app)
