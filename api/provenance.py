"""Checks that tie a record to its evidence: citations match their source, references exist."""

from collections.abc import Callable, Mapping

from marshmallow import fields

from api.collections import Collection


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
