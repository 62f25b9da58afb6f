"""The whole database at once: every record read at one moment, and a file snapshot of it."""

import contextlib
import hashlib
import os
import sqlite3
from collections.abc import Iterator

import click
import sqlite_utils

from api.exports.datapackage import write_csv_bundle
from api.exports.ftm import MAPPED, ftm_lines
from api.model.collections import COLLECTIONS, Collection
from api.model.columns import is_integer, public_columns, stored_column
from api.model.rows import from_row
from api.store.db import connect
from api.store.search import enable_search


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


def creation_order() -> list[Collection]:
    """The collections, each after every other one it references, so its foreign keys can be declared."""
    ordered: list[Collection] = []
    pending = list(COLLECTIONS.values())
    while pending:
        names = {c.name for c in ordered}
        ready = next(c for c in pending if set(c.references().values()) <= names | {c.name})
        ordered.append(ready)
        pending.remove(ready)
    return ordered


def create_export_table(db: sqlite_utils.Database, collection: Collection) -> None:
    """A collection's table as exported: its public columns, id as key, its references as foreign keys."""
    columns = {c: int if is_integer(collection, c) else str for c in public_columns(collection)}
    foreign_keys = [(name, COLLECTIONS[to].table, "id") for name, to in collection.references().items()]
    db[collection.table].create(columns, pk="id", foreign_keys=foreign_keys)


def write_snapshot(db_path: str | os.PathLike, dest: str | os.PathLike) -> str:
    """A self-contained SQLite file at dest (not existing yet) of every record, read at one moment;
    its data_version.

    Built table by table rather than copied, so nothing but the collections reaches it: the public
    columns (those of the CSV exports, no etag or *_sort), foreign keys for every reference, and a
    full-text index per collection for Datasette's search.
    """
    # Not api.store.db.connect: foreign keys are declared, not enforced while rows load in id order (a parent
    # organization may come after its child).
    out = sqlite_utils.Database(sqlite3.connect(str(dest)))
    try:
        with read_transaction(db_path) as live:
            version = data_version(live)
            for collection in creation_order():
                create_export_table(out, collection)
                columns = public_columns(collection)
                select = ", ".join(f"[{stored_column(c)}]" for c in columns)
                insert = (
                    f"INSERT INTO [{collection.table}] ({', '.join(f'[{c}]' for c in columns)}) "
                    f"VALUES ({', '.join('?' * len(columns))})"
                )
                rows = live.execute(f"SELECT {select} FROM [{collection.table}] ORDER BY id")
                out.conn.executemany(insert, rows)
        for collection in COLLECTIONS.values():
            enable_search(out, collection)
        out.conn.commit()
        return version
    finally:
        out.conn.close()


def write_ftm_file(db_path: str | os.PathLike, out: str) -> None:
    """FtM entities as NDJSON to the file out; - is standard output."""
    with read_transaction(db_path) as db, click.open_file(out, "w", encoding="utf-8") as stream:
        stream.writelines(ftm_lines(read_records(db, MAPPED)))


def write_csv_file(db_path: str | os.PathLike, out: str) -> None:
    """The CSV bundle (zip) to the file out."""
    with read_transaction(db_path) as db, open(out, "wb") as stream:
        write_csv_bundle(db, stream)


# `icc-events export --format NAME`: each writes the database at db_path to the file out.
FILE_EXPORTS = {"ftm": write_ftm_file, "sqlite": write_snapshot, "csv": write_csv_file}
