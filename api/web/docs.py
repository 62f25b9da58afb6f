"""Interactive docs at /docs: Swagger UI 5 from files flask-swagger-ui installs; no CDN, no inline script."""

from importlib.resources import files

from flask import Blueprint, abort, render_template, send_from_directory, url_for

from api.web.pages import html_page

bp = Blueprint("docs", __name__)

# The Swagger UI files the page needs, vendored by the flask-swagger-ui package; nothing else is served.
SWAGGER_UI_DIST = files("flask_swagger_ui") / "dist"
SWAGGER_UI_ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"})
ASSET_MAX_AGE = 24 * 3600


@bp.get("/docs")
def docs_page():
    """Swagger UI over /openapi.yaml; its start-up script is a static file, allowed by the page's CSP."""
    return html_page(render_template("docs.html", spec_url=url_for("meta.openapi_yaml")))


@bp.get("/docs/assets/<name>")
def asset(name: str):
    """One of the vendored Swagger UI files."""
    if name not in SWAGGER_UI_ASSETS:
        abort(404, f"No docs asset named {name!r}.")
    return send_from_directory(str(SWAGGER_UI_DIST), name, max_age=ASSET_MAX_AGE)
