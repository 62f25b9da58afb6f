"""Files as responses: whole (200), one byte range (206, 416) or 304, by the request's headers."""

import os
from typing import IO

from flask import current_app, request
from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.http import parse_range_header
from werkzeug.wrappers import Response
from werkzeug.wsgi import wrap_file

from api.web.errors import APIProblem


def file_response(
    file: IO[bytes], etag: str, content_type: str, last_modified=None, download_name: str | None = None
) -> Response:
    """The file as a response: whole (200), a byte range (206, 416) or 304, by the request's headers.

    Range, If-Range, If-None-Match and If-Modified-Since are werkzeug's (Response.make_conditional);
    the server sends the file with its wsgi.file_wrapper (sendfile) when it has one.
    """
    stat = os.fstat(file.fileno())
    size = stat.st_size
    response = current_app.response_class(
        wrap_file(request.environ, file), content_type=content_type, direct_passthrough=True
    )
    # Closed with the response, even when flask-compress has put its own iterable in the file's place.
    response.call_on_close(file.close)
    response.content_length = size
    response.set_etag(etag)
    # Without one from the data: when this file was made, which is after any change it holds.
    response.last_modified = last_modified or int(stat.st_mtime)
    if download_name:
        response.headers["Content-Disposition"] = f"attachment; filename={download_name}"
    try:
        response.make_conditional(honoured_ranges(request.environ), accept_ranges=True, complete_length=size)
    except RequestedRangeNotSatisfiable:
        response.close()
        raise APIProblem(
            416,
            f"The Range header asks for no bytes of this {size}-byte file; "
            "ask for bytes=START-END, START- or -SUFFIX within it.",
            headers={"Content-Range": f"bytes */{size}"},
        ) from None
    if response.status_code == 412:
        response.close()
        raise APIProblem(412, "If-Match names no current version of this download.")
    return response


def honoured_ranges(environ: dict) -> dict:
    """The environ, without a Range header that asks for several ranges or another unit than bytes.

    RFC 9110 lets a server ignore those (and requires it for an unknown unit): they get the whole file.
    """
    ranges = environ.get("HTTP_RANGE")
    parsed = parse_range_header(ranges) if ranges else None
    if parsed is None or (parsed.units == "bytes" and len(parsed.ranges) == 1):
        return environ  # none, a single byte range, or malformed (werkzeug answers 416)
    return {name: value for name, value in environ.items() if name != "HTTP_RANGE"}
