"""Filters of list queries: each parameter becomes a parameterised SQL condition on allowlisted columns."""

from functools import cache

from marshmallow import fields, validate

from api.model.collections import COLLECTIONS, Collection
from api.store.search import search_condition, search_parameters
from schemas.common import date_bounds

# Free-text columns that people filter on by exact value (case-insensitive): "officials in Israel".
TEXT_FILTERS = {
    "officials": ("country", "nationality", "role"),
    "organizations": ("country",),
}


def membership_filters(collection: Collection) -> dict[str, tuple[str, fields.Field]]:
    """Parameter -> (list column, inner field) for lists of ids or codes: crimes -> crime=war_crimes."""
    return _membership_filters(collection.name)


@cache
def _membership_filters(name: str) -> dict[str, tuple[str, fields.Field]]:
    # Derived from the schema once per collection: every request of the list needs it.
    collection = COLLECTIONS[name]
    found = {}
    for name, f in collection.schema.fields.items():
        if not isinstance(f, fields.List) or not isinstance(f.inner, fields.Str):
            continue
        if any(isinstance(v, (validate.OneOf, validate.Regexp)) for v in f.inner.validators):
            found[name.removesuffix("s")] = (name, f.inner)
    return found


def text_filters(collection: Collection) -> tuple[str, ...]:
    return TEXT_FILTERS.get(collection.name, ())


def date_range_filters(collection: Collection) -> dict[str, tuple[str, str]]:
    """Parameter -> (partial date field, 'from' or 'to'): issued_from, issued_to..."""
    return {f"{name}_{end}": (name, end) for name in collection.partial_dates() for end in ("from", "to")}


def conditions(collection: Collection, args: dict, many_matches: bool = False) -> tuple[list[str], list]:
    """SQL conditions (ANDed) and their parameters for every filter present in args.

    many_matches: q= matches many records (api.store.search.has_many_matches), which changes its plan.
    """
    table = collection.table
    where, params = [], []
    for name in collection.filters():
        if name in args:
            where.append(f"[{name}] = ?")
            params.append(args[name])
        if f"{name}__in" in args:
            values = args[f"{name}__in"]
            where.append(f"[{name}] IN ({','.join('?' * len(values))})")
            params.extend(values)
    for name in text_filters(collection):
        if name in args:
            where.append(f"[{name}] = ? COLLATE NOCASE")
            params.append(args[name])
    for name, (column, _) in membership_filters(collection).items():
        if name in args:
            where.append(f"EXISTS (SELECT 1 FROM json_each([{table}].[{column}]) AS j WHERE j.value = ?)")
            params.append(args[name])
    for name, (field_name, end) in date_range_filters(collection).items():
        if name in args:
            # Overlap: a record dated "2024" matches a range that touches any day of 2024.
            first, last = date_bounds(args[name])
            if end == "from":
                where.append(f"[{field_name}_end] >= ?")
                params.append(first)
            else:
                where.append(f"[{field_name}_start] <= ?")
                params.append(last)
    if "changed_since" in args:
        where.append("[updated_at] >= ?")
        params.append(args["changed_since"])
    if "q" in args:
        where.append(search_condition(collection, many_matches))
        params.extend(search_parameters(args["q"], many_matches))
    return where, params
