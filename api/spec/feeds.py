"""The OpenAPI description of the Atom feeds (api/web/feeds.py)."""

from apispec import APISpec

from api.model.collections import COLLECTIONS
from api.web.atom import ATOM_MEDIA_TYPE
from schemas.feeds import ChangesFeedQuerySchema, collection_feed_query_schema

ATOM_BODY = {
    ATOM_MEDIA_TYPE: {
        "schema": {
            "type": "string",
            "description": "An Atom 1.0 feed (RFC 4287), newest entry first. Each entry has a stable "
            "`id`, `updated` (when the change was recorded, or the record last updated), a "
            '`link rel="alternate"` to the record and a `link rel="related"` to each cited span in '
            "the source viewer; its `summary` quotes those spans.",
        }
    }
}
VALIDATOR = {"schema": {"type": "string"}}
CACHE_HEADERS = {
    "ETag": {"description": "Strong validator of the feed; send it back in If-None-Match.", **VALIDATOR},
    "Last-Modified": {"description": "When the newest entry was recorded.", **VALIDATOR},
    "Cache-Control": {"description": "How long caches may reuse the feed.", **VALIDATOR},
}


def feed_operation(operation_id: str, summary: str, description: str, query, problems: dict) -> dict:
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "description": description,
            "tags": ["feeds"],
            "parameters": [{"in": "query", "schema": query}],
            "responses": {
                "200": {"description": "The feed.", "headers": CACHE_HEADERS, "content": ATOM_BODY},
                "304": {
                    "description": "The copy named by If-None-Match is current.",
                    "headers": CACHE_HEADERS,
                },
                **problems,
            },
        }
    }


def add_feeds(spec: APISpec, problems: dict[str, dict]) -> None:
    """GET /v1/changes.atom and GET /v1/<collection>.atom; problems are described once elsewhere."""
    spec.path(
        path="/v1/changes.atom",
        operations=feed_operation(
            "changes_feed",
            "The change log as an Atom feed",
            "The latest writes, newest first. An entry's id is the record's history URL with the "
            "change's log and sequence number as fragment: stable, and never reused after a rebuild.",
            ChangesFeedQuerySchema,
            problems,
        ),
    )
    for name, collection in COLLECTIONS.items():
        spec.path(
            path=f"/v1/{name}.atom",
            operations=feed_operation(
                f"feed_{name}",
                f"{name.title()} as an Atom feed",
                f"The {name} that the same filters and `q=` select on `/v1/{name}`, most recently "
                "updated first. An entry's id is the record's URL; its `updated` is when the record last "
                "changed.",
                collection_feed_query_schema(collection),
                problems,
            ),
        )
