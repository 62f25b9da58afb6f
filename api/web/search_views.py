"""GET /v1/search: one full-text query across every collection, best hits first."""

from flask import Blueprint, current_app, request, url_for

from api.model.collections import COLLECTIONS
from api.store.paging import decode_cursor, encode_cursor
from api.store.search import SEARCH_ORDER, search_all
from api.web.caching import read_response, representation_etag
from api.web.database import get_db
from api.web.links import link_next, record_url, self_url
from api.web.query_args import parse_query
from schemas.query import SearchQuerySchema
from schemas.results import SearchHitSchema

bp = Blueprint("search", __name__, url_prefix="/v1")
query_schema = SearchQuerySchema()
hit_schema = SearchHitSchema()
CURSOR_KIND = "search"


@bp.get("/search")
def search():
    """Records of every collection matching q, ranked by bm25, each with a highlighted snippet."""
    args = parse_query(query_schema)
    names = args.get("collections") or list(COLLECTIONS)
    after = None
    if "cursor" in args:
        after = decode_cursor(args["cursor"], CURSOR_KIND, len(SEARCH_ORDER), numbers=True)
    hits = search_all(get_db(), args["q"], names, args["limit"] + 1, after)
    next_url = None
    if len(hits) > args["limit"]:
        hits = hits[: args["limit"]]
        cursor = encode_cursor(CURSOR_KIND, [hits[-1][column] for column, _ in SEARCH_ORDER])
        next_url = url_for("search.search", _external=True, **{**request.args.to_dict(), "cursor": cursor})
    for hit in hits:
        hit["url"] = record_url(hit["collection"], hit["id"])
    etag = representation_etag(request.url, hits, next_url)

    def build():
        body = {"data": hit_schema.dump(hits, many=True), "links": {"self": self_url(), "next": next_url}}
        return current_app.json.response(body)

    return link_next(read_response(etag, None, build), next_url)
