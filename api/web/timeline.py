"""GET /v1/timeline: every dated event, warrant, sanction and statement in chronological order.

Partial dates order by their first possible day, then their last: "2024" (any day of 2024) comes
before "2024-11-21", and of two dates starting on the same day the narrower comes first. Each entry
states its precision and keeps the source's words.
"""

from flask import Blueprint, current_app, request, url_for

from api.store.timeline import entry_date, read_page
from api.web.caching import last_modified, read_response, representation_etag
from api.web.database import get_db
from api.web.links import link_next, record_url, self_url
from api.web.query_args import parse_query
from schemas.query import TimelineQuerySchema
from schemas.results import TimelineEntrySchema

bp = Blueprint("timeline", __name__, url_prefix="/v1")
query_schema = TimelineQuerySchema()
entry_schema = TimelineEntrySchema()


@bp.get("/timeline")
def timeline():
    """Dated records of every kind, earliest first, keyset-paged."""
    args = parse_query(query_schema)
    rows, cursor = read_page(get_db(), args)
    next_url = None
    if cursor is not None:
        next_url = url_for(
            "timeline.timeline", _external=True, **{**request.args.to_dict(), "cursor": cursor}
        )
    etag = representation_etag(request.url, rows, next_url)
    modified = last_modified(rows)

    def build():
        entries = [entry(row) for row in rows]
        return current_app.json.response({"data": entries, "links": {"self": self_url(), "next": next_url}})

    return link_next(read_response(etag, modified, build), next_url)


def entry(row: dict) -> dict:
    return entry_schema.dump(
        {
            "collection": row["collection"],
            "id": row["id"],
            "label": row["label"],
            "date": entry_date(row),
            "url": record_url(row["collection"], row["id"]),
        }
    )
