"""Build the SQLite database from the seed files, validating every record on the way in.

Loading stops at the first file with a problem and names the file, the record and the field.
"""

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils
import yaml
from marshmallow import ValidationError

from api.model.clock import now_iso
from api.model.collections import COLLECTIONS, Collection
from api.model.provenance import (
    citation_problems,
    flatten_errors,
    reference_problems,
    support_problems,
    text_sha256,
)
from api.store.changes import SEED_ACTOR, _json, fresh_snapshot, full_row, log_change, stored_record
from api.store.db import connect
from api.store.migrations import create_tables
from api.store.ranking import QUEUE as SEARCH_QUEUE
from api.store.webhooks import enqueue_changes

SEED_DIR = Path(__file__).parent
# Sources first: every other record's citations are checked against their text.
LOAD_ORDER = [
    "sources",
    "organizations",
    "officials",
    "warrants",
    "sanctions",
    "events",
    "statements",
]


class SeedError(Exception):
    """A seed record that cannot be loaded: which file, which record, which field, and why."""

    def __init__(self, file: Path, record: str, problems: dict[str, str]):
        self.file, self.record, self.problems = file, record, problems
        details = "; ".join(f"{field}: {message}" for field, message in problems.items())
        super().__init__(f"{file}: record {record}: {details}")

    def __reduce__(self):  # raised in a synth worker, it is pickled back to the writing process
        return SeedError, (self.file, self.record, self.problems)


def count_summary(counts: dict[str, int]) -> str:
    """'18 organizations, 9 officials, ...': what a load wrote, for people to read."""
    return ", ".join(f"{n} {name}" for name, n in counts.items())


def read_yaml_records(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        records = yaml.safe_load(f) or []
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise SeedError(path, "(file)", {"_file": "Expected a YAML list of mappings."})
    return records


def load_sources(seed_dir: Path) -> list[dict]:
    """Source records with their text read from the file each names, checked against its sha256."""
    path = seed_dir / "data" / "sources.yaml"
    loaded = []
    for i, raw in enumerate(read_yaml_records(path)):
        raw = dict(raw)
        name = raw.get("id", f"#{i}")
        file, expected = raw.pop("file", None), raw.pop("sha256", None)
        if not file:
            raise SeedError(path, name, {"file": "Missing the file holding the source text."})
        # Bytes, not read_text: newline translation would change the text its sha256 vouches for.
        text = (seed_dir / "sources" / Path(file).name).read_bytes().decode("utf-8")
        if text_sha256(text) != expected:
            raise SeedError(path, name, {"sha256": f"Does not match {file} ({text_sha256(text)})."})
        raw["text"] = text
        loaded.append(validated("sources", raw, path, name))
    return loaded


def validated(collection_name: str, raw: dict, path: Path, name: str) -> dict:
    try:
        return COLLECTIONS[collection_name].schema.load(raw)
    except ValidationError as error:
        raise SeedError(path, name, flatten_errors(error.messages)) from None


def read_seed(seed_dir: Path = SEED_DIR) -> dict[str, list[dict]]:
    """Every seed record, validated by the API's schemas, citations and references checked."""
    records = {"sources": load_sources(seed_dir)}
    texts = {source["id"]: source["text"] for source in records["sources"]}
    for name in LOAD_ORDER[1:]:
        path = seed_dir / "data" / f"{name}.yaml"
        records[name] = []
        seen = set()
        for i, raw in enumerate(read_yaml_records(path)):
            label = str(raw.get("id", f"#{i}"))
            record = validated(name, raw, path, label)
            if record["id"] in seen:
                raise SeedError(path, label, {"id": "Duplicate id."})
            seen.add(record["id"])
            problems = citation_problems(record, texts) | support_problems(COLLECTIONS[name], record)
            if problems:
                raise SeedError(path, label, problems)
            records[name].append(record)
    ids = {name: {r["id"] for r in rs} for name, rs in records.items()}
    for name in LOAD_ORDER[1:]:
        for record in records[name]:
            problems = reference_problems(
                COLLECTIONS[name], record, lambda target, value: value in ids[target]
            )
            if problems:
                raise SeedError(seed_dir / "data" / f"{name}.yaml", record["id"], problems)
    return records


def write_records(
    db: sqlite_utils.Database, collection: Collection, records: list[dict], actor: str, stamp: str
) -> None:
    """Insert validated records as rows, each with its 'created' entry in the change log."""
    rows = [full_row(collection, stored_record(collection, record, stamp, stamp)) for record in records]
    db[collection.table].insert_all(rows)
    for row in rows:
        log_change(db, collection, row["id"], "created", actor, stamp, None, row)


@dataclass
class PreparedRecords:
    """One collection's rows and 'created' change entries, worked out and ready to insert."""

    collection: str
    columns: list[str]
    rows: list[tuple]
    # (collection, record_id, action, at, actor, etag, before, after) per row, as log_change writes them.
    changes: list[tuple]

    @property
    def ids(self) -> list[str]:
        return [change[1] for change in self.changes]


def prepared_records(collection: Collection, records: list[dict], actor: str, stamp: str) -> PreparedRecords:
    """What write_records stores for validated records, computed without a database (so in a worker)."""
    full_rows = [full_row(collection, stored_record(collection, record, stamp, stamp)) for record in records]
    columns = list(full_rows[0]) if full_rows else []
    rows = [tuple(row[c] for c in columns) for row in full_rows]
    changes = [
        (
            collection.name,
            row["id"],
            "created",
            stamp,
            actor,
            row["etag"],
            None,
            _json(fresh_snapshot(row)),
        )
        for row in full_rows
    ]
    return PreparedRecords(collection.name, columns, rows, changes)


def insert_prepared(db: sqlite_utils.Database, prepared: PreparedRecords) -> None:
    """Insert prepared rows, their change entries and webhook messages: write_records' result, in bulk."""
    if not prepared.rows:
        return
    table = COLLECTIONS[prepared.collection].table
    names = ", ".join(f"[{c}]" for c in prepared.columns)
    marks = ", ".join("?" * len(prepared.columns))
    db.conn.executemany(f"INSERT INTO [{table}] ({names}) VALUES ({marks})", prepared.rows)
    db.conn.executemany(
        "INSERT INTO changes (collection, record_id, action, at, actor, etag, before, after)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        prepared.changes,
    )
    # One writer in one transaction: AUTOINCREMENT gave the entries consecutive numbers up to this one.
    last = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'changes'").fetchone()[0]
    first = last - len(prepared.changes) + 1
    enqueue_changes(db, [(first + i, c[0], c[1], c[2]) for i, c in enumerate(prepared.changes)])


@contextmanager
def bulk_load(db: sqlite_utils.Database, collections: list[Collection]) -> Iterator[None]:
    """Inserts inside run without the tables' secondary indexes, full-text and search-queue insert
    triggers, which are made again afterwards from their own SQL, the new rows indexed (and queued)
    in one statement per table.

    The journal is kept in memory and nothing is synced until the end, so a crash part way leaves a
    database to build again; an error raised inside still leaves it whole, with what was committed.
    """
    tables = [collection.table for collection in collections] + ["changes"]
    marks = ", ".join("?" * len(tables))
    indexes = db.execute(
        "SELECT name, sql FROM sqlite_master"
        f" WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})",
        tables,
    ).fetchall()
    # sqlite-utils' insert trigger of each table's <table>_fts (enable_search): it copies new rows.
    triggers = db.execute(
        "SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'trigger' AND name = tbl_name || '_ai'"
        f" AND tbl_name || '_fts' IN (SELECT name FROM sqlite_master) AND tbl_name IN ({marks})",
        tables,
    ).fetchall()
    # The search queue's insert trigger of each table (api/store/ranking.py): it queues new rows.
    queue_triggers = db.execute(
        "SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'trigger'"
        f" AND name = tbl_name || '_search_insert' AND tbl_name IN ({marks})",
        tables,
    ).fetchall()
    last_rowids = {
        table: db.execute(f"SELECT coalesce(max(rowid), 0) FROM [{table}]").fetchone()[0]
        for table, _, _ in triggers + queue_triggers
    }
    names = {collection.table: collection.name for collection in collections}
    journal_mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    try:
        db.execute("PRAGMA journal_mode = MEMORY")
    except sqlite3.OperationalError:  # another connection has the database open: it stays in WAL
        pass
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -262144")  # 256 MB: the primary keys of a million rows stay in memory
    with db.atomic():
        for name, _ in indexes:
            db.execute(f"DROP INDEX [{name}]")
        for _, name, _ in triggers + queue_triggers:
            db.execute(f"DROP TRIGGER [{name}]")
    try:
        yield
    finally:
        with db.atomic():
            for table, _, sql in triggers:
                columns = ", ".join(f"[{row[1]}]" for row in db.execute(f"PRAGMA table_info([{table}_fts])"))
                db.execute(
                    f"INSERT INTO [{table}_fts] (rowid, {columns}) SELECT rowid, {columns} FROM [{table}]"
                    " WHERE rowid > ? ORDER BY rowid",
                    [last_rowids[table]],
                )
                db.execute(sql)
            for table, _, sql in queue_triggers:
                db.execute(
                    f"INSERT INTO {SEARCH_QUEUE} (collection, record_id)"
                    f" SELECT ?, id FROM [{table}] WHERE rowid > ? ORDER BY rowid",
                    [names[table], last_rowids[table]],
                )
                db.execute(sql)
            for _, sql in indexes:
                db.execute(sql)
        db.execute(f"PRAGMA journal_mode = {journal_mode}")
        db.execute("PRAGMA synchronous = NORMAL")


def build_database(
    path: str | os.PathLike,
    seed_dir: Path = SEED_DIR,
    actor: str = SEED_ACTOR,
    advance: Callable[[int], None] = lambda n: None,
) -> dict[str, int]:
    """Write a fresh database at path from the seed files; replace any old one atomically.

    Every record also gets a 'created' entry in the change log, so replaying the feed from its
    beginning into an empty database reproduces this one. advance(1) is called as each collection
    is written, for a progress bar.
    """
    records = read_seed(Path(seed_dir))
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    db = connect(str(tmp))
    try:
        create_tables(db)
        stamp = now_iso()
        with db.atomic():  # One transaction: one sync to disk, not one per record and audit entry.
            for name in LOAD_ORDER:
                collection = COLLECTIONS[name]
                write_records(db, collection, records[name], actor, stamp)
                advance(1)
        db.execute("PRAGMA journal_mode = WAL")
    finally:
        db.conn.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.replace(tmp, path)
    return {name: len(records[name]) for name in LOAD_ORDER}
