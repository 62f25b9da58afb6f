"""What a rate-limit check costs as the budget fills, and what it adds to a CSV page, in process.

    python bench/rate_limit_storage.py --db bench/.data/icc100000.db

Run it on two checkouts (PYTHONPATH=<checkout>) to compare their limiters. `check_us` times what
api/web/ratelimit.check_rate_limit asks of the app's limiter per counted request (a hit, then the
window's stats) on a fresh budget file, after `held` requests of one client already in the window.
`csv_page_us` is a page of 50 statements as CSV through the WSGI app alone (no server, no access
line) with limits on (the budget raised, as bench/servers.py raises it) and off, after 2,200 answers,
the mean of the last 2,000.
"""

import json
import sys
import tempfile
import time
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RAISED = "100000000 per minute"


def check_us(db_path: str, held_counts: list[int]) -> tuple[str, dict[str, float]]:
    """The limiter's class, and the cost of one check by the number of requests already held."""
    from limits import parse

    from api.web.app import create_app

    with tempfile.TemporaryDirectory() as directory:
        storage = f"sqlite:///{Path(directory) / 'limits.db'}"
        app = create_app(
            {"DATABASE": db_path, "RATE_LIMIT_EXPENSIVE_READS": RAISED, "RATE_LIMIT_STORAGE": storage}
        )
        limiter, item = app.extensions["rate_limiter"], parse(RAISED)
        figures, held = {}, 0
        for target in held_counts:
            while held < target:
                limiter.hit(item, "expensive-reads", "client")
                held += 1
            started = time.perf_counter()
            for _ in range(500):
                limiter.hit(item, "expensive-reads", "client")
                limiter.get_window_stats(item, "expensive-reads", "client")
            held += 500
            figures[str(target)] = round((time.perf_counter() - started) / 500 * 1e6, 1)
        return type(limiter).__name__, figures


def csv_page_us(db_path: str, rate_limits: bool) -> float:
    from werkzeug.test import EnvironBuilder

    from api.web.app import create_app

    with tempfile.TemporaryDirectory() as directory:
        config = {"DATABASE": db_path, "ACCESS_LOG": False, "RATE_LIMIT_ENABLED": rate_limits}
        config["RATE_LIMIT_EXPENSIVE_READS"] = RAISED
        config["RATE_LIMIT_STORAGE"] = f"sqlite:///{Path(directory) / 'limits.db'}"
        app = create_app(config)
        environ = EnvironBuilder(
            path="/v1/statements", query_string="limit=50&format=csv", headers={"Host": "127.0.0.1:8000"}
        ).get_environ()

        def answer():
            body = app.wsgi_app(dict(environ), lambda *args: None)
            b"".join(body)
            body.close()

        for _ in range(200):
            answer()
        started = time.perf_counter()
        for _ in range(2000):
            answer()
        return round((time.perf_counter() - started) / 2000 * 1e6, 1)


@click.command()
@click.option("--db", "db_path", required=True, type=click.Path(exists=True, dir_okay=False))
def main(db_path):
    limiter, checks = check_us(db_path, [0, 1000, 5000, 20000])
    figures = {
        "limiter": limiter,
        "check_us_by_requests_held": checks,
        "csv_page_us_limits_on": csv_page_us(db_path, True),
        "csv_page_us_limits_off": csv_page_us(db_path, False),
    }
    click.echo(json.dumps(figures))


if __name__ == "__main__":
    main()
