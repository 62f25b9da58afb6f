"""Events: the timeline of what happened, where and to whom."""

from schemas.common import Enum, OptionalText, PartialDate, RecordSchema, References, Text

EVENT_TYPES = [
    "assembly",
    "hearing",
    "arrest",
    "warrant_issued",
    "sanctions_imposed",
    "investigation",
    "political_action",
]


class EventSchema(RecordSchema):
    type = Enum(EVENT_TYPES, required=True)
    title = Text(300, required=True)
    description = OptionalText()
    date = PartialDate(required=True)
    location = OptionalText(300)
    official_ids = References("officials")
    organization_ids = References("organizations")
    warrant_ids = References("warrants")
    sanction_ids = References("sanctions")
