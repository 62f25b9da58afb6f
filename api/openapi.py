"""The OpenAPI 3.1 description, generated from the marshmallow schemas with apispec.

`icc-events openapi` writes it to openapi.yaml; a test fails when the committed file differs.
"""

import re

import yaml
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask

from api.collections import COLLECTIONS, Collection
from api.config import DEFAULTS
from api.openapi_annotations import add_annotations
from api.openapi_curation import add_curation
from api.openapi_downloads import add_downloads
from api.openapi_index import add_index
from api.openapi_pages import add_pages, add_request_id_header
from api.ratelimit import budget_of, documented_response
from api.rows import from_row, to_row
from schemas.problem import ProblemSchema
from schemas.query import SearchQuerySchema, TimelineQuerySchema, item_query_schema, list_query_schema
from schemas.results import SearchHitSchema, TimelineEntrySchema

PROBLEM_RESPONSES = {
    "400": "A query parameter is unknown, repeated or invalid, or an id is too long; "
    "`errors` names each one.",
    "404": "No record has this id.",
    "406": "None of the formats the Accept header allows is offered (JSON, CSV, NDJSON).",
    "414": "The query string is longer than the server accepts "
    f"({DEFAULTS['MAX_QUERY_STRING_LENGTH']} bytes by default).",
    "500": "An unexpected error; details are logged, never sent.",
    "503": "The database is busy, read-only, full or unreadable; retry after `Retry-After` seconds.",
}
RETRY_AFTER = {"description": "Seconds to wait before retrying.", "schema": {"type": "string"}}

EXAMPLE_BASE_URL = "http://localhost:8000"


def schema_name(collection: Collection) -> str:
    return collection.singular.title()


def problem_response(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def problem_responses(*keys: str) -> dict:
    """The documented problem responses by status; 503 with its Retry-After header.

    429s are added by add_rate_limit_responses, to the operations the limiter counts.
    """
    responses = {}
    for key in keys:
        response = problem_response(PROBLEM_RESPONSES[key])
        if key == "503":
            response["headers"] = {"Retry-After": RETRY_AFTER}
        responses[key] = response
    return responses


def example_records(app: Flask) -> dict[str, dict]:
    """The first seed record of each collection, dumped as the API serves it."""
    from api.links import with_links
    from seed.loader import read_seed

    records = read_seed()
    examples = {}
    with app.test_request_context(base_url=EXAMPLE_BASE_URL):
        for name, collection in COLLECTIONS.items():
            first = min(records[name], key=lambda r: r["id"])
            record = from_row(collection, to_row(collection, first))
            if name == "sources":
                record["length"] = len(record["text"])
            examples[name] = with_links(collection, collection.schema.dump(record))
    return examples


CACHE_HEADERS = {
    "ETag": {
        "description": "Strong validator of this representation; send it back in If-None-Match.",
        "schema": {"type": "string"},
    },
    "Last-Modified": {
        "description": "The latest updated_at of the records in the representation.",
        "schema": {"type": "string"},
    },
    "Cache-Control": {"description": "How long caches may reuse the response.", "schema": {"type": "string"}},
}
NEXT_LINK = {
    "Link": {
        "description": 'RFC 8288 link to the next page (rel="next"), when there is one.',
        "schema": {"type": "string"},
    }
}
NOT_MODIFIED = {
    "description": "The copy named by If-None-Match (or If-Modified-Since) is current; no body.",
    "headers": CACHE_HEADERS,
}


def export_media_types(record: dict) -> dict:
    """CSV and NDJSON bodies; x-line-schema describes each NDJSON line (OpenAPI 3.1 has no itemSchema)."""
    return {
        **CSV_MEDIA_TYPE,
        "application/x-ndjson": {
            "schema": {"type": "string", "description": "One JSON record per line."},
            "x-line-schema": record,
        },
    }


CSV_MEDIA_TYPE = {
    "text/csv": {
        "schema": {
            "type": "string",
            "description": "RFC 4180, UTF-8, a header row; partial dates as field.part columns, "
            "lists and objects as JSON text.",
        }
    },
}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def shaped_schema(spec: APISpec, collection: Collection) -> dict:
    """A record shaped by fields= (only id required) and include= (related records under included)."""
    from api.shape import includes

    full = spec.components.schemas[schema_name(collection)]
    included = {}
    for include_name, include in includes(collection).items():
        targets = [ref(schema_name(COLLECTIONS[t])) for t in include.targets(collection)]
        one = targets[0] if len(targets) == 1 else {"anyOf": targets}
        if include.many:
            included[include_name] = {"type": "array", "items": one}
        else:
            included[include_name] = {"anyOf": [*targets, {"type": "null"}]}
    properties = {
        **full["properties"],
        "included": {"type": "object", "additionalProperties": False, "properties": included},
    }
    return {"type": "object", "required": ["id"], "additionalProperties": False, "properties": properties}


def facets_schema() -> dict:
    count = {
        "type": "object",
        "required": ["value", "count"],
        "additionalProperties": False,
        "properties": {"value": {"type": ["string", "null"]}, "count": {"type": "integer"}},
    }
    return {
        "type": "object",
        "description": "Per facet= field, the number of matching records per value, most frequent first.",
        "additionalProperties": {"type": "array", "items": count},
    }


def add_collection(spec: APISpec, collection: Collection, example: dict) -> None:
    name = schema_name(collection)
    spec.components.schema(name, schema=type(collection.schema))
    spec.components.schema(f"{name}Shaped", shaped_schema(spec, collection))
    record = {"anyOf": [ref(name), ref(f"{name}Shaped")]}
    spec.components.schema(
        f"{name}List",
        {
            "type": "object",
            "required": ["data", "links"],
            "additionalProperties": False,
            "properties": {
                "data": {"type": "array", "items": record},
                "links": {"$ref": "#/components/schemas/PageLinks"},
                "facets": facets_schema(),
            },
        },
    )
    tag = collection.name
    spec.path(
        path=f"/v1/{collection.name}",
        operations={
            "get": {
                "operationId": f"list_{collection.name}",
                "summary": f"List {collection.name}",
                "description": "Keyset-paged: follow `links.next` (also in the `Link` header) "
                "until it is null.",
                "tags": [tag],
                "parameters": [{"in": "query", "schema": list_query_schema(collection)}],
                "responses": {
                    "200": {
                        "description": f"A page of {collection.name} (JSON; CSV and NDJSON with limit), "
                        "or every matching record (CSV, NDJSON without limit; streamed).",
                        "headers": {**NEXT_LINK, **CACHE_HEADERS},
                        "content": {
                            "application/json": {
                                "schema": {"$ref": f"#/components/schemas/{name}List"},
                                "example": {
                                    "data": [example],
                                    "links": {
                                        "self": f"{EXAMPLE_BASE_URL}/v1/{collection.name}?limit=1",
                                        "next": None,
                                    },
                                },
                            },
                            **export_media_types(record),
                        },
                    },
                    "304": NOT_MODIFIED,
                    **problem_responses("400", "406", "414", "500", "503"),
                },
            }
        },
    )
    spec.path(
        path=f"/v1/{collection.name}/{{record_id}}",
        operations={
            "get": {
                "operationId": f"get_{collection.singular}",
                "summary": f"Get one {collection.singular}",
                "tags": [tag],
                "parameters": [
                    {
                        "name": "record_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "minLength": 1, "maxLength": DEFAULTS["MAX_ID_LENGTH"]},
                        "example": example["id"],
                    },
                    {"in": "query", "schema": item_query_schema(collection)},
                ],
                "responses": {
                    "200": {
                        "description": f"The {collection.singular}. Without fields= and include=, "
                        "its ETag is the stored record's own digest.",
                        "headers": CACHE_HEADERS,
                        "content": {
                            "application/json": {"schema": record, "example": example},
                            **export_media_types(record),
                        },
                    },
                    "304": NOT_MODIFIED,
                    **problem_responses("400", "404", "406", "414", "500", "503"),
                },
            }
        },
    )


def json_list_operation(operation_id: str, summary: str, description: str, query, item: str) -> dict:
    """A GET answering a JSON list of item schemas, with caching and problems."""
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "description": description,
            "tags": ["query"],
            "parameters": [{"in": "query", "schema": query}],
            "responses": {
                "200": {
                    "description": summary + ".",
                    "headers": {**NEXT_LINK, **CACHE_HEADERS},
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["data", "links"],
                                "additionalProperties": False,
                                "properties": {
                                    "data": {"type": "array", "items": ref(item)},
                                    "links": ref("PageLinks"),
                                },
                            }
                        }
                    },
                },
                "304": NOT_MODIFIED,
                **problem_responses("400", "414", "500", "503"),
            },
        }
    }


def add_cross_collection_views(spec: APISpec) -> None:
    spec.components.schema("SearchHit", schema=SearchHitSchema)
    spec.components.schema("TimelineEntry", schema=TimelineEntrySchema)
    spec.path(
        path="/v1/search",
        operations=json_list_operation(
            "search",
            "Search every collection",
            "SQLite FTS5 with the porter stemmer; any string is a valid query (operators are taken "
            "literally). Hits ranked by bm25, best first, each with a highlighted snippet; keyset-paged "
            "like the lists (equal ranks by collection, then id). Every page ranks all matches again, "
            "so a write between pages can move a hit across the cursor.",
            SearchQuerySchema,
            "SearchHit",
        ),
    )
    spec.path(
        path="/v1/timeline",
        operations=json_list_operation(
            "timeline",
            "Timeline of dated records",
            "Events, warrants, sanctions and statements with a known date, earliest first: partial "
            "dates order by their first possible day, then their last. Keyset-paged like the lists.",
            TimelineQuerySchema,
            "TimelineEntry",
        ),
    )


def build_spec(app: Flask) -> dict:
    from api import __version__

    spec = APISpec(
        title="icc-events",
        version=__version__,
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "Open data about the International Criminal Court: arrest warrants, "
            "sanctions against the court's people, the officials involved and what they said. "
            "Every record cites the exact characters of its source.",
            "license": {"name": "CC-BY-4.0", "identifier": "CC-BY-4.0"},
        },
        servers=[{"url": "/"}],
    )
    spec.components.schema("Problem", schema=ProblemSchema)
    spec.components.schema(
        "PageLinks",
        {
            "type": "object",
            "required": ["self", "next"],
            "additionalProperties": False,
            "properties": {
                "self": {"type": "string", "format": "uri"},
                "next": {"type": ["string", "null"], "format": "uri"},
            },
        },
    )
    examples = example_records(app)
    for collection in COLLECTIONS.values():
        add_collection(spec, collection, examples[collection.name])
    add_curation(spec, examples, schema_name)
    add_cross_collection_views(spec)
    add_downloads(spec, problem_responses("400", "414", "500", "503"))
    add_annotations(spec, problem_responses("404", "414", "500", "503"))
    add_index(spec, problem_responses("414", "500"))
    spec.path(
        path="/healthz",
        operations={
            "get": {
                "operationId": "healthz",
                "summary": "Health check",
                "tags": ["service"],
                "responses": {
                    "200": {
                        "description": "The service is up and its database answers.",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["status"],
                                    "properties": {"status": {"type": "string", "const": "ok"}},
                                }
                            }
                        },
                    },
                    **problem_responses("414", "500", "503"),
                },
            }
        },
    )
    spec.path(
        path="/openapi.yaml",
        operations={
            "get": {
                "operationId": "openapi",
                "summary": "This OpenAPI description",
                "tags": ["service"],
                "responses": {
                    "200": {
                        "description": "The OpenAPI 3.1 description, as committed.",
                        # The body is YAML text whose document is a mapping, which is what
                        # a client that parses it (and Schemathesis) validates.
                        "content": {
                            "application/yaml": {
                                "schema": {"type": "object", "required": ["openapi", "info", "paths"]}
                            }
                        },
                    },
                    **problem_responses("414"),
                },
            }
        },
    )
    add_pages(spec)
    return add_request_id_header(add_rate_limit_responses(spec.to_dict(), app))


def add_rate_limit_responses(spec: dict, app: Flask) -> dict:
    """A 429 on exactly the operations that spend a rate-limit budget, as api/ratelimit.py decides."""
    routes = app.url_map.bind("localhost")
    for path, operations in spec["paths"].items():
        url = re.sub(r"\{[^}/]+\}", "x", path)
        for method, operation in operations.items():
            endpoint, _ = routes.match(url, method.upper())
            if budget := budget_of(endpoint):
                responses = {**operation["responses"], "429": documented_response(budget)}
                operation["responses"] = dict(sorted(responses.items()))
    return spec


def render_spec(app: Flask) -> str:
    return yaml.safe_dump(build_spec(app), sort_keys=False, allow_unicode=True, width=100)
