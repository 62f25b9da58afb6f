"""Service endpoints: health and the OpenAPI contract."""

from pathlib import Path

from flask import Blueprint, current_app

from api.web.database import get_db

# Written by `icc-events openapi` (api/spec/) at commit time, checked against the code by
# tests/test_openapi.py, shipped as package data; the repository's openapi.yaml links to it.
SPEC_FILE = Path(__file__).with_name("openapi.yaml")
SPEC_YAML = SPEC_FILE.read_bytes()

bp = Blueprint("meta", __name__)


@bp.get("/healthz")
def healthz():
    """The service is up and its database answers."""
    get_db().execute("SELECT 1").fetchone()
    return {"status": "ok"}


@bp.get("/openapi.yaml")
def openapi_yaml():
    """The OpenAPI description: the committed file, as it is."""
    return current_app.response_class(SPEC_YAML, mimetype="application/yaml")
