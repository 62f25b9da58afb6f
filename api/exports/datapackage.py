"""The CSV bundle: a CSV file per collection table and a Frictionless datapackage.json describing them."""

import csv
import io
import json
import time
import zipfile
from typing import IO

import sqlite_utils
from marshmallow import fields, validate

from api import __version__
from api.model.collections import COLLECTIONS, Collection
from api.model.columns import csv_row, field_of, is_integer, public_columns
from api.model.rows import DUMPED_DATE_PARTS, from_row

PARTIAL_DATE_COLUMNS = {
    "date": ("string", "As precise as the source allows: YYYY, YYYY-MM or YYYY-MM-DD; empty when unknown."),
    "precision": ("string", "year, month or day; empty when the date is unknown."),
    "text": ("string", "The source's own words for the date."),
    "basis": ("string", "How a relative date was resolved."),
    "earliest": ("date", "The earliest day the date covers."),
    "latest": ("date", "The latest day the date covers."),
}
BOOKKEEPING_COLUMNS = {
    "created_at": ("datetime", "When the record was first stored (UTC)."),
    "updated_at": ("datetime", "When the record last changed (UTC)."),
}
assert set(DUMPED_DATE_PARTS) == set(PARTIAL_DATE_COLUMNS)


def field_descriptor(collection: Collection, column: str) -> dict:
    """The Table Schema field of one column, typed and described from the marshmallow field."""
    if column in BOOKKEEPING_COLUMNS:
        kind, description = BOOKKEEPING_COLUMNS[column]
        return {"name": column, "type": kind, "description": description, "constraints": {"required": True}}
    name, part = field_of(column)
    if part:
        kind, description = PARTIAL_DATE_COLUMNS[part]
        return {"name": column, "type": kind, "description": f"{name}: {description}"}
    f = collection.schema.fields[column]
    description = f.metadata.get("description", f"The {collection.singular}'s {column.replace('_', ' ')}.")
    if "references" in f.metadata:
        description = f"The id of a record in {f.metadata['references']}."
    descriptor = {"name": column, "type": "integer" if is_integer(collection, column) else "string"}
    if isinstance(f, fields.List | fields.Nested):
        descriptor["type"] = "array"
        description += " A JSON array."
    descriptor["description"] = description
    constraints = {}
    if f.required and not f.allow_none:
        constraints["required"] = True
    choices = next((v.choices for v in f.validators if isinstance(v, validate.OneOf)), None)
    if choices:
        constraints["enum"] = list(choices)
    if constraints:
        descriptor["constraints"] = constraints
    return descriptor


def resource_descriptor(collection: Collection) -> dict:
    foreign_keys = [
        # An empty resource name is Table Schema's way of saying "this same table".
        {"fields": name, "reference": {"resource": "" if to == collection.name else to, "fields": "id"}}
        for name, to in collection.references().items()
    ]
    schema = {
        "fields": [field_descriptor(collection, c) for c in public_columns(collection)],
        "primaryKey": ["id"],
        "missingValues": [""],
    }
    if foreign_keys:
        schema["foreignKeys"] = foreign_keys
    return {
        "name": collection.name,
        "path": f"{collection.name}.csv",
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "schema": schema,
    }


def datapackage() -> dict:
    """The datapackage.json descriptor of the bundle."""
    return {
        "profile": "tabular-data-package",
        "name": "icc-events",
        "title": "icc-events: open data about the International Criminal Court",
        "description": "Arrest warrants, sanctions against the court's people, the officials involved and "
        "what they said; every record cites the exact characters of its source (citations column).",
        "version": __version__,
        "licenses": [{"name": "CC-BY-4.0", "path": "https://creativecommons.org/licenses/by/4.0/"}],
        "resources": [resource_descriptor(c) for c in COLLECTIONS.values()],
    }


def write_table_csv(db: sqlite_utils.Database, collection: Collection, out: IO[str]) -> None:
    """One table as RFC 4180 CSV: the API's CSV columns, each value written as the API writes it."""
    columns = public_columns(collection)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in db.query(f"SELECT * FROM [{collection.table}] ORDER BY id"):
        writer.writerow(csv_row(columns, from_row(collection, row)))


# A regular file, rw-r--r--: zipfile's default for a name alone is 0600, which unzips unreadable to others.
FILE_MODE = 0o100644


def bundle_entry(name: str) -> zipfile.ZipInfo:
    """A zip entry that unpacks as a regular file with mode 0644, on Unix and elsewhere."""
    entry = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    entry.compress_type = zipfile.ZIP_DEFLATED
    entry.create_system = 3  # Unix: unzip reads the mode bits only from entries made on Unix
    entry.external_attr = FILE_MODE << 16
    return entry


def write_csv_bundle(db: sqlite_utils.Database, out: IO[bytes]) -> None:
    """The zip: datapackage.json first, then one CSV per collection."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        descriptor = json.dumps(datapackage(), indent=2, ensure_ascii=False)
        bundle.writestr(bundle_entry("datapackage.json"), descriptor)
        for collection in COLLECTIONS.values():
            with bundle.open(bundle_entry(f"{collection.name}.csv"), "w") as raw:
                with io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
                    write_table_csv(db, collection, text)
