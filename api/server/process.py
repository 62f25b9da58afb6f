"""Run the app on Granian, in WSGI mode, from inside the CLI: stock settings but for those named here.

Granian reads requests and writes responses in Rust, off the Python threads: a client that sends half
a request, or reads a download slowly, holds a connection but no worker thread, and a response waits
for a slow reader in a bounded buffer instead of piling up in memory (bench/serving.py measures both).
"""

import os
from pathlib import Path

from granian import Granian
from granian.constants import Interfaces
from granian.http import HTTP1Settings

from api.config import setting

# Seconds the workers get to finish requests in flight after SIGTERM, or after SIGHUP for the old ones.
GRACEFUL_TIMEOUT = 30


def logging_config(level: str) -> dict:
    """Granian's own lines (start, stop, worker restarts) as JSON lines on stderr, like the access log."""
    return {
        "formatters": {"json": {"()": "api.web.request_log.JSONLineFormatter"}},
        "handlers": {
            "console": {"formatter": "json", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
            "access": {"formatter": "json", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
        },
        "loggers": {"_granian": {"handlers": ["console"], "level": level, "propagate": False}},
    }


def run(db_path: str, host: str, port: int, workers: int) -> None:
    """Serve until SIGTERM or SIGINT (requests in flight finish), reloading the workers on SIGHUP."""
    # Each worker builds the app from the environment (create_app), so the database travels there.
    os.environ["ICC_EVENTS_DB"] = str(Path(db_path).resolve())
    # `serve` checked the file before calling this: each worker (and each one a reload or a crash
    # starts) would only read the same pages again, for up to 2 s on a large file. On a replica,
    # `follow` swaps in new copies after that check, and no worker checks those (nor did one before
    # this setting): a bad page in one is met by the query that reads it, as a 503.
    os.environ["ICC_EVENTS_CHECK_ON_START"] = "false"
    level = setting("LOG_LEVEL").lower()
    Granian(
        "api.web.app:create_app",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        websockets=False,
        # The time a client has to send its request headers, and the longest a kept-alive
        # connection may sit idle: either way the connection is then closed.
        # Granian's own cap on a request's head (about 400 KB) stays: above any URL the spec's
        # parameters allow, so the app answers an overlong query (414) or headers (431) itself.
        http1_settings=HTTP1Settings(header_read_timeout=setting("HEADER_READ_TIMEOUT") * 1000),
        workers_kill_timeout=GRACEFUL_TIMEOUT,
        # A worker that dies (killed for memory, a crash in a C extension) is replaced, as gunicorn
        # does, instead of taking the whole server down; Granian exits if a replacement dies again
        # within seconds, so a worker that cannot start at all still stops the server.
        respawn_failed_workers=True,
        # The app writes its own JSON access line per request (api/web/request_log.py).
        log_access=False,
        log_level=level,
        log_dictconfig=logging_config(level.upper()),
    ).serve()
