"""What the HTML pages read: counts per collection, the latest changes, the records citing a source."""

import json
from dataclasses import dataclass

import sqlite_utils

from api.model.collections import COLLECTIONS, Collection
from api.model.spans import Span
from schemas.common import weakest_basis


@dataclass(frozen=True)
class RecordRef:
    """Enough of a record to name it and link to it."""

    collection: str
    id: str
    label: str
    updated_at: str | None = None
    # How this record's citation of a span uses it: the fields it supports, on what basis.
    supports: tuple[str, ...] = ()
    basis: str | None = None
    attributed_to: str | None = None
    reasoning: str | None = None

    @property
    def singular(self) -> str:
        return COLLECTIONS[self.collection].singular


def cited_collections() -> list[Collection]:
    return [c for c in COLLECTIONS.values() if "citations" in c.schema.fields]


def collection_counts(db: sqlite_utils.Database) -> dict[str, int]:
    return {name: db[c.table].count for name, c in COLLECTIONS.items()}


def latest_changes(db: sqlite_utils.Database, limit: int) -> list[RecordRef]:
    """The most recently updated records across every collection, newest first."""
    # Table and column names come from the registry, never from the request.
    selects = [
        f"SELECT ? AS collection, id, [{c.label_field}] AS label, updated_at FROM [{c.table}]"
        for c in COLLECTIONS.values()
    ]
    sql = " UNION ALL ".join(selects) + " ORDER BY updated_at DESC, collection, id LIMIT ?"
    rows = db.query(sql, [*COLLECTIONS, limit])
    return [RecordRef(r["collection"], r["id"], r["label"], r["updated_at"]) for r in rows]


def records_citing(db: sqlite_utils.Database, source_id: str) -> dict[Span, list[RecordRef]]:
    """Each cited span of a source, (start, end), and the records citing it, each with the fields
    its citation supports and their basis."""
    spans: dict[Span, list[RecordRef]] = {}
    for c in cited_collections():
        sql = (
            f"SELECT t.id AS id, t.[{c.label_field}] AS label, "
            "json_extract(j.value, '$.start') AS start, json_extract(j.value, '$.end') AS end, "
            "json_extract(j.value, '$.supports') AS supports, json_extract(j.value, '$.basis') AS basis, "
            "json_extract(j.value, '$.attributed_to') AS attributed_to, "
            "json_extract(j.value, '$.reasoning') AS reasoning "
            f"FROM [{c.table}] AS t, json_each(t.citations) AS j "
            "WHERE json_extract(j.value, '$.source_id') = ? ORDER BY t.id"
        )
        for row in db.query(sql, [source_id]):
            refs = spans.setdefault((row["start"], row["end"]), [])
            supports = tuple(json.loads(row["supports"])) if row["supports"] else ()
            ref = RecordRef(
                c.name,
                row["id"],
                row["label"],
                supports=supports,
                basis=row["basis"],
                attributed_to=row["attributed_to"],
                reasoning=row["reasoning"],
            )
            if ref not in refs:
                refs.append(ref)
    return dict(sorted(spans.items()))


def span_bases(citing: dict[Span, list[RecordRef]]) -> dict[Span, str]:
    """Each cited span's weakest basis among the citations of it, for the viewer to colour it by."""
    return {span: weakest_basis(ref.basis for ref in refs) or "unrecorded" for span, refs in citing.items()}
