"""The Reconciliation API 0.2 (W3C Entity Reconciliation CG): query batches in; manifest, results out."""

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from schemas.common import StrictSchema, Text

MAX_BATCH = 50
MAX_LIMIT = 50
DEFAULT_LIMIT = 10
MAX_CONSTRAINTS = 20
MAX_VALUES = 20
SUGGEST_PAGE = 10
MAX_CURSOR = 10_000
MAX_QUERY_KEY = 100
TYPE_IDS = ["official", "organization"]


def check_property_value(value) -> None:
    """A string, number, boolean or entity {id, name}, or a list of those (spec 0.2 property_value)."""
    values = value if isinstance(value, list) else [value]
    if len(values) > MAX_VALUES:
        raise ValidationError(f"At most {MAX_VALUES} values.")
    for item in values:
        if isinstance(item, dict):
            if not isinstance(item.get("id"), str) or not set(item) <= {"id", "name"}:
                raise ValidationError("An entity value is an object with a string id (and a name).")
            if len(item["id"]) > 300:
                raise ValidationError("An id is at most 300 characters.")
        elif isinstance(item, str):
            if len(item) > 300:
                raise ValidationError("A value is at most 300 characters.")
        elif not isinstance(item, (int, float, bool)):
            raise ValidationError("Not a string, number, boolean or entity.")


class PropertyConstraintSchema(StrictSchema):
    pid = Text(100, min_length=1, required=True)
    v = fields.Raw(required=True, validate=check_property_value)


class ReconcileQuerySchema(StrictSchema):
    """One query of a batch: a name and/or property constraints, optionally restricted to types."""

    query = Text(300)
    type = fields.List(fields.Str(validate=validate.OneOf(TYPE_IDS)), validate=validate.Length(max=2))
    limit = fields.Int(validate=validate.Range(min=1, max=MAX_LIMIT))
    properties = fields.List(
        fields.Nested(PropertyConstraintSchema), validate=validate.Length(max=MAX_CONSTRAINTS)
    )
    # Accepted as the spec allows; with two types at most, every strategy means "any" here.
    type_strict = fields.Str(validate=validate.OneOf(["any", "should", "all"]))

    @pre_load
    def one_type_as_list(self, data, **kwargs):
        if isinstance(data, dict) and isinstance(data.get("type"), str):
            return {**data, "type": [data["type"]]}
        return data

    @validates_schema
    def query_or_properties(self, data, **kwargs):
        if not data.get("query", "").strip() and not data.get("properties"):
            raise ValidationError("A query needs a non-empty query, or properties.", "query")


class ReconcileBatchSchema(Schema):
    """The `queries` parameter: query key -> query."""

    queries = fields.Dict(
        keys=Text(MAX_QUERY_KEY, min_length=1), values=fields.Nested(ReconcileQuerySchema), required=True
    )


class ReconcileArgsSchema(StrictSchema):
    """GET /v1/reconcile: no parameters for the manifest, or `queries` for a batch."""

    queries = Text(1_000_000, min_length=1)


class TypeSchema(Schema):
    id = fields.Str(required=True)
    name = fields.Str(required=True)


class CandidateSchema(Schema):
    """One candidate record for a query."""

    id = fields.Str(required=True, metadata={"description": "officials/<id> or organizations/<id>."})
    name = fields.Str(required=True)
    score = fields.Float(required=True, metadata={"description": "0-100; 100 is an exact normalised name."})
    match = fields.Bool(required=True, metadata={"description": "An unambiguous exact name or alias."})
    type = fields.List(fields.Nested(TypeSchema), required=True)
    description = fields.Str()


class QueryResultSchema(Schema):
    result = fields.List(fields.Nested(CandidateSchema), required=True)


class SuggestArgsSchema(StrictSchema):
    prefix = Text(300, required=True)
    cursor = fields.Int(load_default=0, validate=validate.Range(min=0, max=MAX_CURSOR))


class SuggestionSchema(Schema):
    id = fields.Str(required=True)
    name = fields.Str(required=True)
    description = fields.Str()
    notable = fields.List(fields.Nested(TypeSchema), required=True)


class SuggestResultSchema(Schema):
    result = fields.List(fields.Nested(SuggestionSchema), required=True)


class PreviewArgsSchema(StrictSchema):
    id = Text(300, min_length=1, required=True)
