"""Write views on every collection: POST, PUT, PATCH (JSON merge patch) and DELETE, with If-Match."""

import json

from flask import Blueprint, current_app, request

from api.model.collections import COLLECTIONS, Collection
from api.store.editing import create_record, delete_record, patch_record, replace_record
from api.web.auth import require_scope
from api.web.caching import etag_matches
from api.web.database import get_db
from api.web.errors import APIProblem
from api.web.links import record_url

bp = Blueprint("writes", __name__, url_prefix="/v1")

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
# Records nest four levels (warrant > withdrawal_attempts > item > field); anything deeper is abuse.
MAX_NESTING = 16


def json_body(media_type: str, limit: int | None = None):
    """The request body parsed as JSON of media_type: 415, 413 (over limit, default MAX_BODY_BYTES)
    or 400 otherwise."""
    if request.mimetype != media_type:
        header = "Accept-Patch" if media_type == MERGE_PATCH else "Accept-Post"
        raise APIProblem(
            415,
            f"Send the body as {media_type}, not {request.mimetype or 'no media type'}.",
            {header: media_type},
        )
    limit = limit or current_app.config["MAX_BODY_BYTES"]
    if request.content_length is not None and request.content_length > limit:
        raise APIProblem(413, f"The body is {request.content_length} bytes; the limit is {limit}.")
    try:
        body = json.loads(
            read_body(limit),
            object_pairs_hook=no_duplicate_keys,
            parse_constant=reject_constant,
        )
    except (ValueError, UnicodeDecodeError) as error:
        raise APIProblem(400, f"The body is not valid JSON: {error}.") from None
    except RecursionError:
        raise too_deep() from None
    if nesting_depth(body) > MAX_NESTING:
        raise too_deep()
    return body


def read_body(limit: int) -> bytes:
    """The body, at most limit bytes; also bounds a chunked body, which has no Content-Length."""
    # werkzeug stops a stream at max_content_length without error; one byte more tells a longer body.
    request.max_content_length = limit + 1
    chunks, size = [], 0
    while chunk := request.stream.read(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise APIProblem(413, f"The body is over the limit of {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def too_deep() -> APIProblem:
    return APIProblem(400, f"The body's arrays and objects nest more than {MAX_NESTING} levels deep.")


def nesting_depth(value) -> int:
    """How deeply arrays and objects nest in a parsed JSON value, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def no_duplicate_keys(pairs: list) -> dict:
    # A repeated key would otherwise be silently dropped: JSON parsers disagree on which one wins.
    result = dict(pairs)
    if len(result) != len(pairs):
        seen = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise ValueError(f"duplicate key {duplicate!r}")
    return result


def reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def if_match_predicate():
    """A test of the stored ETag against If-Match; 428 when the header is missing."""
    if "If-Match" not in request.headers:
        raise APIProblem(
            428, "This write needs an If-Match header with the ETag you last read, so no edit is lost."
        )
    # The tag may carry the ":gzip" suffix compression adds to the ETag the client read.
    return lambda etag: etag_matches(etag, request.if_match, weak=False)


def record_response(collection: Collection, row: dict, status: int):
    response = current_app.response_class(row["served_json"] + "\n", status, mimetype="application/json")
    response.set_etag(row["etag"])
    return response


def create_view(collection: Collection):
    def view():
        token = require_scope(collection.write_scope(request.method))
        row = create_record(get_db(), collection, json_body(JSON), token["name"])
        response = record_response(collection, row, 201)
        response.headers["Location"] = record_url(collection.name, row["id"])
        return response

    view.__name__ = f"create_{collection.singular}"
    view.__doc__ = f"Create one {collection.singular}."
    return view


def replace_view(collection: Collection):
    def view(record_id: str):
        token = require_scope(collection.write_scope(request.method))
        matches = if_match_predicate()
        body = json_body(JSON)
        if isinstance(body, dict):
            body.setdefault("id", record_id)
        row = replace_record(get_db(), collection, record_id, lambda _: body, matches, token["name"])
        return record_response(collection, row, 200)

    view.__name__ = f"replace_{collection.singular}"
    view.__doc__ = f"Replace one {collection.singular}."
    return view


def patch_view(collection: Collection):
    def view(record_id: str):
        token = require_scope(collection.write_scope(request.method))
        matches = if_match_predicate()
        patch = json_body(MERGE_PATCH)
        row = patch_record(get_db(), collection, record_id, patch, matches, token["name"])
        return record_response(collection, row, 200)

    view.__name__ = f"patch_{collection.singular}"
    view.__doc__ = f"Change some fields of one {collection.singular} (JSON merge patch)."
    return view


def delete_view(collection: Collection):
    def view(record_id: str):
        token = require_scope(collection.write_scope(request.method))
        delete_record(get_db(), collection, record_id, if_match_predicate(), token["name"])
        return "", 204

    view.__name__ = f"delete_{collection.singular}"
    view.__doc__ = f"Delete one {collection.singular} that nothing refers to."
    return view


for _collection in COLLECTIONS.values():
    bp.add_url_rule(f"/{_collection.name}", view_func=create_view(_collection), methods=["POST"])
    item = f"/{_collection.name}/<record_id>"
    bp.add_url_rule(item, view_func=replace_view(_collection), methods=["PUT"])
    bp.add_url_rule(item, view_func=patch_view(_collection), methods=["PATCH"])
    bp.add_url_rule(item, view_func=delete_view(_collection), methods=["DELETE"])
