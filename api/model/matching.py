"""Matching names to officials and organisations: normalisation, fuzzy scores, unambiguous matches.

Pure functions over plain dicts; api/web/reconcile.py turns them into the Reconciliation API.

Normalisation (for exact matches and for fuzzy scores alike): Unicode NFKD, combining marks dropped,
casefold, runs of whitespace collapsed to one space, ends stripped. So "Tomoko  AKANE" and "Tōmoko
Akane" both normalise to "tomoko akane". Punctuation is kept: "U.S." is not "US".

Scores are rapidfuzz's WRatio (0-100) of the normalised query against the record's name and each
alias, the best of them. 100 is reserved for an exact normalised equality; a fuzzy score is capped at
99. Candidates scoring below MIN_SCORE are left out.
"""

import unicodedata
from collections.abc import Iterable

from rapidfuzz import fuzz

MIN_SCORE = 70
EXACT_SCORE = 100

# Reconciliation type id -> (collection, type name).
TYPES = {"official": ("officials", "Official"), "organization": ("organizations", "Organization")}
# Property id -> (its name, the collections having it, the record field holding it).
PROPERTIES = {
    "country": ("Country", ("officials", "organizations"), "country"),
    "role": ("Role", ("officials",), "role"),
    "nationality": ("Nationality", ("officials",), "nationality"),
    "organization": ("Organization (id)", ("officials",), "organization_id"),
    "kind": ("Kind of organization", ("organizations",), "kind"),
}


def normalise(text: str) -> str:
    """The form names are compared in: accents and case folded away, whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def entity_id(collection: str, record_id: str) -> str:
    """A reconciliation id: the record's path under /v1, e.g. officials/donald-trump."""
    return f"{collection}/{record_id}"


def entity(type_id: str, record: dict) -> dict:
    """What matching needs of a record: its id, type, names (normalised too) and property values."""
    collection, _ = TYPES[type_id]
    names = [record["name"], *record.get("aliases", [])]
    properties = {
        pid: normalise(str(record[field]))
        for pid, (_, collections, field) in PROPERTIES.items()
        if collection in collections and record.get(field) is not None
    }
    return {
        "id": entity_id(collection, record["id"]),
        "record_id": record["id"],
        "type": type_id,
        "name": record["name"],
        "description": record.get("description"),
        "names": {normalise(n) for n in names},
        "properties": properties,
    }


def property_values(value) -> list[str]:
    """A constraint's value(s) as normalised strings; an entity value {id, name} by its id."""
    values = value if isinstance(value, list) else [value]
    found = []
    for item in values:
        if isinstance(item, dict):
            item = str(item["id"]).rsplit("/", 1)[-1]  # organizations/icc and icc alike
        elif isinstance(item, bool):
            item = str(item).lower()
        found.append(normalise(str(item)))
    return found


def satisfies(entity: dict, constraints: list[dict]) -> bool:
    """Whether the entity has, for every constraint, one of its values (normalised, exactly)."""
    for constraint in constraints:
        have = entity["properties"].get(constraint["pid"])
        if have is None or have not in property_values(constraint["v"]):
            return False
    return True


def score(query: str, names: Iterable[str]) -> float:
    """The best score of a normalised query against normalised names: 100 only when one is equal."""
    if query in names:
        return EXACT_SCORE
    best = max((fuzz.WRatio(query, name) for name in names), default=0.0)
    return min(round(best, 1), EXACT_SCORE - 1)


def candidates(entities: list[dict], query: dict, default_limit: int) -> list[dict]:
    """The entities matching one reconciliation query, best first, with score and match.

    match is true on the single candidate whose name or an alias equals the query once normalised, and
    only when no other allowed entity (same types, same property constraints) has that name too.
    """
    types = query.get("type") or list(TYPES)
    allowed = [e for e in entities if e["type"] in types and satisfies(e, query.get("properties", []))]
    text = normalise(query.get("query") or "")
    if not text and not query.get("properties"):
        return []  # e.g. a query of combining marks only: nothing to compare
    if text:
        scored = [(score(text, e["names"]), e) for e in allowed]
        scored = [(s, e) for s, e in scored if s >= MIN_SCORE]
    else:
        scored = [(EXACT_SCORE, e) for e in allowed]  # properties alone: every entity having them
    exact = [e for s, e in scored if text and s == EXACT_SCORE]
    scored.sort(key=lambda pair: (-pair[0], pair[1]["name"], pair[1]["id"]))
    return [
        {**e, "score": s, "match": len(exact) == 1 and e is exact[0]}
        for s, e in scored[: query.get("limit", default_limit)]
    ]


def suggestions(entities: list[dict], prefix: str) -> list[dict]:
    """Entities one of whose names, or one word of them, starts with the normalised prefix, or whose id
    is the prefix; names that start with it first, then by name."""
    wanted = normalise(prefix)
    if not wanted:
        return []

    def rank(e: dict) -> int | None:
        if wanted in (e["id"], e["record_id"]) or any(n.startswith(wanted) for n in e["names"]):
            return 0
        if any(word.startswith(wanted) for n in e["names"] for word in n.split()):
            return 1
        return None

    ranked = [(rank(e), e) for e in entities]
    ranked = [(r, e) for r, e in ranked if r is not None]
    ranked.sort(key=lambda pair: (pair[0], pair[1]["name"], pair[1]["id"]))
    return [e for _, e in ranked]
