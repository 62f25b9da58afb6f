"""The OpenAPI description of the Reconciliation API under /v1/reconcile (api/web/reconcile.py)."""

from apispec import APISpec

from api.model.matching import MIN_SCORE, PROPERTIES
from schemas.reconcile import (
    MAX_BATCH,
    MAX_CURSOR,
    CandidateSchema,
    QueryResultSchema,
    SuggestionSchema,
    SuggestResultSchema,
    TypeSchema,
)

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
ANY_ORIGIN = {
    "Access-Control-Allow-Origin": {
        "description": "Always `*`: the Reconciliation API 0.2 requires CORS on every endpoint.",
        "schema": {"type": "string", "const": "*"},
    }
}
MANIFEST = {
    "type": "object",
    "description": "The service manifest (Reconciliation API 0.2).",
    "required": ["versions", "name", "identifierSpace", "schemaSpace"],
    "properties": {
        "versions": {"type": "array", "items": {"type": "string"}},
        "name": {"type": "string"},
        "identifierSpace": {"type": "string"},
        "schemaSpace": {"type": "string"},
        "documentation": {"type": "string"},
        "serviceVersion": {"type": "string"},
        "defaultTypes": {"type": "array", "items": {"$ref": "#/components/schemas/ReconcileType"}},
        "view": {"type": "object", "required": ["url"], "properties": {"url": {"type": "string"}}},
        "preview": {
            "type": "object",
            "required": ["url", "width", "height"],
            "properties": {
                "url": {"type": "string"},
                "width": {"type": "integer"},
                "height": {"type": "integer"},
            },
        },
        "suggest": {"type": "object"},
    },
}
BATCH = {
    "type": "object",
    "description": "Query key -> its candidates, best first.",
    "additionalProperties": {"$ref": "#/components/schemas/ReconcileQueryResult"},
}
QUERIES_DESCRIPTION = (
    f"A JSON object of at most {MAX_BATCH} queries by key, as Reconciliation API 0.2 defines them: "
    '`{"q0": {"query": "Netanyahu", "type": "official", "limit": 3, "properties": '
    '[{"pid": "country", "v": "Israel"}]}}`. Properties narrow the candidates to records with that '
    f"value (accents and case ignored): {', '.join(f'`{pid}`' for pid in PROPERTIES)}."
)
MATCHING = (
    "Names and aliases are compared after Unicode NFKD, dropping combining marks, casefolding and "
    "collapsing whitespace. `score` is 100 for an exact name or alias, otherwise rapidfuzz's WRatio "
    f"(at most 99); candidates below {MIN_SCORE} are left out. `match` is true only for the one candidate "
    "whose name or alias equals the query, when no other allowed candidate has it too."
)


def operation(operation_id: str, summary: str, description: str, responses: dict, **extra) -> dict:
    return {
        "operationId": operation_id,
        "summary": summary,
        "description": description,
        "tags": ["reconciliation"],
        **extra,
        "responses": responses,
    }


def json_ok(description: str, schema: dict) -> dict:
    return {
        "description": description,
        "headers": ANY_ORIGIN,
        "content": {"application/json": {"schema": schema}},
    }


def problems_with_cors(problems: dict, **more: str) -> dict:
    """The shared problem responses (references, left as they are) and this API's own, with CORS."""
    own = {
        status: {"description": text, "headers": ANY_ORIGIN, "content": PROBLEM}
        for status, text in more.items()
    }
    return dict(sorted({**problems, **own}.items()))


def add_reconciliation(spec: APISpec, problems: dict[str, dict]) -> None:
    """The /v1/reconcile operations; problems are the shared error responses (400, 414, 500, 503)."""
    spec.components.schema("ReconcileType", schema=TypeSchema)
    spec.components.schema("ReconcileCandidate", schema=CandidateSchema)
    spec.components.schema("ReconcileQueryResult", schema=QueryResultSchema)
    spec.components.schema("ReconcileSuggestion", schema=SuggestionSchema)
    spec.components.schema("ReconcileSuggestResult", schema=SuggestResultSchema)
    spec.components.schema("ReconcileManifest", MANIFEST)
    spec.components.schema("ReconcileResultBatch", BATCH)
    queries = {"name": "queries", "in": "query", "required": False, "schema": {"type": "string"}}
    batch_errors = problems_with_cors(
        problems, **{"413": f"More than {MAX_BATCH} queries in the batch, or a body over 256 KiB."}
    )
    spec.path(
        path="/v1/reconcile",
        operations={
            "get": operation(
                "reconcile",
                "Reconciliation service: manifest, or a batch of queries",
                "With no parameters, the service manifest (versions, types, view, preview and suggest "
                "URLs). With `queries`, the candidates for each query. " + MATCHING,
                {
                    "200": json_ok(
                        "The manifest, or the results keyed like the queries.",
                        {
                            "oneOf": [
                                {"$ref": "#/components/schemas/ReconcileManifest"},
                                {"$ref": "#/components/schemas/ReconcileResultBatch"},
                            ]
                        },
                    ),
                    **batch_errors,
                },
                parameters=[
                    {**queries, "description": QUERIES_DESCRIPTION, "example": '{"q0":{"query":"Netanyahu"}}'}
                ],
            ),
            "post": operation(
                "reconcile_batch",
                "Reconcile a batch of queries (form field)",
                "The same batch as GET `queries=`, sent as a form field, as OpenRefine does. " + MATCHING,
                {
                    "200": json_ok(
                        "The results keyed like the queries (the manifest when no queries field is sent).",
                        {
                            "oneOf": [
                                {"$ref": "#/components/schemas/ReconcileResultBatch"},
                                {"$ref": "#/components/schemas/ReconcileManifest"},
                            ]
                        },
                    ),
                    **problems_with_cors(
                        batch_errors, **{"415": "The body is not a form (urlencoded or multipart)."}
                    ),
                },
                requestBody={
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "queries": {"type": "string", "description": QUERIES_DESCRIPTION}
                                },
                            }
                        }
                    },
                },
            ),
        },
    )
    spec.path(
        path="/v1/reconcile/suggest/entity",
        operations={
            "get": operation(
                "reconcile_suggest_entity",
                "Suggest officials and organizations by prefix",
                "Records whose name or alias, or a word of it, starts with `prefix` (accents and case "
                "ignored), or whose id is `prefix`; ten a page, `cursor` skips that many.",
                {
                    "200": json_ok("Suggestions.", {"$ref": "#/components/schemas/ReconcileSuggestResult"}),
                    **problems_with_cors(problems),
                },
                parameters=[
                    {
                        "name": "prefix",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string", "maxLength": 300},
                    },
                    {
                        "name": "cursor",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 0, "maximum": MAX_CURSOR},
                    },
                ],
            )
        },
    )
    spec.path(
        path="/v1/reconcile/preview",
        operations={
            "get": operation(
                "reconcile_preview",
                "HTML preview of an official or organization",
                "A small HTML card (no scripts or styles) for a client's iframe; the id is a "
                "reconciliation id such as `officials/donald-trump`.",
                {
                    "200": {
                        "description": "The preview.",
                        "headers": ANY_ORIGIN,
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    },
                    **problems_with_cors(problems, **{"404": "No official or organization has this id."}),
                },
                parameters=[
                    {
                        "name": "id",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string", "minLength": 1, "maxLength": 300},
                        "example": "officials/donald-trump",
                    }
                ],
            )
        },
    )
