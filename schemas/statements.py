"""Statements: who said what, how the source reports it, when, and about what."""

from marshmallow import ValidationError, fields, validates_schema

from schemas.common import (
    Enum,
    OptionalText,
    PartialDate,
    RecordSchema,
    Reference,
    References,
    Slug,
    Text,
)

STATEMENT_KINDS = ["quote", "paraphrase", "reported"]


class StatementSchema(RecordSchema):
    speaker_official_id = Reference("officials", allow_none=True, load_default=None)
    speaker_organization_id = Reference("organizations", allow_none=True, load_default=None)
    summary = Text(5000, required=True)
    quote = OptionalText(5000)
    kind = Enum(STATEMENT_KINDS, required=True)
    reported_by_id = Reference("organizations", allow_none=True, load_default=None)
    said = PartialDate(required=True)
    about = OptionalText(500)
    topics = fields.List(Slug(), load_default=list)
    warrant_ids = References("warrants")
    sanction_ids = References("sanctions")
    event_id = Reference("events", allow_none=True, load_default=None)

    @validates_schema
    def has_speaker(self, data, **kwargs):
        if not data.get("speaker_official_id") and not data.get("speaker_organization_id"):
            raise ValidationError(
                "A statement needs speaker_official_id or speaker_organization_id.",
                "speaker_official_id",
            )

    @validates_schema
    def reported_names_its_outlet(self, data, **kwargs):
        if (data.get("kind") == "reported") != bool(data.get("reported_by_id")):
            raise ValidationError(
                "reported_by_id is required for, and only for, kind 'reported'.", "reported_by_id"
            )
