"""Shaping records: sparse fieldsets (fields=) and embedded related records (include=)."""

from dataclasses import dataclass

import sqlite_utils

from api.model.collections import COLLECTIONS, Collection
from api.model.links import link_name
from api.model.rendering import served
from api.model.rows import from_row
from api.store.reads import rows_by_ids

CITED_SOURCES = "citations"
ROLE_SUFFIXES = ("_official", "_organization")


@dataclass(frozen=True)
class Include:
    """An include= name: the reference fields it follows and whether it embeds a list."""

    fields: tuple[str, ...]
    many: bool

    def targets(self, collection: Collection) -> list[str]:
        refs = {**collection.references(), **collection.list_references(), CITED_SOURCES: "sources"}
        return sorted({refs[f] for f in self.fields})


def includes(collection: Collection) -> dict[str, Include]:
    """Includable names: each reference by its link name (speaker_official), a role shared by an
    official and an organization field by the role alone (speaker), and citations (the cited sources).
    """
    found = {link_name(f): Include((f,), False) for f in collection.references()}
    found |= {link_name(f): Include((f,), True) for f in collection.list_references()}
    for field_name in collection.references():
        name = link_name(field_name)
        role = next((name.removesuffix(s) for s in ROLE_SUFFIXES if name.endswith(s)), None)
        if role:
            previous = found.get(role, Include((), False)).fields
            found[role] = Include((*previous, field_name), False)
    if "citations" in collection.schema.fields:
        found[CITED_SOURCES] = Include(("citations",), True)
    return found


def sparse(record: dict, wanted: list[str] | None) -> dict:
    """Only the wanted fields, in the schema's order; id always stays."""
    if not wanted:
        return record
    keep = {"id", *wanted}
    return {k: v for k, v in record.items() if k in keep}


def referenced(collection: Collection, include: Include, record: dict) -> list[tuple[str, str]]:
    """(collection, id) of every record an include follows from this record, without repeats."""
    refs = {**collection.references(), **collection.list_references()}
    pairs = []
    for field_name in include.fields:
        value = record.get(field_name)
        if field_name == CITED_SOURCES:
            pairs.extend(("sources", c["source_id"]) for c in value or [])
        elif isinstance(value, list):
            pairs.extend((refs[field_name], v) for v in value)
        elif value:
            pairs.append((refs[field_name], value))
    return list(dict.fromkeys(pairs))


def related_rows(
    db: sqlite_utils.Database, collection: Collection, rows: list[dict], names: list[str]
) -> dict[tuple[str, str], dict]:
    """The stored rows of every record the includes follow from these rows, one query per collection."""
    wanted: dict[str, set[str]] = {}
    for record in (from_row(collection, row) for row in rows if names):
        for name in names:
            for target, record_id in referenced(collection, includes(collection)[name], record):
                wanted.setdefault(target, set()).add(record_id)
    rows = {}
    for target, ids in wanted.items():
        for row in rows_by_ids(db, COLLECTIONS[target], ids):
            rows[(target, row["id"])] = row
    return rows


def embed(collection: Collection, record: dict, names: list[str], rows: dict) -> dict:
    """The record with record['included'][name]: related records dumped as the API serves them."""
    included = {}
    for name in names:
        include = includes(collection)[name]
        pairs = [p for p in referenced(collection, include, record) if p in rows]
        dumped = [served(rows[(target, i)]) for target, i in pairs]
        included[name] = dumped if include.many else (dumped[0] if dumped else None)
    return {**record, "included": included}
