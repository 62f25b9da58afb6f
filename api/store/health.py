"""Whether a database file can serve at all, and keeping its WAL files while it does."""

import sqlite3
import threading


class DatabaseUnusable(Exception):
    """The database file exists but cannot serve: not SQLite, corrupt, or unreadable."""


# How long the start-up check may read: all of a seed-sized file, the first few hundred MB of a
# million-record one (whose whole quick_check reads 6 GB, minutes from a cold disk).
CHECK_SECONDS = 2.0


def ensure_usable(path: str, budget: float = CHECK_SECONDS) -> bool:
    """Open the file read-only and check its structure; DatabaseUnusable with one clear line if not.

    PRAGMA quick_check reads every page, so it stops after budget seconds: a file it could not read
    through in time is served, and a page corrupt beyond that point is a 503 when a query reaches it.
    True if the check read the whole file, False if it stopped with nothing wrong found.
    """
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        done = threading.Event()
        # sqlite3_interrupt from a thread: SQLite before 3.43 calls no progress handler inside the
        # check. Again until the check ends, as an interrupt sent before it starts is dropped.
        watchdog = threading.Thread(target=interrupt_after, args=(conn, budget, done), daemon=True)
        watchdog.start()
        try:
            result = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
        finally:
            done.set()
            watchdog.join()
            conn.close()
    except sqlite3.Error as error:
        if error.sqlite_errorcode == sqlite3.SQLITE_INTERRUPT:
            return False
        raise DatabaseUnusable(f"{path} is not a usable SQLite database ({error}).") from None
    if result != "ok":
        raise DatabaseUnusable(
            f"{path} is corrupt (quick_check: {result}); rebuild it with `icc-events seed`."
        )
    return True


def interrupt_after(conn: sqlite3.Connection, seconds: float, done: threading.Event) -> None:
    if done.wait(seconds):
        return
    while not done.is_set():
        conn.interrupt()
        done.wait(0.01)


def hold_wal_open(path: str) -> sqlite3.Connection:
    """Keep one idle read-only connection per process, so SQLite keeps the -wal and -shm files;
    the caller keeps it open for as long as it serves.

    SQLite deletes them when its last connection closes; the next request must then create a new
    -shm, which fails on a full disk. With this connection open, reads go on when the disk is full.
    """
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # maps the -shm now, while there is room
    return conn
