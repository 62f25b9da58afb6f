"""No list query walks a whole table: every shape is served by an index (EXPLAIN QUERY PLAN)."""

import re

import pytest

from api.model.collections import COLLECTIONS
from api.store.db import connect
from api.store.filters import conditions, date_range_filters, membership_filters, text_filters
from api.store.reads import order_columns, page_sql


def sample_args(collection) -> list[dict]:
    """One argument set per filter the collection has, plus none at all."""
    shapes = [{}]
    shapes += [{name: "x"} for name in collection.filters()]
    shapes += [{f"{name}__in": ["x", "y"]} for name in collection.filters()]
    shapes += [{name: "x"} for name in text_filters(collection)]
    shapes += [{name: "x"} for name in membership_filters(collection)]
    shapes += [{name: "2024"} for name in date_range_filters(collection)]
    shapes += [{"changed_since": "2025-01-01T00:00:00.000000Z"}, {"q": "court"}]
    return shapes


def plan(db, sql: str, params: list) -> list[str]:
    return [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()]


def full_scans(lines: list[str], table: str) -> list[str]:
    """Plan lines reading every row of the table in storage order (an index walk is fine: LIMIT stops it)."""
    return [line for line in lines if re.fullmatch(rf"SCAN {table}( AS \w+)?", line)]


def seeks(lines: list[str], table: str) -> bool:
    return any(line.startswith(f"SEARCH {table} ") for line in lines)


@pytest.mark.parametrize("name", list(COLLECTIONS))
def test_no_list_query_scans_its_table(seed_db_path, name):
    collection = COLLECTIONS[name]
    db = connect(str(seed_db_path), readonly=True)
    sorts = [[(s, d)] for s in collection.sorts for d in (False, True)]
    sorts.append([(collection.sorts[1], False), (collection.sorts[2], True)])  # mixed directions
    shapes = [(args, False) for args in sample_args(collection)]
    shapes.append(({"q": "court"}, True))  # a word in many records: the sort index is walked instead
    for args, many_matches in shapes:
        where, params = conditions(collection, args, many_matches)
        for sort in sorts:
            columns = order_columns(collection, sort)
            for after in (None, ["x"] * len(columns)):
                sql, values = page_sql(collection, where, params, columns, after)
                lines = plan(db, sql, [*values, 51])
                assert not full_scans(lines, collection.table), (args, sort, after, lines)
                if after is not None:  # a later page seeks to the cursor instead of walking up to it
                    assert seeks(lines, collection.table), (args, sort, lines)


@pytest.mark.parametrize("args", [{}, {"date_from": "2025", "date_to": "2025-11"}])
@pytest.mark.parametrize("after", [None, ["2025-01-01", "2025-12-31", "x", "events"]])
def test_timeline_pages_read_each_table_in_index_order(seed_db_path, args, after):
    from api.store.timeline import DATED, page_sql

    db = connect(str(seed_db_path), readonly=True)
    sql, params = page_sql(list(DATED), args, after)
    lines = plan(db, sql, [*params, 51])
    for name in DATED:
        assert not full_scans(lines, name), lines
        assert seeks(lines, name), lines
