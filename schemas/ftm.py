"""A FollowTheMoney entity as the FtM export writes it, one JSON object per line."""

from marshmallow import fields, validate

from schemas.common import StrictSchema

FTM_SCHEMATA = [
    "Article",
    "PublicBody",
    "Organization",
    "Company",
    "Person",
    "Position",
    "Occupancy",
    "CourtCase",
    "CourtCaseParty",
    "Sanction",
    "Event",
    "Documentation",
]


class FtmEntitySchema(StrictSchema):
    id = fields.Str(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "Stable, derived from ours: icc-events-<kind>-<id>."},
    )
    schema = fields.Str(required=True, validate=validate.OneOf(FTM_SCHEMATA))
    properties = fields.Dict(
        keys=fields.Str(),
        values=fields.List(fields.Str()),
        required=True,
        metadata={"description": "FtM property name -> its values, all strings."},
    )
    datasets = fields.List(fields.Str(), required=True)
    first_seen = fields.Str(metadata={"description": "When the record was first stored."})
    last_seen = fields.Str(metadata={"description": "When the record was last stored."})
    last_change = fields.Str(metadata={"description": "When the record last changed."})
