"""The icc-events command line: build, check and serve the database, write the OpenAPI file."""

import json
import logging
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path

import click

from api import __version__
from api.config import DEFAULTS, SettingError, parse_base_url, setting, settings_from_environment
from api.exports.bulk import FILE_EXPORTS
from api.exports.transfer import EXPORT_FORMATS, import_seed
from api.integrations import delivery
from api.integrations.follow import run_follower
from api.server.process import run
from api.spec.openapi import render_spec
from api.store.check import check_database, coverage_lines, record_count
from api.store.db import connect
from api.store.health import CHECK_SECONDS, DatabaseUnusable, ensure_usable
from api.store.migrations import migrate, pending
from api.store.ranking import ensure_index
from api.store.tokens import TokenError, create_token, list_tokens, revoke_token
from api.web.app import create_app
from api.web.request_log import JSONLineFormatter
from seed.loader import LOAD_ORDER, SeedError, build_database, count_summary
from seed.synth import add_synthetic_records

DB_OPTION = click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    default=lambda: setting("DATABASE"),
    show_default="ICC_EVENTS_DB or icc-events.db",
    help="The SQLite database file.",
)


def progress_bar(length: int, label: str):
    """A progress bar on stderr, so stdout keeps only the result."""
    return click.progressbar(length=length, label=label, file=sys.stderr)


@click.group(
    epilog="Every option that has an ICC_EVENTS_* variable takes its default from it; see the README."
)
@click.version_option(__version__, prog_name="icc-events")
def cli():
    """icc-events: open data about the International Criminal Court, served over HTTP.

    \b
    Examples:
        icc-events seed                  build icc-events.db from the seed files
        icc-events check                 verify it: citations, references, indexes
        icc-events serve --port 8000     serve it at http://127.0.0.1:8000/
    """
    try:
        settings_from_environment()
    except SettingError as error:
        raise click.UsageError(str(error)) from None


@cli.command()
@DB_OPTION
def seed(db_path):
    """Rebuild the database from the curated seed files.

    Every record is validated, its citations checked against the source text and its references
    against their targets; the first problem stops the build, naming the file, record and field.
    An existing database is replaced only once the new one is complete.

    \b
    Example:
        icc-events seed --db icc-events.db
    """
    try:
        with progress_bar(len(LOAD_ORDER), "Loading collections") as bar:
            counts = build_database(db_path, advance=bar.update)
    except SeedError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Built {db_path}: {count_summary(counts)}")


@cli.command()
@DB_OPTION
@click.option("--records", required=True, type=click.IntRange(1, 100_000_000), help="How many to add.")
@click.option("--seed", "seed_number", default=0, show_default=True, type=click.IntRange(0), help="Seed.")
@click.option(
    "--workers",
    default=lambda: os.cpu_count() or 1,
    show_default="the CPU count",
    type=click.IntRange(0),
    help="Processes validating records beside the one writing them; 0 does it all in one.",
)
def synth(db_path, records, seed_number, workers):
    """Add synthetic records, validated like the seed, to measure the API at scale.

    Mostly statements, with officials, organizations, warrants, sanctions and events in
    proportion, each citing a synthetic article. The same --seed gives the same records.

    \b
    Example:
        icc-events synth --db bench.db --records 100000 --seed 1
    """
    try:
        with progress_bar(records, "Adding records") as bar:
            counts = add_synthetic_records(db_path, records, seed_number, bar.update, workers)
    except SeedError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Added to {db_path}: {count_summary(counts)}")


@cli.command()
@DB_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@click.pass_context
def check(ctx, db_path, as_json):
    """Verify a database and report every problem found.

    Checks SQLite's PRAGMA integrity_check, every table and column, every citation against its
    source text, every reference against its target, each source's sha256, each row's etag, and
    every full-text index against its table, and that every factual field is supported by a
    citation; reports, per collection, how many values are cited and on what basis (stated,
    attributed, inferred). Exits 1 when anything is wrong.

    \b
    Examples:
        icc-events check --db icc-events.db
        icc-events check --json | jq '.findings[].where'
    """
    if not Path(db_path).is_file():
        raise click.ClickException(f"No database at {db_path}; build one with `icc-events seed`.")
    db = connect(db_path)
    try:
        with progress_bar(record_count(db), "Checking records") as bar:
            report = check_database(db, advance=bar.update)
    finally:
        db.conn.close()
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
        ctx.exit(0 if report.ok else 1)
    click.echo(
        f"Checked {db_path}: {report.records} records, {report.citations} citations, "
        f"{report.fts_tables} full-text indexes."
    )
    click.echo("Field coverage by citations:")
    for line in coverage_lines(report.coverage):
        click.echo(line)
    if not report.ok:
        for finding in report.findings:
            click.echo(f"  {finding}")
        raise click.ClickException(f"{len(report.findings)} problem(s) found.")
    click.echo("No problems found.")


@cli.command()
@DB_OPTION
@click.option(
    "--host",
    default=lambda: setting("HOST"),
    show_default="ICC_EVENTS_HOST or 127.0.0.1",
    help="Address to bind.",
)
@click.option(
    "--port",
    default=lambda: setting("PORT"),
    show_default="ICC_EVENTS_PORT or 8000",
    type=click.IntRange(1, 65535),
    help="Port to listen on.",
)
@click.option(
    "--workers",
    default=lambda: setting("WORKERS"),
    show_default="ICC_EVENTS_WORKERS or 2",
    type=click.IntRange(1, 64),
    help="Worker processes.",
)
def serve(db_path, host, port, workers):
    """Serve the API on Granian (WSGI), building the database first if it is missing, else migrating it.

    Logs one JSON line per request to stderr. Connections are kept alive between requests; one
    idle, or still sending its headers, past ICC_EVENTS_HEADER_READ_TIMEOUT (10 s) is closed.
    SIGTERM or Ctrl-C lets the requests in flight finish (up to 30 seconds), then exits 0;
    SIGHUP replaces the workers one by one (new code, same settings) without dropping a request.

    \b
    Example:
        icc-events serve --db icc-events.db --port 8000 --workers 2
    """
    if not Path(db_path).exists():
        if setting("PRIMARY_URL"):
            raise click.ClickException(
                f"{db_path} does not exist yet: a replica serves the copy `icc-events follow` makes."
            )
        build_database(db_path)
        click.echo(f"Built {db_path} from the seed files.")
    try:
        whole = ensure_usable(db_path)
    except DatabaseUnusable as error:
        raise click.ClickException(str(error)) from None
    if not whole:
        click.echo(
            f"Checked {db_path} for {CHECK_SECONDS:g} s (quick_check) and found nothing wrong; "
            "a corrupt page past that is a 503 when a query reads it.",
            err=True,
        )
    # Before the workers fork: they find nothing pending, and none waits on another's upgrade. A
    # replica's file is the primary's copy, replaced by `icc-events follow`: the primary migrates it.
    if not setting("PRIMARY_URL"):
        for name in migrate(db_path):
            click.echo(f"Migrated {db_path}: {name}", err=True)
    # Also before the workers fork: a database never searched is indexed once, not on a first request.
    db = connect(db_path, readonly=bool(setting("PRIMARY_URL")))
    try:
        ensure_index(db, trim=not setting("PRIMARY_URL"))
    finally:
        db.conn.close()
    run(db_path, host, port, workers)


@cli.command("migrate")
@DB_OPTION
@click.option("--list", "list_only", is_flag=True, help="List the pending steps; apply none.")
def migrate_command(db_path, list_only):
    """Upgrade a database built by an older release in place: run its pending schema migrations.

    Each step runs once, in its own transaction, and is recorded in the _sqlite_migrations table;
    a database `icc-events seed` built has them all recorded. `serve`, `seed` and `import` run this
    too, so it is only needed to upgrade ahead of a deploy or to see what is pending.

    \b
    Examples:
        icc-events migrate --db icc-events.db
        icc-events migrate --db icc-events.db --list
    """
    if not Path(db_path).is_file():
        raise click.ClickException(f"No database at {db_path}; build one with `icc-events seed`.")
    if list_only:
        db = connect(db_path, readonly=True)
        try:
            names = pending(db)
        finally:
            db.conn.close()
        for name in names:
            click.echo(name)
        click.echo(f"{len(names)} pending migration(s) in {db_path}.", err=True)
        return
    applied = migrate(db_path)
    for name in applied:
        click.echo(f"Applied {name}")
    click.echo(f"{db_path} is up to date ({len(applied)} migration(s) applied).")


@cli.command()
@DB_OPTION
@click.option("--once", is_flag=True, help="Send what is due now, then exit (for cron or a test).")
def deliver(db_path, once):
    """Send webhook messages from the outbox until stopped (SIGTERM or Ctrl-C: after the current batch).

    Each change goes once to each matching subscription, signed per Standard Webhooks, oldest first
    per record; failures are retried with exponential backoff and jitter, and a subscription is
    disabled after ICC_EVENTS_WEBHOOKS_DISABLE_AFTER_FAILURES (15) failures in a row. Run one next to
    `serve`; a killed deliverer resends what it had not recorded, under the same webhook-id.

    \b
    Example:
        icc-events deliver --db icc-events.db
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONLineFormatter())
    logging.basicConfig(level=setting("LOG_LEVEL"), handlers=[handler])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    open_db(db_path).conn.close()
    config = {**DEFAULTS, **settings_from_environment()}
    try:
        delivery.deliver(db_path, delivery.DeliverySettings.from_config(config), once=once, stop=stop)
    except KeyboardInterrupt:
        pass


@cli.command()
@DB_OPTION
@click.option(
    "--replica-url",
    required=True,
    help="The Litestream replica the primary writes to: file:///path or s3://bucket/path.",
)
@click.option(
    "--interval",
    default=0.2,
    show_default=True,
    type=click.FloatRange(0.05, 60),
    help="Seconds between two looks for new transactions.",
)
def follow(db_path, replica_url, interval):
    """Keep a read replica's database (--db) a recent copy of the primary's, until SIGTERM or Ctrl-C.

    Runs `litestream restore -f` from the primary's Litestream replica into a staging file, and after
    each applied transaction swaps a consistent copy in at --db, which `icc-events serve` on the
    replica (ICC_EVENTS_PRIMARY_URL set) reopens on its next request. Starts from a fresh restore.

    \b
    Example:
        icc-events follow --db icc-events.db --replica-url file:///var/lib/litestream/icc-events
    """
    try:
        status = run_follower(db_path, replica_url, interval)
    except FileNotFoundError as error:
        raise click.ClickException(str(error)) from None
    sys.exit(status)


@cli.command()
@DB_OPTION
@click.option(
    "--base-url",
    default=lambda: setting("BASE_URL"),
    show_default="ICC_EVENTS_BASE_URL or http://127.0.0.1:8000",
    help="The API's public URL, which span and record URLs start with.",
)
def mcp(db_path, base_url):
    """Answer Model Context Protocol requests on stdin and stdout (read-only).

    Tools: search, get_record, timeline, changes_since and verify_quote. Each answer carries the
    exact quotes it rests on, with their span URLs; the database is opened read-only.

    \b
    Example:
        icc-events mcp --db icc-events.db --base-url https://icc-events.example
    """
    # Here, not at the top: the MCP SDK takes longer to import than any other command takes to run.
    from api.integrations.mcp_server import build_server

    if not Path(db_path).is_file():
        raise click.ClickException(f"No database at {db_path}; build one with `icc-events seed`.")
    try:
        base_url = parse_base_url(base_url)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--base-url") from None
    db = connect(db_path, readonly=True)
    try:
        build_server(db, base_url).run("stdio")
    finally:
        db.conn.close()


@cli.command()
@click.option(
    "--output",
    type=click.Path(dir_okay=False),
    default="api/web/openapi.yaml",
    show_default=True,
    help="Where to write the description (the file the server serves); - for standard output.",
)
def openapi(output):
    """Write the OpenAPI 3.1 description generated from the schemas.

    Run it from a checkout and commit the file: the server serves it as it is, and a test fails
    when it differs from what the code generates.

    \b
    Example:
        icc-events openapi
    """
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
    """The database, migrated (so it has its curation tables), built from the seed first if it is missing."""
    if not Path(db_path).exists():
        build_database(db_path)
    migrate(db_path)
    return connect(db_path)


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
    type=click.Choice(["seed", *FILE_EXPORTS]),
    default="seed",
    show_default=True,
    help="seed: data/*.yaml and sources/*.txt, the layout `import` and the seed loader read (OUT is a "
    "directory); ftm: FollowTheMoney NDJSON; sqlite: a database snapshot; csv: a zip with a "
    "datapackage.json (OUT is a new file, or - for ftm on standard output).",
)
@click.argument("out", type=click.Path(path_type=Path, allow_dash=True))
def export_command(db_path, export_format, out):
    """Write the whole database as files: seed files for backup and review, or another tool's format.

    \b
    Examples:
        icc-events export --db icc-events.db backup/
        icc-events export --format ftm icc-events.ftm.json
        icc-events export --format sqlite icc-events-snapshot.db
        icc-events export --format csv icc-events-csv.zip
    """
    to_stdout = str(out) == "-"
    if to_stdout and export_format != "ftm":
        raise click.BadParameter("only the ftm format can go to standard output.", param_hint="OUT")
    if export_format in FILE_EXPORTS and not to_stdout and out.exists():
        raise click.BadParameter(f"{out} exists; export to a new file.", param_hint="OUT")
    if not Path(db_path).exists():
        raise click.ClickException(f"No database at {db_path}.")
    if export_format in FILE_EXPORTS:
        FILE_EXPORTS[export_format](db_path, str(out))
        if not to_stdout:
            click.echo(f"Wrote {out}", err=True)
        return
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise click.ClickException(f"{out} is not empty; export into a new directory.")
    counts = EXPORT_FORMATS[export_format](db_path, out)
    click.echo(f"Exported {', '.join(f'{n} {name}' for name, n in counts.items())} to {out}")


@cli.command("import")
@DB_OPTION
@click.option(
    "--replace", is_flag=True, help="Replace the database if it exists (its tokens and webhooks are kept)."
)
@click.argument("source", type=click.Path(exists=True, file_okay=False, path_type=Path))
def import_command(db_path, replace, source):
    """Build the database from exported (seed-format) files, validating every record.

    Stop the server first; the change feed starts again, so mirrors must sync from the beginning.

    \b
    Example:
        icc-events import --db icc-events.db --replace backup/
    """
    if Path(db_path).exists() and not replace:
        raise click.ClickException(f"{db_path} exists; pass --replace to replace it.")
    try:
        counts = import_seed(db_path, source)
    except SeedError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Imported {', '.join(f'{n} {name}' for name, n in counts.items())} into {db_path}")
