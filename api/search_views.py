"""GET /v1/search: one full-text query across every collection, best hits first."""

from flask import Blueprint, current_app, request

from api.caching import cache_headers, is_fresh, not_modified, representation_etag
from api.collections import COLLECTIONS
from api.db import get_db
from api.links import record_url, self_url
from api.query_args import parse_query
from api.search import search_all
from schemas.query import SearchQuerySchema
from schemas.results import SearchHitSchema

bp = Blueprint("search", __name__, url_prefix="/v1")
query_schema = SearchQuerySchema()
hit_schema = SearchHitSchema()


@bp.get("/search")
def search():
    """Records of every collection matching q, ranked by bm25, each with a highlighted snippet."""
    args = parse_query(query_schema)
    names = args.get("collections") or list(COLLECTIONS)
    hits = search_all(get_db(), args["q"], names, args["limit"])
    for hit in hits:
        hit["url"] = record_url(hit["collection"], hit["id"])
    etag = representation_etag(request.url, hits)
    if is_fresh(etag, None):
        return not_modified(etag, None)
    body = {"data": hit_schema.dump(hits, many=True), "links": {"self": self_url(), "next": None}}
    return cache_headers(current_app.json.response(body), etag, None)
