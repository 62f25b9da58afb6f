"""Fixtures: a seed database built once, an app over a copy of it, a client that checks the contract."""

import shutil

import pytest
from flask.testing import FlaskClient
from werkzeug.exceptions import HTTPException

from api.web.app import create_app
from seed.loader import build_database
from tests.contract import UNDESCRIBED_ENDPOINTS, validate_body, validate_response


class ContractClient(FlaskClient):
    """A test client that validates every response against openapi.yaml (files: errors only)."""

    def open(self, *args, **kwargs):
        # Buffered: the client then closes the response, as a server does (downloads hold a file open).
        kwargs.setdefault("buffered", True)
        response = super().open(*args, **kwargs)
        request = response.request
        if self.endpoint(request.method, request.path) in UNDESCRIBED_ENDPOINTS:
            if response.status_code >= 400:
                assert response.mimetype == "application/problem+json"
                validate_body("#/components/schemas/Problem", response.get_json())
        else:
            validate_response(request.method, request.path, response)
        return response

    def endpoint(self, method: str, path: str) -> str | None:
        try:
            return self.application.url_map.bind("localhost").match(path, method)[0]
        except HTTPException:
            return None


@pytest.fixture(scope="session")
def seed_db_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("seed") / "icc-events.db"
    build_database(path)
    return path


@pytest.fixture
def db_path(seed_db_path, tmp_path):
    path = tmp_path / "icc-events.db"
    shutil.copy(seed_db_path, path)
    return path


@pytest.fixture
def app(db_path):
    # Rate limits off: only tests/test_ratelimit.py exercises them, with apps of its own.
    app = create_app({"DATABASE": str(db_path), "TESTING": True, "RATE_LIMIT_ENABLED": False})
    app.test_client_class = ContractClient
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def assert_problem(response, status: int) -> dict:
    """The response is an RFC 9457 problem with this status; returns its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["title"] and body["detail"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def make_token(db_path, name: str, scope: str) -> str:
    from api.store.db import connect
    from api.store.tokens import create_token

    db = connect(str(db_path))
    try:
        return create_token(db, name, scope)
    finally:
        db.conn.close()


@pytest.fixture
def writer(app, db_path):
    """Authorization headers of a token with scope write, named alice."""
    return {"Authorization": f"Bearer {make_token(db_path, 'alice', 'write')}"}


@pytest.fixture
def admin(app, db_path):
    """Authorization headers of a token with scope admin, named root."""
    return {"Authorization": f"Bearer {make_token(db_path, 'root', 'admin')}"}
