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


@cli.group()
def tokens():
    """Make, list and revoke the bearer tokens that writes need."""


def open_db(db_path: str):
    """The database with its curation tables, built from the seed first if it is missing."""
    from api.db import connect, create_curation_tables

    if not Path(db_path).exists():
        from seed.loader import build_database

        build_database(db_path)
    db = connect(db_path)
    create_curation_tables(db)
    return db


@tokens.command("create")
@DB_OPTION
@click.option("--name", required=True, help="Who uses it; shown as the actor of every change it makes.")
@click.option(
    "--scope",
    type=click.Choice(["write", "admin"]),
    default="write",
    show_default=True,
    help="write: create and edit records; admin: also delete, and edit sources.",
)
def tokens_create(db_path, name, scope):
    """Make a token and print it once; only its hash is stored.

    \b
    Example:
        icc-events tokens create --name alice --scope write --db icc-events.db
    """
    from api.tokens import TokenError, create_token

    db = open_db(db_path)
    try:
        token = create_token(db, name, scope)
    except TokenError as error:
        raise click.ClickException(str(error)) from None
    finally:
        db.conn.close()
    click.echo(f"Token {name!r} ({scope}) created. It will not be shown again:")
    click.echo(token)


@tokens.command("list")
@DB_OPTION
def tokens_list(db_path):
    """List tokens: name, scope, created, revoked (never the token itself).

    \b
    Example:
        icc-events tokens list --db icc-events.db
    """
    from api.tokens import list_tokens

    db = open_db(db_path)
    try:
        for token in list_tokens(db):
            click.echo(
                f"{token['name']}\t{token['scope']}\t{token['created_at']}\t{token['revoked_at'] or 'active'}"
            )
    finally:
        db.conn.close()


@tokens.command("revoke")
@DB_OPTION
@click.option("--name", required=True, help="The token to revoke.")
def tokens_revoke(db_path, name):
    """Revoke a token: it stops working at once.

    \b
    Example:
        icc-events tokens revoke --name alice --db icc-events.db
    """
    from api.tokens import TokenError, revoke_token

    db = open_db(db_path)
    try:
        revoke_token(db, name)
    except TokenError as error:
        raise click.ClickException(str(error)) from None
    finally:
        db.conn.close()
    click.echo(f"Revoked {name!r}.")


@cli.command("export")
@DB_OPTION
@click.option(
    "--format",
    "export_format",
    type=click.Choice(["seed"]),
    default="seed",
    show_default=True,
    help="seed: data/*.yaml and sources/*.txt, the layout `import` and the seed loader read.",
)
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
def export_command(db_path, export_format, out):
    """Write the whole database as files, for backup and review.

    \b
    Example:
        icc-events export --db icc-events.db backup/
    """
    from api.transfer import EXPORT_FORMATS

    if not Path(db_path).exists():
        raise click.ClickException(f"No database at {db_path}.")
    if out.exists() and any(out.iterdir()):
        raise click.ClickException(f"{out} is not empty; export into a new directory.")
    counts = EXPORT_FORMATS[export_format](db_path, out)
    click.echo(f"Exported {', '.join(f'{n} {name}' for name, n in counts.items())} to {out}")


@cli.command("import")
@DB_OPTION
@click.option("--replace", is_flag=True, help="Replace the database if it exists (its tokens are kept).")
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
def import_command(db_path, replace, source):
    """Build the database from exported (seed-format) files, validating every record.

    Stop the server first; the change feed starts again, so mirrors must sync from the beginning.

    \b
    Example:
        icc-events import --db icc-events.db --replace backup/
    """
    from api.transfer import import_seed
    from seed.loader import SeedError

    if Path(db_path).exists() and not replace:
        raise click.ClickException(f"{db_path} exists; pass --replace to replace it.")
    try:
        counts = import_seed(db_path, source)
    except SeedError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Imported {', '.join(f'{n} {name}' for name, n in counts.items())} into {db_path}")
