"""Request ids and one structured JSON access-log line per request, written to stderr."""

import functools
import logging
import re
import secrets
import sys
import threading
import time

import orjson
from flask import Flask, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
# Where api/web/envelope.py leaves the request's id in the WSGI environ, for the app's log lines.
REQUEST_ID_KEY = "icc_events.request_id"
# Ids from clients or proxies are echoed into logs and headers: short, printable, nothing to inject.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")
ACCESS_LOGGER = "icc_events.access"
ACCESS_LOG = logging.getLogger(ACCESS_LOGGER)
# One line per write, whole, whichever thread writes it.
WRITING = threading.Lock()


def request_id_from(header: str | None) -> str:
    """The client's X-Request-ID when it is well formed, else a new random one (128 bits, in hex)."""
    if header and REQUEST_ID_PATTERN.fullmatch(header):
        return header
    # token_hex, not uuid4().hex: the same 32 hex digits of os.urandom, without building a UUID (2 us).
    return secrets.token_hex(16)


@functools.lru_cache(maxsize=2)
def utc_second(second: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))


def utc_time(timestamp: float) -> str:
    """A log line's time: ISO 8601 in UTC, to the millisecond."""
    second = int(timestamp)
    return f"{utc_second(second)}.{int((timestamp - second) * 1000):03d}Z"


class JSONLineFormatter(logging.Formatter):
    """Each record as one JSON object: UTC time, level, message and the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": utc_time(record.created),
            "level": record.levelname.lower(),
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        # orjson: the access line is written for every request, and the stdlib encoder was a fifth of it.
        return orjson.dumps(line, default=str).decode()


class RequestIdFilter(logging.Filter):
    """Adds the current request's id to a log record, so an error's line joins its access line."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = has_request_context() and request.environ.get(REQUEST_ID_KEY)
        if request_id:
            record.fields = {**getattr(record, "fields", {}), "request_id": request_id}
        return True


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time, so a replaced stderr (as under pytest) still works."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def json_lines_to_stderr(logger: logging.Logger, level: str) -> logging.Logger:
    """Make the logger write JSON lines with request ids to stderr, and only there."""
    logger.setLevel(level)
    # Several apps in one process (tests, workers) share a logger: one handler, not one per app.
    if not any(isinstance(h, StderrHandler) for h in logger.handlers):
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        handler = StderrHandler()
        handler.setFormatter(JSONLineFormatter())
        handler.addFilter(RequestIdFilter())
        logger.addHandler(handler)
        logger.propagate = False
    return logger


def init_app(app: Flask) -> None:
    """The levels of the access log and the app's log; api/web/envelope.py writes the access lines."""
    # Only its level: log_request writes the lines itself.
    ACCESS_LOG.setLevel(app.config["LOG_LEVEL"])
    # Errors (with their tracebacks, which clients never see) go the same way, and so do the lines
    # of every module of the package (api.*), such as a download's build.
    json_lines_to_stderr(app.logger, app.config["LOG_LEVEL"])
    json_lines_to_stderr(logging.getLogger("api"), app.config["LOG_LEVEL"])


def log_request(method: str, path: str, status: int, started: float, request_id: str, remote_addr) -> None:
    """The access-log line of one request.

    The line JSONLineFormatter would make, written to stderr directly: built as a LogRecord and passed
    through a logging handler, it took 15 us, half of a fast 304's own time in the app; this takes 3.
    """
    if not ACCESS_LOG.isEnabledFor(logging.INFO):
        return
    now = time.time()
    line = {
        "time": utc_time(now),
        "level": "info",
        "message": "request",
        "method": method,
        "path": path,
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        "request_id": request_id,
        "remote_addr": remote_addr,
    }
    text = orjson.dumps(line).decode() + "\n"
    with WRITING:
        sys.stderr.write(text)
        sys.stderr.flush()
