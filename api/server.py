"""Run the app on gunicorn, the production WSGI server, from inside the CLI."""

from gunicorn.app.base import BaseApplication

from api import create_app


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
    options = {"bind": f"{host}:{port}", "workers": workers, "accesslog": "-"}
    GunicornServer(options, db_path).run()
