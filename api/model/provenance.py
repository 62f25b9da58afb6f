"""Checks that tie a record to its evidence: citations match their source, references exist."""

import hashlib
from collections.abc import Callable, Mapping

from marshmallow import fields

from api.model.collections import Collection
from schemas.common import BASES, weakest_basis

BASE_RANK = {basis: rank for rank, basis in enumerate(BASES)}  # 0 is the strongest


def citation_problems(record: dict, source_texts: Mapping[str, str]) -> dict[str, str]:
    """Field path -> problem, for every citation whose quote is not the source text at its offsets."""
    problems = {}
    for i, citation in enumerate(record.get("citations") or []):
        text = source_texts.get(citation["source_id"])
        where = f"citations.{i}"
        if text is None:
            problems[f"{where}.source_id"] = f"Unknown source {citation['source_id']!r}."
        elif citation["end"] > len(text):
            problems[f"{where}.end"] = f"Past the end of the source ({len(text)} characters)."
        elif text[citation["start"] : citation["end"]] != citation["quote"]:
            found = text[citation["start"] : citation["end"]]
            problems[f"{where}.quote"] = (
                f"Not the source text at {citation['start']}:{citation['end']}, which is {found!r}."
            )
    return problems


def reference_problems(
    collection: Collection, record: dict, exists: Callable[[str, str], bool]
) -> dict[str, str]:
    """Field path -> problem, for every id in the record that names no record."""
    return {
        path: f"No {target} record with id {value!r}."
        for path, target, value in iter_references(collection.schema.fields, record)
        if not exists(target, value)
    }


def iter_references(schema_fields: Mapping[str, fields.Field], record: dict, prefix: str = ""):
    """(field path, target collection, id) for every reference in a record, nested ones included."""
    for name, f in schema_fields.items():
        value = record.get(name)
        if value is None or name == "citations":
            continue
        path = f"{prefix}{name}"
        items = enumerate(value) if isinstance(f, fields.List) else [(None, value)]
        inner = f.inner if isinstance(f, fields.List) else f
        for i, item in items:
            item_path = path if i is None else f"{path}.{i}"
            if isinstance(inner, fields.Str) and "references" in inner.metadata and item is not None:
                yield item_path, inner.metadata["references"], item
            elif isinstance(inner, fields.Nested) and isinstance(item, dict):
                yield from iter_references(inner.schema.fields, item, f"{item_path}.")


def flatten_errors(messages, prefix: str = "") -> dict[str, str]:
    """Marshmallow's nested error dict as 'field.path' -> message."""
    flat = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_errors(value, path))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        flat[prefix or "_schema"] = " ".join(messages)
    else:
        for i, value in enumerate(messages):
            flat.update(flatten_errors(value, f"{prefix}.{i}" if prefix else str(i)))
    return flat


# A field set to one of these says the source is silent, which needs no citation.
SILENT_VALUES = (None, "", "unknown")


def has_value(value) -> bool:
    """Whether a field asserts something: null, empty text, "unknown", empty lists and a partial date
    with every part null assert nothing."""
    if isinstance(value, dict):
        return any(has_value(v) for v in value.values())
    if isinstance(value, list):
        return bool(value)
    return value not in SILENT_VALUES


def support_problems(collection: Collection, record: dict) -> dict[str, str]:
    """Field path -> problem, for supports naming no field of the collection and for every non-null
    factual field that no citation supports. The loader, every write and the checker share it."""
    problems = {}
    for i, citation in enumerate(record.get("citations") or []):
        for j, path in enumerate(citation.get("supports") or []):
            if not path_exists(collection.schema.fields, path.split(".")):
                problems[f"citations.{i}.supports.{j}"] = f"{path!r} is not a field of {collection.name}."
    supported = set(field_basis(record))
    for name in collection.factual_fields():
        if has_value(record.get(name)) and name not in supported:
            problems[name] = "No citation supports this field: name it in a citation's supports."
    return problems


def path_exists(schema_fields: Mapping[str, fields.Field], steps: list[str]) -> bool:
    """Whether a dotted path (names, and list indexes) leads into the schema's fields."""
    f = schema_fields.get(steps[0])
    if f is None or f.dump_only or steps[0] in ("citations", "id"):
        return False
    for step in steps[1:]:
        if isinstance(f, fields.List) and step.isdigit():
            f = f.inner
        elif isinstance(f, fields.Nested) and step in f.schema.fields and not f.schema.fields[step].dump_only:
            f = f.schema.fields[step]
        else:
            return False
    return True


def field_basis(record: dict) -> dict[str, str]:
    """Top-level field -> basis of its value: the strongest basis among the citations supporting it."""
    strongest: dict[str, int | None] = {}  # field -> index in BASES, in the order fields are first named
    for citation in record.get("citations") or []:
        basis = citation.get("basis")
        rank = BASE_RANK.get(basis) if isinstance(basis, str) else None
        for path in citation.get("supports") or []:
            name = path.partition(".")[0]
            best = strongest.setdefault(name, rank)
            if rank is not None and (best is None or rank < best):
                strongest[name] = rank
    return {name: BASES[rank] for name, rank in strongest.items() if rank is not None}


def record_basis(basis_by_field: dict[str, str]) -> str | None:
    """The weakest basis of the record's cited values (field_basis' result); None when no citation
    carries one."""
    return weakest_basis(basis_by_field.values())


def text_sha256(text: str) -> str:
    """A source text's digest, as its record states it: SHA-256 of its UTF-8 bytes, in hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
