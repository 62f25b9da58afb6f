"""Bulk downloads of the live database: FollowTheMoney entities, a SQLite snapshot, a CSV bundle.

Each carries a strong ETag of the data it holds, so a client re-downloads only after a change.
"""

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import sqlite_utils
from flask import Blueprint, Response, current_app, request, send_file
from marshmallow import Schema

from api.bulk import data_version, read_records, read_transaction, write_snapshot
from api.datapackage import write_csv_bundle
from api.ftm import MAPPED, ftm_lines
from api.query_args import parse_query

bp = Blueprint("downloads", __name__, url_prefix="/v1/export")
# The exports take no parameters; any given is a 400 naming it.
NO_PARAMETERS = Schema.from_dict({}, name="ExportQuery")()
NDJSON = "application/x-ndjson"
SQLITE = "application/vnd.sqlite3"
ZIP = "application/zip"
SPOOL_IN_MEMORY_BYTES = 8 * 1024 * 1024


@bp.get("/ftm")
def export_ftm():
    """Every entity as FollowTheMoney JSON, one per line."""
    version, records = read_unless_current(lambda db: read_records(db, MAPPED))
    if records is None:
        return not_modified(version)
    response = current_app.response_class(ftm_lines(records), mimetype=NDJSON)
    response.headers["Content-Disposition"] = "attachment; filename=icc-events.ftm.json"
    return revalidated(response, version)


@bp.get("/sqlite")
def export_sqlite():
    """A consistent snapshot of the database file."""
    version, changed = read_unless_current(lambda db: True)
    if not changed:
        return not_modified(version)
    workdir = tempfile.mkdtemp(prefix="icc-events-export-")
    try:
        path = Path(workdir) / "icc-events.db"
        # The tag is taken from the snapshot itself, so it names exactly what is sent.
        version = write_snapshot(current_app.config["DATABASE"], path)
        snapshot, size = path.open("rb"), path.stat().st_size
    finally:
        # The open handle keeps the file readable until the response is sent and closes it.
        shutil.rmtree(workdir)
    return attachment(snapshot, size, SQLITE, "icc-events.db", version)


@bp.get("/csv.zip")
def export_csv():
    """Every collection as CSV, with a Frictionless datapackage.json, in one zip."""
    version, bundle = read_unless_current(spooled_csv_bundle)
    if bundle is None:
        return not_modified(version)
    return attachment(bundle, bundle.tell(), ZIP, "icc-events-csv.zip", version, rewind=True)


def read_unless_current(read: Callable[[sqlite_utils.Database], Any]) -> tuple[str, Any]:
    """The data version and read(db), in one transaction; None when the client's copy is current."""
    parse_query(NO_PARAMETERS)
    with read_transaction(current_app.config["DATABASE"]) as db:
        version = data_version(db)
        if request.if_none_match.contains(version):
            return version, None
        return version, read(db)


def spooled_csv_bundle(db: sqlite_utils.Database) -> IO[bytes]:
    bundle = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES)
    try:
        write_csv_bundle(db, bundle)
    except BaseException:
        bundle.close()
        raise
    return bundle


def attachment(
    file: IO[bytes], size: int, mimetype: str, filename: str, version: str, rewind: bool = False
) -> Response:
    """A download of an open file, closed once sent."""
    if rewind:
        file.seek(0)
    response = send_file(file, mimetype=mimetype, as_attachment=True, download_name=filename, etag=False)
    response.content_length = size
    return revalidated(response, version)


def revalidated(response: Response, version: str) -> Response:
    """Tagged with the data version; caches must ask again before reusing it."""
    response.set_etag(version)
    response.headers["Cache-Control"] = "no-cache"
    return response


def not_modified(version: str) -> Response:
    return revalidated(current_app.response_class(status=304), version)
