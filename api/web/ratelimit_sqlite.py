"""A `limits` storage in a SQLite file: one rate-limit budget shared by every worker and process on a host.

Registered for the `sqlite:///path` scheme (four slashes for an absolute path) through the library's
public extension point: a `Storage` subclass with SlidingWindowCounterSupport, found by
`storage_from_string`. A budget is two counters per client, this window's and the last one's (the
sliding window counter: the last window's count weighted by how much of it still overlaps the moving
window). So a check costs the same however many requests a client made, where a moving window's
one entry per request made it grow with them: at a raised limit, a check took 2.0-2.2 ms with 20,000
requests held against 65-102 us on an empty budget (bench/results/rate-limit-storage.md).
Each check-and-count is one `BEGIN IMMEDIATE` transaction, so two workers never both take the last
request. Counters are disposable (a crash loses at most the last seconds of them), so the file runs in
WAL mode without fsync. It needs a local filesystem (WAL's shared memory); several hosts share a
budget through Redis or Memcached instead (ICC_EVENTS_RATE_LIMIT_STORAGE).
"""

import math
import os
import sqlite3
import threading
import time

from limits.storage import SlidingWindowCounterSupport, Storage

SCHEME = "sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS counters_by_expiry ON counters (expires_at);
"""


def path_of(uri: str) -> str:
    """The file a sqlite:/// URI names: sqlite:///relative/path or sqlite:////absolute/path."""
    prefix = f"{SCHEME}:///"
    if not uri.startswith(prefix) or uri == prefix:
        raise ValueError(f"expected {prefix}<file>, e.g. {prefix}/var/lib/icc-events/ratelimit.db")
    return uri.removeprefix(prefix)


class SQLiteStorage(Storage, SlidingWindowCounterSupport):
    """Sliding-window and fixed-window counters in one SQLite file; a connection per thread and process.

    Windows are numbered as the library's memory and Memcached storages number them, and the counts
    and times to live are theirs; SlidingWindowCounterRateLimiter weighs them."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(
        self, uri: str, wrap_exceptions: bool = False, busy_timeout_ms: int = 5000, clock=time.time, **options
    ):
        """clock: the time in seconds since the epoch (tests give their own)."""
        self.path = path_of(uri)
        self.clock = clock
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

    def acquire_sliding_window_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        with self.transaction() as conn:
            # The time once the write lock is held: a worker that waited for it must not count in a
            # window that another has already left.
            now = self.clock()
            previous_key, current_key = window_keys(key, expiry, now)
            # Counters of every key whose windows have passed; the index makes this cheap when there are none.
            conn.execute("DELETE FROM counters WHERE expires_at <= ?", [now])
            previous, previous_ttl, current, _ = window(conn, previous_key, current_key, expiry, now)
            if math.floor(previous * previous_ttl / expiry + current) + amount > limit:
                return False
            add(conn, current_key, amount, now + 2 * expiry)  # it is the previous window for one more
            return True

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        now = self.clock()
        previous_key, current_key = window_keys(key, expiry, now)
        return window(self.connection(), previous_key, current_key, expiry, now)

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        previous_key, current_key = window_keys(key, expiry, self.clock())
        with self.transaction() as conn:
            conn.execute("DELETE FROM counters WHERE key IN (?, ?)", [previous_key, current_key])

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = self.clock()
        with self.transaction() as conn:
            conn.execute("DELETE FROM counters WHERE key = ? AND expires_at <= ?", [key, now])
            return add(conn, key, amount, now + expiry)

    def get(self, key: str) -> int:
        row = (
            self.connection()
            .execute("SELECT value FROM counters WHERE key = ? AND expires_at > ?", [key, self.clock()])
            .fetchone()
        )
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self.connection().execute("SELECT expires_at FROM counters WHERE key = ?", [key]).fetchone()
        return row[0] if row and row[0] > self.clock() else self.clock()

    def check(self) -> bool:
        """Whether the file can be opened and written; on a connection of its own, so that a server
        that checks before it forks its workers hands them no open connection."""
        try:
            conn = self.connect()
            # The moving window's entries (until 2026-12-07), dropped once at start, not on every connection.
            conn.execute("DROP TABLE IF EXISTS window_entries")
            conn.close()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        with self.transaction() as conn:
            return conn.execute("DELETE FROM counters").rowcount

    def clear(self, key: str) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM counters WHERE key = ?", [key])


def window_keys(key: str, expiry: int, now: float) -> tuple[str, str]:
    """The counters of the last window and of this one: windows of `expiry` seconds from the epoch."""
    return f"{key}/{int((now - expiry) / expiry)}", f"{key}/{int(now / expiry)}"


def add(conn: sqlite3.Connection, key: str, amount: int, expires_at: float) -> int:
    """Add to a live counter, or start one that lives until expires_at; its new value."""
    conn.execute(
        "INSERT INTO counters (key, value, expires_at) VALUES (?, ?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = value + excluded.value",
        [key, amount, expires_at],
    )
    (value,) = conn.execute("SELECT value FROM counters WHERE key = ?", [key]).fetchone()
    return value


def window(
    conn: sqlite3.Connection, previous_key: str, current_key: str, expiry: int, now: float
) -> tuple[int, float, int, float]:
    """(last window's count, its time to live, this window's count, its time to live), as the
    library's own storages give them."""
    counts = dict(
        conn.execute(
            "SELECT key, value FROM counters WHERE key IN (?, ?) AND expires_at > ?",
            [previous_key, current_key, now],
        ).fetchall()
    )
    previous, current = counts.get(previous_key, 0), counts.get(current_key, 0)
    previous_ttl = (1 - (((now - expiry) / expiry) % 1)) * expiry if previous else 0.0
    current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
    return previous, previous_ttl, current, current_ttl


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
