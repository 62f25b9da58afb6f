"""Atom feeds: GET /v1/changes.atom (the latest writes) and GET /v1/<collection>.atom (a list query).

Feed readers subscribe to a URL and send no Accept header worth negotiating, so each feed has its own
path and api/web/formats.py stays the one owner of format negotiation for the JSON, CSV and NDJSON lists.
Entries are newest first. An entry's id is stable: a record's URL in a collection feed, the record's
history URL with the change's log and sequence number in the change feed.
"""

from flask import Blueprint, current_app, request

from api.model.collections import COLLECTIONS, Collection
from api.model.rendering import served
from api.store.changes import last_change, latest_changes
from api.store.db import feed_id
from api.store.filters import conditions
from api.store.reads import list_rows
from api.store.search import has_many_matches
from api.web.atom import ATOM_MEDIA_TYPE, Entry, Feed, Link, render_feed
from api.web.caching import last_modified, read_response, representation_etag
from api.web.database import get_db
from api.web.links import add_citation_urls, list_url, record_url, self_url
from api.web.query_args import parse_query
from schemas.feeds import ChangesFeedQuerySchema, collection_feed_query_schema

bp = Blueprint("atom", __name__, url_prefix="/v1")
CONTENT_TYPE = f"{ATOM_MEDIA_TYPE}; charset=utf-8"
AUTHOR = "icc-events"
# The feed's updated when it has no entries and the log is empty: a fixed instant keeps ETags stable.
EPOCH = "1970-01-01T00:00:00Z"
NEWEST_FIRST = [("updated_at", True)]
FEED_QUERIES = {name: collection_feed_query_schema(c) for name, c in COLLECTIONS.items()}
changes_query = ChangesFeedQuerySchema()


def quoted_citations(record: dict) -> str:
    """What the record rests on, as the source's own words with where they are."""
    return "\n".join(
        f'"{c["quote"]}" ({c["source_id"]}, characters {c["start"]}-{c["end"]})'
        for c in record.get("citations") or []
    )


def span_links(record: dict) -> list[Link]:
    """rel=related to each cited span in the source viewer (the citation's url)."""
    return [
        Link(c["url"], "related", "text/html", f"{c['source_id']} #char={c['start']},{c['end']}")
        for c in record.get("citations") or []
    ]


def atom_response(feed: Feed):
    return current_app.response_class(render_feed(feed), content_type=CONTENT_TYPE)


def latest_at(db) -> str:
    return last_change(db)[1] or EPOCH


def change_entry(change: dict, log: str, root: str) -> Entry:
    collection = COLLECTIONS[change["collection"]]
    record = dict(change["after"] or change["before"] or {})
    record["citations"] = [dict(c) for c in record.get("citations") or []]
    add_citation_urls(record, root)
    history = record_url(collection.name, change["record_id"], root) + "/history"
    label = record.get(collection.label_field) or change["record_id"]
    alternate = (
        Link(history, "alternate", "application/json", "history")
        if change["action"] == "deleted"
        else Link(record_url(collection.name, change["record_id"], root), "alternate", "application/json")
    )
    return Entry(
        id=f"{history}#change-{log}-{change['seq']}",
        title=f"{collection.singular} {change['action']}: {label}",
        updated=change["at"],
        author=change["actor"],
        category=change["action"],
        links=[alternate, *span_links(record)],
        summary=quoted_citations(record) or None,
    )


@bp.get("/changes.atom")
def changes_feed():
    """The latest writes, newest first, as an Atom feed."""
    args = parse_query(changes_query)
    db = get_db()
    log = feed_id(db)
    changes = latest_changes(db, args["limit"])
    etag = representation_etag(request.url, "atom", log, [c["seq"] for c in changes])
    modified = last_modified([{"updated_at": c["at"]} for c in changes])

    def build():
        root = request.root_url
        feed = Feed(
            id=f"{root}v1/changes.atom",
            title="icc-events: changes",
            subtitle="Every write to the dataset, newest first; each entry quotes the source spans it cites.",
            updated=changes[0]["at"] if changes else latest_at(db),
            author=AUTHOR,
            links=[
                Link(self_url(), "self", ATOM_MEDIA_TYPE),
                Link(f"{root}v1/changes", "alternate", "application/json"),
            ],
            entries=[change_entry(c, log, root) for c in changes],
        )
        return atom_response(feed)

    return read_response(etag, modified, build)


def record_entry(collection: Collection, record: dict) -> Entry:
    """An entry for a record; Atom ids and links are absolute IRIs, made from the request's root URL."""
    add_citation_urls(record)
    url = record_url(collection.name, record["id"])
    return Entry(
        id=url,
        title=str(record.get(collection.label_field) or record["id"]),
        updated=record["updated_at"],
        category=collection.singular,
        links=[Link(url, "alternate", "application/json"), *span_links(record)],
        summary=quoted_citations(record) or None,
    )


def collection_feed(collection: Collection):
    def view():
        args = parse_query(FEED_QUERIES[collection.name])
        db = get_db()
        many_matches = "q" in args and has_many_matches(db, collection, args["q"])
        where, params = conditions(collection, args, many_matches)
        rows, _ = list_rows(db, collection, where, params, NEWEST_FIRST, args["limit"])
        etag = representation_etag(request.url, "atom", [(row["id"], row["etag"]) for row in rows])
        modified = last_modified(rows)

        def build():
            records = [served(row) for row in rows]
            filters = request.args.to_dict()
            filters.pop("limit", None)
            feed = Feed(
                id=self_url(),
                title=f"icc-events: {collection.name}"
                + (" (" + ", ".join(f"{k}={v}" for k, v in sorted(filters.items())) + ")" if filters else ""),
                subtitle=f"The {collection.name} matching this query, most recently updated first.",
                updated=records[0]["updated_at"] if records else latest_at(db),
                author=AUTHOR,
                links=[
                    Link(self_url(), "self", ATOM_MEDIA_TYPE),
                    Link(list_url(collection.name, None, **filters), "alternate", "application/json"),
                ],
                entries=[record_entry(collection, r) for r in records],
            )
            return atom_response(feed)

        return read_response(etag, modified, build)

    view.__name__ = f"feed_{collection.name}"
    view.__doc__ = f"The {collection.name} a list query matches, most recently updated first, as Atom."
    return view


for _collection in COLLECTIONS.values():
    bp.add_url_rule(f"/{_collection.name}.atom", view_func=collection_feed(_collection), methods=["GET"])
