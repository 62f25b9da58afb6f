"""The whole database at once: every record read at one moment, and a file snapshot of it."""

import contextlib
import hashlib
import os
import re
from collections.abc import Iterator

import click
import sqlite_utils

from api.collections import COLLECTIONS
from api.db import connect
from api.rows import from_row


@contextlib.contextmanager
def read_transaction(db_path: str | os.PathLike) -> Iterator[sqlite_utils.Database]:
    """A read-only connection inside one transaction, so every table is read at the same moment."""
    db = connect(str(db_path), readonly=True)
    try:
        db.conn.execute("BEGIN")
        yield db
    finally:
        db.conn.rollback()
        db.conn.close()


def read_records(
    db: sqlite_utils.Database, names: tuple[str, ...] = tuple(COLLECTIONS)
) -> dict[str, list[dict]]:
    """Every record of the named collections (all by default), by id."""
    return {
        name: [from_row(c, row) for row in db.query(f"SELECT * FROM [{c.table}] ORDER BY id")]
        for name, c in ((name, COLLECTIONS[name]) for name in names)
    }


def data_version(db: sqlite_utils.Database) -> str:
    """A digest of every record's stored version: it changes when any record is added, edited or removed."""
    digest = hashlib.sha256()
    for c in COLLECTIONS.values():
        for record_id, etag in db.execute(f"SELECT id, etag FROM [{c.table}] ORDER BY id"):
            digest.update(f"{c.table}\n{record_id}\n{etag}\n".encode())
    return digest.hexdigest()[:32]


def public_tables(db: sqlite_utils.Database) -> set[str]:
    """The collection tables and their full-text indexes; anything else (tokens, say) stays private."""
    tables = {c.table for c in COLLECTIONS.values()}
    for table in list(tables):
        fts = db[table].detect_fts() if db[table].exists() else None
        if fts:
            tables.add(fts)
            tables.update(name for name in db.table_names() if name.startswith(f"{fts}_"))
    return tables


def drop_dependents(db: sqlite_utils.Database, tables: list[str]) -> None:
    """Drop the views and triggers that mention any of these (dropped) tables: they could only fail."""
    for kind, name, sql in db.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE type IN ('view', 'trigger')"
    ):
        if any(re.search(rf"\b{re.escape(table)}\b", sql or "") for table in tables):
            db.conn.execute(f"DROP {kind.upper()} IF EXISTS [{name}]")


def write_snapshot(db_path: str | os.PathLike, dest: str | os.PathLike) -> str:
    """A consistent, self-contained copy of the public tables at dest (not existing yet); its data_version."""
    source = connect(str(db_path), readonly=True)
    try:
        # VACUUM INTO copies one read transaction's view of the database, compacted.
        source.conn.execute("VACUUM INTO ?", [str(dest)])
    finally:
        source.conn.close()
    copy = connect(str(dest))
    try:
        keep = public_tables(copy)
        # sqlite_sequence and the like belong to SQLite (it drops its rows for dropped tables itself).
        private = [name for name in copy.table_names() if name not in keep and not name.startswith("sqlite_")]
        for name in private:
            if copy[name].exists():  # dropping a virtual table drops its shadow tables too
                copy.conn.execute(f"DROP TABLE [{name}]")
        drop_dependents(copy, private)
        # VACUUM INTO writes a rollback-journal file already; this keeps it so whatever the source.
        copy.conn.execute("PRAGMA journal_mode = DELETE")
        if private:
            copy.conn.execute("VACUUM")  # else, without secure_delete, dropped rows linger in free pages
        return data_version(copy)
    finally:
        copy.conn.close()


def write_ftm_file(db_path: str | os.PathLike, out: str) -> None:
    """FtM entities as NDJSON to the file out; - is standard output."""
    from api.ftm import MAPPED, ftm_lines

    with read_transaction(db_path) as db, click.open_file(out, "w", encoding="utf-8") as stream:
        stream.writelines(ftm_lines(read_records(db, MAPPED)))


def write_csv_file(db_path: str | os.PathLike, out: str) -> None:
    """The CSV bundle (zip) to the file out."""
    from api.datapackage import write_csv_bundle

    with read_transaction(db_path) as db, open(out, "wb") as stream:
        write_csv_bundle(db, stream)


# `icc-events export --format NAME`: each writes the database at db_path to the file out.
FILE_EXPORTS = {"ftm": write_ftm_file, "sqlite": write_snapshot, "csv": write_csv_file}
