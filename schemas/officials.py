"""Officials: every named person with a role."""

from schemas.common import Enum, OptionalText, RecordSchema, Reference, Text

OFFICIAL_STATUSES = ["current", "former", "unknown"]


class OfficialSchema(RecordSchema):
    name = Text(300, required=True)
    role = Text(300, required=True)
    organization_id = Reference("organizations", allow_none=True, load_default=None)
    country = OptionalText(100)
    nationality = OptionalText(100)
    status = Enum(OFFICIAL_STATUSES, required=True)
    description = OptionalText()
