"""Server-rendered HTML pages: the landing page and the source viewer with every cited span marked."""

import hashlib

from flask import Blueprint, current_app, make_response, render_template
from marshmallow.validate import OneOf

from api.exports.datapackage import datapackage
from api.model.collections import COLLECTIONS
from api.model.rows import from_row
from api.model.spans import segments
from api.store.citing import collection_counts, latest_changes, records_citing, span_bases
from api.store.reads import all_rows, get_row
from api.web import records
from api.web.caching import read_response
from api.web.database import get_db
from api.web.errors import APIProblem

bp = Blueprint("pages", __name__)
LATEST_CHANGES = 10


def html_page(html: str):
    """An HTML response with a strong ETag of its body; a matching If-None-Match gets a 304."""
    etag = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32]
    # May be stored, but revalidated every time.
    return read_response(etag, None, lambda: make_response(html), max_age=0, mimetype="text/html")


def download_formats(collection_name: str) -> list[str]:
    """The non-JSON formats a collection's list accepts in `format=`, when it has that parameter."""
    field = records.QUERY_SCHEMAS[collection_name].fields.get("format")
    choices = next((v.choices for v in field.validators if isinstance(v, OneOf)), ()) if field else ()
    return [choice for choice in choices if choice != "json"]


def export_urls() -> list[str]:
    """The bulk exports this server has: every parameterless GET route under /v1/export."""
    rules = current_app.url_map.iter_rules()
    return sorted(r.rule for r in rules if r.rule.startswith("/v1/export") and not r.arguments)


@bp.get("/")
def landing():
    """What the dataset is, how much of it there is, what changed last, and where to go next."""
    db = get_db()
    return html_page(
        render_template(
            "landing.html",
            collections=COLLECTIONS,
            counts=collection_counts(db),
            formats={name: download_formats(name) for name in COLLECTIONS},
            latest=latest_changes(db, LATEST_CHANGES),
            sources=[from_row(COLLECTIONS["sources"], row) for row in all_rows(db, COLLECTIONS["sources"])],
            licenses=datapackage()["licenses"],
            exports=export_urls(),
        )
    )


@bp.get("/sources/<source_id>")
def source_page(source_id: str):
    """A source's full text, every cited span marked and linked to the records citing it."""
    db = get_db()
    row = get_row(db, COLLECTIONS["sources"], source_id)
    if row is None:
        raise APIProblem(404, f"No source with id {source_id!r}.")
    source = from_row(COLLECTIONS["sources"], row)
    citing = records_citing(db, source_id)
    return html_page(
        render_template(
            "source.html",
            source=source,
            segments=segments(source["text"], list(citing)),
            citing=citing,
            bases=span_bases(citing),
        )
    )
