"""GET /v1/search: one full-text query across every collection, best hits first."""

from flask import Blueprint, current_app, request, url_for

from api.store.ranking import read_page
from api.web.caching import read_response, representation_etag
from api.web.database import get_db
from api.web.links import link_next, record_url, self_url
from api.web.query_args import parse_query
from schemas.query import SearchQuerySchema
from schemas.results import SearchHitSchema

bp = Blueprint("search", __name__, url_prefix="/v1")
query_schema = SearchQuerySchema()
hit_schema = SearchHitSchema()


@bp.get("/search")
def search():
    """Records of every collection matching q, ranked by bm25, each with a highlighted snippet."""
    args = parse_query(query_schema)
    hits, cursor = read_page(get_db(), args)
    next_url = None
    if cursor is not None:
        next_url = url_for("search.search", _external=True, **{**request.args.to_dict(), "cursor": cursor})
    for hit in hits:
        hit["url"] = record_url(hit["collection"], hit["id"])
    etag = representation_etag(request.url, hits, next_url)

    def build():
        body = {"data": hit_schema.dump(hits, many=True), "links": {"self": self_url(), "next": next_url}}
        return current_app.json.response(body)

    return link_next(read_response(etag, None, build), next_url)
