"""Pages for people: a page per record, collection pages with filters and facets, search and timeline.

Each view reads through the same store, filter, facet, search, paging and timeline functions as the
JSON API, with the same query schemas, so a page's query string is an API call's.
"""

import calendar
import re
from urllib.parse import urlencode

from flask import Blueprint, redirect, render_template, request, url_for
from markupsafe import Markup, escape
from marshmallow import Schema, fields
from marshmallow.validate import OneOf
from werkzeug.datastructures import MultiDict

from api.model.collections import COLLECTIONS, Collection
from api.model.rendering import served
from api.store.changes import list_changes
from api.store.facets import facet_counts, facet_fields
from api.store.filters import conditions, date_range_filters, membership_filters, text_filters
from api.store.paging import encode_cursor
from api.store.ranking import read_page as read_search_page
from api.store.reads import get_row, list_rows
from api.store.reads import labels_of as store_labels_of
from api.store.search import MARK_CLOSE, MARK_OPEN
from api.store.timeline import DATED, read_page
from api.web import links
from api.web.database import get_db
from api.web.errors import APIProblem
from api.web.pages import html_page
from api.web.query_args import parse_query
from api.web.records import QUERY_SCHEMAS, list_query
from api.web.shape import includes, related_rows
from api.web.timeline import entry
from schemas.common import is_partial_date
from schemas.query import SearchQuerySchema, TimelineQuerySchema

bp = Blueprint("html_pages", __name__)
# The list parameters that shape or format JSON: a page always shows whole records and every facet.
JSON_ONLY = ("format", "fields", "include", "facet")
PAGE_QUERY_SCHEMAS = {name: type(schema)(exclude=JSON_ONLY) for name, schema in QUERY_SCHEMAS.items()}
# Without q the search page is its empty form: the other parameters are still checked.
search_query = SearchQuerySchema(partial=("q",))
timeline_query = TimelineQuerySchema()
NO_PARAMETERS = Schema()  # a record page takes none: any is a 400, as on the API
# Collections whose record page is this module's; a source's page is the source viewer (api/web/pages.py).
RECORD_PAGES = [name for name in COLLECTIONS if name != "sources"]
# Fields every record has that the page shows in sections of their own, not as facts.
NOT_SHOWN_AS_FACTS = ("id", "citations", "links", "basis", "field_basis", "created_at", "updated_at")
REFERRERS_SHOWN = 50
HISTORY_SHOWN = 100


def page_arguments(schema) -> dict:
    """The query loaded by the API's schema, a form's empty text fields (status=) left out; a 400
    as the API gives for anything else wrong with it."""
    filled = [(k, v) for k, v in request.args.items(multi=True) if not is_empty_field(schema, k, v)]
    return parse_query(schema, MultiDict(filled))


def is_empty_field(schema, name: str, value: str) -> bool:
    """An unfilled text field of a form: the page drops it; anything else is the API's to judge."""
    field = schema.fields.get(name)
    return value == "" and field is not None and not isinstance(field, fields.Number)


def has_empty_fields(schema) -> bool:
    """Whether the query has empty text fields, which the API would refuse: the page then redirects
    to the same query without them, so its URL stays one the API takes."""
    return any(is_empty_field(schema, k, v) for k, v in request.args.items(multi=True))


def without_empty_fields(schema):
    kept = [(k, v) for k, v in request.args.items(multi=True) if not is_empty_field(schema, k, v)]
    response = redirect(request.path + ("?" + urlencode(kept) if kept else ""), code=303)
    response.set_data(b"")  # Location says it all; the spec gives a 303 no body
    return response


def page_url(collection_name: str, record_id: str) -> str:
    """The path of a record's page (a source's is its viewer): links.html, without scheme and host."""
    return links.page_url(collection_name, record_id, f"{request.script_root}/")


def with_query(path: str, params: dict) -> str:
    return path + ("?" + urlencode(params) if params else "")


# Presentation helpers, registered as template filters.


def field_label(name: str) -> str:
    """subject_official_id -> Subject official; crimes_text -> Crimes, in the source's words."""
    if name.endswith("_text"):
        return f"{field_label(name.removesuffix('_text'))}, in the source's words"
    words = name.removesuffix("_ids").removesuffix("_id").replace("_", " ")
    return words[:1].upper() + words[1:]


def value_words(value) -> str:
    """A code as words: war_crimes -> war crimes."""
    return str(value).replace("_", " ")


def partial_date_words(date: dict | None) -> str:
    """A partial date as exact as it is and no more: '2024 (year only; the source says "late 2024")'."""
    if not date or not date.get("date"):
        words = "date not known"
    else:
        parts = [int(p) for p in date["date"].split("-")]
        if len(parts) == 1:
            words = f"{parts[0]} (year only)"
        elif len(parts) == 2:
            words = f"{calendar.month_name[parts[1]]} {parts[0]} (month only)"
        else:
            words = f"{parts[2]} {calendar.month_name[parts[1]]} {parts[0]}"
    if date and date.get("text"):
        words += f"; the source says \u201c{date['text']}\u201d"
    return words


def highlighted(snippet: str) -> Markup:
    """A search snippet escaped, its <mark> tags kept as marks (and only those)."""
    out, open_ = [], False
    for part in re.split(f"({re.escape(MARK_OPEN)}|{re.escape(MARK_CLOSE)})", snippet or ""):
        if part == MARK_OPEN and not open_:
            out.append(Markup("<mark>"))
            open_ = True
        elif part == MARK_CLOSE and open_:
            out.append(Markup("</mark>"))
            open_ = False
        else:
            out.append(escape(part))
    if open_:
        out.append(Markup("</mark>"))
    return Markup("").join(out)


@bp.app_template_filter("field_label")
def _field_label(name: str) -> str:
    return field_label(name)


@bp.app_template_filter("value_words")
def _value_words(value) -> str:
    return value_words(value)


@bp.app_template_filter("partial_date")
def _partial_date(date) -> str:
    return partial_date_words(date)


@bp.app_template_filter("highlighted")
def _highlighted(snippet) -> Markup:
    return highlighted(snippet)


@bp.app_template_global("page_url")
def _page_url(collection_name: str, record_id: str) -> str:
    return page_url(collection_name, record_id)


# What a record page shows.


def supported_by(citations: list[dict], path: str) -> list[dict]:
    """The citations supporting a field or a part of it (a dotted path such as withdrawal_attempts.0)."""
    return [
        c for c in citations if any(p == path or p.startswith(path + ".") for p in c.get("supports") or [])
    ]


def labels_of(db, collection_name: str, ids) -> dict[str, str]:
    """id -> the record's label, for the ids that exist."""
    return store_labels_of(db, COLLECTIONS[collection_name], ids)


def reference_kinds(schema) -> dict[str, tuple[str, str]]:
    """field -> ("ref" or "refs", target collection) for every reference field of a schema."""
    kinds = {}
    for name, f in schema.fields.items():
        target = f.metadata.get("references")
        if target:
            kinds[name] = ("refs" if isinstance(f, fields.List) else "ref", target)
    return kinds


def fact(schema, name: str, value, citations: list[dict], labels: dict, path: str) -> dict:
    """One field for the template: its label, what kind of value it is, the value, and its evidence."""
    f = schema.fields[name]
    kinds = reference_kinds(schema)
    shown = {"name": name, "label": field_label(name), "value": value, "path": path}
    shown["description"] = f.metadata.get("description")
    shown["citations"] = supported_by(citations, path)
    if name in kinds:
        kind, target = kinds[name]
        ids = value if kind == "refs" else [value] if value else []
        shown["kind"] = kind
        shown["links"] = [(page_url(target, i), labels.get((target, i), i)) for i in ids]
    elif is_partial_date(f):
        shown["kind"] = "date"
    elif isinstance(f, fields.List) and isinstance(f.inner, fields.Nested):
        shown["kind"] = "items"
        shown["items"] = [
            [
                fact(f.inner.schema, inner, item.get(inner), citations, labels, f"{path}.{index}.{inner}")
                | {"citations": []}
                for inner in f.inner.schema.fields
            ]
            for index, item in enumerate(value or [])
        ]
        shown["item_citations"] = [supported_by(citations, f"{path}.{i}") for i in range(len(value or []))]
    elif isinstance(f, fields.List):
        shown["kind"] = "list"
    else:
        shown["kind"] = "text"
    return shown


def related_labels(db, collection: Collection, row: dict) -> dict[tuple[str, str], str]:
    """(collection, id) -> label of every record this one refers to, nested references included."""
    related = related_rows(db, collection, [row], list(includes(collection)))
    labels = {
        (target, rid): r.get(COLLECTIONS[target].label_field) or rid for (target, rid), r in related.items()
    }
    # References inside nested items (a warrant's withdrawal attempts) are not includes: looked up here.
    record = served(row)
    for name, f in collection.schema.fields.items():
        if isinstance(f, fields.List) and isinstance(f.inner, fields.Nested):
            for inner, (_, target) in reference_kinds(f.inner.schema).items():
                ids = [item.get(inner) for item in record.get(name) or []]
                labels |= {(target, i): label for i, label in labels_of(db, target, ids).items()}
    return labels


def referrers(db, collection: Collection, record_id: str) -> list[dict]:
    """Every other collection's records that refer to this one, through the API's own filters."""
    found = []
    for other in COLLECTIONS.values():
        params = {field: field for field, target in other.references().items() if target == collection.name}
        for param, (column, _) in membership_filters(other).items():
            if other.list_references().get(column) == collection.name:
                params[param] = column
        for param, field_name in params.items():
            where, values = conditions(other, {param: record_id})
            rows, more = list_rows(db, other, where, values, [("id", False)], REFERRERS_SHOWN)
            if rows:
                label = other.label_field
                found.append(
                    {
                        "collection": other,
                        "field": field_name,
                        "records": [(page_url(other.name, r["id"]), r[label] or r["id"]) for r in rows],
                        "more": more is not None,
                        "all_url": with_query(url_for(f"html_pages.list_{other.name}"), {param: record_id}),
                    }
                )
    return found


def record_page(collection: Collection):
    def view(record_id: str):
        parse_query(NO_PARAMETERS)
        db = get_db()
        row = get_row(db, collection, record_id)
        if row is None:
            raise APIProblem(404, f"No {collection.singular} with id {record_id!r}.")
        record = served(row)
        citations = record.get("citations") or []
        labels = related_labels(db, collection, row)
        facts = [
            fact(collection.schema, name, record.get(name), citations, labels, name)
            for name in collection.schema.fields
            if name not in NOT_SHOWN_AS_FACTS and name != "notes"
        ]
        history, more_history = list_changes(db, 0, HISTORY_SHOWN, collection.name, record_id)
        sources = labels_of(db, "sources", [c["source_id"] for c in citations])
        return html_page(
            render_template(
                "record.html",
                collection=collection,
                record=record,
                label=record.get(collection.label_field) or record["id"],
                facts=facts,
                labels_fields=collection.labels,
                citations=citations,
                sources=sources,
                referrers=referrers(db, collection, record_id),
                history=history,
                more_history=more_history,
            )
        )

    view.__name__ = f"record_{collection.name}"
    view.__doc__ = f"One {collection.singular} for people: every field with its citations."
    return view


# Collection pages.


def filter_params(collection: Collection) -> dict[str, str]:
    """Facet field -> the list parameter that filters by one of its values (crimes -> crime)."""
    params = {name: name for name in (*collection.filters(), *text_filters(collection))}
    params |= {column: param for param, (column, _) in membership_filters(collection).items()}
    return params


def facet_views(db, collection: Collection, counts: dict, args: dict) -> list[dict]:
    """Each facet with its values, their counts, labels, and the page URL filtered by each value."""
    params = filter_params(collection)
    targets = {**collection.references(), **collection.list_references()}
    base = {k: v for k, v in request.args.items() if k != "cursor"}
    shown = []
    for name, values in counts.items():
        param = params[name]
        labels = labels_of(db, targets[name], [v["value"] for v in values]) if name in targets else {}
        items = []
        for value in values:
            if value["value"] is None:
                items.append({"label": "not recorded", "count": value["count"], "url": None, "active": False})
                continue
            items.append(
                {
                    "label": labels.get(value["value"]) or value_words(value["value"]),
                    "count": value["count"],
                    "url": with_query(request.path, {**base, param: value["value"]}),
                    "active": args.get(param) == value["value"],
                }
            )
        shown.append({"name": name, "param": param, "label": field_label(name), "values": items})
    return shown


def active_filters() -> list[dict]:
    """The filters in the query, each with the page URL without it."""
    active = []
    for name, value in request.args.items():
        if name in ("sort", "limit", "cursor"):
            continue
        rest = {k: v for k, v in request.args.items() if k not in (name, "cursor")}
        active.append({"name": name, "value": value, "remove_url": with_query(request.path, rest)})
    return active


def form_choices(collection: Collection) -> dict[str, list[str]]:
    """Filter parameter -> its allowed values, for the form's selects (enums only)."""
    choices = {}
    for name, f in collection.filters().items():
        one_of = next((v for v in f.validators if isinstance(v, OneOf)), None)
        if one_of:
            choices[name] = list(one_of.choices)
    for param, (_, inner) in membership_filters(collection).items():
        one_of = next((v for v in inner.validators if isinstance(v, OneOf)), None)
        if one_of:
            choices[param] = list(one_of.choices)
    return choices


def list_page(collection: Collection):
    def view():
        args = page_arguments(PAGE_QUERY_SCHEMAS[collection.name])
        if has_empty_fields(PAGE_QUERY_SCHEMAS[collection.name]):
            return without_empty_fields(PAGE_QUERY_SCHEMAS[collection.name])
        db = get_db()
        key, after, where, params = list_query(db, collection, args)
        rows, next_after = list_rows(db, collection, where, params, args["sort"], args["limit"], after)
        counts = facet_counts(db, collection, facet_fields(collection), where, params)
        query = request.args.to_dict()
        next_url = None
        if next_after is not None:
            next_url = with_query(request.path, {**query, "cursor": encode_cursor(key, next_after)})
        first_url = with_query(request.path, {k: v for k, v in query.items() if k != "cursor"})
        dated = collection.partial_dates()
        return html_page(
            render_template(
                "collection.html",
                collection=collection,
                records=[served(row) for row in rows],
                label_field=collection.label_field,
                date_field=dated[0] if dated else None,
                summary_fields=[n for n in collection.filters() if n not in collection.references()],
                facets=facet_views(db, collection, counts, args),
                active=active_filters(),
                args=request.args,
                choices=form_choices(collection),
                text_filters=text_filters(collection),
                date_ranges=list(date_range_filters(collection)),
                sorts=collection.sorts,
                sort=key,
                next_url=next_url,
                first_url=first_url if "cursor" in args else None,
                api_url=with_query(url_for(f"records.list_{collection.name}"), query),
                csv_url=with_query(url_for(f"records.list_{collection.name}"), {**query, "format": "csv"}),
            )
        )

    view.__name__ = f"list_{collection.name}"
    view.__doc__ = f"{collection.name.title()} for people: filters, facets, keyset pages."
    return view


# Search and timeline.


@bp.get("/search")
def search_page():
    """One box over every collection: ranked hits with highlighted snippets, filterable by collection."""
    args = page_arguments(search_query)
    if has_empty_fields(search_query):
        return without_empty_fields(search_query)
    if "q" not in args:
        form = render_template("search.html", args=request.args, hits=None, collections=COLLECTIONS)
        return html_page(form)
    hits, cursor = read_search_page(get_db(), args)
    next_url = None
    if cursor is not None:
        next_url = with_query(request.path, {**request.args.to_dict(), "cursor": cursor})
    query = {k: v for k, v in request.args.items() if k not in ("cursor", "collections")}
    return html_page(
        render_template(
            "search.html",
            args=request.args,
            hits=hits,
            collections=COLLECTIONS,
            chosen=args.get("collections") or [],
            by_collection={
                name: with_query(request.path, {**query, "collections": name}) for name in COLLECTIONS
            },
            all_url=with_query(request.path, query),
            next_url=next_url,
            api_url=with_query(url_for("search.search"), request.args.to_dict()),
        )
    )


@bp.get("/timeline")
def timeline_page():
    """Every dated record in order, each date as exact as its source and no more."""
    args = page_arguments(timeline_query)
    if has_empty_fields(timeline_query):
        return without_empty_fields(timeline_query)
    rows, cursor = read_page(get_db(), args)
    next_url = None
    if cursor is not None:
        next_url = with_query(request.path, {**request.args.to_dict(), "cursor": cursor})
    return html_page(
        render_template(
            "timeline.html",
            entries=[entry(row) for row in rows],
            args=request.args,
            dated=DATED,
            next_url=next_url,
            api_url=with_query(url_for("timeline.timeline"), request.args.to_dict()),
        )
    )


for _collection in COLLECTIONS.values():
    bp.add_url_rule(f"/{_collection.name}", view_func=list_page(_collection), methods=["GET"])
for _name in RECORD_PAGES:
    bp.add_url_rule(f"/{_name}/<record_id>", view_func=record_page(COLLECTIONS[_name]), methods=["GET"])
