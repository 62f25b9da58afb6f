"""The OpenAPI description of GET /v1/<collection>/<id>/annotations (api/web/annotations.py)."""

from apispec import APISpec

from api.model.collections import COLLECTIONS
from api.web.annotations import JSON_LD

SELECTORS = {
    "TextQuoteSelector": {
        "type": "object",
        "required": ["type", "exact", "prefix", "suffix"],
        "properties": {
            "type": {"const": "TextQuoteSelector"},
            "exact": {"type": "string"},
            "prefix": {"type": "string"},
            "suffix": {"type": "string"},
        },
    },
    "TextPositionSelector": {
        "type": "object",
        "required": ["type", "start", "end"],
        "properties": {
            "type": {"const": "TextPositionSelector"},
            "start": {"type": "integer", "minimum": 0},
            "end": {"type": "integer", "minimum": 1},
        },
    },
}

ANNOTATION = {
    "type": "object",
    "required": ["id", "type", "motivation", "body", "target"],
    "properties": {
        "id": {"type": "string", "format": "uri"},
        "type": {"const": "Annotation"},
        "motivation": {"const": "describing"},
        "body": {
            "type": "object",
            "description": "The record the span backs, the fields it supports and their basis.",
            "required": ["type", "source", "supports", "basis"],
            "properties": {
                "type": {"const": "SpecificResource"},
                "source": {"type": "string", "format": "uri"},
                "purpose": {"const": "describing"},
                "supports": {"type": "array", "items": {"type": "string"}},
                "basis": {"enum": ["stated", "attributed", "inferred", None]},
                "attributed_to": {"type": "string"},
                "reasoning": {"type": "string"},
            },
        },
        "target": {
            "type": "object",
            "required": ["source", "selector"],
            "properties": {
                "source": {"type": "string", "format": "uri"},
                "selector": {
                    "type": "array",
                    "prefixItems": [
                        {"$ref": "#/components/schemas/TextQuoteSelector"},
                        {"$ref": "#/components/schemas/TextPositionSelector"},
                    ],
                    # Any selector of the two kinds (only the two above, as maxItems says).
                    "items": {
                        "anyOf": [
                            {"$ref": "#/components/schemas/TextQuoteSelector"},
                            {"$ref": "#/components/schemas/TextPositionSelector"},
                        ]
                    },
                    "minItems": 2,
                    "maxItems": 2,
                },
            },
        },
    },
}

COLLECTION = {
    "type": "object",
    "required": ["@context", "id", "type", "total", "first"],
    "properties": {
        "@context": {
            "type": "array",
            "prefixItems": [{"const": "http://www.w3.org/ns/anno.jsonld"}],
            # After the Web Annotation context, this API's own terms (supports, basis...) as a map.
            "items": {"type": "object", "additionalProperties": {"type": "string"}},
        },
        "id": {"type": "string", "format": "uri"},
        "type": {"const": "AnnotationCollection"},
        "label": {"type": "string"},
        "total": {"type": "integer", "minimum": 0},
        "first": {
            "type": "object",
            "required": ["type", "items"],
            "properties": {
                "type": {"const": "AnnotationPage"},
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Annotation"}},
            },
        },
    },
}

COLLECTION_REF = "#/components/schemas/AnnotationCollection"
DESCRIPTION = (
    "Each citation of the record as a W3C Web Annotation (JSON-LD): the target is the span of the "
    "source, chosen by a TextQuoteSelector (the quote with its prefix and suffix) and a "
    "TextPositionSelector (start and end, in Unicode code points of the source text, end exclusive); "
    "the body names the record, the fields the span supports and their basis (stated, attributed, "
    "inferred)."
)


def add_annotations(spec: APISpec, problems: dict[str, dict]) -> None:
    """The annotations operation of every collection whose records cite sources."""
    for name, schema in SELECTORS.items():
        spec.components.schema(name, schema)
    spec.components.schema("Annotation", ANNOTATION)
    spec.components.schema("AnnotationCollection", COLLECTION)
    for collection in COLLECTIONS.values():
        if "citations" not in collection.schema.fields:
            continue
        spec.path(
            path=f"/v1/{collection.name}/{{record_id}}/annotations",
            operations={
                "get": {
                    "operationId": f"annotations_{collection.singular}",
                    "summary": f"A {collection.singular}'s citations as Web Annotations",
                    "description": DESCRIPTION,
                    "tags": [collection.name],
                    "parameters": [
                        {"name": "record_id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": {
                            "description": "An AnnotationCollection of the record's citations, "
                            f"served as `{JSON_LD}`.",
                            "content": {"application/ld+json": {"schema": {"$ref": COLLECTION_REF}}},
                        },
                        **problems,
                    },
                }
            },
        )
