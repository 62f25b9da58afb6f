"""Bearer-token authentication for writes: 401 without a valid token, 403 without the scope."""

from flask import g, request

from api.store.tokens import allows, authenticate
from api.web.database import get_db
from api.web.errors import APIProblem

REALM = 'Bearer realm="icc-events"'


def authenticated_token() -> dict:
    """The request's valid token, looked up once per request; otherwise a 401 problem.

    The rate limiter asks first (api/web/ratelimit.py), so a write without credentials spends no budget.
    """
    if "token" in g:
        return g.token
    header = request.headers.get("Authorization", "")
    kind, _, presented = header.partition(" ")
    if not header:
        raise APIProblem(
            401, "Writes need an Authorization: Bearer <token> header.", {"WWW-Authenticate": REALM}
        )
    token = authenticate(get_db(), presented.strip()) if kind.lower() == "bearer" else None
    if token is None:
        raise APIProblem(
            401,
            "The bearer token is not valid: unknown, revoked or malformed.",
            {"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
        )
    g.token = token
    return token


def require_scope(scope: str) -> dict:
    """The request's token, if it is valid and grants scope; otherwise a 401 or 403 problem."""
    token = authenticated_token()
    if not allows(token, scope):
        raise APIProblem(
            403,
            f"The token {token['name']!r} has scope {token['scope']!r}; this needs {scope!r}.",
            {"WWW-Authenticate": f'{REALM}, error="insufficient_scope", scope="{scope}"'},
        )
    return token
