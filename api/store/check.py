"""Verify a database: SQLite's own integrity check, every citation against its source, every reference,
every row's etag, and full-text indexes in step with their tables."""

import sqlite3
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import sqlite_utils

from api.model.collections import COLLECTIONS
from api.model.provenance import (
    citation_problems,
    field_basis,
    has_value,
    reference_problems,
    support_problems,
    text_sha256,
)
from api.model.rendering import stamped
from api.model.rows import SERVED_COLUMNS, column_types, from_row, row_etag


@dataclass(frozen=True)
class Finding:
    """One problem: which check found it, where (table or collection/id), and what is wrong."""

    check: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.where}: {self.message}"


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    records: int = 0
    citations: int = 0
    fts_tables: int = 0
    # collection -> {"values": factual fields holding a value, "supported": those cited, and a
    # count per basis}: how much of each collection rests on what.
    coverage: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(self, check: str, where: str, message: str) -> None:
        self.findings.append(Finding(check, where, message))

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "records": self.records,
            "citations": self.citations,
            "fts_tables": self.fts_tables,
            "coverage": self.coverage,
            "findings": [asdict(finding) for finding in self.findings],
        }


def record_count(db: sqlite_utils.Database) -> int:
    """How many rows check_database will read, for a progress bar; 0 when the file cannot say."""
    try:
        return sum(db[c.table].count for c in COLLECTIONS.values() if db[c.table].exists())
    except sqlite3.DatabaseError:
        return 0


def check_database(db: sqlite_utils.Database, advance: Callable[[int], None] = lambda n: None) -> Report:
    """Every check, on every row; advance(n) is called as rows are read."""
    report = Report()
    try:
        check_integrity(db, report)
        present = check_tables(db, report)
        rows = {name: list(db[COLLECTIONS[name].table].rows) for name in present}
    except sqlite3.DatabaseError as error:
        report.add("integrity", "database", str(error))
        return report
    ids = {name: {row["id"] for row in table_rows} for name, table_rows in rows.items()}
    texts = {row["id"]: row["text"] for row in rows.get("sources", [])}
    for name, table_rows in rows.items():
        for row in table_rows:
            check_row(name, row, texts, ids, report)
        advance(len(table_rows))
    check_fts(db, present, report)
    return report


def check_integrity(db: sqlite_utils.Database, report: Report) -> None:
    for (message,) in db.execute("PRAGMA integrity_check").fetchall():
        if message != "ok":
            report.add("integrity", "database", message)


def check_tables(db: sqlite_utils.Database, report: Report) -> list[str]:
    """The collections whose table exists with every column; the others are findings."""
    present = []
    for name, collection in COLLECTIONS.items():
        table = db[collection.table]
        if not table.exists():
            report.add("schema", name, "The table is missing.")
            continue
        missing = column_types(collection).keys() - table.columns_dict.keys()
        if missing:
            report.add("schema", name, f"Missing columns: {', '.join(sorted(missing))}.")
            continue
        present.append(name)
    return present


def check_row(name: str, row: dict, texts: dict, ids: dict, report: Report) -> None:
    collection, where = COLLECTIONS[name], f"{name}/{row['id']}"
    report.records += 1
    if row["etag"] != row_etag(row):
        report.add("etag", where, "The stored etag is not the digest of the row.")
    try:
        rendered = stamped(collection, row)
    except ValueError:  # a JSON column that does not parse: reported as unreadable below
        rendered = row
    if any(row[column] != rendered[column] for column in SERVED_COLUMNS):
        report.add("served", where, "The stored JSON or CSV is not the record its columns render to.")
    if name == "sources":
        if row["sha256"] != text_sha256(row["text"]):
            report.add("source", where, "sha256 does not match the text.")
        if row["length"] != len(row["text"]):
            report.add("source", where, f"length is {row['length']}, the text has {len(row['text'])}.")
        return
    try:
        record = from_row(collection, row)
    except ValueError as error:  # a JSON column that does not parse
        report.add("row", where, f"Cannot be read: {error}.")
        return
    report.citations += len(record.get("citations") or [])
    for path, message in citation_problems(record, texts).items():
        report.add("citation", where, f"{path}: {message}")
    for path, message in support_problems(collection, record).items():
        report.add("support", where, f"{path}: {message}")
    count_coverage(collection, record, report.coverage.setdefault(name, coverage_counts()))

    def exists(target: str, value: str) -> bool:
        return value in ids.get(target, ())

    for path, message in reference_problems(collection, record, exists).items():
        report.add("reference", where, f"{path}: {message}")


def coverage_counts() -> dict[str, int]:
    return {"records": 0, "values": 0, "supported": 0, "stated": 0, "attributed": 0, "inferred": 0}


def count_coverage(collection, record: dict, counts: dict[str, int]) -> None:
    """Add a record's factual values, the supported ones, and their bases to counts."""
    bases = field_basis(record)
    counts["records"] += 1
    for name in collection.factual_fields():
        if has_value(record.get(name)):
            counts["values"] += 1
            if name in bases:
                counts["supported"] += 1
                counts[bases[name]] += 1


def coverage_lines(coverage: dict[str, dict[str, int]]) -> list[str]:
    """One line per collection: '  warrants: 38/38 values cited (30 stated, 1 attributed, 7 inferred)'."""
    return [
        f"  {name}: {c['supported']}/{c['values']} values cited "
        f"({c['stated']} stated, {c['attributed']} attributed, {c['inferred']} inferred)"
        for name, c in coverage.items()
    ]


def check_fts(db: sqlite_utils.Database, present: list[str], report: Report) -> None:
    """Each full-text index (sqlite-utils' <table>_fts) matches the rows of its table."""
    for name in present:
        fts = db[COLLECTIONS[name].table].detect_fts()
        if not fts:
            continue
        report.fts_tables += 1
        try:
            # rank=1 makes FTS5 compare the index with its external content table, row by row.
            db.execute(f"INSERT INTO [{fts}]([{fts}], rank) VALUES ('integrity-check', 1)")
        except sqlite3.DatabaseError as error:
            report.add("fts", fts, f"The full-text index is out of step with {name}: {error}.")
