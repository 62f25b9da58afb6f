"""Sources: the articles every citation points into, with their full text and sha256."""

from marshmallow import fields

from schemas.common import OptionalText, PartialDate, References, Slug, StrictSchema, Text

MAX_SOURCE_TEXT = 1_000_000


class SourceSchema(StrictSchema):
    id = Slug(required=True)
    title = Text(500, required=True)
    text = Text(MAX_SOURCE_TEXT, required=True)
    sha256 = fields.Str(dump_only=True)
    length = fields.Int(dump_only=True)
    url = fields.Url(allow_none=True, load_default=None)
    publisher = OptionalText(300)
    published = PartialDate(required=True)
    outlets_cited = References("organizations")
    notes = OptionalText()
    created_at = fields.Str(dump_only=True)
    updated_at = fields.Str(dump_only=True)
    links = fields.Dict(keys=fields.Str(), dump_only=True)
