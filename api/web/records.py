"""Read views over every collection: GET /v1/<collection> and GET /v1/<collection>/<id>."""

from flask import Blueprint, current_app, request, url_for

from api.model.collections import COLLECTIONS, Collection
from api.model.encoding import encode_json
from api.model.rendering import served
from api.store.changes import data_version
from api.store.facets import facet_counts
from api.store.filters import conditions
from api.store.paging import decode_cursor, encode_cursor
from api.store.reads import SERVED_SELECT, get_row, list_rows, order_columns
from api.store.search import has_many_matches, one_snapshot
from api.web.caching import (
    cache_headers,
    etag_matches,
    last_modified,
    not_modified,
    read_response,
    representation_etag,
    version_etag,
)
from api.web.database import get_db
from api.web.errors import APIProblem
from api.web.formats import content_type, json_object_text, negotiate, text_lines, text_rows
from api.web.links import link_next, self_url
from api.web.query_args import parse_query
from api.web.shape import embed, related_rows, sparse
from api.web.streaming import export, reject_json_only_arguments
from schemas.query import item_query_schema, list_query_schema

bp = Blueprint("records", __name__, url_prefix="/v1")
QUERY_SCHEMAS = {name: list_query_schema(c) for name, c in COLLECTIONS.items()}
ITEM_QUERY_SCHEMAS = {name: item_query_schema(c) for name, c in COLLECTIONS.items()}


def versions(rows) -> list[tuple[str, str]]:
    """What a representation's ETag must change with: which rows, and each one's content digest."""
    return [(row["id"], row["etag"]) for row in rows]


def sort_key(sort: list[tuple[str, bool]]) -> str:
    return ",".join(("-" if desc else "") + name for name, desc in sort)


def shaped(collection: Collection, rows: list[dict], args: dict, related: dict) -> list[dict]:
    """Rows as records: dumped, embedded includes, then only the fields asked for."""
    records = []
    for row in rows:
        record = served(row)
        if args.get("include"):
            record = embed(collection, record, args["include"], related)
        records.append(sparse(record, args.get("fields") and [*args["fields"], "included"]))
    return records


def is_plain(args: dict) -> bool:
    """No include= or fields=: each record is sent as it is stored."""
    return not args.get("include") and not args.get("fields")


def records_json(collection: Collection, rows: list[dict], args: dict, related: dict) -> list[str]:
    """Each row's record as JSON text: its stored bytes, or shaped anew when include= or fields= ask."""
    if is_plain(args):
        return [row["served_json"] for row in rows]
    return [encode_json(record) for record in shaped(collection, rows, args, related)]


def records_text(fmt: str, collection: Collection, rows: list[dict], args: dict, related: dict) -> str:
    """A page of records as CSV or NDJSON: stored lines when no fields= asks for fewer columns."""
    if is_plain(args):
        return "".join(text_rows(fmt, collection, rows))
    return "".join(text_lines(fmt, collection, shaped(collection, rows, args, related), args.get("fields")))


def list_query(db, collection: Collection, args: dict) -> tuple[str, list | None, list, list]:
    """A validated list query as (its sort's cursor key, the cursor's values or None, the SQL
    conditions and their parameters): the JSON lists and the HTML collection pages read the same."""
    key = sort_key(args["sort"])
    after = None
    if "cursor" in args:
        after = decode_cursor(args["cursor"], key, len(order_columns(collection, args["sort"])))
    many_matches = "q" in args and has_many_matches(db, collection, args["q"])
    where, params = conditions(collection, args, many_matches)
    return key, after, where, params


def list_view(collection: Collection):
    def view():
        args = parse_query(QUERY_SCHEMAS[collection.name])
        fmt = negotiate(args.get("format"))
        db = get_db()
        if fmt != "json" and "limit" not in request.args:
            # Without a limit, CSV and NDJSON are every matching record (an export, tagged by its data).
            key, after, where, params = list_query(db, collection, args)
            return export(collection, fmt, args, where, params, after)
        with one_snapshot(db):
            # Tagged by the data version it is read at, checked before any record is read.
            etag = version_etag(request.url, fmt, data_version(db))
            if is_revalidated(etag):
                return cache_headers(not_modified("application/json"), etag, None)
            return link_next(*page(collection, db, args, fmt, etag))

    view.__name__ = f"list_{collection.name}"
    view.__doc__ = f"List {collection.name}, keyset-paged."
    return view


def is_revalidated(etag: str) -> bool:
    """Whether If-None-Match names this tag itself: `*` says nothing of the query, which may be bad."""
    tags = request.if_none_match
    return bool(tags) and not tags.star_tag and etag_matches(etag, tags)


def page(collection: Collection, db, args: dict, fmt: str, etag: str):
    """One page of a list (JSON, or CSV/NDJSON with a limit) and the URL of the next, if any."""
    key, after, where, params = list_query(db, collection, args)
    if fmt != "json":
        reject_json_only_arguments(args)
    select = SERVED_SELECT[fmt] if is_plain(args) else "*"
    rows, next_after = list_rows(db, collection, where, params, args["sort"], args["limit"], after, select)
    related = related_rows(db, collection, rows, args.get("include") or [])
    facets = facet_counts(db, collection, args.get("facet") or [], where, params)
    next_url = None
    if next_after is not None:
        query = {**request.args.to_dict(), "cursor": encode_cursor(key, next_after)}
        next_url = url_for(request.endpoint, _external=True, **query)
    modified = last_modified([*rows, *related.values()])

    def build():
        if fmt != "json":
            text = records_text(fmt, collection, rows, args, related)
            return current_app.response_class(text, content_type=content_type(fmt))
        rest = {"links": {"self": self_url(), "next": next_url}}
        if "facet" in args:
            rest["facets"] = facets
        body = json_object_text(data=records_json(collection, rows, args, related), **rest)
        return current_app.response_class(body, mimetype="application/json")

    return read_response(etag, modified, build), next_url


def item_view(collection: Collection):
    def view(record_id: str):
        args = parse_query(ITEM_QUERY_SCHEMAS[collection.name])
        fmt = negotiate(args.get("format"))
        db = get_db()
        row = get_row(db, collection, record_id, SERVED_SELECT[fmt] if is_plain(args) else "*")
        if row is None:
            raise APIProblem(404, f"No {collection.singular} with id {record_id!r}.")
        related = related_rows(db, collection, [row], args.get("include") or [])
        plain = fmt == "json" and not args.get("fields") and not args.get("include")
        # A plain JSON item is tagged by its stored row digest, so writers and readers share one ETag.
        etag = (
            row["etag"]
            if plain
            else representation_etag(request.url, fmt, versions([row, *related.values()]))
        )
        modified = last_modified([row, *related.values()])

        def build():
            if fmt == "json":
                body = records_json(collection, [row], args, related)[0] + "\n"
                return current_app.response_class(body, mimetype="application/json")
            text = records_text(fmt, collection, [row], args, related)
            return current_app.response_class(text, content_type=content_type(fmt))

        return read_response(etag, modified, build)

    view.__name__ = f"get_{collection.name}"
    view.__doc__ = f"One {collection.singular}, shaped by fields= and include=."
    return view


for _collection in COLLECTIONS.values():
    bp.add_url_rule(f"/{_collection.name}", view_func=list_view(_collection), methods=["GET"])
    bp.add_url_rule(f"/{_collection.name}/<record_id>", view_func=item_view(_collection), methods=["GET"])
