"""The OpenAPI description of the bulk downloads under /v1/export (api/downloads.py)."""

from apispec import APISpec

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


STRING = {"type": "string"}
PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
# What a response served from a download file adds: byte ranges (RFC 9110 section 14).
RANGE_PARAMETERS = [
    {
        "name": "Range",
        "in": "header",
        "required": False,
        "schema": STRING,
        "description": "One byte range of the file, `bytes=START-END`, `bytes=START-` or `bytes=-SUFFIX`: "
        "a 206 with those bytes (416 when none exists). Several ranges, or another unit, get the whole "
        "file. `curl -C -` resumes a download this way.",
    },
    {
        "name": "If-Range",
        "in": "header",
        "required": False,
        "schema": STRING,
        "description": "The ETag (or Last-Modified) of the copy you are resuming: the range if it is "
        "still current, else the whole file (200).",
    },
]
ACCEPT_RANGES = {
    "Accept-Ranges": {"description": "`bytes`: a part can be asked for with Range.", "schema": STRING}
}


def range_responses(content: dict, etag: dict) -> dict:
    """The 206, 412 and 416 of an operation served from a file; content: media type -> its schema."""
    return {
        "206": {
            "description": "Partial Content: the bytes the Range asks for.",
            "headers": {
                **etag,
                "Content-Range": {
                    "description": "`bytes START-END/LENGTH`: which bytes of the file these are.",
                    "schema": STRING,
                },
            },
            "content": {media_type: {"schema": STRING} for media_type in content},
        },
        "412": {"description": "If-Match names no current version of the download.", "content": PROBLEM},
        "416": {
            "description": "Range Not Satisfiable: the Range asks for no byte of the file.",
            "headers": {
                "Content-Range": {"description": "`bytes */LENGTH`: the file's length.", "schema": STRING}
            },
            "content": PROBLEM,
        },
    }


def add_downloads(spec: APISpec, problems: dict[str, dict]) -> None:
    """The /v1/export/... operations; problems are the error responses, described once elsewhere."""
    spec.components.schema("FtmEntity", schema=FtmEntitySchema)
    for name, export in EXPORTS.items():
        content = {"schema": {"type": "string", "contentMediaType": export["media_type"]}}
        if name == "ftm":
            # OpenAPI 3.1 has no itemSchema: x-line-schema describes each NDJSON line.
            content["schema"]["description"] = "One FtM entity (a JSON object) per line."
            content["x-line-schema"] = {"$ref": "#/components/schemas/FtmEntity"}
        else:
            content["schema"]["format"] = "binary"
        etag = {
            "ETag": {
                "description": "Strong tag of the data in the export; send it as If-None-Match.",
                "schema": {"type": "string"},
            }
        }
        spec.path(
            path=f"/v1/export/{name}",
            operations={
                "get": {
                    "operationId": f"export_{name.split('.')[0]}",
                    "summary": export["summary"],
                    "description": export["description"],
                    "tags": ["exports"],
                    "parameters": [
                        {
                            "name": "If-None-Match",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string"},
                            "description": "The ETag of a copy you hold: 304 if the data has not changed.",
                        },
                        *RANGE_PARAMETERS,
                    ],
                    "responses": {
                        "200": {
                            "description": f"The export, as the attachment {export['filename']}.",
                            "headers": {
                                **etag,
                                **ACCEPT_RANGES,
                                "Content-Disposition": {
                                    "description": "attachment, with the file name.",
                                    "schema": {"type": "string"},
                                },
                            },
                            "content": {export["media_type"]: content},
                        },
                        "304": {
                            "description": "Not Modified: the If-None-Match tag is still current.",
                            "headers": etag,
                        },
                        **range_responses({export["media_type"]: content}, etag),
                        **problems,
                    },
                }
            },
        )
