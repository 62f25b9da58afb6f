"""Schema migrations: the ordered, named steps that bring a database built by an older release up to date.

The steps are sqlite-utils' own Migrations (sqlite-utils 4 has the sqlite-migrate package built in), so
which have run is recorded in its `_sqlite_migrations` table (migration_set, name, applied_at) and
`sqlite-utils migrate --list` can read it too. A database that `create_tables` builds has the current
schema, so `record_all_applied` marks every step as run and a fresh build needs nothing.

`migrate(path)` is run by `icc-events serve` before its workers fork, by `seed` and `import` (through
`build_database`), by `icc-events migrate`, and by create_app, where it is one SELECT when nothing
is pending. Each pending step runs in its own BEGIN IMMEDIATE transaction and the pending list is read
again inside it, so two processes starting at once never both apply a step.

Add a step at the end for each schema change; never rename or reorder one that has been released.
"""

import datetime
import json
from collections.abc import Iterator

import sqlite_utils
from marshmallow.utils import missing as no_default
from sqlite_utils import Migrations

from api.model.collections import COLLECTIONS, Collection
from api.model.rendering import stamped
from api.model.rows import SERVED_COLUMNS, column_types, from_row, row_etag, sort_column, to_row
from api.store.changes import full_row, stored_record
from api.store.db import connect, create_curation_tables, create_table
from api.store.indexes import create_read_indexes, create_timeline_indexes
from api.store.ranking import create_search_queue
from api.store.search import enable_search, fts_table, searchable_columns

MIGRATIONS = Migrations("icc-events")


@MIGRATIONS(name="curation_tables")
def curation_tables(db: sqlite_utils.Database) -> None:
    """Give a database built before curation existed its tokens, changes, feed and webhook tables."""
    create_curation_tables(db)


@MIGRATIONS(name="provenance_columns")
def provenance_columns(db: sqlite_utils.Database) -> None:
    """Give a database built before citations named their fields the basis and field_basis columns.

    Old citations carry no supports or basis, so the columns are filled as the records stand (basis
    null, field_basis empty) and each row's etag recomputed; `icc-events check` then lists their
    unsupported fields, and `icc-events seed` rebuilds from the curated files.
    """
    for collection in COLLECTIONS.values():
        table = db[collection.table]
        if "citations" not in collection.schema.fields or not table.exists():
            continue
        missing = {"basis", "field_basis"} - table.columns_dict.keys()
        if not missing:
            continue
        for column in sorted(missing):
            table.add_column(column, str)
        for row in list(table.rows):
            record = from_row(collection, row)
            stored = stored_record(collection, record, row["created_at"], row["updated_at"])
            updated = full_row(collection, stored)
            table.update(row["id"], {k: updated[k] for k in ("basis", "field_basis", "etag")})


@MIGRATIONS(name="read_indexes")
def read_indexes(db: sqlite_utils.Database) -> None:
    """Add the full-text and timeline indexes to a database built before them; current rows are indexed."""
    existing = set(db.table_names())
    for collection in COLLECTIONS.values():
        if db[collection.table].exists() and fts_table(collection) not in existing:
            enable_search(db, collection)
    create_timeline_indexes(db)


@MIGRATIONS(name="collection_columns")
def collection_columns(db: sqlite_utils.Database) -> None:
    """Add every column a collection's schema has gained (officials' aliases and wikidata_id, ...).

    Existing rows get the field's load default (aliases: [], wikidata_id: null), as a record loaded
    without the field would, and their etag is recomputed over the row as it now stands.
    """
    for collection in COLLECTIONS.values():
        table = db[collection.table]
        if not table.exists():
            continue
        types = column_types(collection)
        missing = [column for column in types if column not in table.columns_dict]
        if not missing:
            continue
        for column in missing:
            table.add_column(column, types[column])
        defaults = {column: column_default(collection, column) for column in missing}
        for row in list(table.rows):
            row.update(defaults)
            table.update(row["id"], {**defaults, "etag": row_etag(row)})


def column_default(collection: Collection, column: str):
    """The column's value for a record loaded without the field: its load default as stored, or None."""
    field = collection.schema.fields.get(column)
    if field is None or field.load_default is no_default:
        return None
    value = field.load_default() if callable(field.load_default) else field.load_default
    return to_row(collection, {column: value}).get(column)


@MIGRATIONS(name="sort_and_filter_indexes")
def sort_and_filter_indexes(db: sqlite_utils.Database) -> None:
    """Create the index per sort and per filter that create_table makes (a new filter: basis, ...)."""
    for collection in COLLECTIONS.values():
        table = db[collection.table]
        if not table.exists():
            continue
        default = sort_column(collection, collection.default_sort)
        wanted = [[sort_column(collection, name), "id"] for name in collection.sorts]
        for name in collection.filters():
            wanted.append([name, default, "id"] if default != "id" else [name, "id"])
        have = {tuple(index.columns) for index in table.indexes}
        for columns in wanted:
            if columns != ["id", "id"] and tuple(columns) not in have:
                table.create_index(columns, find_unique_name=True)
                have.add(tuple(columns))


@MIGRATIONS(name="search_columns")
def search_columns(db: sqlite_utils.Database) -> None:
    """Rebuild a full-text index whose columns differ from the collection's searchable columns now."""
    for collection in COLLECTIONS.values():
        fts = db[fts_table(collection)]
        if not db[collection.table].exists() or not fts.exists():
            continue
        if list(fts.columns_dict) != searchable_columns(collection):
            db[collection.table].disable_fts()
            enable_search(db, collection)


@MIGRATIONS(name="served_representations")
def served_representations(db: sqlite_utils.Database) -> None:
    """Store every record as it is served (api/model/rendering.py), with relative links, and its etag
    over that; each change log entry's etag is recomputed the same way from the record it logged, so
    replaying the feed still reproduces every row's etag.
    """
    for collection in COLLECTIONS.values():
        table = db[collection.table]
        if not table.exists():
            continue
        for column in SERVED_COLUMNS:
            if column not in table.columns_dict:
                table.add_column(column, str)
        update = f"UPDATE [{collection.table}] SET served_json = ?, served_csv = ?, etag = ? WHERE id = ?"
        for rows in in_batches(db, collection.table, "rowid"):
            renders = [stamped(collection, row) for row in rows]
            db.conn.executemany(
                update, [[r["served_json"], r["served_csv"], r["etag"], r["id"]] for r in renders]
            )
    if not db["changes"].exists():
        return
    for entries in in_batches(db, "changes", "seq", "seq, collection, after", "after IS NOT NULL"):
        etags = [
            [full_row(COLLECTIONS[entry["collection"]], json.loads(entry["after"]))["etag"], entry["seq"]]
            for entry in entries
            if entry["collection"] in COLLECTIONS
        ]
        db.conn.executemany("UPDATE changes SET etag = ? WHERE seq = ?", etags)


@MIGRATIONS(name="search_queue")
def search_queue(db: sqlite_utils.Database) -> None:
    """The ranking index's queue and its triggers (api/store/ranking.py); the index itself is built
    from the records on its first use, or by `icc-events serve` before its workers start."""
    create_search_queue(db)


MIGRATION_BATCH = 2000
SMALLEST_KEY = -(2**63)


def in_batches(
    db: sqlite_utils.Database, table: str, key: str, columns: str = "*", where: str = "1"
) -> Iterator[list[dict]]:
    """A table's rows in order of an integer key (rowid, seq), a batch at a time: memory stays bounded
    on a large table, and each batch is read whole before the caller writes to the table."""
    sql = (
        f"SELECT {key} AS batch_key, {columns} FROM [{table}] WHERE ({where}) AND {key} > ? "
        f"ORDER BY {key} LIMIT ?"
    )
    last = SMALLEST_KEY
    while rows := list(db.query(sql, [last, MIGRATION_BATCH])):
        last = rows[-1]["batch_key"]
        yield [{name: value for name, value in row.items() if name != "batch_key"} for row in rows]


def pending(db: sqlite_utils.Database) -> list[str]:
    """The names of the steps this database has not run, in order (read-only)."""
    return [migration.name for migration in MIGRATIONS.pending(db)]


def migrate(path: str) -> list[str]:
    """Run the database's pending steps, each in its own transaction; the names of those this run applied.

    Cheap when the database is up to date: one read, no write lock. A step another process applied
    meanwhile is seen inside the transaction and skipped.
    """
    db = connect(path)
    applied = []
    try:
        if not pending(db):
            return applied
        while True:
            db.execute("BEGIN IMMEDIATE")
            try:
                names = pending(db)
                if names:
                    MIGRATIONS.apply(db, stop_before=names[1:])
            except BaseException:
                db.conn.rollback()
                raise
            db.execute("COMMIT")
            if not names:
                return applied
            applied.append(names[0])
    finally:
        db.conn.close()


def record_all_applied(db: sqlite_utils.Database) -> None:
    """Mark every step as run: for a database that create_tables has just built with the current schema."""
    MIGRATIONS.ensure_migrations_table(db)
    at = str(datetime.datetime.now(datetime.UTC))
    db[MIGRATIONS.migrations_table].insert_all(
        {"migration_set": MIGRATIONS.name, "name": name, "applied_at": at} for name in pending(db)
    )


def create_tables(db: sqlite_utils.Database) -> None:
    """Every collection's table, with an index per sort and per filter, and the read path's indexes.

    The schema is the current one, so every migration step is recorded as applied.
    """
    for collection in COLLECTIONS.values():
        create_table(db, collection)
    create_read_indexes(db)
    create_curation_tables(db)
    record_all_applied(db)
