"""A `limits` storage in a SQLite file: one rate-limit budget shared by every worker and process on a host.

Registered for the `sqlite:///path` scheme (four slashes for an absolute path) through the library's
public extension point: a `Storage` subclass with MovingWindowSupport, found by `storage_from_string`.
Each check-and-count is one `BEGIN IMMEDIATE` transaction, so two workers never both take the last
entry. Counters are disposable (a crash loses at most the last seconds of them), so the file runs in
WAL mode without fsync. It needs a local filesystem (WAL's shared memory); several hosts share a
budget through Redis or Memcached instead (ICC_EVENTS_RATE_LIMIT_STORAGE).
"""

import os
import sqlite3
import threading
import time

from limits.storage import MovingWindowSupport, Storage

SCHEME = "sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS window_entries (key TEXT NOT NULL, at REAL NOT NULL, expires_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS window_entries_by_key ON window_entries (key, at);
CREATE INDEX IF NOT EXISTS window_entries_by_expiry ON window_entries (expires_at);
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires_at REAL NOT NULL);
"""


def path_of(uri: str) -> str:
    """The file a sqlite:/// URI names: sqlite:///relative/path or sqlite:////absolute/path."""
    prefix = f"{SCHEME}:///"
    if not uri.startswith(prefix) or uri == prefix:
        raise ValueError(f"expected {prefix}<file>, e.g. {prefix}/var/lib/icc-events/ratelimit.db")
    return uri.removeprefix(prefix)


class SQLiteStorage(Storage, MovingWindowSupport):
    """Moving-window and fixed-window counters in one SQLite file; a connection per thread and process."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str, wrap_exceptions: bool = False, busy_timeout_ms: int = 5000, **options):
        self.path = path_of(uri)
        self.busy_timeout_s = busy_timeout_ms / 1000
        self.local = threading.local()
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def connect(self) -> sqlite3.Connection:
        # Autocommit mode: each transaction below is begun explicitly, as BEGIN IMMEDIATE.
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None)
        wal_mode(conn, self.busy_timeout_s)
        conn.execute("PRAGMA synchronous = OFF")
        conn.executescript(SCHEMA)
        return conn

    def connection(self) -> sqlite3.Connection:
        """This thread's connection; a new one in a forked worker, which must not share its parent's."""
        local = self.local
        if getattr(local, "pid", None) != os.getpid():
            local.conn, local.pid = self.connect(), os.getpid()
        return local.conn

    def transaction(self):
        """A write transaction that holds the file's write lock from its first statement."""
        return ImmediateTransaction(self.connection())

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = time.time()
        with self.transaction() as conn:
            # Entries of every key whose window has passed; the index makes this cheap when there are none.
            conn.execute("DELETE FROM window_entries WHERE expires_at <= ?", [now])
            (taken,) = conn.execute(
                "SELECT count(*) FROM window_entries WHERE key = ? AND at > ?", [key, now - expiry]
            ).fetchone()
            if taken + amount > limit:
                return False
            conn.executemany(
                "INSERT INTO window_entries (key, at, expires_at) VALUES (?, ?, ?)",
                [(key, now, now + expiry)] * amount,
            )
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = time.time()
        oldest, taken = (
            self.connection()
            .execute(
                "SELECT min(at), count(*) FROM window_entries WHERE key = ? AND at > ?", [key, now - expiry]
            )
            .fetchone()
        )
        return (oldest if taken else now), taken

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self.transaction() as conn:
            conn.execute("DELETE FROM counters WHERE key = ? AND expires_at <= ?", [key, now])
            conn.execute(
                "INSERT INTO counters (key, value, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = value + excluded.value",
                [key, amount, now + expiry],
            )
            (value,) = conn.execute("SELECT value FROM counters WHERE key = ?", [key]).fetchone()
            return value

    def get(self, key: str) -> int:
        row = (
            self.connection()
            .execute("SELECT value FROM counters WHERE key = ? AND expires_at > ?", [key, time.time()])
            .fetchone()
        )
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self.connection().execute("SELECT expires_at FROM counters WHERE key = ?", [key]).fetchone()
        return row[0] if row and row[0] > time.time() else time.time()

    def check(self) -> bool:
        """Whether the file can be opened and written; on a connection of its own, so that a server
        that checks before it forks its workers hands them no open connection."""
        try:
            self.connect().close()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        with self.transaction() as conn:
            removed = conn.execute("DELETE FROM window_entries").rowcount
            return removed + conn.execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM window_entries WHERE key = ?", [key])
            conn.execute("DELETE FROM counters WHERE key = ?", [key])


def wal_mode(conn: sqlite3.Connection, timeout_s: float) -> None:
    """PRAGMA journal_mode = WAL, waiting (up to the busy timeout) for another connection that is
    setting it: SQLite answers that PRAGMA SQLITE_BUSY at once, without calling the busy handler,
    and a server's workers open a new budget file together (one of them crashed at start)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                raise
            time.sleep(0.005)


class ImmediateTransaction:
    """`with` block: BEGIN IMMEDIATE, then COMMIT, or ROLLBACK on an exception."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, kind, error, traceback) -> None:
        self.conn.execute("ROLLBACK" if kind else "COMMIT")
