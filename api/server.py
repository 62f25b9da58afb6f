"""Run the app on gunicorn, the production WSGI server, from inside the CLI."""

import json
import os
import re
import socket

from gunicorn import SERVER, util
from gunicorn.app.base import BaseApplication
from gunicorn.http.body import LengthReader
from gunicorn.http.wsgi import proxy_environ
from gunicorn.workers.sync import SyncWorker

from api import create_app
from api.config import setting
from api.errors import PROBLEM_MEDIA_TYPE
from api.headers import DATA_POLICY, security_headers
from api.revalidation import Revalidation

# Seconds a worker gets to finish its requests in flight after SIGTERM before it is killed.
GRACEFUL_TIMEOUT = 10

# gunicorn refuses (414/431) a request line, header or header count past these before the app runs;
# the line allows the app's own query-string cap (4096 bytes, a 414 problem) plus the path.
REQUEST_LIMITS = {
    "limit_request_line": 8190,
    "limit_request_field_size": 8190,
    "limit_request_fields": 100,
}


# What each refusal gunicorn makes before the app runs means to a client; never the request's bytes.
SERVER_REFUSALS = {
    400: "The request is not valid HTTP/1.1 (its request line, a header or its chunked body).",
    403: "The request was refused before it reached the API.",
    414: f"The request line is longer than {REQUEST_LIMITS['limit_request_line']} bytes.",
    417: "The Expect header asks for something this server does not do.",
    431: f"The request headers are too large, or more than {REQUEST_LIMITS['limit_request_fields']}.",
    500: "An unexpected error; details are logged, never sent.",
    501: "The request uses a transfer coding this server does not support.",
}


class ErrorCapture:
    """Takes the place of the client socket while gunicorn writes its own (HTML) error page."""

    def __init__(self):
        self.data = b""

    def gettimeout(self):
        return 0.0

    def setblocking(self, flag):
        pass

    def sendall(self, data: bytes) -> None:
        self.data += data


def client_is_done(client, req) -> bool:
    """Whether the client has sent all it will: its whole body was read, and nothing but, at most,
    its own close waits on the socket.

    nginx's lingering_close heuristic: only then can the socket be closed at once without the kernel
    answering late bytes with a reset that could cut the response short (RFC 9112 section 9.6).
    A client that closed as soon as it had the response (as `Connection: close` clients do) is done too.
    """
    reader = req.body.reader
    if not (isinstance(reader, LengthReader) and reader.length == 0):
        return False
    try:
        return client.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:  # nothing waiting
        return True
    except OSError:  # reset by the client: there is no response left to protect
        return True


def revalidation_environ(req, addr) -> dict | None:
    """What Revalidation.early_answer reads of a request, as gunicorn's WSGI environ would have it;
    None when the request is not a plain revalidation, or when gunicorn would build that environ
    differently (a repeated header, which it joins; a SCRIPT_NAME; a body; Expect: 100-continue).
    """
    names = [name for name, _ in req.headers]
    unique = set(names)
    if req.method not in ("GET", "HEAD") or "IF-NONE-MATCH" not in unique or len(unique) != len(names):
        return None
    if {"SCRIPT_NAME", "CONTENT-LENGTH", "TRANSFER-ENCODING"} & unique or os.environ.get("SCRIPT_NAME"):
        return None
    if getattr(req, "_expected_100_continue", False):
        return None
    environ = {"HTTP_" + name.replace("-", "_"): value for name, value in req.headers}
    environ.update(
        {
            "REQUEST_METHOD": req.method,
            "PATH_INFO": util.unquote_to_wsgi_str(req.path),
            "QUERY_STRING": req.query,
            "wsgi.url_scheme": req.scheme,
            "REMOTE_ADDR": addr[0] if isinstance(addr, tuple) else str(addr),
        }
    )
    environ.update(proxy_environ(req))
    return environ


class ApiSyncWorker(SyncWorker):
    """gunicorn's sync worker, with three changes.

    - A request it refuses itself is answered in problem+json: gunicorn decides the status (and logs
      the refusal); only the page it would write is replaced.
    - It closes the connection as soon as the response is sent when the client is done
      (client_is_done). gunicorn's own close lingers until the client closes its side too: a round
      trip during which the worker serves no one, a fifth of a 304's time on loopback and far more
      across a network. When the client may still be sending, gunicorn lingers as before.
    - It asks the app's Revalidation for a 304 before gunicorn builds the WSGI environ and response
      objects, and writes it itself, with the headers gunicorn would add (a fifth more 304s a
      second, bench/README.md). Anything else goes the usual way.
    """

    def handle_request(self, listener, req, client, addr):
        if not self.answered_early(req, client, addr):
            super().handle_request(listener, req, client, addr)
        if client_is_done(client, req):
            # handle() then calls util.close_graceful, which returns at once on a closed socket.
            client.close()

    def answered_early(self, req, client, addr) -> bool:
        revalidation = getattr(self.wsgi, "wsgi_app", None)
        if not isinstance(revalidation, Revalidation):
            return False
        environ = revalidation_environ(req, addr)
        answer = environ and revalidation.early_answer(environ)
        if not answer:
            return False
        status, headers = answer
        self.nr += 1  # what gunicorn's handle_request counts, for max_requests
        if self.nr >= self.max_requests:
            self.log.info("Autorestarting worker after current request.")
            self.alive = False
        head = [
            f"HTTP/{req.version[0]}.{req.version[1]} {status}\r\n",
            f"Server: {SERVER}\r\nDate: {util.http_date()}\r\nConnection: close\r\n",
            *(f"{name}: {value}\r\n" for name, value in headers),
            "\r\n",
        ]
        util.write(client, "".join(head).encode("latin-1"))
        return True

    def handle_error(self, req, client, addr, exc):
        capture = ErrorCapture()
        super().handle_error(req, capture, addr, exc)
        written = re.match(rb"HTTP/1\.1 (\d{3}) ([^\r\n]*)", capture.data)
        status, reason = (int(written[1]), written[2].decode("latin-1")) if written else (500, "Error")
        detail = SERVER_REFUSALS.get(status, "The server refused the request before it reached the API.")
        body = json.dumps(
            {"type": "about:blank", "title": reason, "status": status, "detail": detail, "instance": None}
        ).encode()
        headers = [
            ("Connection", "close"),
            ("Content-Type", PROBLEM_MEDIA_TYPE),
            ("Content-Length", str(len(body))),
            *security_headers(DATA_POLICY),
        ]
        head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
        try:
            util.write_nonblock(client, head.encode("latin-1") + body)
        except OSError:
            self.log.debug("Failed to send error message.")


class GunicornServer(BaseApplication):
    def __init__(self, options: dict, db_path: str):
        self.options, self.db_path = options, db_path
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return create_app({"DATABASE": self.db_path})


def run(db_path: str, host: str, port: int, workers: int) -> None:
    """Serve until SIGTERM (graceful: requests in flight finish) or SIGINT (at once), then return."""
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "api.server.ApiSyncWorker",
        # The app writes its own JSON access log; gunicorn's text one would repeat every line.
        "accesslog": None,
        "loglevel": setting("LOG_LEVEL").lower(),
        "graceful_timeout": GRACEFUL_TIMEOUT,
        **REQUEST_LIMITS,
        "timeout": setting("WORKER_TIMEOUT"),
    }
    GunicornServer(options, db_path).run()
