"""Query-string schemas: paging, sort, filters, search, shape and format per collection.

Unknown parameters are errors.
"""

import datetime as dt
import re

from marshmallow import Schema, ValidationError, fields, missing, validate

from api.model.collections import COLLECTIONS, Collection
from schemas.common import PARTIAL_DATE_PATTERN, SLUG_PATTERN, date_bounds

MAX_PAGE_SIZE = 500
MAX_PARAM_LENGTH = 2000
CURSOR_PATTERN = r"^[A-Za-z0-9_-]+$"  # unpadded base64url, as paging.encode_cursor writes it
MAX_SEARCH_HITS = 100
MAX_IN_VALUES = 50
FORMATS = ["json", "csv", "ndjson"]
STORED_TIMESTAMP = "%Y-%m-%dT%H:%M:%S.%fZ"


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


SLUG_ITEM = "[a-z0-9]+(-[a-z0-9]+)*"
YEAR = "([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"  # 0001 to 9999, as Python dates allow


def alternatives(names) -> str:
    """A regex alternation of allowlisted names (plain lowercase words, so nothing to escape)."""
    names = [str(n) for n in names]
    assert all(re.fullmatch(r"[a-z0-9_]+", n) for n in names), names
    return "(" + "|".join(names) + ")"


def raw_list(value: str) -> list[str]:
    """The comma-separated items of a list parameter, its length checked before it is split."""
    if len(value) > MAX_PARAM_LENGTH:
        raise ValidationError(f"Longer than maximum length {MAX_PARAM_LENGTH}.")
    return value.split(",")


def list_pattern(item: str, most: int | None = None) -> str:
    """A comma-separated list of items, at most `most` of them."""
    return rf"^{item}(,{item}){{0,{most - 1}}}$" if most else rf"^{item}(,{item})*$"


def sort_pattern(allowed: tuple[str, ...]) -> str:
    """The ECMA-262 regex of a valid sort: allowlisted terms, comma-separated, no field twice."""
    names = "|".join(allowed)
    return rf"^(?!.*\b({names})\b.*\b\1\b)-?({names})(,-?({names}))*$"


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


class NameList(fields.Str):
    """A comma-separated list of names from an allowlist; unknown names are named in the error."""

    def __init__(self, allowed, **kwargs):
        self.allowed = list(allowed)
        # The spec states exactly what the code accepts, so fuzzed "valid" values are valid.
        kwargs.setdefault("metadata", {})["pattern"] = list_pattern(alternatives(self.allowed))
        kwargs["metadata"]["maxLength"] = MAX_PARAM_LENGTH
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        names = raw_list(super()._deserialize(value, attr, data, **kwargs))
        unknown = [n for n in names if n not in self.allowed]
        if unknown:
            raise ValidationError(f"Unknown: {', '.join(unknown)}. Known: {', '.join(self.allowed)}.")
        return list(dict.fromkeys(names))


class ValueList(fields.Str):
    """Comma-separated values, each checked by the validator of the field it filters."""

    def __init__(self, each: validate.Validator, **kwargs):
        self.each = each
        item = alternatives(each.choices) if isinstance(each, validate.OneOf) else SLUG_ITEM
        kwargs.setdefault("metadata", {})["pattern"] = list_pattern(item, MAX_IN_VALUES)
        kwargs["metadata"]["maxLength"] = MAX_PARAM_LENGTH
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        values = raw_list(super()._deserialize(value, attr, data, **kwargs))
        if len(values) > MAX_IN_VALUES:
            raise ValidationError(f"At most {MAX_IN_VALUES} values.")
        for item in values:
            self.each(item)
        return list(dict.fromkeys(values))


class PartialDateParam(fields.Str):
    """YYYY, YYYY-MM or YYYY-MM-DD, a real calendar date."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {})["anyOf"] = [
            {"pattern": rf"^{YEAR}(-(0[1-9]|1[0-2]))?$"},
            {"format": "date", "pattern": rf"^{YEAR}-"},
        ]
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        try:
            validate.Regexp(PARTIAL_DATE_PATTERN)(value)
            for bound in date_bounds(value):
                dt.date.fromisoformat(bound)
        except (ValidationError, ValueError):
            raise ValidationError("Expected YYYY, YYYY-MM or YYYY-MM-DD, a real date.") from None
        return value


class Timestamp(fields.DateTime):
    """An ISO 8601 date-time (UTC when no offset is given), compared with stored updated_at values."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC).strftime(STORED_TIMESTAMP)


def has_words(value: str) -> None:
    # NUL counts as a space: FTS5 would stop reading the query there.
    if not value.replace("\x00", " ").split():
        raise ValidationError("Give at least one word to search for.")


def search_text(**kwargs) -> fields.Str:
    return fields.Str(validate=[validate.Length(min=1, max=MAX_PARAM_LENGTH), has_words], **kwargs)


OPAQUE = "An opaque token this API issued: copy it as it is; never build, change or parse one."


def Cursor(
    description: str = "Where the page starts: copy it from `links.next` (or the Link header).",
) -> fields.Str:
    """Where a page starts: a cursor this API issued, copied from the last page it read."""
    return fields.Str(
        validate=[validate.Length(min=1, max=MAX_PARAM_LENGTH), validate.Regexp(CURSOR_PATTERN)],
        metadata={"description": f"{OPAQUE} {description}"},
    )


class PageQuerySchema(Schema):
    limit = fields.Int(
        load_default=50,
        validate=validate.Range(min=1, max=MAX_PAGE_SIZE),
        metadata={"description": f"Records per page, 1 to {MAX_PAGE_SIZE}."},
    )
    cursor = Cursor()


def format_field(description: str) -> fields.Str:
    return fields.Str(
        validate=validate.OneOf(FORMATS),
        metadata={"description": description + " Overrides the Accept header."},
    )


def shape_fields(collection: Collection) -> dict[str, fields.Field]:
    """fields= and include=, shared by lists and items."""
    from api.web.shape import includes

    return {
        # id is always kept, so naming it (fields=id,name) is allowed and changes nothing.
        "fields": NameList(
            list(collection.schema.fields),
            metadata={
                "description": "Comma-separated fields to return (id is always kept, named or not).",
                "example": next(n for n in collection.schema.fields if n != "id"),
            },
        ),
        "include": NameList(
            includes(collection),
            metadata={
                "description": "Comma-separated related records to embed under `included`: "
                + ", ".join(includes(collection))
                + ".",
                "example": next(iter(includes(collection)), None),
            },
        ),
    }


def list_query_schema(collection: Collection) -> Schema:
    """The query schema of GET /v1/<collection>: paging, sort, filters, search, facets, shape, format."""
    from api.store.facets import facet_fields
    from api.store.filters import date_range_filters, membership_filters, text_filters

    attrs = {
        "sort": SortField(
            collection.sorts,
            load_default=collection.default_sort,
            metadata={
                "description": "Comma-separated fields, '-' prefix for descending; "
                f"one of {', '.join(collection.sorts)}. Ties are broken by id.",
                "example": f"-{collection.default_sort}",
                # Lets clients and fuzzers tell a valid sort from an invalid one by the schema alone.
                "pattern": sort_pattern(collection.sorts),
            },
        )
    }
    for name, field in collection.filters().items():
        # A reference filter takes an id, so it is validated as one: a malformed id is a 400,
        # and the spec's limits keep every valid query string well inside the request-line cap.
        check = enum_or_length(field)
        codes = field.metadata.get("codes")
        # An open code list's filter takes any slug: a code no record has yet matches nothing.
        open_codes = (
            f" Known codes: {', '.join(codes)}; the list is open, so an unknown code is no error: it "
            "matches no record (an empty page). One that is not a slug is a 400."
            if codes
            else ""
        )
        attrs[name] = fields.Str(
            validate=check
            if isinstance(check, validate.OneOf)
            else [validate.Length(min=1, max=80), validate.Regexp(SLUG_PATTERN)],
            metadata={
                "description": (
                    field.metadata.get("filter_description") or f"Only records whose {name} is this value."
                )
                + open_codes,
                **({"examples": codes} if codes else {}),
            },
        )
        check = enum_or_length(field)
        if not isinstance(check, validate.OneOf):
            check = validate.Regexp(SLUG_PATTERN, error="Not an id.")
        # Every choice: Swagger UI's "Try it out" fills examples in and should still find records.
        choices = check.choices if isinstance(check, validate.OneOf) else codes
        attrs[f"{name}__in"] = ValueList(
            check,
            metadata={
                "description": f"Only records whose {name} is one of these comma-separated values."
                + open_codes,
                **({"example": ",".join(choices)} if choices else {}),
            },
        )
    for name in text_filters(collection):
        attrs[name] = fields.Str(
            validate=validate.Length(min=1, max=300),
            metadata={"description": f"Only records whose {name} is this value, ignoring case."},
        )
    for name, (column, inner) in membership_filters(collection).items():
        attrs[name] = fields.Str(
            validate=enum_or_length(inner),
            metadata={"description": f"Only records whose {column} include this value."},
        )
    for name, (field_name, end) in date_range_filters(collection).items():
        bound = "on or after" if end == "from" else "on or before"
        attrs[name] = PartialDateParam(
            metadata={
                "description": f"Only records whose {field_name} may fall {bound} this YYYY, YYYY-MM or "
                "YYYY-MM-DD (partial dates match when their span overlaps).",
            }
        )
    attrs["changed_since"] = Timestamp(
        metadata={
            "description": "Only records created or updated at or after this ISO 8601 time (UTC).",
        }
    )
    attrs["q"] = search_text(
        metadata={
            "description": "Full-text search (any words, all required; word* for a prefix).",
        }
    )
    attrs["facet"] = NameList(
        facet_fields(collection),
        metadata={
            "description": "Comma-separated fields to count records per value of, over all pages.",
            "example": next(iter(facet_fields(collection)), None),
        },
    )
    attrs.update(shape_fields(collection))
    attrs["format"] = format_field(
        "json (default) pages. csv and ndjson page too when limit is given (next page in the Link "
        "header); without limit they stream every matching record, from the cursor if given. "
        "include and facet need json."
    )
    schema_class = PageQuerySchema.from_dict(attrs, name=f"{collection.singular.title()}ListQuery")
    return schema_class()


def item_query_schema(collection: Collection) -> Schema:
    """The query schema of GET /v1/<collection>/<id>: shape and format."""
    attrs = {**shape_fields(collection), "format": format_field("json (default), csv or ndjson.")}
    return Schema.from_dict(attrs, name=f"{collection.singular.title()}ItemQuery")()


def enum_or_length(field: fields.Field) -> validate.Validator:
    choices = next((v.choices for v in field.validators if isinstance(v, validate.OneOf)), None)
    return validate.OneOf(choices) if choices else validate.Length(min=1, max=200)


class SearchQuerySchema(Schema):
    """GET /v1/search."""

    q = search_text(
        required=True, metadata={"description": "Words to search for, all required.", "example": "pressure"}
    )
    collections = NameList(
        COLLECTIONS,
        metadata={
            "description": "Comma-separated collections to search (default all).",
            "example": "statements",
        },
    )
    limit = fields.Int(
        load_default=20,
        validate=validate.Range(min=1, max=MAX_SEARCH_HITS),
        metadata={"description": f"Hits per page, best first, 1 to {MAX_SEARCH_HITS}."},
    )
    cursor = Cursor()


class TimelineQuerySchema(PageQuerySchema):
    """GET /v1/timeline."""

    date_from = PartialDateParam(
        metadata={"description": "Only entries that may fall on or after this date.", "example": "2025"}
    )
    date_to = PartialDateParam(
        metadata={"description": "Only entries that may fall on or before this date.", "example": "2025-11"}
    )
    collections = NameList(
        ["events", "warrants", "sanctions", "statements"],
        metadata={
            "description": "Comma-separated kinds of record to list (default all four).",
            "example": "events",
        },
    )
