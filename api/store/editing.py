"""Writes to the curated records: validated, checked against their evidence, logged, one transaction each."""

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlite_utils
from marshmallow import ValidationError, fields

from api.model.clock import now_iso
from api.model.collections import COLLECTIONS, Collection
from api.model.errors import Busy, Conflict, InvalidRecord, NotFound, StaleVersion
from api.model.merge_patch import merge_patch
from api.model.provenance import citation_problems, flatten_errors, reference_problems, support_problems
from api.model.rendering import served
from api.model.rows import SERVED_COLUMNS
from api.store.changes import full_row, log_change, snapshot, stored_record
from api.store.reads import get_row

MAX_REFERRERS_SHOWN = 20


@contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """BEGIN IMMEDIATE: take the write lock first, so a read-then-write never meets a busy upgrade."""
    try:
        begin_immediate(db.conn)
    except sqlite3.OperationalError as error:
        # Another writer held the lock for the whole busy timeout: the client may simply retry.
        if is_busy(error):
            raise Busy("The database is busy with other writes; retry shortly.", retry_after=1) from None
        raise
    try:
        yield
    except BaseException:
        # After some errors (disk full, I/O) SQLite has rolled back already; a second ROLLBACK
        # would fail and hide the real error behind a 500.
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


# How often a writer waiting for the write lock tries again.
WRITE_LOCK_POLL_S = 0.001


def begin_immediate(conn: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE, trying again every millisecond for up to the connection's busy timeout.

    SQLite's own busy handler sleeps longer and longer between tries (up to 100 ms), so under many
    writers one waiter could keep missing the moments the lock was free and wait out the whole
    timeout (one write in 8,000 got its 503 in the 32-client load test). Trying every millisecond,
    a waiter takes the lock soon after it is let go.
    """
    (timeout_ms,) = conn.execute("PRAGMA busy_timeout").fetchone()
    deadline = time.monotonic() + timeout_ms / 1000
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if not is_busy(error) or time.monotonic() >= deadline:
                    raise
            time.sleep(WRITE_LOCK_POLL_S)
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout_ms)}")


def is_busy(error: sqlite3.OperationalError) -> bool:
    return "locked" in str(error) or "busy" in str(error)


def load_record(
    collection: Collection, body, created_at: str | None = None, updated_at: str | None = None
) -> dict:
    """The body loaded by the collection's schema: types, enums, formats, unknown fields; else a 422.

    Read-only fields may come back as the client read them (links, timestamps, citation urls, date
    bounds): they must equal what the server serves for this record with these timestamps.
    """
    try:
        return collection.schema.load_echoing_read_only(body, served_as(collection, created_at, updated_at))
    except ValidationError as error:
        raise InvalidRecord(flatten_errors(error.messages)) from None


def served_as(collection: Collection, created_at: str | None, updated_at: str | None):
    """A loaded record as a GET would serve it once stored with these timestamps."""

    def served_record(record: dict) -> dict:
        return served(full_row(collection, stored_record(collection, record, created_at, updated_at)))

    return served_record


def evidence_problems(db: sqlite_utils.Database, collection: Collection, record: dict) -> dict[str, str]:
    """Citations that do not match their stored source, and references to records that do not exist."""
    source_ids = sorted({c["source_id"] for c in record.get("citations") or []})
    texts = {}
    if source_ids:
        marks = ", ".join("?" * len(source_ids))
        texts = {
            r["id"]: r["text"]
            for r in db.query(f"SELECT id, text FROM sources WHERE id IN ({marks})", source_ids)
        }
    problems = citation_problems(record, texts)
    problems.update(support_problems(collection, record))
    problems.update(reference_problems(collection, record, lambda target, value: exists(db, target, value)))
    return problems


def exists(db: sqlite_utils.Database, collection_name: str, record_id: str) -> bool:
    table = COLLECTIONS[collection_name].table
    return bool(list(db.query(f"SELECT 1 FROM [{table}] WHERE id = ?", [record_id])))


def create_record(db: sqlite_utils.Database, collection: Collection, body, actor: str) -> dict:
    """Insert a new record and its audit entry; Conflict when the id is taken."""
    record = load_record(collection, body)  # validated before the write lock is taken
    with write_transaction(db):
        # Stamped under the lock, so updated_at follows commit order and ?changed_since= misses none.
        stamp = now_iso()
        row = full_row(collection, stored_record(collection, record, stamp, stamp))
        if get_row(db, collection, record["id"]) is not None:
            raise Conflict(
                f"The id {record['id']!r} is taken by another {collection.singular}; PUT or PATCH that one.",
                errors={"id": "Already taken."},
            )
        check_evidence(db, collection, record)
        insert_row(db, collection, row)
        log_change(db, collection, record["id"], "created", actor, stamp, None, row)
    return row


def replace_record(
    db: sqlite_utils.Database,
    collection: Collection,
    record_id: str,
    new_body: Callable[[dict], object],
    matches: Callable[[str], bool],
    actor: str,
) -> dict:
    """Replace a record with new_body(its current writable fields), if its ETag still matches.

    The new version is made and validated from the row as read before the write lock is taken, so
    concurrent writers wait on each other for the update only. Under the lock the row is read again:
    if another writer changed it meanwhile, the new version is made again from that writer's, as if
    this request had come after it (a PATCH merges into it; an If-Match that named the older version
    gets its 412). It is stamped and rendered under the lock, so updated_at follows commit order.
    """
    row = current_row(db, collection, record_id, matches)
    record = replacement(collection, record_id, row, new_body)
    with write_transaction(db):
        current = current_row(db, collection, record_id, matches)
        if current["etag"] != row["etag"]:
            row = current
            record = replacement(collection, record_id, row, new_body)
        new_row = full_row(collection, stored_record(collection, record, row["created_at"], now_iso()))
        check_evidence(db, collection, record)
        if same_content(row, new_row):
            return row  # Nothing changed: no new version, no audit entry.
        update_row(db, collection, new_row)
        log_change(
            db,
            collection,
            record_id,
            "updated",
            actor,
            new_row["updated_at"],
            snapshot(collection, row),
            new_row,
        )
    return new_row


def replacement(
    collection: Collection, record_id: str, row: dict, new_body: Callable[[dict], object]
) -> dict:
    """The record new_body makes of this row's writable fields, validated."""
    before = snapshot(collection, row)
    record = load_record(
        collection, new_body(writable(collection.schema, before)), before["created_at"], before["updated_at"]
    )
    if record["id"] != record_id:
        raise InvalidRecord({"id": f"An id cannot change; this record's is {record_id!r}."})
    if collection.name == "sources" and record["text"] != before["text"]:
        raise InvalidRecord(
            {"text": "A source's text cannot change: citations point into it. Add a new source."}
        )
    return record


def patch_record(
    db: sqlite_utils.Database,
    collection: Collection,
    record_id: str,
    patch: object,
    matches: Callable[[str], bool],
    actor: str,
) -> dict:
    """Apply a JSON merge patch to a record. Every member it names must be a field, even one it removes:
    a null for a field that does not exist is a mistake the client should hear about. Read-only
    fields are ignored, so that a record can be sent back as it was read."""
    if isinstance(patch, dict):
        unknown = unknown_members(collection.schema, patch)
        if unknown:
            raise InvalidRecord(unknown)
    return replace_record(
        db, collection, record_id, lambda current: merge_patch(current, patch), matches, actor
    )


def unknown_members(schema, patch: dict, prefix: str = "") -> dict[str, str]:
    """'field.path' -> why, for each member of a merge patch that names no field of schema, looking
    into the objects it merges (a list or a scalar replaces, and is validated as a whole)."""
    found = {}
    for name, value in patch.items():
        field = schema.fields.get(name)
        path = f"{prefix}{name}"
        if field is None:
            found[path] = "Unknown field."
        elif field.dump_only:
            continue  # a record as read may be sent back: its read-only fields are left as they are
        elif isinstance(field, fields.Nested) and not field.many and isinstance(value, dict):
            found.update(unknown_members(field.schema, value, f"{path}."))
    return found


def same_content(row: dict, new_row: dict) -> bool:
    """Whether two versions of a row hold the same record: all but their etag, updated_at and what is
    rendered from them (which holds updated_at) agree."""
    ignored = ("etag", "updated_at", *SERVED_COLUMNS)
    return {k: v for k, v in row.items() if k not in ignored} == {
        k: v for k, v in new_row.items() if k not in ignored
    }


def delete_record(
    db: sqlite_utils.Database,
    collection: Collection,
    record_id: str,
    matches: Callable[[str], bool],
    actor: str,
) -> None:
    """Delete a record nothing refers to, if its ETag still matches; the log keeps a tombstone."""
    with write_transaction(db):
        row = current_row(db, collection, record_id, matches)
        found = referrers(db, collection.name, record_id)
        if found:
            raise Conflict(
                f"{len(found)} record(s) still refer to this {collection.singular}; "
                "change or delete them first.",
                errors=found,
            )
        db.execute(f"DELETE FROM [{collection.table}] WHERE id = ?", [record_id])
        log_change(db, collection, record_id, "deleted", actor, now_iso(), snapshot(collection, row), None)


def current_row(
    db: sqlite_utils.Database, collection: Collection, record_id: str, matches: Callable[[str], bool]
) -> dict:
    """The stored row, read inside the write transaction: 404 when missing, 412 when the ETag is stale."""
    row = get_row(db, collection, record_id)
    if row is None:
        raise NotFound(f"No {collection.singular} with id {record_id!r}.")
    if not matches(row["etag"]):
        raise StaleVersion(
            f"If-Match does not match this {collection.singular}'s current ETag: someone changed it since "
            "you read it. GET it again, reapply your change, and retry.",
            current_etag=row["etag"],
        )
    return row


def check_evidence(db: sqlite_utils.Database, collection: Collection, record: dict) -> None:
    problems = evidence_problems(db, collection, record)
    if problems:
        raise InvalidRecord(problems)


def insert_row(db: sqlite_utils.Database, collection: Collection, row: dict) -> None:
    columns = list(row)
    db.execute(
        f"INSERT INTO [{collection.table}] ({', '.join(f'[{c}]' for c in columns)})"
        f" VALUES ({', '.join('?' * len(columns))})",
        [row[c] for c in columns],
    )


def update_row(db: sqlite_utils.Database, collection: Collection, row: dict) -> None:
    # UPDATE rather than INSERT OR REPLACE, so delete triggers (e.g. a search index) see an update.
    columns = [c for c in row if c != "id"]
    db.execute(
        f"UPDATE [{collection.table}] SET {', '.join(f'[{c}] = ?' for c in columns)} WHERE id = ?",
        [*(row[c] for c in columns), row["id"]],
    )


def writable(schema, data: dict) -> dict:
    """A dumped record without its read-only fields: what a client may send back."""
    out = {}
    for name, value in data.items():
        field = schema.fields.get(name)
        if field is None or field.dump_only:
            continue
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, fields.Nested) and value is not None:
            if isinstance(field, fields.List):
                value = [writable(inner.schema, item) for item in value]
            else:
                value = writable(inner.schema, value)
        out[name] = value
    return out


def referrers(db: sqlite_utils.Database, target: str, record_id: str) -> dict[str, str]:
    """'collection/id' -> the field that refers to target/record_id, for records that do."""
    found = {}
    for collection in COLLECTIONS.values():
        for column, key in reference_columns(collection.schema.fields, target):
            if key is None:
                condition = f"[{column}] = ?"
                params = [record_id]
            elif key == "":
                condition = f"EXISTS (SELECT 1 FROM json_each([{column}]) WHERE value = ?)"
                params = [record_id]
            else:
                condition = f"EXISTS (SELECT 1 FROM json_tree([{column}]) WHERE key = ? AND value = ?)"
                params = [key, record_id]
            sql = f"SELECT id FROM [{collection.table}] WHERE {condition} ORDER BY id LIMIT ?"
            for row in db.query(sql, [*params, MAX_REFERRERS_SHOWN]):
                found.setdefault(f"{collection.name}/{row['id']}", f"Refers to it in {column}.")
    return found


def reference_columns(schema_fields, target: str) -> Iterator[tuple[str, str | None]]:
    """(column, key) for each column that can hold an id of target: key None for a plain column,
    "" for a JSON list of ids, or the member name inside JSON objects."""
    for name, field in schema_fields.items():
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, fields.Str) and inner.metadata.get("references") == target:
            yield name, ("" if isinstance(field, fields.List) else None)
        elif isinstance(inner, fields.Nested):
            for member in nested_reference_names(inner.schema.fields, target):
                yield name, member


def nested_reference_names(schema_fields, target: str) -> Iterator[str]:
    for name, field in schema_fields.items():
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, fields.Str) and inner.metadata.get("references") == target:
            yield name
        elif isinstance(inner, fields.Nested):
            yield from nested_reference_names(inner.schema.fields, target)
