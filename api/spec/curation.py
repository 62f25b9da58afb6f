"""The OpenAPI description of writes, the change feed and record histories, with the bearer scheme."""

from apispec import APISpec

from api.model.collections import COLLECTIONS, Collection
from api.spec.components import headers, query_parameters, response_ref
from api.store.editing import writable
from schemas.changes import ChangeSchema, ChangesQuerySchema

SECURITY_SCHEME = "bearerAuth"
CREATE_PROBLEMS = ("400", "401", "403", "409", "413", "415", "422", "500", "503")
EDIT_PROBLEMS = ("400", "401", "403", "404", "412", "413", "415", "422", "428", "500", "503")
DELETE_PROBLEMS = ("401", "403", "404", "409", "412", "428", "500", "503")
# Each write's problem responses by status: names of shared responses (api/spec/components.py).
WRITE_PROBLEMS = {
    "400": "BadBody",
    "401": "Unauthorized",
    "403": "Forbidden",
    "404": "NotFound",
    "409": "Conflict",
    "410": "CursorGone",
    "412": "PreconditionFailed",
    "413": "ContentTooLarge",
    "422": "InvalidRecord",
    "428": "PreconditionRequired",
    "500": "InternalError",
    "503": "WritesBusy",
}
# The 415 names the media type the operation takes.
UNSUPPORTED = {"application/json": "UnsupportedJson", "application/merge-patch+json": "UnsupportedMergePatch"}


def problems(*statuses: str, accepts: str | None = None) -> dict:
    """Problem responses by status, as references; accepts is the media type the 415 names."""
    return {
        status: response_ref(UNSUPPORTED[accepts] if status == "415" else WRITE_PROBLEMS[status])
        for status in statuses
    }


def record_response(name: str, description: str, location: bool = False) -> dict:
    return {
        "description": description,
        "headers": headers(
            ETag="WrittenETag",
            **{"ICC-Events-Change": "WrittenChange"},
            **({"Location": "Location"} if location else {}),
        ),
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
    }


def body(media_type: str, schema_name: str, description: str, example: dict | None = None) -> dict:
    content = {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}
    if example is not None:
        content["example"] = example
    return {"required": True, "description": description, "content": {media_type: content}}


RECORD_ID = {"name": "record_id", "schema": {"type": "string"}}
IF_MATCH = {
    "name": "If-Match",
    "required": True,
    "description": "The ETag from your last read of this record; a 428 without it, a 412 if it is stale.",
    "schema": {"type": "string"},
}
CHANGES_SHARED = {"since": "Since", "limit": "ChangesLimit"}


def input_schemas(spec: APISpec, collection: Collection, name: str) -> None:
    """Request bodies: the record schema without read-only fields; all optional for a merge patch."""
    read_only = tuple(n for n, f in collection.schema.fields.items() if f.dump_only)
    schema_class = type(collection.schema)
    spec.components.schema(f"{name}Input", schema=schema_class(exclude=read_only))
    spec.components.schema(f"{name}Patch", schema=schema_class(exclude=read_only, partial=True))


def scope_note(collection: Collection, method: str) -> str:
    admin = collection.write_scope(method.upper()) == "admin"
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
                        accepts="application/json",
                    ),
                },
            }
        },
    )
    spec.components.response(f"{name}Stored", record_response(name, f"The {singular} as stored."))
    item_parameters = ["RecordId", "IfMatch"]
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
                    "200": response_ref(f"{name}Stored"),
                    **problems(
                        *EDIT_PROBLEMS,
                        accepts="application/json",
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
                    "200": response_ref(f"{name}Stored"),
                    **problems(
                        *EDIT_PROBLEMS,
                        accepts="application/merge-patch+json",
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
                    "204": response_ref("Deleted"),
                    **problems(*DELETE_PROBLEMS),
                },
            },
        },
    )


def feed_response(description: str) -> dict:
    return {
        "description": description,
        "headers": headers("Link"),
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
                "parameters": ["RecordId", *query_parameters(spec, ChangesQuerySchema, CHANGES_SHARED)],
                "responses": {
                    "200": response_ref("RecordChanges"),
                    **problems("400"),
                    "404": response_ref("NeverExisted"),
                    **problems("410", "500"),
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
                    "description": "An opaque token: pass it, as it is, as `since` to continue after "
                    "this page, now or later; it is refused (410) once the database has been rebuilt "
                    "or imported.",
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
                "parameters": query_parameters(spec, ChangesQuerySchema, CHANGES_SHARED),
                "responses": {
                    "200": feed_response("A page of changes."),
                    **problems("400", "410", "500"),
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
    spec.components.parameter("RecordId", "path", RECORD_ID)
    spec.components.parameter("IfMatch", "header", IF_MATCH)
    spec.components.response("RecordChanges", feed_response("This record's changes."))
    spec.components.response(
        "Deleted", {"description": "Deleted.", "headers": headers(**{"ICC-Events-Change": "WrittenChange"})}
    )
    for collection in COLLECTIONS.values():
        add_writes(spec, collection, schema_name(collection), examples[collection.name])
        add_history(spec, collection)
    add_feed(spec)
