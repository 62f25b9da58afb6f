"""Response schemas of the cross-collection views: search hits and timeline entries."""

from marshmallow import Schema, fields

from schemas.common import PartialDateSchema


class SearchHitSchema(Schema):
    collection = fields.Str(required=True)
    id = fields.Str(required=True)
    label = fields.Str(required=True, metadata={"description": "The record's title, name or summary."})
    snippet = fields.Str(
        required=True,
        metadata={"description": "The best-matching passage, matches wrapped in <mark>...</mark>."},
    )
    rank = fields.Float(required=True, metadata={"description": "BM25 score, negated: lower is better."})
    url = fields.Str(required=True)


class TimelineEntrySchema(Schema):
    collection = fields.Str(required=True)
    id = fields.Str(required=True)
    label = fields.Str(required=True, metadata={"description": "The record's title or summary."})
    date = fields.Nested(PartialDateSchema, required=True)
    url = fields.Str(required=True)
