"""The OpenAPI 3.1 description, generated from the marshmallow schemas with apispec.

`icc-events openapi` writes it to openapi.yaml; a test fails when the committed file differs.
"""

import inspect
import re

import yaml
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from marshmallow import Schema, fields

from api import __version__
from api.config import DEFAULTS
from api.model.collections import COLLECTIONS, Collection
from api.model.links import STORED_ROOT, links_schema, with_links
from api.model.rows import from_row, to_row
from api.spec.annotations import add_annotations
from api.spec.components import (
    CACHE_HEADERS,
    RATE_LIMITED,
    add_shared_components,
    headers,
    query_parameters,
    read_problems,
    response_ref,
)
from api.spec.curation import add_curation
from api.spec.downloads import RANGE_PARAMETERS, add_downloads, range_responses
from api.spec.feeds import add_feeds
from api.spec.html_pages import add_html_pages
from api.spec.index import add_index
from api.spec.pages import add_pages, add_request_id_header
from api.spec.reconcile import add_reconciliation
from api.spec.verify import add_verify
from api.spec.webhooks import add_webhooks
from api.web.ratelimit import budget_of
from api.web.shape import includes
from schemas.problem import ProblemSchema
from schemas.query import SearchQuerySchema, TimelineQuerySchema, item_query_schema, list_query_schema
from schemas.results import SearchHitSchema, TimelineEntrySchema
from seed.loader import read_seed

EXAMPLE_BASE_URL = "http://localhost:8000"


def schema_name(collection: Collection) -> str:
    return collection.singular.title()


def example_records(app: Flask) -> dict[str, dict]:
    """The first seed record of each collection, dumped as the API serves it."""
    records = read_seed()
    examples = {}
    with app.test_request_context(base_url=EXAMPLE_BASE_URL):
        for name, collection in COLLECTIONS.items():
            first = min(records[name], key=lambda r: r["id"])
            record = from_row(collection, to_row(collection, first))
            if name == "sources":
                record["length"] = len(record["text"])
            examples[name] = with_links(collection, collection.schema.dump(record), STORED_ROOT)
    return examples


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


def read_schema(collection: Collection) -> type[Schema]:
    """The collection's schema with `links` described link by link (the record schema leaves it open)."""
    links = fields.Nested(
        links_schema(collection),
        dump_only=True,
        metadata={
            "description": "URLs of this record, of the records it refers to and of those referring to it."
        },
    )
    base = type(collection.schema)
    return type(f"{base.__name__}WithLinks", (base,), {"links": links})


def shaped_schema(spec: APISpec, collection: Collection) -> dict:
    """A record shaped by fields= (only id required) and include= (related records under included)."""
    full = spec.components.schemas[schema_name(collection)]
    included = {}
    for include_name, include in includes(collection).items():
        targets = [ref(schema_name(COLLECTIONS[t])) for t in include.targets(collection)]
        one = targets[0] if len(targets) == 1 else {"anyOf": targets}
        if include.many:
            included[include_name] = {"type": "array", "items": one}
        else:
            included[include_name] = {"anyOf": [*targets, {"type": "null"}]}
    # A default is what a write leaves out gets; a shaped record may leave out any field.
    fields_ = {
        key: {k: v for k, v in value.items() if k != "default"} for key, value in full["properties"].items()
    }
    properties = {
        **fields_,
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


# Query parameters described once under components, by parameter name.
PAGE_SHARED = {"limit": "Limit", "cursor": "Cursor"}


def item_shared(name: str) -> dict[str, str]:
    return {"fields": f"{name}Fields", "include": f"{name}Include", "format": "ItemFormat"}


def list_shared(name: str) -> dict[str, str]:
    shared = {"changed_since": "ChangedSince", "q": "Search", "format": "ListFormat"}
    return {**PAGE_SHARED, **item_shared(name), **shared}


def add_collection(spec: APISpec, collection: Collection, example: dict) -> None:
    name = schema_name(collection)
    spec.components.schema(name, schema=read_schema(collection))
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
                "parameters": [
                    *query_parameters(spec, list_query_schema(collection), list_shared(name)),
                    *RANGE_PARAMETERS,
                ],
                "responses": {
                    "200": {
                        "description": f"A page of {collection.name} (JSON; CSV and NDJSON with limit), "
                        "or every matching record (CSV, NDJSON without limit; streamed). The whole "
                        "collection (no filter, cursor or fields, default sort) is served from a file, "
                        "byte ranges and all. A page's ETag changes with any write to the data, so "
                        "revalidating it reads no record; an export's is a digest of its records.",
                        "headers": headers("Link", *CACHE_HEADERS, "Accept-Ranges"),
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
                    "304": response_ref("NotModified"),
                    **range_responses([*CSV_MEDIA_TYPE, "application/x-ndjson"], headers(*CACHE_HEADERS)),
                    **read_problems("400", "406", "414", "500", "503"),
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
                "description": "The record with `links` to the records it refers to and to those "
                "referring to it. `fields=` and `include=` shape it; `format=` or Accept picks JSON, "
                "CSV or NDJSON.",
                "tags": [tag],
                "parameters": [
                    {
                        "name": "record_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "minLength": 1, "maxLength": DEFAULTS["MAX_ID_LENGTH"]},
                        "example": example["id"],
                    },
                    *query_parameters(spec, item_query_schema(collection), item_shared(name)),
                ],
                "responses": {
                    "200": {
                        "description": f"The {collection.singular}. Without fields= and include=, "
                        "its ETag is the stored record's own digest.",
                        "headers": headers(*CACHE_HEADERS),
                        "content": {
                            "application/json": {"schema": record, "example": example},
                            **export_media_types(record),
                        },
                    },
                    "304": response_ref("NotModified"),
                    **read_problems("400", "404", "406", "414", "500", "503"),
                },
            }
        },
    )


def json_list_operation(
    spec: APISpec, operation_id: str, summary: str, description: str, query, shared: dict, item: str
) -> dict:
    """A GET answering a JSON list of item schemas, with caching and problems."""
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "description": description,
            "tags": ["query"],
            "parameters": query_parameters(spec, query, shared),
            "responses": {
                "200": {
                    "description": summary + ".",
                    "headers": headers("Link", *CACHE_HEADERS),
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
                "304": response_ref("NotModified"),
                **read_problems("400", "414", "500", "503"),
            },
        }
    }


def add_cross_collection_views(spec: APISpec) -> None:
    spec.components.schema("SearchHit", schema=SearchHitSchema)
    spec.components.schema("TimelineEntry", schema=TimelineEntrySchema)
    spec.path(
        path="/v1/search",
        operations=json_list_operation(
            spec,
            "search",
            "Search every collection",
            "English-stemmed words, every one required; any string is a valid query (operators are "
            "taken literally; a trailing * asks for a prefix). Hits ranked by BM25 (a Tantivy index "
            "kept in step with every write), best first, equal ranks in index order, each with a "
            "highlighted snippet. A single word found in (nearly) every record of some fields (a title, "
            "say) of a collection so large that their share of a rank is under 0.001 is ranked by "
            "the other fields; the records that have it only in those fields come after the rest, "
            "ranked by them, none above the last of the rest (a tie keeps that order). "
            "The cursor holds the next hit's position in the ranking, at most "
            "100,000 deep; each page ranks the hits before it again, so a write between pages can "
            "move a hit across the cursor.",
            SearchQuerySchema,
            {"cursor": "Cursor"},
            "SearchHit",
        ),
    )
    spec.path(
        path="/v1/timeline",
        operations=json_list_operation(
            spec,
            "timeline",
            "Timeline of dated records",
            "Events, warrants, sanctions and statements with a known date, earliest first: partial "
            "dates order by their first possible day, then their last. Keyset-paged like the lists.",
            TimelineQuerySchema,
            PAGE_SHARED,
            "TimelineEntry",
        ),
    )


# Objects the document's own schema (the OpenAPI 3.1 one) describes; here only as open objects.
OPEN_OBJECT = {"type": "object", "additionalProperties": True}
OPENAPI_DOCUMENT = {
    "type": "object",
    "description": "An OpenAPI 3.1 document (https://spec.openapis.org/oas/v3.1.0), here this API's.",
    "required": ["openapi", "info", "paths"],
    "properties": {
        "openapi": {"type": "string", "description": "The OpenAPI version.", "example": "3.1.0"},
        "info": {
            "type": "object",
            "required": ["title", "version"],
            "properties": {
                "title": {"type": "string"},
                "version": {"type": "string", "description": "This API's version."},
                "description": {"type": "string"},
            },
            "additionalProperties": True,
        },
        "servers": {"type": "array", "items": OPEN_OBJECT},
        "tags": {"type": "array", "items": OPEN_OBJECT},
        "paths": {
            "type": "object",
            "description": "Path template -> its operations.",
            "additionalProperties": OPEN_OBJECT,
        },
        "components": OPEN_OBJECT,
    },
    "additionalProperties": True,
}
# No public home yet: a url (it must be absolute) belongs here once there is one.
CONTACT = {"name": "icc-events curators"}
# Tags of the operations that are not a collection's, in the order the docs show them.
TAGS = {
    "changes": "The change feed: every write, oldest first, to replay or poll.",
    "query": "Search and the timeline, across collections.",
    "exports": "Whole-database downloads: FollowTheMoney, SQLite, CSV with a data package.",
    "service": "The API index, health and this description.",
    "pages": "HTML pages for people: the landing page, the docs, the source viewer.",
    "feeds": "Atom feeds (RFC 4287) of the change log and of any collection query, for feed readers.",
    "verify": "Quote checking: does a passage appear in a source, exactly, nearly or not at all.",
    "reconciliation": "The W3C Reconciliation API 0.2 (OpenRefine): match names to officials and "
    "organizations.",
}


def add_tags(spec: APISpec) -> None:
    """One tag per collection, described by its schema module's docstring, then the others."""
    for collection in COLLECTIONS.values():
        spec.tag({"name": collection.name, "description": inspect.getmodule(collection.schema).__doc__})
    for name, description in TAGS.items():
        spec.tag({"name": name, "description": description})


def mark_public_operations(spec: dict) -> dict:
    """Reads need no token: each operation that names no security scheme says so, with security: []."""
    for item in spec["paths"].values():
        for operation in item.values():
            operation.setdefault("security", [])
    return spec


def build_spec(app: Flask) -> dict:
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
            "contact": CONTACT,
        },
        servers=[{"url": "/"}],
    )
    add_tags(spec)
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
    spec.components.schema("OpenApiDocument", OPENAPI_DOCUMENT)
    examples = example_records(app)
    for collection in COLLECTIONS.values():
        add_collection(spec, collection, examples[collection.name])
    add_curation(spec, examples, schema_name)
    add_cross_collection_views(spec)
    add_downloads(spec, read_problems("400", "414", "500", "503"))
    add_annotations(spec, read_problems("404", "414", "500", "503"))
    add_index(spec, read_problems("414", "500"))
    add_reconciliation(spec, read_problems("400", "414", "500", "503"))
    add_webhooks(spec)
    add_feeds(spec, read_problems("400", "414", "500", "503"))
    add_verify(spec)
    spec.path(
        path="/healthz",
        operations={
            "get": {
                "operationId": "healthz",
                "summary": "Health check",
                "description": "200 while the service runs and its database answers a query; "
                "for load balancers and monitors. Never rate-limited.",
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
                    **read_problems("414", "500", "503"),
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
                "description": "The contract this server implements: the openapi.yaml committed with "
                "its code, which /docs renders.",
                "tags": ["service"],
                "responses": {
                    "200": {
                        "description": "The OpenAPI 3.1 description, as committed.",
                        # YAML text; the schema is that of the document it parses to, which is what
                        # a client that parses it (and Schemathesis) validates.
                        "content": {"application/yaml": {"schema": ref("OpenApiDocument")}},
                    },
                    **read_problems("414"),
                },
            }
        },
    )
    add_pages(spec)
    add_html_pages(spec, {name: example["id"] for name, example in examples.items()})
    described = add_shared_components(add_header_cap_responses(add_rate_limit_responses(spec.to_dict(), app)))
    return mark_public_operations(add_request_id_header(described))


def add_header_cap_responses(spec: dict) -> dict:
    """A 431 on every operation: api/web/security.py checks the headers' size before any route runs."""
    for operations in spec["paths"].values():
        for operation in operations.values():
            responses = {**operation["responses"], "431": response_ref("HeadersTooLarge")}
            operation["responses"] = dict(sorted(responses.items()))
    return spec


def add_rate_limit_responses(spec: dict, app: Flask) -> dict:
    """A 429 on exactly the operations that spend a rate-limit budget, as api/web/ratelimit.py decides."""
    routes = app.url_map.bind("localhost")
    for path, operations in spec["paths"].items():
        url = re.sub(r"\{[^}/]+\}", "x", path)
        for method, operation in operations.items():
            endpoint, _ = routes.match(url, method.upper())
            if budget := budget_of(endpoint):
                responses = {**operation["responses"], "429": response_ref(RATE_LIMITED[budget])}
                operation["responses"] = dict(sorted(responses.items()))
    return spec


def render_spec(app: Flask) -> str:
    return yaml.safe_dump(build_spec(app), sort_keys=False, allow_unicode=True, width=100)
