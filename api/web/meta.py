"""Service endpoints: health and the OpenAPI contract."""

from flask import Blueprint, current_app

from api.spec.openapi import render_spec
from api.store.db import get_db

bp = Blueprint("meta", __name__)


@bp.get("/healthz")
def healthz():
    """The service is up and its database answers."""
    get_db().execute("SELECT 1").fetchone()
    return {"status": "ok"}


@bp.get("/openapi.yaml")
def openapi_yaml():
    """The OpenAPI description: rendered from the schemas, byte-identical to the committed file."""
    if "openapi_yaml" not in current_app.extensions:
        current_app.extensions["openapi_yaml"] = render_spec(current_app)
    return current_app.response_class(current_app.extensions["openapi_yaml"], mimetype="application/yaml")
