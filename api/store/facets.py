"""Facets: counts of records per value of a field over every page of a filtered list, as Datasette does."""

import sqlite_utils

from api.model.collections import Collection
from api.store.filters import membership_filters, text_filters

MAX_FACET_VALUES = 100


def facet_fields(collection: Collection) -> list[str]:
    """Fields a list can be faceted by: enums, references, exact-text filters and lists of codes or ids."""
    columns = [column for column, _ in membership_filters(collection).values()]
    return [*collection.filters(), *text_filters(collection), *columns]


def facet_counts(
    db: sqlite_utils.Database, collection: Collection, names: list[str], where: list[str], params: list
) -> dict[str, list[dict]]:
    """Field -> [{value, count}], most frequent first, at most MAX_FACET_VALUES values."""
    table = collection.table
    matching = f"SELECT rowid FROM [{table}]" + (" WHERE " + " AND ".join(where) if where else "")
    lists = {column for column, _ in membership_filters(collection).values()}
    counts = {}
    for name in names:
        if name in lists:
            source = f"[{table}] AS r JOIN json_each(r.[{name}]) AS j"
            value = "j.value"
        else:
            source, value = f"[{table}] AS r", f"r.[{name}]"
        sql = (
            f"SELECT {value} AS value, count(*) AS count FROM {source} WHERE r.rowid IN ({matching}) "
            "GROUP BY 1 ORDER BY count DESC, value LIMIT ?"
        )
        counts[name] = list(db.query(sql, [*params, MAX_FACET_VALUES]))
    return counts
