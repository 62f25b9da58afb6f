"""The OpenAPI description of the bulk downloads under /v1/export (api/web/downloads.py)."""

from apispec import APISpec

from api.spec.components import converter, headers, response_ref
from schemas.ftm import FtmEntitySchema

EXPORTS = {
    "ftm": {
        "summary": "Export as FollowTheMoney entities",
        "description": "Every entity, one JSON object per line (NDJSON), as Aleph and OpenSanctions "
        "tooling load them: officials as Person with Position and Occupancy, organizations as "
        "PublicBody, Organization or Company, warrants as CourtCase with CourtCaseParty, sanctions as "
        "Sanction, events as Event, the article as Article. Ids are `icc-events-<kind>-<id>`.",
        "media_type": "application/x-ndjson",
        "filename": "icc-events.ftm.json",
    },
    "sqlite": {
        "summary": "Export as a SQLite database",
        "description": "A consistent snapshot of the database file (tables of every collection and "
        "their full-text indexes), in rollback-journal mode: it opens in Datasette or `sqlite3`.",
        "media_type": "application/vnd.sqlite3",
        "filename": "icc-events.db",
    },
    "csv.zip": {
        "summary": "Export as CSV files with a Frictionless data package",
        "description": "A zip of one RFC 4180 CSV file per collection and a `datapackage.json` "
        "(Frictionless Data) describing every table and field, with primary and foreign keys.",
        "media_type": "application/zip",
        "filename": "icc-events-csv.zip",
    },
}


# What a response served from a download file adds: byte ranges (RFC 9110 section 14).
RANGE_PARAMETERS = ["Range", "IfRange"]


def range_responses(media_types, etag: dict) -> dict:
    """The 206, 412 and 416 of an operation served from a file; etag: the 206's validator headers."""
    return {
        "206": {
            "description": "Partial Content: the bytes the Range asks for.",
            "headers": {**etag, **headers("Content-Range")},
            "content": {media_type: {"schema": {"type": "string"}} for media_type in media_types},
        },
        "412": response_ref("DownloadPreconditionFailed"),
        "416": response_ref("RangeNotSatisfiable"),
    }


def add_downloads(spec: APISpec, problems: dict[str, dict]) -> None:
    """The /v1/export/... operations; problems are the error responses, described once elsewhere."""
    # Written inline: linters count no $ref from an extension as a use of a component.
    line_schema = converter(spec).schema2jsonschema(FtmEntitySchema)
    spec.components.parameter(
        "IfNoneMatch",
        "header",
        {
            "name": "If-None-Match",
            "required": False,
            "schema": {"type": "string"},
            "description": "The ETag of a copy you hold: 304 if the data has not changed.",
        },
    )
    for name, export in EXPORTS.items():
        content = {"schema": {"type": "string", "contentMediaType": export["media_type"]}}
        if name == "ftm":
            # OpenAPI 3.1 has no itemSchema: x-line-schema describes each NDJSON line.
            content["schema"]["description"] = "One FtM entity (a JSON object) per line."
            content["x-line-schema"] = line_schema
        else:
            content["schema"]["format"] = "binary"
        spec.path(
            path=f"/v1/export/{name}",
            operations={
                "get": {
                    "operationId": f"export_{name.split('.')[0]}",
                    "summary": export["summary"],
                    "description": export["description"],
                    "tags": ["exports"],
                    "parameters": ["IfNoneMatch", *RANGE_PARAMETERS],
                    "responses": {
                        "200": {
                            "description": f"The export, as the attachment {export['filename']}.",
                            "headers": headers("Accept-Ranges", "Content-Disposition", ETag="ExportETag"),
                            "content": {export["media_type"]: content},
                        },
                        "304": response_ref("ExportNotModified"),
                        **range_responses([export["media_type"]], headers(ETag="ExportETag")),
                        **problems,
                    },
                }
            },
        )
