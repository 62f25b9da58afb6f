"""The icc-events command line: build the database, serve it, write the OpenAPI file."""

import os
from pathlib import Path

import click

from api import __version__
from api.config import DEFAULTS

DB_OPTION = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    default=lambda: os.environ.get("ICC_EVENTS_DB", DEFAULTS["DATABASE"]),
    show_default="ICC_EVENTS_DB or icc-events.db",
    help="The SQLite database file.",
)


@click.group()
@click.version_option(__version__, prog_name="icc-events")
def cli():
    """icc-events: open data about the International Criminal Court, served over HTTP."""


@cli.command()
@DB_OPTION
def seed(db_path):
    """Rebuild the database from the curated seed files.

    \b
    Example:
        icc-events seed --db icc-events.db
    """
    from seed.loader import SeedError, build_database

    try:
        counts = build_database(db_path)
    except SeedError as error:
        raise click.ClickException(str(error)) from None
    summary = ", ".join(f"{n} {name}" for name, n in counts.items())
    click.echo(f"Built {db_path}: {summary}")


@cli.command()
@DB_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
def serve(db_path, host, port, workers):
    """Serve the API with gunicorn, building the database first if it is missing.

    \b
    Example:
        icc-events serve --db icc-events.db --port 8000 --workers 2
    """
    from api.server import run

    if not Path(db_path).exists():
        from seed.loader import build_database

        build_database(db_path)
        click.echo(f"Built {db_path} from the seed files.")
    run(db_path, host, port, workers)


@cli.command()
@click.option(
    "--output",
    type=click.Path(dir_okay=False),
    default="openapi.yaml",
    show_default=True,
    help="Where to write the description; - for standard output.",
)
def openapi(output):
    """Write the OpenAPI 3.1 description generated from the schemas.

    \b
    Example:
        icc-events openapi --output openapi.yaml
    """
    import tempfile

    from api import create_app
    from api.openapi import render_spec

    with tempfile.TemporaryDirectory() as tmp:
        text = render_spec(create_app({"DATABASE": str(Path(tmp) / "spec.db")}))
    if output == "-":
        click.echo(text, nl=False)
    else:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}")
