"""The change log: every write's audit entry (who, when, before, after), read back as a feed."""

import json

import sqlite_utils

from api.model.collections import COLLECTIONS, Collection
from api.model.encoding import encode_json
from api.model.links import without_links
from api.model.provenance import field_basis, record_basis, text_sha256
from api.model.rendering import served, stamped
from api.model.rows import column_types, from_row, to_row
from api.store.webhooks import enqueue_change

ACTIONS = ("created", "updated", "deleted")
# Actors that are not tokens; token names cannot start with "(".
SEED_ACTOR = "(seed)"
IMPORT_ACTOR = "(import)"


def snapshot(collection: Collection, row: dict) -> dict:
    """A stored row as the record it is, timestamps and computed fields included, links left out."""
    return collection.schema.dump(from_row(collection, row))


def fresh_snapshot(row: dict) -> dict:
    """snapshot() of a row just stamped (api.model.rendering.stamped), read off its served JSON: that is
    the schema's dump with links added, so without them it is the dump, made once instead of twice."""
    return without_links(served(row))


def stored_record(collection: Collection, record: dict, created_at: str, updated_at: str) -> dict:
    """The record with what the server computes: timestamps, and a source's sha256 and length."""
    record = {**record, "created_at": created_at, "updated_at": updated_at}
    if "citations" in collection.schema.fields:
        record["field_basis"] = field_basis(record)
        record["basis"] = record_basis(record["field_basis"])
    if collection.name == "sources":
        record["sha256"] = text_sha256(record["text"])
        record["length"] = len(record["text"])
    return record


def full_row(collection: Collection, record: dict) -> dict:
    """Every column of the record's row, NULL where the record has no value, with the record rendered
    as served and the etag over it all (api/model/rendering.stamped)."""
    row = dict.fromkeys(column_types(collection))
    row.update(to_row(collection, record))
    return stamped(collection, row)


def log_change(
    db: sqlite_utils.Database,
    collection: Collection,
    record_id: str,
    action: str,
    actor: str,
    at: str,
    before: dict | None,
    after_row: dict | None,
) -> None:
    """Append one audit entry and its webhook messages; the caller's transaction makes them one unit.

    before is the record as it was (a snapshot), after_row the row just stamped and stored, whose etag
    it keeps.
    """
    after = fresh_snapshot(after_row) if after_row else None
    cursor = db.execute(
        "INSERT INTO changes (collection, record_id, action, at, actor, etag, before, after)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            collection.name,
            record_id,
            action,
            at,
            actor,
            after_row["etag"] if after_row else None,
            _json(before),
            _json(after),
        ],
    )
    enqueue_change(db, cursor.lastrowid, collection.name, record_id, action)


def _json(value: dict | None) -> str | None:
    return None if value is None else encode_json(value)


def list_changes(
    db: sqlite_utils.Database,
    after_seq: int,
    limit: int,
    collection: str | None = None,
    record_id: str | None = None,
) -> tuple[list[dict], bool]:
    """Up to limit changes after after_seq, oldest first, and whether more follow.

    Writers hold SQLite's one write lock from BEGIN IMMEDIATE to COMMIT, so entries become visible
    in seq order: a reader never sees seq n+1 before seq n, and a cursor never skips a change.
    """
    where, params = ["seq > ?"], [after_seq]
    if collection is not None:
        where.append("collection = ?")
        params.append(collection)
    if record_id is not None:
        where.append("record_id = ?")
        params.append(record_id)
    sql = f"SELECT * FROM changes WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?"
    rows = list(db.query(sql, [*params, limit + 1]))
    return [change_entry(row) for row in rows[:limit]], len(rows) > limit


def change_entry(row: dict) -> dict:
    return {
        "seq": row["seq"],
        "collection": row["collection"],
        "record_id": row["record_id"],
        "action": row["action"],
        "at": row["at"],
        "actor": row["actor"],
        "etag": row["etag"],
        "before": json.loads(row["before"]) if row["before"] else None,
        "after": json.loads(row["after"]) if row["after"] else None,
    }


def apply_change(db: sqlite_utils.Database, change: dict) -> None:
    """Replay one feed entry onto a mirror: the row becomes exactly the one the server stored.

    The mirror's own change log is not written, so its data_version, and a page's tag, stay put.
    """
    collection = COLLECTIONS[change["collection"]]
    table = db[collection.table]
    if change["action"] == "deleted":
        table.delete_where("id = ?", [change["record_id"]])
        return
    row = full_row(collection, change["after"])
    if row["etag"] != change["etag"]:
        raise ValueError(f"Change {change['seq']} does not reproduce its etag.")
    table.upsert(row, pk="id")


def latest_changes(db: sqlite_utils.Database, limit: int) -> list[dict]:
    """The last limit changes, newest first."""
    rows = db.query("SELECT * FROM changes ORDER BY seq DESC LIMIT ?", [limit])
    return [change_entry(row) for row in rows]


# The table where sqlite-utils records the schema steps applied (api/store/migrations.py).
MIGRATIONS_TABLE = "_sqlite_migrations"


def data_version(db: sqlite_utils.Database) -> list:
    """Where this database's records stand: its change log's identity, the log's last sequence
    number and how many schema steps have run. Three reads of a row each, whatever the size.

    Every write through icc-events (API, seed, import, synth) appends to the change log, an import
    starts a new log, and a step that re-renders records is a step: two reads that see the same
    version see the same records. A change made with raw SQL is not seen.
    """
    return list(
        db.execute(
            "SELECT (SELECT id FROM feed), (SELECT coalesce(max(seq), 0) FROM changes), "
            f"(SELECT count(*) FROM [{MIGRATIONS_TABLE}])"
        ).fetchone()
    )


def last_change(db: sqlite_utils.Database) -> tuple[int, str | None]:
    """The change log's last sequence number (0 when empty) and when it was recorded (None then)."""
    seq, at = db.execute("SELECT coalesce(max(seq), 0), max(at) FROM changes").fetchone()
    return seq, at
