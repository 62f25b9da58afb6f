"""Organizations: the court, states, governments, NGOs, companies and news outlets."""

from marshmallow import fields

from schemas.common import Enum, OptionalText, RecordSchema, Reference, Text

ORGANIZATION_KINDS = [
    "court",
    "state",
    "government",
    "government_agency",
    "intergovernmental_organization",
    "assembly",
    "ngo",
    "company",
    "news_outlet",
    "armed_group",
    "group",
]


class OrganizationSchema(RecordSchema):
    name = Text(300, required=True)
    kind = Enum(ORGANIZATION_KINDS, required=True)
    country = OptionalText(100)
    parent_id = Reference("organizations", allow_none=True, load_default=None)
    aliases = fields.List(Text(300), load_default=list)
    description = OptionalText()
