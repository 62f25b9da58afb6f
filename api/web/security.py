"""Caps on the size of what a client sends, checked before any view or query runs.

Security headers are api/web/headers.py's.
"""

from flask import current_app, request

from api.web.errors import APIProblem


def header_bytes(environ: dict) -> int:
    """The size of a request's headers as sent: each name, value and its ": " and CRLF."""
    return sum(len(key) - 5 + len(value) + 4 for key, value in environ.items() if key.startswith("HTTP_"))


def enforce_input_caps() -> None:
    """A 431 for oversized headers, a 414 for an oversized query string, a 400 for an oversized id,
    before any view or query runs."""
    config = current_app.config
    if header_bytes(request.environ) > config["MAX_HEADER_BYTES"]:
        raise APIProblem(431, f"The request headers are larger than {config['MAX_HEADER_BYTES']} bytes.")
    if request.routing_exception is not None:
        return  # an unknown path or method gets its 404 or 405 first, whatever its size
    if len(request.query_string) > config["MAX_QUERY_STRING_LENGTH"]:
        raise APIProblem(414, f"The query string is longer than {config['MAX_QUERY_STRING_LENGTH']} bytes.")
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and len(value) > config["MAX_ID_LENGTH"]:
            raise APIProblem(
                400,
                f"{name} is longer than {config['MAX_ID_LENGTH']} characters.",
                errors={name: f"Longer than {config['MAX_ID_LENGTH']} characters."},
            )


def init_app(app) -> None:
    """Call before blueprints are registered: their rules take merge_slashes from the map."""
    # '//' in a path (e.g. an id holding an encoded '/') is a 404 problem, not a 308 redirect.
    app.url_map.merge_slashes = False
    app.before_request(enforce_input_caps)
