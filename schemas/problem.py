"""The problem details body (RFC 9457) every error response carries."""

from marshmallow import Schema, fields


class ProblemSchema(Schema):
    type = fields.Str(required=True, metadata={"example": "about:blank"})
    title = fields.Str(required=True, metadata={"example": "Not Found"})
    status = fields.Int(required=True, metadata={"example": 404})
    detail = fields.Str(required=True, metadata={"example": "No warrant with id 'x'."})
    instance = fields.Str(allow_none=True, metadata={"example": "/v1/warrants/x"})
    errors = fields.Dict(
        keys=fields.Str(),
        values=fields.Str(),
        metadata={"description": "Problem per parameter or field, by name."},
    )
    available = fields.List(
        fields.Str(),
        metadata={"description": "On a 406: the media types this resource can be answered in."},
    )
