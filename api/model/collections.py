"""The registry of collections: each one's schema, table, sort allowlist and filters."""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, wraps
from typing import TypeVar

from marshmallow import Schema, fields
from marshmallow.validate import OneOf

from schemas.common import is_partial_date
from schemas.events import EventSchema
from schemas.officials import OfficialSchema
from schemas.organizations import OrganizationSchema
from schemas.sanctions import SanctionSchema
from schemas.sources import SourceSchema
from schemas.statements import StatementSchema
from schemas.warrants import WarrantSchema

# Fields that state nothing about the world, so need no citation: the id, the evidence itself, the
# curator's note; every dump-only field (timestamps, links, computed values) is exempt as well.
NOT_FACTUAL = ("id", "citations", "notes")
T = TypeVar("T")


@dataclass(frozen=True)
class Collection:
    """One collection of records, served at /v1/<name>."""

    name: str
    singular: str
    schema: Schema
    sorts: tuple[str, ...]
    default_sort: str = "id"
    # Curators' labels for a record (a title, topic tags): headings over its facts, not facts.
    labels: tuple[str, ...] = ()
    # Reverse links shown on each record: link name -> (collection, filter field).
    backlinks: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def table(self) -> str:
        return self.name

    def write_scope(self, method: str) -> str:
        """The token scope a write needs: admin to delete, and to change a source (every citation
        points into its text); write otherwise."""
        if method == "DELETE" or (self.name == "sources" and method != "POST"):
            return "admin"
        return "write"

    @property
    def label_field(self) -> str:
        """The field that names a record for people: its title, name or summary, else its id."""
        return next(name for name in ("title", "name", "summary", "id") if name in self.schema.fields)

    # Schemas do not change after import, so what they say is worked out once per collection;
    # cached_property writes to the instance dict, which a frozen dataclass allows.
    def references(self) -> dict[str, str]:
        """Scalar reference fields of this collection and the collection each points to."""
        return self._references

    def list_references(self) -> dict[str, str]:
        """List-of-ids reference fields and the collection they point to."""
        return self._list_references

    def partial_dates(self) -> list[str]:
        return self._partial_dates

    def filters(self) -> dict[str, fields.Field]:
        """Equality filters: every scalar enum, code or reference field."""
        return self._filters

    def factual_fields(self) -> list[str]:
        """The fields a citation must support whenever they hold a value; empty for sources."""
        return self._factual_fields

    @cached_property
    def _factual_fields(self) -> list[str]:
        if "citations" not in self.schema.fields:
            return []
        exempt = (*NOT_FACTUAL, *self.labels)
        return [name for name, f in self.schema.fields.items() if not f.dump_only and name not in exempt]

    @cached_property
    def _references(self) -> dict[str, str]:
        return {
            name: f.metadata["references"]
            for name, f in self.schema.fields.items()
            if isinstance(f, fields.Str) and "references" in f.metadata
        }

    @cached_property
    def _list_references(self) -> dict[str, str]:
        return {
            name: f.metadata["references"]
            for name, f in self.schema.fields.items()
            if isinstance(f, fields.List) and "references" in f.metadata
        }

    @cached_property
    def _partial_dates(self) -> list[str]:
        return [name for name, f in self.schema.fields.items() if is_partial_date(f)]

    @cached_property
    def _filters(self) -> dict[str, fields.Field]:
        return {
            name: f
            for name, f in self.schema.fields.items()
            if isinstance(f, fields.Str)
            and (not f.dump_only or f.metadata.get("filter"))
            and name != "id"
            and ("references" in f.metadata or "codes" in f.metadata or _is_enum(f))
        }


def per_collection(derive: Callable[["Collection"], T]) -> Callable[["Collection"], T]:
    """derive(collection) worked out once per collection and shared: what a schema implies is fixed
    at import, and writes ask for it once per record. Callers must not change what they get."""
    cache: dict[int, tuple[Collection, T]] = {}

    @wraps(derive)
    def cached(collection: Collection) -> T:
        hit = cache.get(id(collection))
        if hit is None or hit[0] is not collection:  # keeps the collection, so its id is not reused
            hit = cache[id(collection)] = (collection, derive(collection))
        return hit[1]

    return cached


def _is_enum(f: fields.Field) -> bool:
    return any(isinstance(v, OneOf) for v in f.validators)


COLLECTIONS: dict[str, Collection] = {
    c.name: c
    for c in [
        Collection(
            "warrants",
            "warrant",
            WarrantSchema(),
            sorts=("id", "title", "issued", "status", "situation", "updated_at"),
            default_sort="issued",
            labels=("title",),
        ),
        Collection(
            "sanctions",
            "sanction",
            SanctionSchema(),
            sorts=("id", "title", "imposed", "status", "target_kind", "updated_at"),
            default_sort="imposed",
            labels=("title",),
        ),
        Collection(
            "officials",
            "official",
            OfficialSchema(),
            sorts=("id", "name", "role", "status", "updated_at"),
            backlinks={
                "statements": ("statements", "speaker_official_id"),
                "warrants": ("warrants", "subject_official_id"),
                "sanctions": ("sanctions", "target_official_id"),
            },
        ),
        Collection(
            "statements",
            "statement",
            StatementSchema(),
            sorts=("id", "said", "kind", "updated_at"),
            default_sort="said",
            labels=("about", "topics"),
        ),
        Collection(
            "organizations",
            "organization",
            OrganizationSchema(),
            sorts=("id", "name", "kind", "updated_at"),
            backlinks={
                "officials": ("officials", "organization_id"),
                "statements": ("statements", "speaker_organization_id"),
                "sanctions_imposed": ("sanctions", "authority_id"),
                "sanctions_received": ("sanctions", "target_organization_id"),
            },
        ),
        Collection(
            "events",
            "event",
            EventSchema(),
            sorts=("id", "title", "date", "type", "updated_at"),
            default_sort="date",
            labels=("title",),
        ),
        Collection(
            "sources",
            "source",
            SourceSchema(),
            sorts=("id", "title", "published", "updated_at"),
        ),
    ]
}
