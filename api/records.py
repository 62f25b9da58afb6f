"""Read views over every collection: GET /v1/<collection> and GET /v1/<collection>/<id>."""

from flask import Blueprint, current_app, request, url_for

from api.collections import COLLECTIONS, Collection
from api.db import get_db
from api.errors import APIProblem
from api.links import with_links
from api.paging import decode_cursor, encode_cursor
from api.query_args import parse_query
from api.rows import from_row
from api.store import get_row, list_records, order_columns
from schemas.query import list_query_schema

bp = Blueprint("records", __name__, url_prefix="/v1")
QUERY_SCHEMAS = {name: list_query_schema(c) for name, c in COLLECTIONS.items()}


def list_view(collection: Collection):
    def view():
        args = parse_query(QUERY_SCHEMAS[collection.name])
        sort_key = ",".join(("-" if desc else "") + name for name, desc in args["sort"])
        columns = order_columns(collection, args["sort"])
        after = None
        if "cursor" in args:
            after = decode_cursor(args["cursor"], sort_key, len(columns))
        filters = {k: v for k, v in args.items() if k in collection.filters()}
        records, next_after = list_records(get_db(), collection, filters, args["sort"], args["limit"], after)
        schema = collection.schema
        data = [with_links(collection, r) for r in schema.dump(records, many=True)]
        next_url = None
        if next_after is not None:
            params = {**request.args.to_dict(), "cursor": encode_cursor(sort_key, next_after)}
            next_url = url_for(request.endpoint, _external=True, **params)
        response = current_app.json.response({"data": data, "links": {"self": request.url, "next": next_url}})
        if next_url:
            response.headers["Link"] = f'<{next_url}>; rel="next"'
        return response

    view.__name__ = f"list_{collection.name}"
    view.__doc__ = f"List {collection.name}, keyset-paged."
    return view


def item_view(collection: Collection):
    def view(record_id: str):
        row = get_row(get_db(), collection, record_id)
        if row is None:
            raise APIProblem(404, f"No {collection.singular} with id {record_id!r}.")
        record = with_links(collection, collection.schema.dump(from_row(collection, row)))
        response = current_app.json.response(record)
        response.set_etag(row["etag"])
        return response

    view.__name__ = f"get_{collection.name}"
    view.__doc__ = f"One {collection.singular} by id."
    return view


for _collection in COLLECTIONS.values():
    bp.add_url_rule(f"/{_collection.name}", view_func=list_view(_collection), methods=["GET"])
    bp.add_url_rule(f"/{_collection.name}/<record_id>", view_func=item_view(_collection), methods=["GET"])
