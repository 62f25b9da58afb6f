"""Fields and nested schemas shared by every collection: slugs, citations, partial dates."""

import calendar
import datetime as dt
import json
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_dump,
    validate,
    validates_schema,
)

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
PARTIAL_DATE_PATTERN = r"^\d{4}(-\d{2}(-\d{2})?)?$"
PRECISION_BY_LENGTH = {4: "year", 7: "month", 10: "day"}
MAX_TEXT = 20_000


READ_ONLY = "Read-only: the server sets it; leave it out of writes."
MISSING = object()


class StrictSchema(Schema):
    """Unknown fields are errors, and the OpenAPI description says so (additionalProperties: false)."""

    class Meta:
        unknown = RAISE

    def load_echoing_read_only(self, data, served: Callable[[dict], dict]) -> dict:
        """Load a record that may carry read-only (dump-only) fields, at any depth, as a client read it.

        Each one sent must equal what the server serves for the loaded record, served(record): then it
        is dropped; otherwise a ValidationError names its path. So a GET, edit, PUT round trip works,
        and a client that changes a computed value learns it cannot.
        """
        writable, sent = split_read_only(self, data)
        record = self.load(writable)
        if sent:
            representation = served(record)
            errors = {}
            for path, value in sent.items():
                expected = value_at(representation, path)
                if not same_json(value, expected) and not same_json(as_reference(value), expected):
                    nest_error(errors, path, read_only_message(expected))
            if errors:
                raise ValidationError(errors)
        return record

    def get_attribute(self, obj, attr, default):
        # Records are dumped from dicts: a plain lookup makes a cold render ~12% cheaper than
        # marshmallow's generic one (which tries obj[key], then getattr, for every field).
        if isinstance(obj, dict) and "." not in attr:
            return obj.get(attr, default)
        return super().get_attribute(obj, attr, default)


def split_read_only(schema: Schema, data, path: tuple = ()) -> tuple[object, dict[tuple, object]]:
    """(data without the schema's dump-only fields, those fields' values by path such as
    ("citations", 0, "url")); anything not shaped like the schema is left for load() to judge."""
    if not isinstance(data, dict):
        return data, {}
    kept, removed = {}, {}
    for name, value in data.items():
        field = schema.fields.get(name)
        if field is not None and field.dump_only:
            removed[(*path, name)] = value
            continue
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, fields.Nested) and isinstance(field, fields.List) and isinstance(value, list):
            items = []
            for index, item in enumerate(value):
                item, found = split_read_only(inner.schema, item, (*path, name, index))
                items.append(item)
                removed.update(found)
            value = items
        elif isinstance(inner, fields.Nested) and not isinstance(field, fields.List):
            value, found = split_read_only(inner.schema, value, (*path, name))
            removed.update(found)
        kept[name] = value
    return kept, removed


def value_at(data, path: tuple):
    """The value at a path of names and list indexes, or MISSING."""
    for step in path:
        if isinstance(data, dict) and isinstance(step, str) and step in data:
            data = data[step]
        elif isinstance(data, list) and isinstance(step, int) and step < len(data):
            data = data[step]
        else:
            return MISSING
    return data


def as_reference(value):
    """An echoed value with each absolute http(s) URL cut to its path, query and fragment.

    Links and citation URLs are served as relative references (api/model/links.py); a client that
    resolved them against the URL it read sends absolute ones back, which name the same resources.
    A value that is not a URL at all (urlsplit refuses `http://[oops`) is kept as sent, to be refused.
    """
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        try:
            parts = urlsplit(value)
        except ValueError:
            return value
        return urlunsplit(("", "", parts.path, parts.query, parts.fragment))
    if isinstance(value, list):
        return [as_reference(item) for item in value]
    if isinstance(value, dict):
        return {name: as_reference(item) for name, item in value.items()}
    return value


def same_json(a, b) -> bool:
    """Equal as JSON: 1 and true, or 1 and 1.0, are different values here."""
    return b is not MISSING and json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def nest_error(errors: dict, path: tuple, message: str) -> None:
    """errors with message at path, nested as marshmallow nests its own errors."""
    for step in path[:-1]:
        errors = errors.setdefault(step, {})
    errors[path[-1]] = [message]


def read_only_message(expected) -> str:
    if expected is MISSING or expected is None:
        return READ_ONLY
    shown = json.dumps(expected, ensure_ascii=False, separators=(",", ":"))
    return (
        f"Read-only, and not what the server computes for this record ({shown}): send that or leave it out."
    )


def Slug(**kwargs) -> fields.Str:
    """A readable id: lowercase words joined by hyphens, at most 80 characters."""
    return fields.Str(validate=[validate.Length(min=1, max=80), validate.Regexp(SLUG_PATTERN)], **kwargs)


def Reference(collection: str, **kwargs) -> fields.Str:
    """The id of a record in another collection; the loader and writes check that it exists."""
    kwargs.setdefault("metadata", {})["references"] = collection
    return Slug(**kwargs)


def References(collection: str, **kwargs) -> fields.List:
    """A list of ids of records in another collection."""
    kwargs.setdefault("load_default", list)
    return fields.List(Reference(collection), metadata={"references": collection}, **kwargs)


def Text(max_length: int = MAX_TEXT, min_length: int = 0, **kwargs) -> fields.Str:
    """Free text with a size limit."""
    return fields.Str(validate=validate.Length(min=min_length, max=max_length), **kwargs)


def Enum(choices, **kwargs) -> fields.Str:
    """A string from a controlled vocabulary."""
    return fields.Str(validate=validate.OneOf(choices), **kwargs)


def Code(known: list[str], **kwargs) -> fields.Str:
    """A code from an open list: any slug is valid; the codes known today are documented, not enforced.

    Data outgrows a closed enum (the court opens new situations), and a client built on one would break.
    """
    metadata = kwargs.setdefault("metadata", {})
    metadata["codes"] = list(known)
    metadata["examples"] = list(known)
    metadata["description"] = (
        metadata.get("description", "A code") + f" (an open list; known codes: {', '.join(known)}; "
        "others will appear)."
    )
    return Slug(**kwargs)


def OptionalText(max_length: int = MAX_TEXT) -> fields.Str:
    """Text that may be null or left out."""
    return Text(max_length, allow_none=True, load_default=None)


# How a cited value is known, strongest first: the source says it; the source reports someone saying
# it; a curator inferred it from the span (the reasoning then required).
BASES = ["stated", "attributed", "inferred"]
FIELD_PATH_PATTERN = r"^[a-z_]+(\.([a-z_]+|\d+))*$"


def weakest_basis(bases) -> str | None:
    """The weakest of some bases (inferred < attributed < stated), None when there are none."""
    ranked = [BASES.index(b) for b in bases if b in BASES]
    return BASES[max(ranked)] if ranked else None


class CitationSchema(StrictSchema):
    """A span of a source: the verbatim quote and its character offsets (end exclusive), the fields it
    supports and on what basis."""

    source_id = Reference("sources", required=True)
    start = fields.Int(
        required=True,
        strict=True,
        validate=validate.Range(min=0),
        metadata={"description": "Offset in Unicode code points (not UTF-16 units) of the source text."},
    )
    end = fields.Int(required=True, strict=True, validate=validate.Range(min=1))
    quote = Text(min_length=1, required=True)
    supports = fields.List(
        fields.Str(validate=[validate.Length(max=200), validate.Regexp(FIELD_PATH_PATTERN)]),
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={
            "description": "The record's fields this span supports: names, or dotted paths into them "
            "(issued.date, withdrawal_attempts.0)."
        },
    )
    basis = Enum(
        BASES,
        required=True,
        metadata={
            "description": "stated: the source says it; attributed: the source reports someone saying "
            "it; inferred: a curator's inference from the span, explained in reasoning."
        },
    )
    attributed_to = Text(
        300,
        allow_none=True,
        load_default=None,
        metadata={"description": "Who the source reports as saying it (an outlet, a speaker), if named."},
    )
    reasoning = Text(
        2000,
        allow_none=True,
        load_default=None,
        metadata={"description": "Required when basis is inferred: how the value follows from the span."},
    )
    url = fields.Str(dump_only=True, metadata={"description": "The span in the source viewer."})

    @validates_schema
    def end_after_start(self, data, **kwargs):
        if data["end"] <= data["start"]:
            raise ValidationError("end must be greater than start.", "end")
        if data["end"] - data["start"] != len(data["quote"]):
            raise ValidationError("end - start must equal the length of the quote.", "quote")

    @validates_schema
    def inference_explained(self, data, **kwargs):
        if data.get("basis") == "inferred" and not (data.get("reasoning") or "").strip():
            raise ValidationError("An inferred value needs its reasoning.", "reasoning")
        if data.get("basis") != "attributed" and data.get("attributed_to"):
            raise ValidationError("Only an attributed value names who it is attributed to.", "attributed_to")


def date_bounds(value: str) -> tuple[str, str]:
    """The first and last calendar day a partial ISO date covers."""
    parts = [int(p) for p in value.split("-")]
    year, month, day = parts + [None] * (3 - len(parts))
    if month is None:
        return f"{year:04d}-01-01", f"{year:04d}-12-31"
    if day is None:
        last = calendar.monthrange(year, month)[1]
        return f"{year:04d}-{month:02d}-01", f"{year:04d}-{month:02d}-{last:02d}"
    return (value, value)


class PartialDateSchema(StrictSchema):
    """A date as exact as the source allows, with the source's own words."""

    date = fields.Str(
        required=True,
        allow_none=True,
        validate=validate.Regexp(PARTIAL_DATE_PATTERN),
        metadata={"description": "YYYY, YYYY-MM or YYYY-MM-DD; null when the source gives none."},
    )
    precision = fields.Str(required=True, allow_none=True, validate=validate.OneOf(["year", "month", "day"]))
    text = OptionalText(500)
    basis = OptionalText(1000)
    earliest = fields.Str(dump_only=True, allow_none=True)
    latest = fields.Str(dump_only=True, allow_none=True)

    @validates_schema
    def precision_matches_date(self, data, **kwargs):
        value, precision = data.get("date"), data.get("precision")
        if value is None:
            if precision is not None:
                raise ValidationError("precision must be null when date is null.", "precision")
            return
        if precision != PRECISION_BY_LENGTH[len(value)]:
            raise ValidationError(f"{value!r} has {PRECISION_BY_LENGTH[len(value)]} precision.", "precision")
        try:
            for bound in date_bounds(value):
                dt.date.fromisoformat(bound)
        except ValueError:
            raise ValidationError("Not a calendar date.", "date") from None


def is_partial_date(field: fields.Field) -> bool:
    return isinstance(field, fields.Nested) and field.nested is PartialDateSchema


def PartialDate(**kwargs) -> fields.Nested:
    return fields.Nested(PartialDateSchema, **kwargs)


class RecordSchema(StrictSchema):
    """Fields every curated record has: a slug id, its citations, a curator's note, timestamps."""

    id = Slug(required=True)
    citations = fields.List(
        fields.Nested(CitationSchema), required=True, validate=validate.Length(min=1, max=100)
    )
    notes = OptionalText()
    basis = Enum(
        BASES,
        dump_only=True,
        allow_none=True,
        metadata={
            "filter": True,
            "filter_description": "Only records whose weakest cited value has this basis: stated keeps "
            "the records whose every cited value is stated; inferred, those with any inferred value.",
            "description": "The weakest basis of the record's cited values: stated only when every "
            "one is stated; null for a record stored before citations carried a basis.",
        },
    )
    field_basis = fields.Dict(
        keys=fields.Str(),
        values=fields.Str(),
        dump_only=True,
        metadata={"description": "Each supported field and its basis (the strongest of its citations)."},
    )
    created_at = fields.Str(dump_only=True)
    updated_at = fields.Str(dump_only=True)
    links = fields.Dict(
        keys=fields.Str(),
        dump_only=True,
        metadata={"description": "URLs of this record and of the records it refers to."},
    )

    @post_dump
    def provenance_last(self, data, **kwargs):
        # The record's own fields read first; where it came from follows.
        for key in ("basis", "field_basis", "citations", "notes", "created_at", "updated_at", "links"):
            if key in data:
                data[key] = data.pop(key)
        return data
