"""Where an item's time goes: ours beside the floor, in process and over sockets.

    python bench/item_gap.py in-process --db bench/.data/icc100000.db
    python bench/item_gap.py sockets --db bench/.data/icc100000.db --rounds 3 \\
        floor='granian ... floor:app' ours='python -m api serve ...'

`in-process` times one record's answer through each WSGI app alone (no server, no socket, no access
line), then again with each request hook of ours taken out in turn, and with all of them run from one
hook each way. `sockets` starts each command line ({port} and {db} filled in), loads them in turns
with wrk on the statements bench/run.py draws at random (ours at /v1/statements/<id>, any target
named floor* at /items/statements/<id>), and prints each target's median req/s. Servers, wrk and the
random draw are bench/run.py's and bench/servers.py's own.
"""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import click

BENCH_DIR = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH_DIR.parent), str(BENCH_DIR)]

from run import READY, random_rows, run_wrk  # noqa: E402
from servers import free_port, wait_until_up  # noqa: E402


def random_ids(db_path: str) -> list[str]:
    """The statement ids bench/run.py's cold item scenario asks, in its order."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        return [record_id for (record_id,) in random_rows(db, "id")]


def per_request_us(wsgi_app, environ: dict, count: int = 20_000, repeats: int = 3) -> float:
    """The best of `repeats` mean times of one answer, read to its end, in microseconds."""

    def start_response(status, headers, exc_info=None):
        return None

    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(count):
            body = wsgi_app(dict(environ), start_response)
            b"".join(body)
            getattr(body, "close", lambda: None)()
        best = min(best, (time.perf_counter() - started) / count * 1e6)
    return round(best, 1)


@click.group()
def main():
    """Measure the gap between ours and the floor on one record."""


@main.command("in-process")
@click.option("--db", "db_path", required=True, type=click.Path(exists=True, dir_okay=False))
def in_process(db_path):
    """Ours and the floor through their WSGI apps alone; then ours without each hook."""
    from werkzeug.test import EnvironBuilder

    os.environ["FLOOR_DB"] = db_path
    import floor

    from api.web.app import create_app

    app = create_app({"DATABASE": db_path, "ACCESS_LOG": False})
    record_id = random_ids(db_path)[0]
    headers = {"Host": "127.0.0.1:8000", "User-Agent": "wrk"}
    ours_environ = EnvironBuilder(path=f"/v1/statements/{record_id}", headers=headers).get_environ()
    floor_environ = EnvironBuilder(path=f"/items/statements/{record_id}", headers=headers).get_environ()
    per_request_us(app.wsgi_app, ours_environ, 2_000, 1)  # connections opened, code paths warm
    figures = {
        "ours_us": per_request_us(app.wsgi_app, ours_environ),
        "floor_us": per_request_us(floor.app.wsgi_app, floor_environ),
    }
    base = per_request_us(app.wsgi_app, ours_environ)
    saved = {}
    hooks = hook_lists(app)
    for kind, functions in hooks:
        for function in list(functions):
            position = functions.index(function)
            functions.remove(function)
            try:
                saved[f"{kind} {function.__module__}.{function.__name__}"] = round(
                    base - per_request_us(app.wsgi_app, ours_environ), 1
                )
            finally:
                functions.insert(position, function)
    figures["ours_again_us"] = base
    figures["saved_without_each_hook_us"] = saved
    figures["saved_all_hooks_us"] = round(sum(saved.values()), 1)
    figures["ours_with_one_hook_each_way_us"] = one_hook_each_way(app, ours_environ)
    figures["ours_without_any_hook_us"] = without_hooks(app, ours_environ, hooks)
    click.echo(json.dumps({"db": db_path, "record": record_id, **figures}, indent=1))


def hook_lists(app) -> list[tuple[str, list]]:
    """The app-wide request hook lists Flask keeps, by kind (edited only by these diagnostics)."""
    return [
        ("before", app.before_request_funcs[None]),
        ("after", app.after_request_funcs[None]),
        ("teardown", app.teardown_appcontext_funcs),
    ]


def one_hook_each_way(app, environ: dict) -> float:
    """Ours with its before hooks run from one hook, and its after hooks from one on each side of
    flask-compress's (which stays where it is, so headers come out in the same order)."""
    before, after = app.before_request_funcs[None], app.after_request_funcs[None]
    saved_before, saved_after = list(before), list(after)
    compress = next(i for i, f in enumerate(after) if f.__module__.endswith("compression"))
    first, last = saved_after[:compress], saved_after[compress + 1 :]

    def run_before():
        for function in saved_before:
            answer = function()
            if answer is not None:
                return answer
        return None

    def chain(functions):
        def run(response):
            for function in reversed(functions):
                response = function(response)
            return response

        return run

    before[:] = [run_before]
    after[:] = [chain(first), saved_after[compress], chain(last)]
    try:
        return per_request_us(app.wsgi_app, environ)
    finally:
        before[:], after[:] = saved_before, saved_after


def without_hooks(app, environ: dict, hooks: list) -> float:
    """Ours with every request hook taken out at once (its answer then lacks their headers)."""
    saved = [list(functions) for _, functions in hooks]
    for _, functions in hooks:
        functions.clear()
    try:
        return per_request_us(app.wsgi_app, environ)
    finally:
        for (_, functions), kept in zip(hooks, saved, strict=True):
            functions[:] = kept


def ours_without_hooks():
    """A WSGI app for `granian --factory item_gap:ours_without_hooks`: ours on ICC_EVENTS_DB with every
    request hook taken out, the most that slimming them could win over sockets (a diagnostic: its
    answers lack the hooks' headers, and the 304s answered before Flask stay)."""
    from api.web.app import create_app

    app = create_app({"DATABASE": os.environ["ICC_EVENTS_DB"], "ACCESS_LOG": False})
    for _, functions in hook_lists(app):
        functions.clear()
    return app


@main.command()
@click.option("--db", "db_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--rounds", default=3, show_default=True)
@click.option("--duration", default=8, show_default=True, help="Seconds of wrk per turn.")
@click.option("--connections", default=16, show_default=True)
@click.argument("targets", nargs=-1, required=True)
def sockets(db_path, rounds, duration, connections, targets):
    """TARGETS: name=command line. Each serves db_path; all take turns, `rounds` times."""
    picks = random_ids(db_path)
    servers = {}
    try:
        for target in targets:
            name, command = target.split("=", 1)
            port, kind = free_port(), "floor" if name.startswith("floor") else "ours"
            prefix = "/items/statements/" if kind == "floor" else "/v1/statements/"
            process = subprocess.Popen(
                command.format(port=port, db=db_path),
                shell=True,
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "FLOOR_DB": db_path},
            )
            servers[name] = (process, f"http://127.0.0.1:{port}", [prefix + pick for pick in picks])
            wait_until_up(servers[name][1] + READY[kind], process)
        rates = {name: [] for name in servers}
        for _ in range(rounds):
            for name, (_, base, paths) in servers.items():
                measured = run_wrk(base + "/", {}, duration, 1, connections, paths)
                if measured["errors"]:
                    raise click.ClickException(f"wrk saw errors from {name}: {measured}")
                rates[name].append(round(measured["rps"]))
                time.sleep(1)
    finally:
        for process, _, _ in servers.values():
            os.killpg(process.pid, signal.SIGTERM)
    for name, measured in rates.items():
        click.echo(
            json.dumps({"target": name, "median_rps": sorted(measured)[len(measured) // 2], "rps": measured})
        )


if __name__ == "__main__":
    main()
