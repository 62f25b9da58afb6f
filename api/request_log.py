"""Request ids and one structured JSON access-log line per request, written to stderr."""

import json
import logging
import re
import sys
import time
import uuid

from flask import Flask, g, request

REQUEST_ID_HEADER = "X-Request-ID"
# Ids from clients or proxies are echoed into logs and headers: short, printable, nothing to inject.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,128}")
ACCESS_LOGGER = "icc_events.access"


def request_id_from(header: str | None) -> str:
    """The client's X-Request-ID when it is well formed, else a new random one."""
    if header and REQUEST_ID_PATTERN.fullmatch(header):
        return header
    return uuid.uuid4().hex


class JSONLineFormatter(logging.Formatter):
    """Each record as one JSON object: UTC time, level, message and the record's `fields`."""

    converter = time.gmtime

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time, so a replaced stderr (as under pytest) still works."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def access_logger(level: str) -> logging.Logger:
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.setLevel(level)
    # Several apps in one process (tests, workers) share the logger: one handler, not one per app.
    if not logger.handlers:
        handler = StderrHandler()
        handler.setFormatter(JSONLineFormatter())
        logger.addHandler(handler)
        logger.propagate = False
    return logger


def start_request() -> None:
    g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
    g.request_started = time.perf_counter()


def init_app(app: Flask) -> None:
    logger = access_logger(app.config["LOG_LEVEL"])
    app.before_request(start_request)

    @app.after_request
    def finish_request(response):
        # before_request may not have run (an error in an earlier hook): still answer with an id.
        request_id = g.get("request_id") or request_id_from(request.headers.get(REQUEST_ID_HEADER))
        response.headers[REQUEST_ID_HEADER] = request_id
        if app.config["ACCESS_LOG"]:
            started = g.get("request_started", time.perf_counter())
            fields = {
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                "request_id": request_id,
                "remote_addr": request.remote_addr,
            }
            logger.info("request", extra={"fields": fields})
        return response
