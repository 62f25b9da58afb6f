"""Full-text search: an FTS5 index per collection, kept in step by triggers, queried with escaped input."""

import re
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import sqlite_utils
from marshmallow import fields
from marshmallow.validate import OneOf

from api.model.collections import Collection

# A token ending in * (after at least one other character) is a prefix query; everything else is literal.
PREFIX_TOKEN = re.compile(r"^(.*[^*])\*+$", re.DOTALL)
SNIPPET_TOKENS = 16
MARK_OPEN, MARK_CLOSE, ELLIPSIS = "<mark>", "</mark>", "…"


def searchable_columns(collection: Collection) -> list[str]:
    """Free-text columns: strings that are not ids, enums or references, and lists of such strings."""
    columns = []
    for name, f in collection.schema.fields.items():
        inner = f.inner if isinstance(f, fields.List) else f
        if not isinstance(inner, fields.Str) or f.dump_only or name in ("id", "url"):
            continue
        if "references" in inner.metadata or "references" in f.metadata:
            continue
        if any(isinstance(v, OneOf) for v in inner.validators):
            continue
        columns.append(name)
    return columns


def fts_table(collection: Collection) -> str:
    return f"{collection.table}_fts"


def enable_search(db: sqlite_utils.Database, collection: Collection) -> None:
    """The collection's FTS5 index, with triggers so every later write through SQL stays searchable."""
    db[collection.table].enable_fts(
        searchable_columns(collection), fts_version="FTS5", create_triggers=True, tokenize="porter"
    )


def match_expression(q: str) -> str:
    """Any user string as a safe FTS5 query: every whitespace-separated token quoted, all required.

    FTS5 operators (AND, NEAR, quotes, parentheses, column filters) lose their meaning; a trailing *
    on a token still asks for a prefix match.
    """
    terms = []
    # FTS5 reads the query as a C string: a NUL would end it mid-quote.
    for token in q.replace("\x00", " ").split():
        prefix = PREFIX_TOKEN.match(token)
        word = prefix.group(1) if prefix else token
        quoted = '"' + word.replace('"', '""') + '"'
        terms.append(quoted + "*" if prefix else quoted)
    return " ".join(terms)


# From this many matches on, a list reads its sort index and keeps the rows that match, which fills
# a page within a few thousand rows; below it, fetching every match by rowid and sorting them is
# cheaper. At 1M statements a word in 290,000 of them took 1.3 s the second way, 0.07 s the first.
MANY_MATCHES = 5000
# Walking the sort index, the first PROBED_ROWS rows are each looked up in the index (30-50 us each at
# 1M), which fills a page of a word in a tenth or more of the rows; past them the rowids of every
# match are read once (0.17 us a match: 50 ms for a word in 290,000 statements, 130 ms for one in
# all 774,000) and each further row is checked against them. A word whose matches all sort last
# costs PROBED_ROWS lookups more than reading its matches at once.
PROBED_ROWS = 500


def search_condition(collection: Collection, many_matches: bool = False) -> str:
    """A WHERE clause (one ? for the match expression; with many_matches, three: a probe counter's
    key and the expression twice) keeping the rows that match.

    With many_matches, SQLite is kept from driving the query from the list of matching rowids (the
    unary +, the CASE), so it walks the index that serves the ORDER BY (or a filter) and checks each
    row: one index lookup a row while the statement's probe_rows(key) allows, then against every
    matching rowid, read once.
    """
    fts = fts_table(collection)
    if not many_matches:
        return f"rowid IN (SELECT rowid FROM [{fts}] WHERE [{fts}] MATCH ?)"
    row = f"[{collection.table}].rowid"
    return (
        f"CASE WHEN probe_rows(?) "
        f"THEN EXISTS (SELECT 1 FROM [{fts}] WHERE [{fts}] MATCH ? AND [{fts}].rowid = {row}) "
        f"ELSE +{row} IN (SELECT rowid FROM [{fts}] WHERE [{fts}] MATCH ?) END"
    )


def search_parameters(q: str, many_matches: bool = False) -> list:
    """The parameters of search_condition for q."""
    expression = match_expression(q)
    return [secrets.token_hex(8), expression, expression] if many_matches else [expression]


class ProbeBudget:
    """probe_rows(key): true for the first PROBED_ROWS rows a statement (its key) checks, then false."""

    def __init__(self):
        self.key, self.count = None, 0

    def __call__(self, key: str) -> bool:
        if key != self.key:
            self.key, self.count = key, 0
        self.count += 1
        return self.count <= PROBED_ROWS


def register_search_functions(conn: sqlite3.Connection) -> None:
    # Not deterministic: SQLite must call it for each row, not once per statement.
    conn.create_function("probe_rows", 1, ProbeBudget(), deterministic=False)


def has_many_matches(db: sqlite_utils.Database, collection: Collection, q: str) -> bool:
    """Whether q matches at least MANY_MATCHES records (reads at most that many rowids of the index)."""
    fts = fts_table(collection)
    sql = f"SELECT count(*) FROM (SELECT rowid FROM [{fts}] WHERE [{fts}] MATCH ? LIMIT ?)"
    return db.execute(sql, [match_expression(q), MANY_MATCHES]).fetchone()[0] >= MANY_MATCHES


@contextmanager
def one_snapshot(db: sqlite_utils.Database) -> Iterator[None]:
    """One read transaction (unless one is open), so labels and snippets come from the records the
    ranking read, even if a write lands between the statements."""
    if db.conn.in_transaction:
        yield
        return
    db.execute("BEGIN")
    try:
        yield
    finally:
        db.conn.rollback()
