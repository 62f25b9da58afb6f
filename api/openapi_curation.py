"""The OpenAPI description of writes, the change feed and record histories, with the bearer scheme."""

from apispec import APISpec

from api.collections import COLLECTIONS, Collection
from api.editing import writable
from schemas.changes import ChangeSchema, ChangesQuerySchema

SECURITY_SCHEME = "bearerAuth"
CREATE_PROBLEMS = ("400", "401", "403", "409", "413", "415", "422", "500", "503")
EDIT_PROBLEMS = ("400", "401", "403", "404", "412", "413", "415", "422", "428", "500", "503")
DELETE_PROBLEMS = ("401", "403", "404", "409", "412", "428", "500", "503")
STATUS_TEXT = {
    "400": "The body is not valid JSON, or a query parameter is bad; `errors` names each one.",
    "401": "No valid bearer token (unknown, revoked or malformed).",
    "403": "The token's scope does not allow this write.",
    "404": "No record has this id.",
    "410": "The `since` cursor came from an earlier change log: the database was rebuilt or imported "
    "since, and its changes are numbered from 1 again. Read the feed from the beginning.",
    "409": "Conflict: the id is taken, or (on delete) other records still refer to this one; "
    "`errors` names them.",
    "412": "If-Match does not match the record's current ETag: it changed since you read it.",
    "413": "The body is larger than the server accepts.",
    "415": "The body is not of the media type this operation takes.",
    "422": "The record is not valid: `errors` maps each field path (e.g. `citations.0.quote`) to "
    "its problem; citations must match their source, references must exist, and read-only fields "
    "(links, timestamps, citation urls, date bounds) must be left out or be what the server computes.",
    "428": "This write needs an If-Match header with the ETag you last read.",
    "500": "An unexpected error; details are logged, never sent.",
    "503": "Other writes held the database for the whole busy timeout; retry after `Retry-After` seconds.",
}
STRING = {"schema": {"type": "string"}}
HEADERS = {
    "401": {"WWW-Authenticate": {"description": "Bearer challenge (RFC 6750).", **STRING}},
    "403": {"WWW-Authenticate": {"description": "Bearer challenge naming the scope needed.", **STRING}},
    "412": {"ETag": {"description": "The record's current ETag.", **STRING}},
    "503": {"Retry-After": {"description": "Seconds to wait before retrying.", **STRING}},
}


def problem(status: str, extra_headers: dict | None = None) -> dict:
    response = {
        "description": STATUS_TEXT[status],
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    headers = {**HEADERS.get(status, {}), **(extra_headers or {})}
    if headers:
        response["headers"] = headers
    return response


def problems(*statuses: str, accepts: tuple[str, str] | None = None) -> dict:
    """Problem responses by status; accepts = (header, media type) the 415 names."""
    responses = {s: problem(s) for s in statuses}
    if accepts and "415" in responses:
        header, media_type = accepts
        responses["415"] = problem("415", {header: {"description": f"Send {media_type}.", **STRING}})
    return responses


def record_response(name: str, description: str, location: bool = False) -> dict:
    headers = {"ETag": {"description": "Strong validator of the version just written.", **STRING}}
    if location:
        headers["Location"] = {"description": "The new record's URL.", **STRING}
    return {
        "description": description,
        "headers": headers,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
    }


def body(media_type: str, schema_name: str, description: str, example: dict | None = None) -> dict:
    content = {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}
    if example is not None:
        content["example"] = example
    return {"required": True, "description": description, "content": {media_type: content}}


RECORD_ID = {"name": "record_id", "in": "path", "required": True, "schema": {"type": "string"}}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "description": "The ETag from your last read of this record; a 428 without it, a 412 if it is stale.",
    "schema": {"type": "string"},
}


def input_schemas(spec: APISpec, collection: Collection, name: str) -> None:
    """Request bodies: the record schema without read-only fields; all optional for a merge patch."""
    read_only = tuple(n for n, f in collection.schema.fields.items() if f.dump_only)
    schema_class = type(collection.schema)
    spec.components.schema(f"{name}Input", schema=schema_class(exclude=read_only))
    spec.components.schema(f"{name}Patch", schema=schema_class(exclude=read_only, partial=True))


def scope_note(collection: Collection, method: str) -> str:
    from api.writes import ADMIN_ONLY

    admin = method in ADMIN_ONLY or (collection.name == "sources" and method != "POST")
    return "Needs a token with scope `admin`." if admin else "Needs a token with scope `write` or `admin`."


def add_writes(spec: APISpec, collection: Collection, name: str, example: dict) -> None:
    input_schemas(spec, collection, name)
    tag, secured = collection.name, [{SECURITY_SCHEME: []}]
    singular = collection.singular
    created = "Server-computed `sha256` and `length`; " if collection.name == "sources" else ""
    spec.path(
        path=f"/v1/{collection.name}",
        operations={
            "post": {
                "operationId": f"create_{singular}",
                "summary": f"Create one {singular}",
                "description": f"{created}every citation must match its source's text at its offsets; "
                "read-only fields (links, timestamps, citation urls) are left out. "
                + scope_note(collection, "POST"),
                "tags": [tag],
                "security": secured,
                "requestBody": body(
                    "application/json",
                    f"{name}Input",
                    f"The new {singular}.",
                    writable(collection.schema, example),
                ),
                "responses": {
                    "201": record_response(name, f"The {singular} as stored.", location=True),
                    **problems(
                        *CREATE_PROBLEMS,
                        accepts=("Accept-Post", "application/json"),
                    ),
                },
            }
        },
    )
    item_parameters = [RECORD_ID, IF_MATCH]
    spec.path(
        path=f"/v1/{collection.name}/{{record_id}}",
        operations={
            "put": {
                "operationId": f"replace_{singular}",
                "summary": f"Replace one {singular}",
                "description": "The body is the whole record; fields left out take their defaults. "
                + scope_note(collection, "PUT"),
                "tags": [tag],
                "security": secured,
                "parameters": item_parameters,
                "requestBody": body("application/json", f"{name}Input", f"The {singular}'s new version."),
                "responses": {
                    "200": record_response(name, f"The {singular} as stored."),
                    **problems(
                        *EDIT_PROBLEMS,
                        accepts=("Accept-Post", "application/json"),
                    ),
                },
            },
            "patch": {
                "operationId": f"patch_{singular}",
                "summary": f"Change fields of one {singular}",
                "description": "A JSON merge patch (RFC 7396): members given replace the stored ones, "
                "objects merge, null removes a member. " + scope_note(collection, "PATCH"),
                "tags": [tag],
                "security": secured,
                "parameters": item_parameters,
                "requestBody": body("application/merge-patch+json", f"{name}Patch", "The fields to change."),
                "responses": {
                    "200": record_response(name, f"The {singular} as stored."),
                    **problems(
                        *EDIT_PROBLEMS,
                        accepts=("Accept-Patch", "application/merge-patch+json"),
                    ),
                },
            },
            "delete": {
                "operationId": f"delete_{singular}",
                "summary": f"Delete one {singular}",
                "description": "Only when no other record refers to it; the change feed keeps a tombstone. "
                + scope_note(collection, "DELETE"),
                "tags": [tag],
                "security": secured,
                "parameters": item_parameters,
                "responses": {
                    "204": {"description": "Deleted."},
                    **problems(*DELETE_PROBLEMS),
                },
            },
        },
    )


def feed_response(description: str) -> dict:
    return {
        "description": description,
        "headers": {
            "Link": {
                "description": 'RFC 8288 link to the next page (rel="next"), when there is one.',
                **STRING,
            }
        },
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChangeList"}}},
    }


def add_history(spec: APISpec, collection: Collection) -> None:
    spec.path(
        path=f"/v1/{collection.name}/{{record_id}}/history",
        operations={
            "get": {
                "operationId": f"history_{collection.singular}",
                "summary": f"Every version of one {collection.singular}",
                "description": "Its change-log entries, oldest first; also for a deleted record.",
                "tags": [collection.name],
                "parameters": [RECORD_ID, {"in": "query", "schema": ChangesQuerySchema}],
                "responses": {
                    "200": feed_response("This record's changes."),
                    "400": problem("400"),
                    "404": {**problem("404"), "description": "No record with this id has ever existed."},
                    "410": problem("410"),
                    "500": problem("500"),
                },
            }
        },
    )


def add_feed(spec: APISpec) -> None:
    spec.components.schema("Change", schema=ChangeSchema)
    spec.components.schema(
        "ChangeList",
        {
            "type": "object",
            "required": ["data", "cursor", "links"],
            "additionalProperties": False,
            "properties": {
                "data": {"type": "array", "items": {"$ref": "#/components/schemas/Change"}},
                "cursor": {
                    "type": "string",
                    "description": "Pass as `since` to continue after this page, now or later; it is "
                    "refused (410) once the database has been rebuilt or imported.",
                },
                "links": {"$ref": "#/components/schemas/PageLinks"},
            },
        },
    )
    spec.path(
        path="/v1/changes",
        operations={
            "get": {
                "operationId": "list_changes",
                "summary": "The change feed",
                "description": "Every write, oldest first; a deletion is a tombstone (`after` null). "
                "The feed starts with the seed load, so replaying it from the beginning into an empty "
                "database reproduces this one. Follow `links.next` until it is null, keep `cursor`, and "
                "poll again later with `since=<cursor>`.",
                "tags": ["changes"],
                "parameters": [{"in": "query", "schema": ChangesQuerySchema}],
                "responses": {
                    "200": feed_response("A page of changes."),
                    "400": problem("400"),
                    "410": problem("410"),
                    "500": problem("500"),
                },
            }
        },
    )


def add_curation(spec: APISpec, examples: dict[str, dict], schema_name) -> None:
    """Writes for every collection, each record's history, the feed, and the bearer scheme."""
    spec.components.security_scheme(
        SECURITY_SCHEME,
        {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from `icc-events tokens create`; reads need none.",
        },
    )
    for collection in COLLECTIONS.values():
        add_writes(spec, collection, schema_name(collection), examples[collection.name])
        add_history(spec, collection)
    add_feed(spec)
