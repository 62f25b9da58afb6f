"""Quote verification: does each sentence of a passage appear in a source, exactly, nearly or not at all?

Normalisation, the same on both sides before comparing: curly and other typographic quotes become
straight ones (' and "), en and em dashes become '-', '…' becomes '...', and every run of whitespace
(non-breaking spaces and line breaks included) becomes one space; letter case is kept. Offsets are
always mapped back to the source's own code points, so `text[start:end]` is the matched text.

A sentence that is not in a source exactly is a near match when rapidfuzz's partial ratio of it
against its best-aligned stretch of a source is at least NEAR_THRESHOLD (0-100); the differences are
difflib's word-level opcodes between the sentence and that stretch. Either way, a sentence is
compared without its opening and closing quotes and its final punctuation (. ! ? , ; :), which a
quoted clause often has otherwise in its source.
"""

import difflib
import re
from dataclasses import dataclass, field

import sqlite_utils
from rapidfuzz import fuzz

from api.model.collections import COLLECTIONS
from api.store.search import fts_table, match_expression

NEAR_THRESHOLD = 85.0
# The sources a sentence is compared with: the best full-text hits for any of its words.
CANDIDATE_SOURCES = 5
TYPOGRAPHY = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
    }
)
# A sentence ends at . ! or ? (and any closing quotes or brackets) before whitespace, or at a blank
# line; not after the abbreviations below, nor before a lowercase word. A single line break is only
# whitespace: text pasted from a hard-wrapped page breaks lines mid-sentence.
SENTENCE_END = re.compile(r"""(?<=[.!?])["'\u201d\u2019)\]]*\s+(?=[^a-z\s])|\n[^\S\n]*\n\s*""")
ABBREVIATION = re.compile(
    r"(Mr|Mrs|Ms|Dr|Prof|Sen|Rep|Gen|Gov|St|Jr|Sr|No|vs|etc|e\.g|i\.e|([A-Z]\.)*[A-Z])\."
)
# What may end a sentence in a passage but a quoted clause differently in its source.
FINAL_PUNCTUATION = ".!?,;:"
CLOSERS = "\"')]\u201d\u2019"
QUOTE_MARKS = "\"'"


@dataclass
class Normalised:
    """A text after normalisation, with the index in the original of each of its characters."""

    text: str
    origin: list[int]
    length: int  # of the original

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original's offsets of the normalised text[start:end] (end exclusive)."""
        return self.origin[start], self.origin[end - 1] + 1


def normalise(text: str) -> Normalised:
    chars, origin, in_space = [], [], False
    for index, char in enumerate(text):
        if char.isspace():
            if chars and not in_space:
                chars.append(" ")
                origin.append(index)
            in_space = True
            continue
        in_space = False
        for piece in char.translate(TYPOGRAPHY):
            chars.append(piece)
            origin.append(index)
    if chars and chars[-1] == " ":
        chars.pop()
        origin.pop()
    return Normalised("".join(chars), origin, len(text))


def split_sentences(passage: str) -> list[str]:
    """The passage's sentences, stripped, empty ones dropped."""
    sentences, start = [], 0
    for boundary in SENTENCE_END.finditer(passage):
        words = passage[start : boundary.start()].rstrip(CLOSERS).split()
        paragraph_break = boundary.group().count("\n") >= 2
        if not paragraph_break and words and ABBREVIATION.fullmatch(words[-1]):
            continue
        sentences.append(passage[start : boundary.end()].strip())
        start = boundary.end()
    sentences.append(passage[start:].strip())
    return [s for s in sentences if s]


@dataclass
class Difference:
    operation: str  # replace, delete (in the passage, not the source) or insert (in the source only)
    passage: str
    source: str


@dataclass
class Verdict:
    sentence: str
    match: str  # exact, near or none
    score: float = 0.0
    source_id: str | None = None
    start: int | None = None
    end: int | None = None
    quote: str | None = None
    differences: list[Difference] = field(default_factory=list)


def word_differences(sentence: str, matched: str) -> list[Difference]:
    said, found = sentence.split(), matched.split()
    matcher = difflib.SequenceMatcher(a=said, b=found, autojunk=False)
    return [
        Difference(op, " ".join(said[i1:i2]), " ".join(found[j1:j2]))
        for op, i1, i2, j1, j2 in matcher.get_opcodes()
        if op != "equal"
    ]


def word_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """start and end widened to whole words of text, less enclosing quotes and final punctuation."""
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    while start < end and text[start] in QUOTE_MARKS:
        start += 1
    while end > start and text[end - 1] in FINAL_PUNCTUATION + QUOTE_MARKS:
        end -= 1
    return start, end


def verify_sentence(sentence: str, sources: list[tuple[str, str, Normalised]]) -> Verdict:
    """The best verdict for one sentence against (source id, text, normalised text) candidates."""
    # Compared without its final punctuation or enclosing quotes, which a quoted clause often has
    # otherwise in the source.
    wanted = normalise(sentence).text.strip(QUOTE_MARKS + " ").rstrip(FINAL_PUNCTUATION + QUOTE_MARKS + " ")
    if not wanted:
        return Verdict(sentence, "none")
    for source_id, text, normalised in sources:
        at = normalised.text.find(wanted)
        if at >= 0:
            start, end = normalised.span(at, at + len(wanted))
            return Verdict(sentence, "exact", 100.0, source_id, start, end, text[start:end])
    best = Verdict(sentence, "none")
    for source_id, text, normalised in sources:
        alignment = fuzz.partial_ratio_alignment(wanted, normalised.text, score_cutoff=NEAR_THRESHOLD)
        if alignment is None or alignment.score <= best.score:
            continue
        low, high = word_bounds(normalised.text, alignment.dest_start, alignment.dest_end)
        start, end = normalised.span(low, high)
        differences = word_differences(wanted, normalised.text[low:high])
        best = Verdict(
            sentence, "near", round(alignment.score, 1), source_id, start, end, text[start:end], differences
        )
    return best


def candidate_sources(
    db: sqlite_utils.Database, sentence: str, source_id: str | None
) -> list[tuple[str, str]]:
    """(id, text) of the sources worth comparing with: the one asked for, or the best hits for any word."""
    if source_id is not None:
        return list(db.execute("SELECT id, text FROM sources WHERE id = ?", [source_id]).fetchall())
    words = match_expression(normalise(sentence).text.replace('"', " ")).split(" ")
    if not words or words == [""]:
        return []
    fts = fts_table(COLLECTIONS["sources"])
    sql = (
        f"SELECT s.id, s.text FROM [{fts}] JOIN sources AS s ON s.rowid = [{fts}].rowid "
        f"WHERE [{fts}] MATCH ? ORDER BY bm25([{fts}]) LIMIT ?"
    )
    return list(db.execute(sql, [" OR ".join(words), CANDIDATE_SOURCES]).fetchall())


def verify_passage(db: sqlite_utils.Database, passage: str, source_id: str | None = None) -> list[Verdict]:
    """A verdict for each sentence of the passage, in order."""
    normalised: dict[str, Normalised] = {}
    verdicts = []
    for sentence in split_sentences(passage):
        candidates = []
        for found_id, text in candidate_sources(db, sentence, source_id):
            if found_id not in normalised:
                normalised[found_id] = normalise(text)
            candidates.append((found_id, text, normalised[found_id]))
        verdicts.append(verify_sentence(sentence, candidates))
    return verdicts
