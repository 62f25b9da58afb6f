"""Officials: every named person with a role."""

from marshmallow import fields, validate

from schemas.common import Enum, OptionalText, RecordSchema, Reference, Text

WIKIDATA_ID_PATTERN = r"^Q[1-9][0-9]*$"
MAX_ALIASES = 50

OFFICIAL_STATUSES = ["current", "former", "unknown"]


class OfficialSchema(RecordSchema):
    name = Text(300, required=True)
    role = Text(300, required=True)
    organization_id = Reference("organizations", allow_none=True, load_default=None)
    country = OptionalText(100)
    nationality = OptionalText(100)
    status = Enum(OFFICIAL_STATUSES, required=True)
    aliases = fields.List(
        Text(300, min_length=1),
        load_default=list,
        validate=validate.Length(max=MAX_ALIASES),
        metadata={"description": "Other forms of the name the cited sources use for this person."},
    )
    wikidata_id = fields.Str(
        allow_none=True,
        load_default=None,
        validate=validate.Regexp(WIKIDATA_ID_PATTERN),
        metadata={"description": "The person's Wikidata item (Q-id), when a cited source establishes it."},
    )
    description = OptionalText()
