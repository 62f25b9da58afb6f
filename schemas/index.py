"""The API index at /v1: every collection and every other top-level resource, with its URL."""

from marshmallow import Schema, fields


class IndexCollectionSchema(Schema):
    name = fields.Str(required=True, metadata={"example": "warrants"})
    # format uri, not marshmallow's Url ("url" is no JSON Schema format, so linters refuse the examples).
    url = fields.Str(
        required=True, metadata={"format": "uri", "example": "http://localhost:8000/v1/warrants"}
    )
    item_url = fields.Str(
        required=True,
        metadata={
            "description": "URI template (RFC 6570) of one record.",
            "example": "http://localhost:8000/v1/warrants/{id}",
        },
    )


class ApiIndexSchema(Schema):
    collections = fields.List(fields.Nested(IndexCollectionSchema), required=True)
    links = fields.Dict(
        keys=fields.Str(),
        values=fields.Str(metadata={"format": "uri"}),
        required=True,
        metadata={
            "description": "self, then every other resource under /v1 by its path (search, timeline, "
            "changes, export/ftm...), then openapi and docs.",
            "example": {
                "self": "http://localhost:8000/v1",
                "search": "http://localhost:8000/v1/search",
                "openapi": "http://localhost:8000/openapi.yaml",
            },
        },
    )
