"""The OpenAPI description of quote verification, POST /v1/verify (api/web/verify_views.py)."""

from apispec import APISpec

from api.store.quotes import NEAR_THRESHOLD
from schemas.verify import EXAMPLE_PASSAGE, VerifyRequestSchema, VerifyResultSchema

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
EXAMPLE_SOURCE = "trump-campaign-against-icc-faces-resistance"
EXAMPLE_RESULT = {
    "sentences": [
        {
            "sentence": "ICC President Tomoko Akane, a Korean judge, emphasized the court's independence "
            "during the summit.",
            "match": "near",
            "score": 93.8,
            "source_id": EXAMPLE_SOURCE,
            "start": 1678,
            "end": 1777,
            "quote": "ICC President Tomoko Akane, a Japanese judge, emphasized the court's independence "
            "during the summit",
            "url": f"http://localhost:8000/sources/{EXAMPLE_SOURCE}#char=1678,1777",
            "differences": [{"operation": "replace", "passage": "Korean", "source": "Japanese"}],
        },
        {
            "sentence": "The court closed its doors.",
            "match": "none",
            "score": 0.0,
            "source_id": None,
            "start": None,
            "end": None,
            "quote": None,
            "url": None,
            "differences": [],
        },
    ],
    "near_threshold": NEAR_THRESHOLD,
}
PROBLEMS = {
    "400": "The body is not JSON.",
    "413": "The body is larger than the server accepts (64 KiB by default).",
    "415": "The body is not application/json.",
    "422": "The body is not a verification request (`errors` names each field), or its passage has "
    "more sentences than the server checks at once (50 by default).",
    "500": "An unexpected error; details are logged, never sent.",
    "503": "The database is busy or unreadable; retry after `Retry-After` seconds.",
}


def add_verify(spec: APISpec) -> None:
    spec.components.schema("VerifyRequest", schema=VerifyRequestSchema)
    spec.components.schema("VerifyResult", schema=VerifyResultSchema)
    spec.path(
        path="/v1/verify",
        operations={
            "post": {
                "operationId": "verify_quotes",
                "summary": "Check a passage against the sources, sentence by sentence",
                "description": "Public, no token; counts against the expensive-reads rate limit. Each "
                "sentence is `exact` when it appears in a source after normalisation (typographic quotes "
                "and dashes made plain, `…` as `...`, whitespace runs as one space; case kept; opening and "
                "closing quotes and final punctuation left out), `near` when rapidfuzz's partial ratio "
                f"against its best-aligned stretch of a source is at least {NEAR_THRESHOLD:g} (with the "
                "word-level `differences`), otherwise `none`. `start` and `end` are offsets in the "
                "source's own code points: `text[start:end]` is `quote`.",
                "tags": ["verify"],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/VerifyRequest"},
                            "example": {"passage": EXAMPLE_PASSAGE},
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "A verdict per sentence, in the passage's order.",
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/VerifyResult"},
                                "example": EXAMPLE_RESULT,
                            }
                        },
                    },
                    **{
                        status: {"description": description, "content": PROBLEM}
                        for status, description in PROBLEMS.items()
                    },
                },
            }
        },
    )
