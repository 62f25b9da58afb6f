"""The OpenAPI description of the API index at /v1 (api/web/index.py)."""

from apispec import APISpec

from schemas.index import ApiIndexSchema


def add_index(spec: APISpec, problems: dict[str, dict]) -> None:
    """GET /v1; problems are the error responses, described once elsewhere."""
    spec.components.schema("ApiIndex", schema=ApiIndexSchema)
    spec.path(
        path="/v1",
        operations={
            "get": {
                "operationId": "api_index",
                "summary": "The API index",
                "description": "Every collection with the URLs of its list and of one record, and the "
                "URL of every other resource: search, timeline, changes, exports, this description. "
                "Any path of the API with a trailing slash (`/v1/`, `/v1/warrants/`) answers "
                "308 Permanent Redirect to the same path without it, query string, method and body kept.",
                "tags": ["service"],
                "responses": {
                    "200": {
                        "description": "The index.",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/ApiIndex"}}
                        },
                    },
                    **problems,
                },
            }
        },
    )
