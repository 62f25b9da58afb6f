"""Synthetic but realistic records at any scale, loaded through the seed's own validation path.

Records come in chunks: each chunk writes one synthetic article and the records that cite it, so
only one article's text is held at a time. Ids of records that others refer to are kept to check
references, about a quarter of the records at the default mix.
"""

import random
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from api.model.clock import now_iso
from api.model.collections import COLLECTIONS
from api.model.provenance import citation_problems, has_value, iter_references, support_problems
from api.store.db import connect
from api.store.ranking import ensure_index
from seed.loader import (
    LOAD_ORDER,
    PreparedRecords,
    SeedError,
    build_database,
    bulk_load,
    insert_prepared,
    prepared_records,
    validated,
)

CHUNK_SIZE = 1000
# Records per 100 in each chunk besides its article; statements take what is left.
MIX = {"organizations": 3, "officials": 6, "warrants": 3, "sanctions": 3, "events": 8}
# Half of all mentions go to a few prominent people and bodies, as in real coverage.
PROMINENT = 10
SYNTH_FILE = Path("<synth>")
# The actor the change log names, as (seed) and (import) for the other bulk loads.
SYNTH_ACTOR = "(synth)"

FIRST_NAMES = "Amara Bruno Chiara Dmitri Elena Farid Grace Hiro Ines Jonas Karim Lena Mateo Nadia Omar Priya"
LAST_NAMES = (
    "Abbas Bauer Costa Diallo Eriksen Fischer Garcia Haddad Ivanova Kato Lindqvist Mensah Novak Okafor"
)
COUNTRIES = [
    "Netherlands",
    "United States",
    "Israel",
    "Philippines",
    "Afghanistan",
    "France",
    "Kenya",
    "Brazil",
]
ROLES = [
    "judge",
    "prosecutor",
    "deputy prosecutor",
    "registrar",
    "minister",
    "senator",
    "ambassador",
    "spokesperson",
]
ORGANIZATION_WORDS = [
    "Council",
    "Institute",
    "Ministry",
    "Agency",
    "Network",
    "Foundation",
    "Tribunal",
    "Press",
]
TOPICS = ["sanctions", "arrest-warrants", "jurisdiction", "independence", "cooperation", "victims", "funding"]
VERBS = ["warned", "argued", "insisted", "said", "stressed", "claimed", "noted", "announced"]
CLAIMS = [
    "the court would continue its work without fear",
    "the measures were an attack on international justice",
    "no state is above the law",
    "the investigation had exceeded its mandate",
    "cooperation with the court remained a legal duty",
    "the sanctions put victims' access to justice at risk",
    "the warrants must be executed by every member state",
    "the decision would be appealed",
]
MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip


def chunk_counts(size: int) -> dict[str, int]:
    """How many records of each collection a chunk of size records holds, its article included."""
    counts = {name: weight * (size - 1) // 100 for name, weight in MIX.items()}
    # Every other kind refers to an organization or an official, so a chunk starts with one of each.
    counts["organizations"] = max(counts["organizations"], min(1, size - 1))
    counts["officials"] = max(counts["officials"], min(1, size - 2))
    counts["statements"] = size - 1 - sum(counts.values())
    return {"sources": 1, **counts}


@dataclass
class Article:
    """A synthetic article being written: each record adds a sentence and cites it."""

    id: str
    sentences: list[str] = field(default_factory=list)
    length: int = 0

    def cite(self, sentence: str) -> dict:
        start = self.length + (1 if self.sentences else 0)
        self.sentences.append(sentence)
        self.length = start + len(sentence)
        return {"source_id": self.id, "start": start, "end": self.length, "quote": sentence}

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


class Synthesizer:
    """Deterministic record generator: the same seed gives the same records."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.prefix = f"synth{seed}"
        self.numbers = dict.fromkeys(LOAD_ORDER, 0)
        # Ids and display names of records others can refer to.
        self.known: dict[str, list[tuple[str, str]]] = {name: [] for name in LOAD_ORDER}

    def new_id(self, collection: str) -> str:
        self.numbers[collection] += 1
        return f"{self.prefix}-{COLLECTIONS[collection].singular}-{self.numbers[collection]}"

    def remember(self, collection: str, record_id: str, name: str) -> None:
        self.known[collection].append((record_id, name))

    def pick(self, collection: str) -> tuple[str, str] | None:
        known = self.known[collection]
        if not known:
            return None
        if self.rng.random() < 0.5:
            return known[self.rng.randrange(min(PROMINENT, len(known)))]
        return known[self.rng.randrange(len(known))]

    def pick_many(self, collection: str, most: int) -> list[str]:
        picked = {self.pick(collection) for _ in range(self.rng.randint(0, most))} - {None}
        return sorted(record_id for record_id, _ in picked)

    def person_name(self) -> str:
        return f"{self.rng.choice(FIRST_NAMES.split())} {self.rng.choice(LAST_NAMES.split())}"

    def partial_date(self) -> dict:
        year, month, day = self.rng.randint(2002, 2026), self.rng.randint(1, 12), self.rng.randint(1, 28)
        roll = self.rng.random()
        if roll < 0.05:
            return {"date": None, "precision": None, "text": None, "basis": None}
        if roll < 0.15:
            return {"date": f"{year}", "precision": "year", "text": f"in {year}", "basis": None}
        if roll < 0.40:
            text = f"in {MONTHS[month - 1]} {year}"
            return {"date": f"{year}-{month:02d}", "precision": "month", "text": text, "basis": None}
        text = f"on {day} {MONTHS[month - 1]} {year}"
        return {"date": f"{year}-{month:02d}-{day:02d}", "precision": "day", "text": text, "basis": None}

    def chunk(self, size: int) -> Iterator[tuple[str, dict]]:
        """(collection, raw record) for one chunk: its article last, once every record has cited it."""
        article = Article(self.new_id("sources"))
        for name, count in chunk_counts(size).items():
            if name == "sources":
                continue
            make = getattr(self, name.removesuffix("s"))
            for _ in range(count):
                yield name, make(article)
        yield "sources", self.source(article)

    def source(self, article: Article) -> dict:
        number = self.numbers["sources"]
        return {
            "id": article.id,
            "title": f"Synthetic dispatch {number} on the International Criminal Court",
            "text": article.text,
            "url": f"https://example.org/synthetic/{self.prefix}/{number}",
            "publisher": "Synthetic Wire",
            "published": self.partial_date(),
            "outlets_cited": [],
        }

    def organization(self, article: Article) -> dict:
        record_id, country = self.new_id("organizations"), self.rng.choice(COUNTRIES)
        name = f"{country} {self.rng.choice(ORGANIZATION_WORDS)} {self.numbers['organizations']}"
        kind = self.rng.choice(["government", "ngo", "news_outlet", "government_agency", "company"])
        parent = self.pick("organizations") if self.rng.random() < 0.2 else None
        self.remember("organizations", record_id, name)
        return {
            "id": record_id,
            "name": name,
            "kind": kind,
            "country": country,
            "parent_id": parent[0] if parent else None,
            "citations": [article.cite(f"{name} is a {kind.replace('_', ' ')} based in {country}.")],
        }

    def official(self, article: Article) -> dict:
        record_id, name, role = self.new_id("officials"), self.person_name(), self.rng.choice(ROLES)
        organization_id, organization_name = self.pick("organizations")
        self.remember("officials", record_id, name)
        return {
            "id": record_id,
            "name": name,
            "role": role,
            "organization_id": organization_id,
            "country": self.rng.choice(COUNTRIES),
            "status": self.rng.choice(["current", "former", "unknown"]),
            "citations": [article.cite(f"{name} serves as {role} at {organization_name}.")],
        }

    def warrant(self, article: Article) -> dict:
        subject_id, subject_name = self.pick("officials")
        court_id, _ = self.pick("organizations")
        crimes = sorted(self.rng.sample(["crimes_against_humanity", "war_crimes", "genocide"], 2))
        issued = self.date_with_text()
        title = f"Arrest warrant for {subject_name}"
        self.remember("warrants", record_id := self.new_id("warrants"), title)
        return {
            "id": record_id,
            "title": title,
            "subject_official_id": subject_id,
            "court_id": court_id,
            "crimes": crimes,
            "situation": self.rng.choice(["palestine", "philippines", "afghanistan"]),
            "issued": issued,
            "status": self.rng.choice(["outstanding", "in_custody", "withdrawn", "unknown"]),
            "citations": [
                article.cite(f"Judges issued an arrest warrant for {subject_name} {issued['text']}.")
            ],
        }

    def sanction(self, article: Article) -> dict:
        authority_id, authority_name = self.pick("organizations")
        target_id, target_name = self.pick("officials")
        imposed = self.date_with_text()
        title = f"{authority_name} sanctions on {target_name}"
        self.remember("sanctions", record_id := self.new_id("sanctions"), title)
        return {
            "id": record_id,
            "title": title,
            "authority_id": authority_id,
            "target_kind": "person",
            "target_official_id": target_id,
            "target_description": target_name,
            "target_count": 1,
            "measures": sorted(self.rng.sample(["asset_freeze", "travel_ban", "bank_access"], 2)),
            "imposed": imposed,
            "status": self.rng.choice(["in_force", "lifted", "unknown"]),
            "citations": [
                article.cite(f"{authority_name} imposed sanctions on {target_name} {imposed['text']}.")
            ],
        }

    def event(self, article: Article) -> dict:
        kind = self.rng.choice(["assembly", "hearing", "arrest", "investigation", "political_action"])
        date, location = self.date_with_text(), self.rng.choice(COUNTRIES)
        title = f"{kind.replace('_', ' ').capitalize()} in {location}"
        self.remember("events", record_id := self.new_id("events"), title)
        return {
            "id": record_id,
            "type": kind,
            "title": title,
            "date": date,
            "location": location,
            "official_ids": self.pick_many("officials", 3),
            "organization_ids": self.pick_many("organizations", 2),
            "warrant_ids": self.pick_many("warrants", 1),
            "sanction_ids": self.pick_many("sanctions", 1),
            "citations": [article.cite(f"{title} took place {date['text']}.")],
        }

    def statement(self, article: Article) -> dict:
        speaker_id, speaker_name = self.pick("officials")
        claim, said = self.rng.choice(CLAIMS), self.partial_date()
        kind = self.rng.choice(["quote", "quote", "paraphrase", "reported"])
        reporter = self.pick("organizations") if kind == "reported" else None
        when = f" {said['text']}" if said["text"] else ""
        sentence = f"{speaker_name} {self.rng.choice(VERBS)}{when} that {claim}."
        event = self.pick("events") if self.rng.random() < 0.3 else None
        return {
            "id": self.new_id("statements"),
            "speaker_official_id": speaker_id,
            "summary": f"{speaker_name}: {claim}.",
            "quote": claim if kind == "quote" else None,
            "kind": kind,
            "reported_by_id": reporter[0] if reporter else None,
            "said": said,
            "topics": sorted(set(self.rng.sample(TOPICS, self.rng.randint(1, 3)))),
            "warrant_ids": self.pick_many("warrants", 1),
            "sanction_ids": self.pick_many("sanctions", 1),
            "event_id": event[0] if event else None,
            "citations": [article.cite(sentence)],
        }

    def date_with_text(self) -> dict:
        """A partial date the sentence can quote: never the unknown date."""
        while (date := self.partial_date())["date"] is None:
            pass
        return date


def with_support(name: str, raw: dict) -> dict:
    """A synthetic record whose one sentence states every field it has: its citation supports them all."""
    if "citations" not in raw:
        return raw
    supported = [f for f in COLLECTIONS[name].factual_fields() if has_value(raw.get(f))]
    citations = [{**c, "supports": supported, "basis": "stated"} for c in raw["citations"]]
    return {**raw, "citations": citations}


def checked(name: str, raw: dict, texts: dict[str, str]) -> tuple[dict, list[tuple[str, str, str]]]:
    """The record validated by its schema, its citations checked like the seed's, and its references
    as (field path, target collection, id), for the caller to check against what has been written."""
    record = validated(name, with_support(name, raw), SYNTH_FILE, raw["id"])
    problems = citation_problems(record, texts) | support_problems(COLLECTIONS[name], record)
    if problems:
        raise SeedError(SYNTH_FILE, record["id"], problems)
    return record, list(iter_references(COLLECTIONS[name].schema.fields, record))


@dataclass
class PreparedChunk:
    """A chunk validated and turned into rows, per collection in load order, with its references."""

    collections: list[PreparedRecords]
    references: list[tuple[str, str, str, str]]  # (record id, field path, target collection, id)


def prepared_chunk(raws: dict[str, list[dict]], stamp: str) -> PreparedChunk:
    """Validate a generated chunk and compute its rows and change entries: the work a worker does."""
    (source,) = raws["sources"]
    texts = {source["id"]: source["text"]}
    collections, references = [], []
    for name in LOAD_ORDER:
        records = []
        for raw in raws[name]:
            record, found = checked(name, raw, texts)
            records.append(record)
            references.extend((record["id"], *reference) for reference in found)
        collections.append(prepared_records(COLLECTIONS[name], records, SYNTH_ACTOR, stamp))
    return PreparedChunk(collections, references)


def write_chunk(db: sqlite_utils.Database, chunk: PreparedChunk, written: dict[str, set[str]]) -> None:
    """Check the chunk's references against the records written so far and its own, then insert it."""
    for prepared in chunk.collections:
        written[prepared.collection].update(prepared.ids)
    problems: dict[str, dict[str, str]] = {}
    for record_id, path, target, value in chunk.references:
        if value not in written[target]:
            problems.setdefault(record_id, {})[path] = f"No {target} record with id {value!r}."
    if problems:
        record_id, first = next(iter(problems.items()))
        raise SeedError(SYNTH_FILE, record_id, first)
    with db.atomic():  # a chunk is one transaction: its article and everything citing it
        for prepared in chunk.collections:
            insert_prepared(db, prepared)


def generated_chunks(synth: Synthesizer, count: int) -> Iterator[tuple[int, dict[str, list[dict]]]]:
    """(size, raw records by collection) for each chunk of count records, generated in order."""
    while count > 0:
        size = min(CHUNK_SIZE, count)
        raws = {name: [] for name in LOAD_ORDER}
        for name, raw in synth.chunk(size):
            raws[name].append(raw)
        yield size, raws
        count -= size


def prepared_in_order(
    chunks: Iterator[tuple[int, dict[str, list[dict]]]], workers: int
) -> Iterator[tuple[int, PreparedChunk]]:
    """Each chunk prepared, in generation order; with workers, that many processes prepare them.

    Chunks are generated here, in this process, so the records do not depend on the worker count.
    A few chunks are in flight at a time, so memory stays at a few chunks whatever the count.
    """
    if workers == 0:
        for size, raws in chunks:
            yield size, prepared_chunk(raws, now_iso())
        return
    with ProcessPoolExecutor(workers) as pool:
        pending = deque()
        for size, raws in chunks:
            pending.append((size, pool.submit(prepared_chunk, raws, now_iso())))
            if len(pending) > 2 * workers:
                size, future = pending.popleft()
                yield size, future.result()
        while pending:
            size, future = pending.popleft()
            yield size, future.result()


def add_synthetic_records(
    path: str | Path,
    count: int,
    seed: int = 0,
    on_chunk: Callable[[int], None] | None = None,
    workers: int = 0,
) -> dict[str, int]:
    """Add count synthetic records to the database at path (built from the seed first if missing).

    workers > 0 validates and prepares chunks in that many processes; the records are the same.
    """
    if not Path(path).exists():
        build_database(path)
    synth = Synthesizer(seed)
    db = connect(str(path))
    try:
        if db["sources"].count_where("id = ?", [f"{synth.prefix}-source-1"]):
            raise SeedError(Path(path), synth.prefix, {"seed": f"Already holds the records of seed {seed}."})
        added = dict.fromkeys(LOAD_ORDER, 0)
        written = {name: set() for name in LOAD_ORDER}
        with bulk_load(db, [COLLECTIONS[name] for name in LOAD_ORDER]):
            for size, chunk in prepared_in_order(generated_chunks(synth, count), workers):
                write_chunk(db, chunk, written)
                for prepared in chunk.collections:
                    added[prepared.collection] += len(prepared.rows)
                if on_chunk:
                    on_chunk(size)
        ensure_index(db)
        return added
    finally:
        db.conn.close()
