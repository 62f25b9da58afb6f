"""Ranked search: a Tantivy index beside the database file, kept in step with it through a queue.

SQLite's FTS5 scores every match of a query before it can rank them (bm25 about 1.1 us a match: a
second for a word in all 774,000 statements of a 1M-record database), so `GET /v1/search` ranks here
instead: Tantivy's BM25 with block-max WAND skips the postings that cannot reach the top hits. On the
benchmark's synthetic statements that word scores the same in half of them, so nothing can be
skipped, and it is in every label, so scoring the labels visits every record: 6-8 ms in Rust, most
of it the labels, for a share of each rank under 6e-6. A one-word q ranks the records by the other
fields first, and those with the word only in such a field after them (best_hits). FTS5 still
answers `q=` on lists, which is ordered by the list's sort, and makes the snippets of the hits shown.

Kept in step: triggers on every collection's table append the (collection, id) of each insert, delete
and change of a searchable column to search_queue, in the writer's transaction, whatever wrote it
(the API, the seed, an import, a migration, plain SQL). Before it searches, a reader applies the
queue past the index's mark, under a file lock, within its own read transaction: a search sees every
write its snapshot sees. A missing index, or one made for another database (the file was rebuilt
or replaced), is built again from the records.

One index per collection, as FTS5 has one table per collection: the BM25 statistics of each are its
own, and searching some collections only (`collections=`) keeps the pruning (a filter on one shared
index would make Tantivy score every match). The indexes live in `<database>.search/<generation>/
<collection>/`, with a state file naming the generation, the change log it follows (the feed id) and
the last queue entry applied.
"""

import fcntl
import json
import math
import os
import re
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils
import tantivy
from marshmallow import fields

from api.model.collections import COLLECTIONS, Collection, per_collection
from api.store.db import feed_id
from api.store.paging import decode_cursor, encode_cursor, invalid_cursor
from api.store.search import (
    ELLIPSIS,
    MARK_CLOSE,
    MARK_OPEN,
    PREFIX_TOKEN,
    SNIPPET_TOKENS,
    fts_table,
    match_expression,
    one_snapshot,
    searchable_columns,
)

QUEUE = "search_queue"
# Bump when the index's schema or analysis changes: an index of another format is built again.
INDEX_FORMAT = 2
# Each record is indexed as three fields, weighted as FTS5's bm25 weighed its columns: its label
# (title or name) most, its notes least, the rest between.
LABEL, NOTES, TEXT = "label", "notes", "text"
FIELD_BOOSTS = ((LABEL, 4.0), (TEXT, 1.0), (NOTES, 0.5))
KEY = "id"
# One term in every document, so that its doc_freq is the count of documents BM25 reckons with:
# Tantivy's statistics count deleted documents until a merge drops them; searcher.num_docs does not.
EVERY, EVERY_TERM = "every", "doc"
ANALYZER = "icc_english"
# Writer memory: a rebuild indexes a million records in one pass; a catch-up a few at a time.
REBUILD_HEAP, CATCH_UP_HEAP = 100_000_000, 20_000_000
READ_BATCH = 2000
# A backlog this long (a bulk load) is cheaper to index again whole than record by record.
REBUILD_BACKLOG = 50_000


def analyzer() -> tantivy.TextAnalyzer:
    """Words as FTS5's porter tokenizer sees them: split on what is not a letter or digit, lowercased,
    accents folded, English-stemmed."""
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stemmer("english"))
        .build()
    )


ANALYSIS = analyzer()


def index_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field(KEY, stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field(EVERY, tokenizer_name="raw", index_option="basic")
    for name, _ in FIELD_BOOSTS:
        builder.add_text_field(name, tokenizer_name=ANALYZER, index_option="position")
    return builder.build()


SCHEMA = index_schema()


# The queue ------------------------------------------------------------------------------------------


def create_search_queue(db: sqlite_utils.Database) -> None:
    """The queue and, on every collection's table, the triggers that fill it."""
    db.execute(
        f"CREATE TABLE IF NOT EXISTS {QUEUE} "
        "(seq INTEGER PRIMARY KEY AUTOINCREMENT, collection TEXT NOT NULL, record_id TEXT NOT NULL)"
    )
    for collection in COLLECTIONS.values():
        table = collection.table
        if not db[table].exists():
            continue
        watched = ", ".join(f"[{c}]" for c in ["id", *searchable_columns(collection)])
        name = collection.name
        for event, when, row in (
            ("insert", "AFTER INSERT", "new"),
            ("delete", "AFTER DELETE", "old"),
            ("update", f"AFTER UPDATE OF {watched}", "old"),
            ("update_new", f"AFTER UPDATE OF {watched}", "new"),
        ):
            db.execute(
                f"CREATE TRIGGER IF NOT EXISTS [{table}_search_{event}] {when} ON [{table}] BEGIN "
                f"INSERT INTO {QUEUE} (collection, record_id) VALUES ('{name}', {row}.id); END"
            )


def queue_mark(db: sqlite_utils.Database) -> int:
    """The last queue entry, 0 for none (read in the caller's transaction)."""
    return db.execute(f"SELECT coalesce(max(seq), 0) FROM {QUEUE}").fetchone()[0]


def database_file(db: sqlite_utils.Database) -> str:
    """The main database's file, "" for one in memory."""
    for _, name, file in db.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return file or ""
    return ""


# Documents ------------------------------------------------------------------------------------------


@per_collection
def document_fields(collection: Collection) -> tuple[tuple[str, bool, str], ...]:
    """(column, holds a JSON list, index field) for each searchable column, worked out once."""
    return tuple(
        (
            column,
            isinstance(collection.schema.fields[column], fields.List),
            LABEL if column == collection.label_field else NOTES if column == "notes" else TEXT,
        )
        for column in searchable_columns(collection)
    )


def document(collection: Collection, row: dict) -> tantivy.Document:
    """A record's searchable text as the index's three fields."""
    doc = tantivy.Document()
    doc.add_text(KEY, row["id"])
    doc.add_text(EVERY, EVERY_TERM)
    rest = []
    for column, is_list, field in document_fields(collection):
        value = row.get(column)
        if value is None:
            continue
        if is_list:
            value = "\n".join(json.loads(value))
        if field == TEXT:
            rest.append(value)
        else:
            doc.add_text(field, value)
    doc.add_text(TEXT, "\n".join(rest))
    return doc


def records(
    db: sqlite_utils.Database, collection: Collection, ids: list[str] | None = None
) -> Iterator[dict]:
    """The searchable columns of a collection's records: all of them, or those with these ids."""
    columns = ", ".join(f"[{c}]" for c in ["id", *searchable_columns(collection)])
    table = collection.table
    if ids is None:
        yield from db.query(f"SELECT {columns} FROM [{table}]")
        return
    for start in range(0, len(ids), READ_BATCH):
        batch = ids[start : start + READ_BATCH]
        marks = ", ".join("?" * len(batch))
        yield from db.query(f"SELECT {columns} FROM [{table}] WHERE id IN ({marks})", batch)


# The index on disk ----------------------------------------------------------------------------------


class Engine:
    """One database's index, as this process has it open."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.generation: str | None = None
        self.indexes: dict[str, tantivy.Index] = {}
        self.mark = -1

    @property
    def state_file(self) -> Path:
        return self.folder / "state.json"

    def read_state(self) -> dict | None:
        try:
            state = json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return None
        return state if isinstance(state, dict) and state.get("format") == INDEX_FORMAT else None

    def write_state(self, state: dict) -> None:
        partial = self.folder / f"state.{uuid.uuid4().hex}.tmp"
        partial.write_text(json.dumps({**state, "format": INDEX_FORMAT}))
        os.replace(partial, self.state_file)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One process (and thread) at a time writes the index."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def open(self, generation: str, name: str) -> tantivy.Index:
        folder = self.folder / generation / name
        folder.mkdir(parents=True, exist_ok=True)
        index = tantivy.Index(SCHEMA, path=str(folder))
        index.register_tokenizer(ANALYZER, ANALYSIS)
        return index

    def searchers(self, state: dict, names: list[str]) -> dict[str, tantivy.Searcher]:
        """Searchers over these collections' indexes as the state names them, reopened or reloaded
        when they moved on."""
        if state["generation"] != self.generation:
            self.indexes, self.generation, self.mark = {}, state["generation"], state["seq"]
        if state["seq"] != self.mark:
            for index in self.indexes.values():
                index.reload()
            self.mark = state["seq"]
        for name in names:
            if name not in self.indexes:
                self.indexes[name] = self.open(state["generation"], name)
        return {name: self.indexes[name].searcher() for name in names}

    def rebuild(self, db: sqlite_utils.Database, mark: int) -> dict:
        """Index every record (as the caller's transaction sees them) in a new generation."""
        generation = f"g-{uuid.uuid4().hex}"
        for collection in COLLECTIONS.values():
            writer = self.open(generation, collection.name).writer(REBUILD_HEAP)
            if db[collection.table].exists():
                for row in records(db, collection):
                    writer.add_document(document(collection, row))
            writer.commit()
            writer.wait_merging_threads()
        previous = self.read_state()
        state = {"generation": generation, "feed": feed_id(db), "seq": mark}
        self.write_state(state)
        if previous and previous["generation"] != generation:
            # Open readers keep the files they have mapped; they reopen on their next search.
            shutil.rmtree(self.folder / previous["generation"], ignore_errors=True)
        return state

    def apply(self, db: sqlite_utils.Database, state: dict, mark: int) -> dict:
        """Re-index the records queued after the state's mark, up to this one."""
        queued = db.execute(
            f"SELECT DISTINCT collection, record_id FROM {QUEUE} WHERE seq > ? AND seq <= ?",
            [state["seq"], mark],
        ).fetchall()
        by_collection: dict[str, list[str]] = {}
        for name, record_id in queued:
            by_collection.setdefault(name, []).append(record_id)
        for name, ids in by_collection.items():
            if name not in COLLECTIONS:
                continue
            writer = self.open(state["generation"], name).writer(CATCH_UP_HEAP, 1)
            for record_id in ids:
                writer.delete_documents_by_term(KEY, record_id)
            for row in records(db, COLLECTIONS[name], ids):
                writer.add_document(document(COLLECTIONS[name], row))
            writer.commit()
            writer.wait_merging_threads()
        state = {**state, "seq": mark}
        self.write_state(state)
        return state

    def current(self, db: sqlite_utils.Database) -> dict:
        """The state of an index holding every write the caller's transaction sees."""
        mark, feed = queue_mark(db), feed_id(db)
        state = self.read_state()
        if fresh(state, feed, mark):
            return state
        with self.locked():
            state = self.read_state()
            if fresh(state, feed, mark):
                return state
            if state is None or state["feed"] != feed or mark - state["seq"] > REBUILD_BACKLOG:
                return self.rebuild(db, mark)
            return self.apply(db, state, mark)


def fresh(state: dict | None, feed: str, mark: int) -> bool:
    """Whether an index in this state holds every queued write up to mark of this database's log.

    An index past the mark (written by a newer snapshot) is fresh enough: the extra writes it holds
    are those of records this snapshot cannot label, which the caller leaves out.
    """
    return state is not None and state["feed"] == feed and state["seq"] >= mark


ENGINES: dict[str, Engine] = {}
ENGINES_LOCK = threading.Lock()


def index_folder(database: str) -> Path:
    """Where the search index of the database at this path lives: beside it."""
    return Path(f"{database}.search")


def engine(db: sqlite_utils.Database) -> Engine:
    """This process's engine for the database's file (in memory, one under a temporary folder)."""
    file = database_file(db)
    if not file:
        file = f"{tempfile.gettempdir()}/icc-events-{os.getpid()}-{id(db.conn)}"
    folder = str(index_folder(file))
    with ENGINES_LOCK:
        if folder not in ENGINES:
            ENGINES[folder] = Engine(Path(folder))
        return ENGINES[folder]


def ensure_index(db: sqlite_utils.Database, trim: bool = True) -> None:
    """Bring the database's index up to date (built whole if missing): for `serve` and `synth`, so the
    first search after a bulk load does not wait for it. With trim, the entries it holds are dropped
    from the queue (a writable connection only)."""
    with one_snapshot(db):
        engine(db).current(db)
    if trim:
        trim_queue(db)


def trim_queue(db: sqlite_utils.Database) -> None:
    """Forget the queue entries the index holds (a writable connection only; nothing else reads them)."""
    state = engine(db).read_state()
    if state is not None and state["feed"] == feed_id(db):
        with db.conn:
            db.execute(f"DELETE FROM {QUEUE} WHERE seq <= ?", [state["seq"]])


# Queries --------------------------------------------------------------------------------------------


def field_term(field: str, word: str, boost: float) -> tantivy.Query:
    """One analysed word in one field, weighted as the field is."""
    term = tantivy.Query.term_query(SCHEMA, field, word, index_option="freq")
    return tantivy.Query.boost_query(term, boost)


def any_field(word: str, fields: list[tuple[str, float]]) -> tantivy.Query:
    """One analysed word in any of these (field, boost) pairs, the score of each field added."""
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, field_term(f, word, b)) for f, b in fields])


def single_word(q: str) -> str | None:
    """The analysed word of a q that is one word (no phrase, no prefix), else None."""
    tokens = q.replace("\x00", " ").split()
    if len(tokens) != 1 or PREFIX_TOKEN.match(tokens[0]):
        return None
    words = ANALYSIS.analyze(tokens[0])
    return words[0] if len(words) == 1 else None


def word_query(token: str) -> tantivy.Query | None:
    """One whitespace-separated token of q, matched in any field: a word, a phrase when it holds more
    than one word (as FTS5 reads a quoted token), a prefix when it ends in *. None if it has no word."""
    prefix = PREFIX_TOKEN.match(token)
    words = ANALYSIS.analyze(prefix.group(1) if prefix else token)
    if not words:
        return None
    clauses = []
    for field, boost in FIELD_BOOSTS:
        if prefix:
            # The last word is a prefix; a prefix counts as a match, whatever its frequency.
            parts = [tantivy.Query.term_query(SCHEMA, field, w, index_option="freq") for w in words[:-1]]
            parts.append(tantivy.Query.regex_query(SCHEMA, field, re.escape(words[-1]) + ".*"))
            query = tantivy.Query.boolean_query([(tantivy.Occur.Must, p) for p in parts])
        elif len(words) == 1:
            clauses.append((tantivy.Occur.Should, field_term(field, words[0], boost)))
            continue
        else:
            query = tantivy.Query.phrase_query(SCHEMA, field, words)
        clauses.append((tantivy.Occur.Should, tantivy.Query.boost_query(query, boost)))
    return tantivy.Query.boolean_query(clauses)


def parse(q: str) -> tantivy.Query | None:
    """q as the index's query: every token required, as api.store.search.match_expression reads it
    for FTS5. A token with no word in it is left out, as FTS5 leaves out an empty phrase; None when
    no token has one (FTS5 matches nothing then)."""
    words = [w for w in map(word_query, q.replace("\x00", " ").split()) if w is not None]
    if not words:
        return None
    if len(words) == 1:
        return words[0]
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, w) for w in words])


# Tantivy's BM25 k1.
BM25_K1 = 1.2
# Fields whose scores together can never reach this add nothing a reader could see to a rank.
NEGLIGIBLE_SCORE = 1e-3


def idf(n: int, total: int) -> float:
    """Tantivy's BM25 idf of a term in n of total documents."""
    return math.log(1 + (total - n + 0.5) / (n + 0.5))


def common_fields(
    searcher: tantivy.Searcher, word: str
) -> tuple[list[tuple[str, float]], list[tuple[str, float]]] | None:
    """The fields where the word can score no more than NEGLIGIBLE_SCORE in all, and the other
    fields it is in; None unless there are both.

    A word's BM25 in a field is at most boost * idf * (k1 + 1), whatever its frequency and the
    field's length; idf is about (N - n) / n for a word in n of N documents, so only a word in
    (nearly) every document stays under the bound. Such a field (on the benchmark's synthetic
    statements, "the" in every one of 774,010 labels) cannot tell records apart, yet scoring it
    means visiting every record: block-max WAND cannot skip a posting list that the ties of the
    other fields keep at the threshold. N and n are counted as Tantivy's BM25 counts them, deleted
    documents included until a merge drops them (EVERY).
    """
    total = searcher.doc_freq(EVERY, EVERY_TERM)
    if not total:
        return None
    # The largest score the word can have in each field it is in, smallest first.
    bounds = sorted(
        (boost * idf(n, total) * (BM25_K1 + 1), field, boost)
        for field, boost in FIELD_BOOSTS
        if (n := searcher.doc_freq(field, word))
    )
    common, other, share = [], [], 0.0
    for bound, field, boost in bounds:
        if share + bound < NEGLIGIBLE_SCORE:
            share += bound
            common.append((field, boost))
        else:
            other.append((field, boost))
    return (common, other) if common and other else None


def best_hits(
    searcher: tantivy.Searcher, query: tantivy.Query, word: str | None, count: int
) -> list[tuple[float, tantivy.DocAddress]]:
    """One collection's best count hits, (score, address), best first.

    A one-word q that can score next to nothing in some fields (common_fields) is asked in two steps,
    as Elasticsearch's common terms query did with cutoff_frequency: the records that have it in
    another field, ranked by their BM25 there, leaving out the common fields' share (under
    NEGLIGIBLE_SCORE); then, if more are wanted, the records that have it only in the common fields,
    by their BM25 in them (followed_by)."""
    fields = common_fields(searcher, word) if word is not None else None
    if fields is None:
        return searcher.search(query, count, count=False).hits
    common, other = fields
    hits = searcher.search(any_field(word, other), count, count=False).hits
    if len(hits) == count:
        return hits
    only_common = tantivy.Query.boolean_query(
        [(tantivy.Occur.Must, any_field(word, common))]
        + [(tantivy.Occur.MustNot, field_term(field, word, boost)) for field, boost in other]
    )
    return followed_by(hits, searcher.search(only_common, count - len(hits), count=False).hits)


def followed_by(
    first: list[tuple[float, object]], rest: list[tuple[float, object]]
) -> list[tuple[float, object]]:
    """The hits of the first step, then those of the second, each scoring at most the last of the
    first: the ranking stays best first, and a second-step hit that ties the first's last keeps its
    place among its own."""
    floor = first[-1][0] if first else math.inf
    return first + [(min(score, floor), address) for score, address in rest]


def ranked_keys(
    db: sqlite_utils.Database, q: str, names: list[str], limit: int, offset: int
) -> list[tuple[str, str, float]]:
    """(collection, id, rank) of the best hits from offset on, in the caller's read transaction; the
    rank is the BM25 score negated, so that lower is better as in FTS5. Each collection's best
    offset + limit hits are merged by score; equal scores in COLLECTIONS' order, then in each
    collection's ranking."""
    query = parse(q)
    if query is None:
        return []
    word = single_word(q)
    current = engine(db)
    searchers = current.searchers(current.current(db), [name for name in COLLECTIONS if name in names])
    merged = []
    for order, (name, searcher) in enumerate(searchers.items()):
        hits = best_hits(searcher, query, word, offset + limit)
        merged.extend(
            (-score, order, position, name, address) for position, (score, address) in enumerate(hits)
        )
    merged.sort(key=lambda hit: hit[:3])
    return [
        (name, searchers[name].doc(address)[KEY][0], rank)
        for rank, _, _, name, address in merged[offset : offset + limit]
    ]


# Pages of hits ----------------------------------------------------------------------------------


# Hits in rank order (api/store/ranking.py); equal ranks in the index's order.
SEARCH_CURSOR = "search"
# How deep a cursor may page: each page ranks the hits before it again (a heap of offset + limit).
MAX_SEARCH_OFFSET = 100_000


def search_all(
    db: sqlite_utils.Database, q: str, names: list[str], limit: int, offset: int = 0
) -> list[dict]:
    """The best hits across collections by BM25 from offset on, each with its collection, label and
    a snippet."""
    with one_snapshot(db):
        return labelled_hits(db, q, ranked_keys(db, q, names, limit, offset))


def labelled_hits(db: sqlite_utils.Database, q: str, ranked: list[tuple[str, str, float]]) -> list[dict]:
    """Ranked hits with their records' labels and snippets: made for the hits shown only. A hit whose
    record this snapshot does not have (written after it began) is left out."""
    expression = match_expression(q)
    hits = []
    for name, record_id, rank in ranked:
        label_and_snippet = labelled(db, expression, COLLECTIONS[name], record_id)
        if label_and_snippet is not None:
            label, snippet = label_and_snippet
            hit = {"collection": name, "id": record_id, "label": label, "snippet": snippet, "rank": rank}
            hits.append(hit)
    return hits


def labelled(
    db: sqlite_utils.Database, expression: str, collection: Collection, record_id: str
) -> tuple[str, str] | None:
    """A record's label and FTS5's snippet of its best-matching passage; the label stands in for the
    snippet where FTS5 reads the words otherwise than the ranking index did (a stem or a prefix). None
    when the record is not there."""
    fts, table = fts_table(collection), collection.table
    label_column = collection.label_field
    row = db.execute(f"SELECT rowid, [{label_column}] FROM [{table}] WHERE id = ?", [record_id]).fetchone()
    if row is None:
        return None
    rowid, label = row
    snippet = db.execute(
        f"SELECT snippet([{fts}], -1, ?, ?, ?, {SNIPPET_TOKENS}) FROM [{fts}] "
        f"WHERE [{fts}] MATCH ? AND rowid = ?",
        [MARK_OPEN, MARK_CLOSE, ELLIPSIS, expression, rowid],
    ).fetchone()
    return label, snippet[0] if snippet else label


def read_page(db: sqlite_utils.Database, args: dict) -> tuple[list[dict], str | None]:
    """One page of hits for validated search arguments (q, collections, cursor, limit), and the
    cursor of the next page, None on the last."""
    names = args.get("collections") or list(COLLECTIONS)
    offset = 0
    if "cursor" in args:
        (offset,) = decode_cursor(args["cursor"], SEARCH_CURSOR, 1)
        if not isinstance(offset, int) or not 0 < offset <= MAX_SEARCH_OFFSET:
            raise invalid_cursor()
    q, limit = args["q"], args["limit"]
    with one_snapshot(db):
        # One hit past the page says whether there is a next one; it needs no snippet.
        ranked = ranked_keys(db, q, names, limit + 1, offset)
        hits = labelled_hits(db, q, ranked[:limit])
    if len(ranked) <= limit or offset + limit > MAX_SEARCH_OFFSET:
        return hits, None
    return hits, encode_cursor(SEARCH_CURSOR, [offset + limit])
