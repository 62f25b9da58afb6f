"""The change feed (GET /v1/changes) and each record's history (GET /v1/<collection>/<id>/history)."""

from flask import Blueprint, current_app, request, url_for

from api.model.collections import COLLECTIONS, Collection
from api.model.errors import InvalidArgument
from api.store.changes import list_changes
from api.store.db import feed_id
from api.store.paging import decode_cursor, encode_cursor
from api.web.database import get_db
from api.web.errors import APIProblem
from api.web.links import link_next, self_url
from api.web.query_args import bad_query, parse_query
from schemas.changes import ChangesQuerySchema

bp = Blueprint("feed", __name__, url_prefix="/v1")
changes_query = ChangesQuerySchema()
CURSOR_KIND = "changes"


def since_seq(args: dict, feed: str) -> int:
    """The sequence number ?since= resumes after: 0 without one, a 410 for another log's cursor."""
    if "since" not in args:
        return 0
    try:
        issued_by, seq = decode_cursor(args["since"], CURSOR_KIND, 2)
    except InvalidArgument:
        raise bad_query({"since": "Not a cursor issued by this feed."}) from None
    if not isinstance(issued_by, str) or not isinstance(seq, int) or seq < 0:
        raise bad_query({"since": "Not a cursor issued by this feed."})
    if issued_by != feed:
        raise APIProblem(
            410,
            "This cursor belongs to an earlier change log: the database was rebuilt or imported since, "
            "and its changes are numbered from 1 again. Read the feed from the beginning (no since=) "
            "into an empty copy.",
            errors={"since": "Issued by a change log this database no longer has."},
        )
    return seq


def feed_page(collection: str | None = None, record_id: str | None = None):
    """A page of changes after ?since=, with the cursor to resume from and the next page's URL."""
    args = parse_query(changes_query)
    db = get_db()
    feed = feed_id(db)
    after = since_seq(args, feed)
    entries, more = list_changes(db, after, args["limit"], collection, record_id)
    cursor = encode_cursor(CURSOR_KIND, [feed, entries[-1]["seq"] if entries else after])
    next_url = None
    if more:
        params = {**request.view_args, **request.args.to_dict(), "since": cursor}
        next_url = url_for(request.endpoint, _external=True, **params)
    body = {"data": entries, "cursor": cursor, "links": {"self": self_url(), "next": next_url}}
    return link_next(current_app.json.response(body), next_url), entries


@bp.get("/changes")
def list_changes_view():
    """Every write, oldest first, deletions as tombstones: replay it to mirror the database."""
    response, _ = feed_page()
    return response


def history_view(collection: Collection):
    def view(record_id: str):
        response, entries = feed_page(collection.name, record_id)
        if not entries and "since" not in request.args:
            raise APIProblem(404, f"No {collection.singular} with id {record_id!r} has ever existed.")
        return response

    view.__name__ = f"history_{collection.name}"
    view.__doc__ = f"Every version of one {collection.singular}, deleted ones included."
    return view


for _collection in COLLECTIONS.values():
    bp.add_url_rule(f"/{_collection.name}/<record_id>/history", view_func=history_view(_collection))
