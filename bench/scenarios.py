"""What the benchmark asks each server: the same question as an icc-events, Datasette and floor URL.

Each scenario is a function of the database's fixtures (ids, sort values) returning one URL per target,
or None where a target has no equivalent. A URL that does not answer as expected is skipped with a note,
so scenarios for endpoints still being built (q=, CSV, NDJSON, 304) plug in as they land.
"""

import json
import urllib.parse
from dataclasses import dataclass, field

from api.store.paging import encode_cursor

PAGE = 50
# An If-None-Match value the harness replaces with the ETag the URL answers with just before the run:
# a list's tag depends on the host it was asked on, so it cannot come from the database.
CURRENT_ETAG = "<current etag>"
# Datasette's leanest table JSON: objects like ours, and no row count, facets or facet suggestions,
# which its defaults compute on every page and which we do not offer either.
LEAN = "_shape=objects&_nocount=1&_nofacet=1&_nosuggest=1"


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict = field(default_factory=dict)
    status: int = 200
    # When set, wrk asks these paths in turn instead of path (which is the one checked beforehand).
    paths: tuple = ()


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    urls: object  # (fixtures, datasette database name) -> {target: Request}
    # Streamed once and timed instead of driven by wrk.
    dump: bool = False


def tilde(value: str) -> str:
    """Datasette's tilde encoding of a value in its _next token."""
    safe = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    return "".join(c if c in safe else "".join(f"~{b:02X}" for b in c.encode()) for c in value)


def item_path(record_id: str, ds: str) -> dict:
    return {
        "ours": f"/v1/statements/{record_id}",
        "datasette": f"/{ds}/statements/{record_id}.json?{LEAN}",
        "floor": f"/items/statements/{record_id}",
    }


def in_turn(paths_by_target: list[dict]) -> dict:
    """One Request per target asking these paths in turn (wrk_report.lua), the first one checked."""
    return {
        target: Request(paths_by_target[0][target], paths=tuple(p[target] for p in paths_by_target))
        for target in paths_by_target[0]
    }


def item(f, ds):
    """Statements by random id over the whole table, a different one each request: cold reads."""
    return in_turn([item_path(i, ds) for i in f["random_statement_ids"]])


def same_item(f, ds):
    """One statement again and again: the full answer the 304 of the same URL is compared with."""
    return {target: Request(path) for target, path in item_path(f["statement_id"], ds).items()}


def first_page(f, ds):
    return {
        "ours": Request(f"/v1/statements?limit={PAGE}"),
        "datasette": Request(f"/{ds}/statements.json?_size={PAGE}&_sort=said_sort&{LEAN}"),
        "floor": Request(f"/lists/statements?order=said_sort&limit={PAGE}"),
    }


def page_after(position: list, ds: str) -> dict:
    """The page of statements after (said_sort, id) = position, as each target asks for it."""
    value, last_id = position
    after = urllib.parse.quote(json.dumps([value, last_id]))
    return {
        "ours": f"/v1/statements?limit={PAGE}&cursor={encode_cursor('said', [value, last_id])}",
        "datasette": (
            f"/{ds}/statements.json?_size={PAGE}&_sort=said_sort&{LEAN}&_next={tilde(value)},{tilde(last_id)}"
        ),
        "floor": f"/lists/statements?order=said_sort&limit={PAGE}&after={after}",
    }


def deep_page(f, ds):
    """Pages from random cursors over the whole collection, a different one each request."""
    return in_turn([page_after(position, ds) for position in f["random_cursors"]])


def filtered(f, ds):
    """One speaker's statements from a cursor, both random each request (a random statement's speaker
    and position, so busy speakers come up as often as their share of the statements)."""
    pages = []
    for speaker, value, last_id in f["random_speaker_cursors"]:
        pages.append(
            {
                target: f"{path}&speaker_official_id={speaker}"
                for target, path in page_after([value, last_id], ds).items()
            }
        )
    return in_turn(pages)


def sorted_desc(f, ds):
    return {
        "ours": Request(f"/v1/statements?limit={PAGE}&sort=-said"),
        "datasette": Request(f"/{ds}/statements.json?_size={PAGE}&_sort_desc=said_sort&{LEAN}"),
        "floor": Request(f"/lists/statements?order=said_sort&desc=1&limit={PAGE}"),
    }


def search(f, ds):
    if not f["fts"]:
        return {}  # Datasette ignores _search on a table without a full-text index: no equivalent yet
    word = f["common_word"]
    return {
        "ours": Request(f"/v1/statements?limit={PAGE}&q={word}"),
        # The same order as ours: matches in the default sort, not by rank.
        "datasette": Request(f"/{ds}/statements.json?_size={PAGE}&_search={word}&_sort=said_sort&{LEAN}"),
        "floor": Request(f"/lists/statements?order=said_sort&limit={PAGE}&q={word}"),
    }


def ranked_search(f, ds):
    """The word matching the most statements, best bm25 first: Datasette's _search without a sort
    ranks by FTS5's rank, as the floor's order=rank does."""
    if not f["fts"]:
        return {}
    word = f["common_word"]
    return {
        "ours": Request(f"/v1/search?q={word}&collections=statements&limit={PAGE}"),
        "datasette": Request(f"/{ds}/statements.json?_size={PAGE}&_search={word}&{LEAN}"),
        "floor": Request(f"/lists/statements?order=rank&limit={PAGE}&q={word}"),
    }


def two_word_search(f, ds):
    """The two commonest words, both in each match (FTS5's implicit AND), best bm25 first."""
    if not f["fts"]:
        return {}
    words = "%20".join(f["two_common_words"])
    return {
        "ours": Request(f"/v1/search?q={words}&collections=statements&limit={PAGE}"),
        "datasette": Request(f"/{ds}/statements.json?_size={PAGE}&_search={words}&{LEAN}"),
        "floor": Request(f"/lists/statements?order=rank&limit={PAGE}&q={words}"),
    }


def csv_page(f, ds):
    return {
        "ours": Request(f"/v1/statements?limit={PAGE}&format=csv"),
        "datasette": Request(f"/{ds}/statements.csv?_size={PAGE}&_sort=said_sort"),
        "floor": Request(f"/lists/statements?order=said_sort&limit={PAGE}&format=csv"),
    }


def revalidation(f, ds):
    etag = f'"{f["statement_etag"]}"'
    headers = {"If-None-Match": etag}
    return {
        "ours": Request(f"/v1/statements/{f['statement_id']}", headers, 304),
        "floor": Request(f"/items/statements/{f['statement_id']}", headers, 304),
    }


def page_revalidation(f, ds):
    # The floor has no ETag on lists: it is compared with our full first page instead (results.md).
    return {"ours": Request(f"/v1/statements?limit={PAGE}", {"If-None-Match": CURRENT_ETAG}, 304)}


def ndjson_dump(f, ds):
    return {
        "ours": Request("/v1/statements?format=ndjson"),
        # Datasette streams CSV only; it is the closest thing it has to a whole-table dump.
        "datasette": Request(f"/{ds}/statements.csv?_stream=on&_size=max"),
        "floor": Request("/dumps/statements"),
        # bench/dump_loop.py: sqlite3 reading every row in our order and json.dumps-ing it, no server.
        "loop": Request("ndjson"),
    }


def csv_dump(f, ds):
    return {
        "ours": Request("/v1/statements?format=csv"),
        "datasette": Request(f"/{ds}/statements.csv?_stream=on&_size=max"),
        "loop": Request("csv"),
    }


SCENARIOS = [
    Scenario("item", "statements by random id, a different one each time (cold)", item),
    Scenario("same_item", "one statement by id, again and again", same_item),
    Scenario("first_page", f"first page of {PAGE} statements, default sort (said, id)", first_page),
    Scenario("deep_page", "pages from random cursors over the whole collection (cold)", deep_page),
    Scenario("filtered", "one speaker's statements, random speaker and cursor each time (cold)", filtered),
    Scenario("sorted", "statements sorted by -said", sorted_desc),
    Scenario("search", "q=<the commonest word>: matches in the list's order", search),
    Scenario("revalidation", "If-None-Match on same_item's URL: 304", revalidation),
    Scenario("page_revalidation", "If-None-Match on the first page: 304", page_revalidation),
    Scenario("csv_page", f"a page of {PAGE} statements as CSV", csv_page),
    Scenario("ndjson_dump", "every statement as NDJSON, streamed once, cold", ndjson_dump, dump=True),
    Scenario("csv_dump", "every statement as CSV, streamed once, cold", csv_dump, dump=True),
    # Last: at 1M its requests outlive wrk's 2 s timeout, and the servers go on computing the ones
    # wrk gave up on, which would slow whatever scenario came next.
    Scenario("ranked_search", "the commonest word, best bm25 first", ranked_search),
    Scenario("two_word_search", "the two commonest words in each match, best bm25 first", two_word_search),
]
