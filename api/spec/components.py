"""What many operations share, described once under `components` and referenced by `$ref`.

Builders name a shared response or header (`response_ref("NotFound")`); `add_shared_components`
then writes under `components` each one the description refers to, in the order given here.
Shared query parameters come from the marshmallow query schemas (`query_parameters`).
"""

import copy

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_instance
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from marshmallow import Schema

from api.config import DEFAULTS
from api.web.ratelimit import DESCRIPTIONS, EXPENSIVE_READS, WRITES, documented_headers

STRING = {"type": "string"}
PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def response_ref(name: str) -> dict:
    return {"$ref": f"#/components/responses/{name}"}


def header_ref(name: str) -> dict:
    return {"$ref": f"#/components/headers/{name}"}


def headers(*names: str, **renamed: str) -> dict:
    """Response headers by component name; renamed maps a header (ETag) to another component's name."""
    return {**{name: header_ref(name) for name in names}, **{h: header_ref(c) for h, c in renamed.items()}}


def header(description: str) -> dict:
    return {"description": description, "schema": STRING}


HEADERS = {
    "ETag": header("Strong validator of this representation; send it back in If-None-Match."),
    "Last-Modified": header("The latest updated_at of the records in the representation."),
    "Cache-Control": header("How long caches may reuse the response."),
    "Link": header('RFC 8288 link to the next page (rel="next"), when there is one.'),
    **documented_headers(),
    "WrittenETag": header("Strong validator of the version just written."),
    "WrittenChange": {
        "description": "The change log's position after this write (api/web/replica.py): send it back as "
        "ICC-Events-Min-Change to read this write from a read replica.",
        "schema": {"type": "string", "pattern": "^[0-9]{1,19}$"},
    },
    "Location": header("The new record's URL."),
    "CurrentETag": header("The record's current ETag."),
    "BearerChallenge": header("Bearer challenge (RFC 6750)."),
    "ScopeChallenge": header("Bearer challenge naming the scope needed."),
    "AcceptJson": header("Send application/json."),
    "AcceptMergePatch": header("Send application/merge-patch+json."),
    "ExportETag": header("Strong tag of the data in the export; send it as If-None-Match."),
    "Content-Disposition": header("attachment, with the file name."),
    "PageETag": header("Strong validator of the page's content."),
    "Accept-Ranges": header("`bytes`: a part can be asked for with Range."),
    "Content-Range": header("`bytes START-END/LENGTH`: which bytes of the file these are."),
    "UnsatisfiedRange": header("`bytes */LENGTH`: the file's length."),
}
CACHE_HEADERS = ("ETag", "Last-Modified", "Cache-Control")
RATE_LIMIT_HEADERS = tuple(documented_headers())


def problem(description: str, response_headers: dict | None = None) -> dict:
    response = {"description": description, "content": PROBLEM}
    if response_headers:
        response["headers"] = response_headers
    return response


RESPONSES = {
    "NotModified": {
        "description": "The copy named by If-None-Match (or If-Modified-Since) is current; no body.",
        "headers": headers(*CACHE_HEADERS),
    },
    "BadRequest": problem(
        "A query parameter is unknown, repeated or invalid, or an id is too long; `errors` names each one."
    ),
    "NotFound": problem("No record has this id."),
    "NotAcceptable": problem("None of the formats the Accept header allows is offered (JSON, CSV, NDJSON)."),
    "UriTooLong": problem(
        "The query string is longer than the server accepts "
        f"({DEFAULTS['MAX_QUERY_STRING_LENGTH']} bytes by default)."
    ),
    "TooManyExpensiveReads": problem(DESCRIPTIONS[EXPENSIVE_READS], headers(*RATE_LIMIT_HEADERS)),
    "InternalError": problem("An unexpected error; details are logged, never sent."),
    "HeadersTooLarge": problem(
        "The request's headers are larger than the server accepts "
        f"({DEFAULTS['MAX_HEADER_BYTES']} bytes in all by default)."
    ),
    "Unavailable": problem(
        "The database is busy, read-only, full or unreadable; retry after `Retry-After` seconds.",
        headers("Retry-After"),
    ),
    # Writes, the change feed and histories.
    "BadBody": problem("The body is not valid JSON, or a query parameter is bad; `errors` names each one."),
    "Unauthorized": problem(
        "No valid bearer token (unknown, revoked or malformed).",
        {"WWW-Authenticate": header_ref("BearerChallenge")},
    ),
    "Forbidden": problem(
        "The token's scope does not allow this write.",
        {"WWW-Authenticate": header_ref("ScopeChallenge")},
    ),
    "Conflict": problem(
        "Conflict: the id is taken, or (on delete) other records still refer to this one; "
        "`errors` names them."
    ),
    "CursorGone": problem(
        "The `since` cursor came from an earlier change log: the database was rebuilt or imported "
        "since, and its changes are numbered from 1 again. Read the feed from the beginning."
    ),
    "PreconditionFailed": problem(
        "If-Match does not match the record's current ETag: it changed since you read it.",
        headers(ETag="CurrentETag"),
    ),
    "ContentTooLarge": problem("The body is larger than the server accepts."),
    "UnsupportedJson": problem(
        "The body is not of the media type this operation takes.",
        headers(**{"Accept-Post": "AcceptJson"}),
    ),
    "UnsupportedMergePatch": problem(
        "The body is not of the media type this operation takes.",
        headers(**{"Accept-Patch": "AcceptMergePatch"}),
    ),
    "InvalidRecord": problem(
        "The record is not valid: `errors` maps each field path (e.g. `citations.0.quote`) to "
        "its problem; citations must match their source, references must exist, and read-only fields "
        "(links, timestamps, citation urls, date bounds) must be left out or be what the server computes."
    ),
    "PreconditionRequired": problem("This write needs an If-Match header with the ETag you last read."),
    "TooManyWrites": problem(DESCRIPTIONS[WRITES], headers(*RATE_LIMIT_HEADERS)),
    "WritesBusy": problem(
        "Other writes held the database for the whole busy timeout; retry after `Retry-After` seconds.",
        headers("Retry-After"),
    ),
    "NeverExisted": problem("No record with this id has ever existed."),
    # Exports and pages.
    "ExportNotModified": {
        "description": "Not Modified: the If-None-Match tag is still current.",
        "headers": headers(ETag="ExportETag"),
    },
    "PageNotModified": {"description": "The page is unchanged since the ETag sent in If-None-Match."},
    # A download file's byte ranges (RFC 9110 section 14).
    "DownloadPreconditionFailed": problem("If-Match names no current version of the download."),
    "RangeNotSatisfiable": problem(
        "Range Not Satisfiable: the Range asks for no byte of the file.",
        {"Content-Range": header_ref("UnsatisfiedRange")},
    ),
    "SourcePageNotFound": problem("No source has this id."),
}

PARAMETERS = {
    "Range": {
        "name": "Range",
        "in": "header",
        "required": False,
        "schema": STRING,
        "description": "One byte range of the file, `bytes=START-END`, `bytes=START-` or `bytes=-SUFFIX`: "
        "a 206 with those bytes (416 when none exists). Several ranges, or another unit, get the whole "
        "file. `curl -C -` resumes a download this way.",
    },
    "IfRange": {
        "name": "If-Range",
        "in": "header",
        "required": False,
        "schema": STRING,
        "description": "The ETag (or Last-Modified) of the copy you are resuming: the range if it is "
        "still current, else the whole file (200).",
    },
}
# The 429 of an operation that spends a rate-limit budget (api/web/ratelimit.py's budget_of), by budget.
RATE_LIMITED = {WRITES: "TooManyWrites", EXPENSIVE_READS: "TooManyExpensiveReads"}

# The problem responses of reads, by status.
READ_PROBLEMS = {
    "400": "BadRequest",
    "404": "NotFound",
    "406": "NotAcceptable",
    "414": "UriTooLong",
    "500": "InternalError",
    "503": "Unavailable",
}


def read_problems(*statuses: str) -> dict:
    """The documented problem responses of a read, by status, as references."""
    return {status: response_ref(READ_PROBLEMS[status]) for status in statuses}


def refs_in(node, found: list[str]) -> list[str]:
    """Every local $ref under node, in document order."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            found.append(node["$ref"])
        for value in node.values():
            refs_in(value, found)
    elif isinstance(node, list):
        for value in node:
            refs_in(value, found)
    return found


def add_shared_components(spec: dict) -> dict:
    """Write under components each shared response, header and parameter the description refers to.

    Responses one module shares among its own operations it registers with apispec itself.
    """
    components = spec.setdefault("components", {})
    catalogue = {"responses": RESPONSES, "headers": HEADERS, "parameters": PARAMETERS}
    used: set[tuple[str, str]] = set()
    pending = refs_in(spec, [])
    while pending:
        _, _, kind, name = pending.pop().split("/", 3)
        if kind not in catalogue or (kind, name) in used or name in components.get(kind, {}):
            continue  # not a shared kind, seen already, or registered with apispec where it is built
        used.add((kind, name))
        pending += refs_in(catalogue[kind][name], [])
    for kind, definitions in catalogue.items():
        chosen = {name: copy.deepcopy(definitions[name]) for name in definitions if (kind, name) in used}
        if chosen:
            components[kind] = {**components.get(kind, {}), **chosen}
    return spec


def converter(spec: APISpec) -> OpenAPIConverter:
    """What turns marshmallow schemas into JSON Schema and parameters for this spec."""
    return next(p for p in spec.plugins if isinstance(p, MarshmallowPlugin)).converter


def query_parameters(spec: APISpec, schema: Schema | type[Schema], shared: dict[str, str]) -> list:
    """The schema's query parameters; each one named in shared (parameter -> component id) by reference.

    A shared component is written once, from its first use; every later use must describe it the same.
    """
    parameters = []
    for parameter in converter(spec).schema2parameters(resolve_schema_instance(schema), location="query"):
        component_id = shared.get(parameter["name"])
        if component_id is None:
            parameters.append(parameter)
            continue
        registered = spec.components.parameters.get(component_id)
        if registered is None:
            spec.components.parameter(component_id, "query", parameter)
        elif registered != parameter:
            raise ValueError(f"parameter {component_id} is described two ways: {registered} and {parameter}")
        parameters.append(component_id)
    return parameters
