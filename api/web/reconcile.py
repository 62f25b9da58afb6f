"""/v1/reconcile: the W3C Reconciliation API 0.2 over officials and organisations, for OpenRefine & co.

Manifest, batch queries (GET ?queries= or POST form field queries=), entity suggest and HTML previews;
every response, errors included, carries Access-Control-Allow-Origin: * as the spec requires. JSONP
(optional in 0.2) is not offered. Matching is api/model/matching.py's.
"""

import json

from flask import Blueprint, current_app, make_response, render_template, request
from marshmallow import ValidationError

from api import __version__
from api.model import matching
from api.model.collections import COLLECTIONS
from api.model.provenance import flatten_errors
from api.model.rows import from_row
from api.store.reads import all_rows
from api.web.database import get_db
from api.web.errors import APIProblem
from api.web.query_args import parse_query
from schemas.reconcile import (
    DEFAULT_LIMIT,
    MAX_BATCH,
    SUGGEST_PAGE,
    PreviewArgsSchema,
    QueryResultSchema,
    ReconcileArgsSchema,
    ReconcileBatchSchema,
    SuggestArgsSchema,
    SuggestResultSchema,
)

bp = Blueprint("reconcile", __name__, url_prefix="/v1/reconcile")
args_schema = ReconcileArgsSchema()
batch_schema = ReconcileBatchSchema()
result_schema = QueryResultSchema()
suggest_args_schema = SuggestArgsSchema()
suggest_schema = SuggestResultSchema()
preview_args_schema = PreviewArgsSchema()

MAX_BODY_BYTES = 256 * 1024
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
PREVIEW_WIDTH, PREVIEW_HEIGHT = 400, 200
# No scripts, no styles, no requests; unlike the site's pages it may be framed: previews are iframes.
PREVIEW_POLICY = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors *"


@bp.after_request
def allow_any_origin(response):
    """Spec 0.2: every endpoint of the service is open to CORS, uniformly."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, POST"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
    return response


@bp.route("", methods=["GET", "POST"])
def reconcile():
    """The service manifest, or the results of a batch of queries when `queries` is given."""
    if request.method == "POST":
        raw = posted_queries()
    else:
        raw = parse_query(args_schema).get("queries")
    if raw is None:
        return manifest()
    queries = load_batch(raw)
    entities = all_entities()
    return {
        key: result_schema.dump(
            {"result": [candidate(c) for c in matching.candidates(entities, q, DEFAULT_LIMIT)]}
        )
        for key, q in queries.items()
    }


@bp.get("/suggest/entity")
def suggest_entity():
    """Officials and organisations whose name or alias starts with `prefix` (or a word of it does)."""
    args = parse_query(suggest_args_schema)
    found = matching.suggestions(all_entities(), args["prefix"])
    page = found[args["cursor"] : args["cursor"] + SUGGEST_PAGE]
    return suggest_schema.dump({"result": [suggestion(e) for e in page]})


@bp.get("/preview")
def preview():
    """A small HTML card of one entity, for a client's iframe."""
    wanted = parse_query(preview_args_schema)["id"]
    entity = next((e for e in all_entities() if e["id"] == wanted), None)
    if entity is None:
        raise APIProblem(404, f"No official or organization has the id {wanted!r}.")
    record = entity["record"]
    details = [record.get(f) for f in ("role", "kind", "country", "nationality") if record.get(f)]
    html = render_template(
        "reconcile_preview.html",
        entity=entity,
        type_name=matching.TYPES[entity["type"]][1],
        details=details,
        aliases=record.get("aliases", []),
        url=f"{request.root_url}v1/{entity['id']}",
    )
    response = make_response(html)
    response.headers["Content-Security-Policy"] = PREVIEW_POLICY
    return response


def manifest() -> dict:
    root = request.root_url
    return {
        "versions": ["0.2"],
        "name": "icc-events: officials and organizations of the International Criminal Court story",
        "identifierSpace": f"{root}v1/",
        "schemaSpace": f"{root}openapi.yaml#/components/schemas/",
        "documentation": f"{root}docs",
        "serviceVersion": __version__,
        "defaultTypes": [{"id": type_id, "name": name} for type_id, (_, name) in matching.TYPES.items()],
        "view": {"url": f"{root}v1/{{{{id}}}}"},
        "preview": {
            "url": f"{root}v1/reconcile/preview?id={{{{id}}}}",
            "width": PREVIEW_WIDTH,
            "height": PREVIEW_HEIGHT,
        },
        "suggest": {
            "entity": {"service_url": root.rstrip("/"), "service_path": "/v1/reconcile/suggest/entity"}
        },
    }


def posted_queries() -> str | None:
    """The `queries` form field of a POST; bodies are capped, and only forms are accepted."""
    if request.mimetype not in FORM_TYPES:
        raise APIProblem(
            415, "Send queries as a form field: application/x-www-form-urlencoded or multipart/form-data."
        )
    request.max_content_length = min(MAX_BODY_BYTES, current_app.config["MAX_BODY_BYTES"])
    values = request.form.getlist("queries")
    unknown = sorted(set(request.form) - {"queries"})
    if len(values) > 1 or unknown:
        errors = {name: "Unknown parameter." for name in unknown}
        if len(values) > 1:
            errors["queries"] = "Given more than once."
        raise APIProblem(400, "Invalid form fields: " + ", ".join(sorted(errors)) + ".", errors=errors)
    return values[0] if values else None


def load_batch(raw: str) -> dict[str, dict]:
    """The validated batch: 400 for JSON that is not a batch of queries, 413 past MAX_BATCH queries."""
    try:
        data = json.loads(raw)
    except ValueError as error:
        raise APIProblem(
            400, f"queries is not valid JSON: {error}.", errors={"queries": "Not valid JSON."}
        ) from None
    if isinstance(data, dict) and len(data) > MAX_BATCH:
        raise APIProblem(413, f"A batch holds at most {MAX_BATCH} queries; this one has {len(data)}.")
    try:
        queries = batch_schema.load({"queries": data})["queries"]
    except ValidationError as error:
        errors = batch_errors(error.messages["queries"])
        raise APIProblem(
            400,
            "queries is not a valid batch: " + "; ".join(f"{k}: {v}" for k, v in errors.items()),
            errors=errors,
        ) from None
    unknown = {
        f"queries.{key}.properties.{i}.pid": f"Unknown property; one of {', '.join(matching.PROPERTIES)}."
        for key, q in queries.items()
        for i, c in enumerate(q.get("properties", []))
        if c["pid"] not in matching.PROPERTIES
    }
    if unknown:
        raise APIProblem(
            400, "queries names unknown properties: " + ", ".join(sorted(unknown)) + ".", errors=unknown
        )
    return queries


def batch_errors(messages) -> dict[str, str]:
    """Marshmallow's errors of the queries dict as queries.<key>.<field> paths (no key/value levels)."""
    if not isinstance(messages, dict):
        return {"queries": " ".join(messages)}
    errors = {}
    for key, entry in messages.items():
        if "key" in entry:
            errors.update(flatten_errors(entry["key"], f"queries.{key}.key"))
        if "value" in entry:
            errors.update(flatten_errors(entry["value"], f"queries.{key}"))
    return errors


def all_entities() -> list[dict]:
    """Every official and organisation, as matching needs them (a few dozen records: read per request)."""
    db = get_db()
    found = []
    for type_id, (name, _) in matching.TYPES.items():
        collection = COLLECTIONS[name]
        for row in all_rows(db, collection):
            record = from_row(collection, row)
            found.append({**matching.entity(type_id, record), "record": record})
    return found


def type_of(entity: dict) -> list[dict]:
    return [{"id": entity["type"], "name": matching.TYPES[entity["type"]][1]}]


def candidate(entity: dict) -> dict:
    found = {k: entity[k] for k in ("id", "name", "score", "match")}
    found["type"] = type_of(entity)
    if entity["description"]:
        found["description"] = entity["description"]
    return found


def suggestion(entity: dict) -> dict:
    found = {"id": entity["id"], "name": entity["name"], "notable": type_of(entity)}
    if entity["description"]:
        found["description"] = entity["description"]
    return found
