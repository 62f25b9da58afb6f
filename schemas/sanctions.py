"""Sanctions: who imposed them on whom, which measures, why and when."""

from marshmallow import fields, validate

from schemas.common import (
    Enum,
    OptionalText,
    PartialDate,
    RecordSchema,
    Reference,
    References,
    Text,
)

TARGET_KINDS = ["person", "organization", "group_of_persons", "group_of_organizations"]
MEASURES = ["bank_access", "commercial_services", "travel_ban", "asset_freeze", "other"]
SANCTION_STATUSES = ["in_force", "lifted", "unknown"]


class SanctionSchema(RecordSchema):
    title = Text(300, required=True)
    authority_id = Reference("organizations", required=True)
    imposed_by_official_id = Reference("officials", allow_none=True, load_default=None)
    target_kind = Enum(TARGET_KINDS, required=True)
    target_official_id = Reference("officials", allow_none=True, load_default=None)
    target_organization_id = Reference("organizations", allow_none=True, load_default=None)
    target_description = Text(500, required=True)
    target_count = fields.Int(allow_none=True, load_default=None, strict=True, validate=validate.Range(min=1))
    measures = fields.List(Enum(MEASURES), load_default=list)
    measures_text = OptionalText(2000)
    affected_company_ids = References("organizations")
    effects_text = OptionalText(2000)
    reason = OptionalText(2000)
    imposed = PartialDate(required=True)
    status = Enum(SANCTION_STATUSES, required=True)
