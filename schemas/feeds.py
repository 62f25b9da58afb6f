"""Query-string schemas of the Atom feeds: a list's filters and search, without paging or shape."""

from marshmallow import Schema, fields, validate

from api.model.collections import Collection
from schemas.query import list_query_schema

DEFAULT_FEED_ENTRIES = 50
MAX_FEED_ENTRIES = 200
# A feed is the latest entries, newest first: no cursor, sort, shape or format to choose.
NOT_IN_FEEDS = ("cursor", "sort", "facet", "fields", "include", "format")


def entries_limit() -> fields.Int:
    return fields.Int(
        load_default=DEFAULT_FEED_ENTRIES,
        validate=validate.Range(min=1, max=MAX_FEED_ENTRIES),
        metadata={"description": f"How many of the latest entries, 1 to {MAX_FEED_ENTRIES}."},
    )


class ChangesFeedQuerySchema(Schema):
    """GET /v1/changes.atom."""

    limit = entries_limit()


def collection_feed_query_schema(collection: Collection) -> Schema:
    """GET /v1/<collection>.atom: the list's filters and q=, and how many entries."""
    kept = {
        name: field
        for name, field in list_query_schema(collection).declared_fields.items()
        if name not in NOT_IN_FEEDS
    }
    kept["limit"] = entries_limit()
    return Schema.from_dict(kept, name=f"{collection.singular.title()}FeedQuery")()
