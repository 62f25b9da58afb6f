"""Where clients start: GET /v1 lists what the API serves, and a path with a trailing slash
redirects (308, method and body kept) to the same path without it."""

import re

from flask import Blueprint, current_app, redirect, request, url_for
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from api.model.collections import COLLECTIONS
from api.model.links import segment
from api.web.errors import handle_http_exception
from api.web.links import list_url
from schemas.index import ApiIndexSchema

bp = Blueprint("index", __name__)
index_schema = ApiIndexSchema()
API_ROOT = "/v1"


@bp.get(API_ROOT)
def api_index():
    """Every collection and every other top-level resource, with its URL."""
    return index_schema.dump({"collections": collection_entries(), "links": index_links()})


def collection_entries() -> list[dict]:
    return [
        {"name": name, "url": list_url(name), "item_url": list_url(name) + "/{id}"} for name in COLLECTIONS
    ]


# Routes that answer only with query parameters: the reconciliation manifest links to them.
NEEDS_QUERY = {"reconcile.preview", "reconcile.suggest_entity"}


def index_links() -> dict[str, str]:
    """self, each GET route under /v1 that takes no arguments and is not a collection, openapi, docs."""
    links = {"self": url_for("index.api_index", _external=True)}
    for rule in sorted(current_app.url_map.iter_rules(), key=lambda r: r.rule):
        name = rule.rule.removeprefix(API_ROOT + "/")
        if (
            rule.rule.startswith(API_ROOT + "/")
            and not rule.arguments
            and "GET" in rule.methods
            and name not in COLLECTIONS
            and rule.endpoint not in NEEDS_QUERY
        ):
            links[name] = url_for(rule.endpoint, _external=True)
    links["openapi"] = url_for("meta.openapi_yaml", _external=True)
    links["docs"] = url_for("docs.docs_page", _external=True)
    return links


def canonical_path(path: str) -> str | None:
    """The path without trailing (or repeated) slashes when the app serves that one, by any method."""
    # Slashes merged first, so the Location never starts with // (another host, to a browser).
    stripped = re.sub("/{2,}", "/", path).rstrip("/")
    if not stripped or stripped == path:
        return None
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        adapter.match(stripped, method=request.method)
    except (MethodNotAllowed, RequestRedirect):
        pass  # the path exists: there the client learns which methods it takes
    except NotFound:
        return None
    return stripped


def redirect_or_not_found(error: NotFound):
    """A 308 to the canonical path, query string kept, when the request only added slashes; else 404."""
    canonical = canonical_path(request.path)
    if canonical is None:
        if request.routing_exception is error:  # no route, rather than a view's own 404
            error.description = f"Nothing is served at {request.path}; GET {API_ROOT} lists what is."
        return handle_http_exception(error)
    location = request.script_root + "/".join(segment(part) for part in canonical.split("/"))
    if request.query_string:
        location += "?" + request.query_string.decode("latin-1")
    response = redirect(location, 308)
    response.set_data(b"")
    response.headers.pop("Content-Type")
    return response


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.register_error_handler(NotFound, redirect_or_not_found)
