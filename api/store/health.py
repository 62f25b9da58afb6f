"""Whether a database file can serve at all, and keeping its WAL files while it does."""

import sqlite3


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


def hold_wal_open(path: str) -> sqlite3.Connection:
    """Keep one idle read-only connection per process, so SQLite keeps the -wal and -shm files;
    the caller keeps it open for as long as it serves.

    SQLite deletes them when its last connection closes; the next request must then create a new
    -shm, which fails on a full disk. With this connection open, reads go on when the disk is full.
    """
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # maps the -shm now, while there is room
    return conn
