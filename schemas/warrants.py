"""Arrest warrants: who, which court, which crimes, which situation, when, and their status."""

from marshmallow import ValidationError, fields, validates_schema

from schemas.common import (
    Code,
    Enum,
    OptionalText,
    PartialDate,
    RecordSchema,
    Reference,
    StrictSchema,
    Text,
)

# Rome Statute art. 6, 7, 8 and 8 bis.
CRIMES = ["genocide", "crimes_against_humanity", "war_crimes", "aggression"]
# The ICC situations the records name so far; the list grows as the court opens situations.
KNOWN_SITUATIONS = ["palestine", "philippines", "afghanistan"]
WARRANT_STATUSES = ["outstanding", "in_custody", "withdrawn", "unknown"]


class WithdrawalAttemptSchema(StrictSchema):
    actor_organization_id = Reference("organizations", allow_none=True, load_default=None)
    actor_official_id = Reference("officials", allow_none=True, load_default=None)
    description = Text(2000, required=True)


class WarrantSchema(RecordSchema):
    title = Text(300, required=True)
    subject_official_id = Reference("officials", allow_none=True, load_default=None)
    subject_description = OptionalText(500)
    court_id = Reference("organizations", required=True)
    crimes = fields.List(Enum(CRIMES), load_default=list)
    crimes_text = OptionalText(1000)
    situation = Code(
        KNOWN_SITUATIONS,
        required=True,
        metadata={"description": "The ICC situation (the court's investigation) the warrant belongs to"},
    )
    situation_text = OptionalText(500)
    issued = PartialDate(required=True)
    status = Enum(WARRANT_STATUSES, required=True)
    status_text = OptionalText(1000)
    withdrawal_attempts = fields.List(fields.Nested(WithdrawalAttemptSchema), load_default=list)

    @validates_schema
    def subject_is_named_or_described(self, data, **kwargs):
        if not data.get("subject_official_id") and not data.get("subject_description"):
            raise ValidationError(
                "A warrant needs subject_official_id or subject_description.", "subject_description"
            )
