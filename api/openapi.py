"""The OpenAPI 3.1 description, generated from the marshmallow schemas with apispec.

`icc-events openapi` writes it to openapi.yaml; a test fails when the committed file differs.
"""

import yaml
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask

from api.collections import COLLECTIONS, Collection
from api.openapi_curation import add_curation
from api.openapi_pages import add_pages, add_request_id_header
from api.rows import from_row, to_row
from schemas.problem import ProblemSchema
from schemas.query import list_query_schema

PROBLEM_RESPONSES = {
    "400": "A query parameter is unknown, repeated or invalid; `errors` names each one.",
    "404": "No record has this id.",
    "500": "An unexpected error; details are logged, never sent.",
}
EXAMPLE_BASE_URL = "http://localhost:8000"


def schema_name(collection: Collection) -> str:
    return collection.singular.title()


def problem_response(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


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


def add_collection(spec: APISpec, collection: Collection, example: dict) -> None:
    name = schema_name(collection)
    spec.components.schema(name, schema=type(collection.schema))
    spec.components.schema(
        f"{name}List",
        {
            "type": "object",
            "required": ["data", "links"],
            "additionalProperties": False,
            "properties": {
                "data": {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}},
                "links": {"$ref": "#/components/schemas/PageLinks"},
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
                        "description": f"A page of {collection.name}.",
                        "headers": {
                            "Link": {
                                "description": 'RFC 8288 link to the next page (rel="next"), '
                                "when there is one.",
                                "schema": {"type": "string"},
                            }
                        },
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
                            }
                        },
                    },
                    "400": problem_response(PROBLEM_RESPONSES["400"]),
                    "500": problem_response(PROBLEM_RESPONSES["500"]),
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
                        "schema": {"type": "string"},
                        "example": example["id"],
                    }
                ],
                "responses": {
                    "200": {
                        "description": f"The {collection.singular}.",
                        "headers": {
                            "ETag": {
                                "description": "Strong validator of this record's current version.",
                                "schema": {"type": "string"},
                            }
                        },
                        "content": {
                            "application/json": {
                                "schema": {"$ref": f"#/components/schemas/{name}"},
                                "example": example,
                            }
                        },
                    },
                    "404": problem_response(PROBLEM_RESPONSES["404"]),
                    "500": problem_response(PROBLEM_RESPONSES["500"]),
                },
            }
        },
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
                    "500": problem_response(PROBLEM_RESPONSES["500"]),
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
                        "content": {"application/yaml": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
    )
    add_pages(spec)
    return add_request_id_header(spec.to_dict())


def render_spec(app: Flask) -> str:
    return yaml.safe_dump(build_spec(app), sort_keys=False, allow_unicode=True, width=100)
