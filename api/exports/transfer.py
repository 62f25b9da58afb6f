"""Export a database as seed files (data/*.yaml, sources/*.txt) and import such files back."""

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import yaml

from api.exports.bulk import read_transaction
from api.model.collections import COLLECTIONS
from api.store.changes import IMPORT_ACTOR, snapshot
from api.store.db import connect
from api.store.editing import writable
from seed.loader import LOAD_ORDER, build_database


def read_records(db_path: str | os.PathLike) -> dict[str, list[dict]]:
    """Every record by collection, sorted by id, read from one consistent snapshot of the database."""
    with read_transaction(db_path) as db:
        return {
            name: [
                snapshot(COLLECTIONS[name], row)
                for row in db.query(f"SELECT * FROM [{COLLECTIONS[name].table}] ORDER BY id")
            ]
            for name in LOAD_ORDER
        }


def source_entry(record: dict) -> tuple[dict, str, str]:
    """A source as sources.yaml lists it, its text file's name, and the text."""
    fields = writable(COLLECTIONS["sources"].schema, record)
    text = fields.pop("text")
    file = f"{record['id']}.txt"
    entry = {"id": fields.pop("id"), "title": fields.pop("title"), "file": file, "sha256": record["sha256"]}
    return {**entry, **fields}, file, text


def export_seed(db_path: str | os.PathLike, out: Path) -> dict[str, int]:
    """Write the database as seed files that `import` (or the seed loader) reads back."""
    records = read_records(db_path)
    (out / "data").mkdir(parents=True)
    (out / "sources").mkdir()
    sums, sources = [], []
    for record in records["sources"]:
        entry, file, text = source_entry(record)
        # newline="": the text is written byte for byte, so its sha256 still holds.
        (out / "sources" / file).write_text(text, encoding="utf-8", newline="")
        sums.append(f"{hashlib.sha256(text.encode('utf-8')).hexdigest()}  {file}\n")
        sources.append(entry)
    (out / "sources" / "SHA256SUMS").write_text("".join(sums), encoding="utf-8")
    write_yaml(out / "data" / "sources.yaml", sources)
    for name in LOAD_ORDER[1:]:
        schema = COLLECTIONS[name].schema
        write_yaml(out / "data" / f"{name}.yaml", [writable(schema, r) for r in records[name]])
    return {name: len(records[name]) for name in LOAD_ORDER}


def write_yaml(path: Path, records: list[dict]) -> None:
    text = yaml.safe_dump(records, sort_keys=False, allow_unicode=True, width=100)
    path.write_text(text, encoding="utf-8")


EXPORT_FORMATS: dict[str, Callable[[str | os.PathLike, Path], dict[str, int]]] = {"seed": export_seed}


# Who may write and who is told of writes: not part of the data, so an import keeps them.
KEPT_ON_IMPORT = ("tokens", "webhook_subscriptions")


def import_seed(db_path: str | os.PathLike, seed_dir: Path) -> dict[str, int]:
    """Replace the database at db_path with one built from seed files; its tokens and webhooks are kept.

    The change log starts again with one 'created' entry per record (actor "(import)"); webhook
    subscribers are not sent those, and messages still waiting in the old outbox are dropped.
    """
    kept = {}
    if Path(db_path).exists():
        old = connect(str(db_path), readonly=True)
        try:
            for table in KEPT_ON_IMPORT:
                if table in old.table_names():
                    kept[table] = list(old.query(f"SELECT * FROM [{table}]"))
        finally:
            old.conn.close()
    counts = build_database(db_path, seed_dir, actor=IMPORT_ACTOR)
    if any(kept.values()):
        db = connect(str(db_path))
        try:
            for table, rows in kept.items():
                db[table].insert_all(rows)
        finally:
            db.conn.close()
    return counts
