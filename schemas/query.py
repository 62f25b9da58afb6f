"""Query-string schemas: paging, sort and filters per collection; unknown parameters are errors."""

from marshmallow import Schema, ValidationError, fields, missing, validate

from api.collections import Collection

MAX_PAGE_SIZE = 500
MAX_PARAM_LENGTH = 2000


def parse_sort(value: str, allowed: tuple[str, ...]) -> list[tuple[str, bool]]:
    """'title,-issued' -> [('title', False), ('issued', True)], every field from the allowlist."""
    terms = []
    for term in value.split(","):
        name = term.removeprefix("-")
        if name not in allowed:
            raise ValidationError(f"Cannot sort by {name!r}; sortable fields: {', '.join(allowed)}.")
        if name in [n for n, _ in terms]:
            raise ValidationError(f"{name!r} appears twice.")
        terms.append((name, term.startswith("-")))
    return terms


class SortField(fields.Str):
    """sort=field,-other: a comma-separated list of allowlisted fields, '-' for descending."""

    def __init__(self, allowed: tuple[str, ...], **kwargs):
        self.allowed = allowed
        super().__init__(**kwargs)

    def deserialize(self, value, attr=None, data=None, **kwargs):
        # The default goes through parsing too, so views always get (field, descending) pairs.
        if value is missing:
            value = self.load_default
        return super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return parse_sort(super()._deserialize(value, attr, data, **kwargs), self.allowed)


class PageQuerySchema(Schema):
    limit = fields.Int(
        load_default=50,
        validate=validate.Range(min=1, max=MAX_PAGE_SIZE),
        metadata={"description": f"Records per page, 1 to {MAX_PAGE_SIZE}."},
    )
    cursor = fields.Str(
        validate=validate.Length(max=MAX_PARAM_LENGTH),
        metadata={"description": "Opaque; copy it from links.next."},
    )


def list_query_schema(collection: Collection) -> Schema:
    """The query schema of GET /v1/<collection>: paging, sort and one equality filter per field."""
    attrs = {
        "sort": SortField(
            collection.sorts,
            load_default=collection.default_sort,
            metadata={
                "description": "Comma-separated fields, '-' prefix for descending; "
                f"one of {', '.join(collection.sorts)}. Ties are broken by id.",
                "example": f"-{collection.default_sort}",
            },
        )
    }
    for name, field in collection.filters().items():
        choices = next((v.choices for v in field.validators if isinstance(v, validate.OneOf)), None)
        attrs[name] = fields.Str(
            validate=validate.OneOf(choices) if choices else validate.Length(min=1, max=200),
            metadata={"description": f"Only records whose {name} is this value."},
        )
    schema_class = PageQuerySchema.from_dict(attrs, name=f"{collection.singular.title()}ListQuery")
    return schema_class()
