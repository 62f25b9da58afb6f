"""One error shape for every error: RFC 9457 problem details, served as application/problem+json."""

from flask import current_app, json, request
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

from api.model.errors import (
    Busy,
    Conflict,
    DomainError,
    InvalidArgument,
    InvalidRecord,
    NotFound,
    StaleVersion,
)

PROBLEM_MEDIA_TYPE = "application/problem+json"


class APIProblem(Exception):
    """Raised by views to answer with a problem; extra keys (e.g. errors) go into the body."""

    def __init__(self, status: int, detail: str, headers: dict | None = None, **extra):
        super().__init__(detail)
        self.status, self.detail, self.headers, self.extra = status, detail, headers or {}, extra


def problem(status: int, detail: str | None = None, headers: dict | None = None, **extra):
    """A problem+json response."""
    body = {
        "type": "about:blank",
        "title": HTTP_STATUS_CODES.get(status, "Error"),
        "status": status,
        "detail": detail or HTTP_STATUS_CODES.get(status, "Error"),
        "instance": request.path if request else None,
        **extra,
    }
    response = current_app.response_class(json.dumps(body), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    response.headers.extend(headers or {})
    return response


def handle_api_problem(error: APIProblem):
    return problem(error.status, error.detail, error.headers, **error.extra)


# The status each kind of domain error is answered with.
DOMAIN_STATUS = {
    InvalidArgument: 400,
    NotFound: 404,
    Conflict: 409,
    StaleVersion: 412,
    InvalidRecord: 422,
    Busy: 503,
}


def handle_domain_error(error: DomainError):
    headers = {}
    if isinstance(error, StaleVersion):
        headers["ETag"] = f'"{error.current_etag}"'
    if isinstance(error, Busy):
        headers["Retry-After"] = str(error.retry_after)
    extra = {"errors": error.errors} if error.errors is not None else {}
    # The nearest kind the table names: a subclass answers as its parent does, anything else as a 500.
    status = next((DOMAIN_STATUS[kind] for kind in type(error).__mro__ if kind in DOMAIN_STATUS), None)
    if status is None:
        return handle_unexpected_error(error)
    return problem(status, error.detail, headers, **extra)


def handle_http_exception(error: HTTPException):
    # Keep the headers werkzeug sets for this status, such as Allow on a 405.
    headers = {k: v for k, v in error.get_headers() if k.lower() not in ("content-type", "content-length")}
    return problem(error.code or 500, error.description, headers)


def handle_unexpected_error(error: Exception):
    # The traceback goes to the log only; the client learns nothing of the internals.
    current_app.logger.exception("Unhandled error on %s %s", request.method, request.path)
    return problem(500, "The server could not answer this request; the error has been logged.")


def init_app(app) -> None:
    app.register_error_handler(APIProblem, handle_api_problem)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(InternalServerError, handle_unexpected_error)
    app.register_error_handler(Exception, handle_unexpected_error)
