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


def item(f, ds):
    return {
        "ours": Request(f"/v1/statements/{f['statement_id']}"),
        "datasette": Request(f"/{ds}/statements/{f['statement_id']}.json?{LEAN}"),
        "floor": Request(f"/items/statements/{f['statement_id']}"),
    }


def many_items(f, ds):
    """Items by id in turn, more of them than a worker keeps rendered: what a cold cache costs."""
    ids = f["spread_statement_ids"]
    urls = {
        "ours": [f"/v1/statements/{i}" for i in ids],
        "datasette": [f"/{ds}/statements/{i}.json?{LEAN}" for i in ids],
        "floor": [f"/items/statements/{i}" for i in ids],
    }
    return {target: Request(paths[0], paths=tuple(paths)) for target, paths in urls.items()}


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
    return {target: Request(path) for target, path in page_after(f["deep_after"], ds).items()}


def many_pages(f, ds):
    """Pages from cursors spread through the table, in turn: pages the render cache does not hold."""
    pages = [page_after(position, ds) for position in f["spread_page_cursors"]]
    return {target: Request(pages[0][target], paths=tuple(p[target] for p in pages)) for target in pages[0]}


def filtered(f, ds):
    speaker = f["speaker_id"]
    return {
        "ours": Request(f"/v1/statements?limit={PAGE}&speaker_official_id={speaker}"),
        "datasette": Request(
            f"/{ds}/statements.json?_size={PAGE}&_sort=said_sort&{LEAN}&speaker_official_id={speaker}"
        ),
        "floor": Request(f"/lists/statements?order=said_sort&limit={PAGE}&speaker_official_id={speaker}"),
    }


def sorted_desc(f, ds):
    return {
        "ours": Request(f"/v1/statements?limit={PAGE}&sort=-said"),
        "datasette": Request(f"/{ds}/statements.json?_size={PAGE}&_sort_desc=said_sort&{LEAN}"),
        "floor": Request(f"/lists/statements?order=said_sort&desc=1&limit={PAGE}"),
    }


def search(f, ds):
    if not f["fts"]:
        return {}  # Datasette ignores _search on a table without a full-text index: no equivalent yet
    return {
        "ours": Request(f"/v1/statements?limit={PAGE}&q=sanctions"),
        # The same order as ours: matches in the default sort, not by rank.
        "datasette": Request(f"/{ds}/statements.json?_size={PAGE}&_search=sanctions&_sort=said_sort&{LEAN}"),
        "floor": Request(f"/lists/statements?order=said_sort&limit={PAGE}&q=sanctions"),
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
    }


SCENARIOS = [
    Scenario("item", "one statement by id", item),
    Scenario("many_items", "statements by id, a different one each time (up to 20,000)", many_items),
    Scenario("first_page", f"first page of {PAGE} statements, default sort (said, id)", first_page),
    Scenario("deep_page", "a page 90% of the way through, from a cursor", deep_page),
    Scenario("many_pages", "deep pages from a different cursor each time (up to 400)", many_pages),
    Scenario("filtered", "statements by one prolific speaker (indexed filter)", filtered),
    Scenario("sorted", "statements sorted by -said", sorted_desc),
    Scenario("search", "q=sanctions full-text search", search),
    Scenario("revalidation", "If-None-Match on an item: 304", revalidation),
    Scenario("page_revalidation", "If-None-Match on the first page: 304", page_revalidation),
    Scenario("csv_page", f"a page of {PAGE} statements as CSV", csv_page),
    Scenario("ndjson_dump", "every statement as NDJSON, streamed once", ndjson_dump, dump=True),
]
