"""Run the app on gunicorn, the production WSGI server, from inside the CLI."""

from gunicorn.app.base import BaseApplication

from api import create_app
from api.config import setting

# Seconds a worker gets to finish its requests in flight after SIGTERM before it is killed.
GRACEFUL_TIMEOUT = 10

# gunicorn refuses (400/431) a request line, header or header count past these before the app runs;
# the line allows the app's own query-string cap (4096 bytes, a 414 problem) plus the path.
REQUEST_LIMITS = {
    "limit_request_line": 8190,
    "limit_request_field_size": 8190,
    "limit_request_fields": 100,
}


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
        # The app writes its own JSON access log; gunicorn's text one would repeat every line.
        "accesslog": None,
        "loglevel": setting("LOG_LEVEL").lower(),
        "graceful_timeout": GRACEFUL_TIMEOUT,
        **REQUEST_LIMITS,
        "timeout": setting("WORKER_TIMEOUT"),
    }
    GunicornServer(options, db_path).run()
