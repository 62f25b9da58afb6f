"""POST /v1/verify: the passage to check, and a verdict per sentence."""

from marshmallow import Schema, ValidationError, fields, validate, validates

from api.store.quotes import NEAR_THRESHOLD
from schemas.common import SLUG_PATTERN

MAX_PASSAGE_CHARS = 20_000
EXAMPLE_PASSAGE = (
    "ICC President Tomoko Akane, a Korean judge, emphasized the court's independence during the summit. "
    "The court closed its doors."
)


class VerifyRequestSchema(Schema):
    passage = fields.Str(
        required=True,
        validate=validate.Length(min=1, max=MAX_PASSAGE_CHARS),
        metadata={
            "description": "The text to check, split into sentences at . ! ? (not after Mr., U.S. and "
            "the like) and at blank lines.",
            "example": EXAMPLE_PASSAGE,
        },
    )
    source_id = fields.Str(
        validate=[validate.Length(min=1, max=200), validate.Regexp(SLUG_PATTERN)],
        metadata={"description": "Only look in this source (default: the sources sharing words with it)."},
    )

    @validates("passage")
    def has_words(self, value: str, **kwargs) -> None:
        if not value.strip():
            raise ValidationError("Has no words to check.")


class DifferenceSchema(Schema):
    operation = fields.Str(
        required=True,
        validate=validate.OneOf(["replace", "delete", "insert"]),
        metadata={
            "description": "replace: other words; delete: only in the passage; insert: only in the source."
        },
    )
    passage = fields.Str(required=True, metadata={"description": "The passage's words (empty for insert)."})
    source = fields.Str(required=True, metadata={"description": "The source's words (empty for delete)."})


class SentenceVerdictSchema(Schema):
    sentence = fields.Str(required=True, metadata={"description": "The sentence, as split from the passage."})
    match = fields.Str(
        required=True,
        validate=validate.OneOf(["exact", "near", "none"]),
        metadata={
            "description": "exact after normalisation, near (score at or above the threshold), or none."
        },
    )
    score = fields.Float(
        required=True, metadata={"description": "rapidfuzz partial ratio, 0-100 (exact: 100)."}
    )
    source_id = fields.Str(required=True, allow_none=True)
    start = fields.Int(
        required=True, allow_none=True, metadata={"description": "Offset in the source's code points."}
    )
    end = fields.Int(required=True, allow_none=True, metadata={"description": "Exclusive end offset."})
    quote = fields.Str(
        required=True, allow_none=True, metadata={"description": "The source's text[start:end], verbatim."}
    )
    url = fields.Str(
        required=True,
        allow_none=True,
        metadata={"description": "The span in the source viewer (RFC 5147 #char=start,end)."},
    )
    differences = fields.List(fields.Nested(DifferenceSchema), required=True)


class VerifyResultSchema(Schema):
    sentences = fields.List(fields.Nested(SentenceVerdictSchema), required=True)
    near_threshold = fields.Float(
        required=True, metadata={"description": "The least score of a near match.", "example": NEAR_THRESHOLD}
    )
