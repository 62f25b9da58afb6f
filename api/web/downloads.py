"""Bulk downloads of the live database: FollowTheMoney entities, a SQLite snapshot, a CSV bundle.

Each is built once per version of the data into a file (api/exports/download_files.py) and served from it,
with a strong ETag of the data it holds, Last-Modified, and byte ranges, so a client re-downloads only
after a change and resumes a broken download.
"""

from collections.abc import Callable
from pathlib import Path

import sqlite_utils
from flask import Blueprint, Response, current_app
from marshmallow import Schema

from api.exports.bulk import data_version, read_records, read_transaction, write_snapshot
from api.exports.datapackage import write_csv_bundle
from api.exports.download_files import downloads_directory, open_download
from api.exports.ftm import MAPPED, ftm_lines
from api.web.caching import read_response
from api.web.files import file_response
from api.web.query_args import parse_query

bp = Blueprint("downloads", __name__, url_prefix="/v1/export")
# The exports take no parameters; any given is a 400 naming it.
NO_PARAMETERS = Schema.from_dict({}, name="ExportQuery")()
NDJSON = "application/x-ndjson"
SQLITE = "application/vnd.sqlite3"
ZIP = "application/zip"


def write_ftm(db: sqlite_utils.Database, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        out.writelines(ftm_lines(read_records(db, MAPPED)))


def write_sqlite(db: sqlite_utils.Database, path: Path) -> str:
    """VACUUM INTO reads through a connection of its own, so the version is the snapshot's own."""
    return write_snapshot(current_app.config["DATABASE"], path)


def write_csv(db: sqlite_utils.Database, path: Path) -> None:
    with path.open("wb") as out:
        write_csv_bundle(db, out)


@bp.get("/ftm")
def export_ftm():
    """Every entity as FollowTheMoney JSON, one per line."""
    return download("export-ftm", write_ftm, NDJSON, "icc-events.ftm.json")


@bp.get("/sqlite")
def export_sqlite():
    """A consistent snapshot of the database file."""
    return download("export-sqlite", write_sqlite, SQLITE, "icc-events.db")


@bp.get("/csv.zip")
def export_csv():
    """Every collection as CSV, with a Frictionless datapackage.json, in one zip."""
    return download("export-csv", write_csv, ZIP, "icc-events-csv.zip")


def download(
    family: str,
    write: Callable[[sqlite_utils.Database, Path], str | None],
    mimetype: str,
    filename: str,
) -> Response:
    """The export's file for the current data version, built from one read transaction if missing."""
    parse_query(NO_PARAMETERS)
    with read_transaction(current_app.config["DATABASE"]) as db:
        version = data_version(db)

        built = {}

        def build() -> Response:
            # A snapshot may hold a later version than the one read: the file's own is its tag.
            file, built["version"] = open_download(
                downloads_directory(current_app.config),
                family,
                version,
                lambda path: write(db, path) or version,
            )
            return file_response(file, built["version"], mimetype, download_name=filename)

        # Tagged with the data version; caches must ask again before reusing it.
        response = read_response(version, None, build, max_age=0)
    if built.get("version", version) != version:
        response.set_etag(built["version"])
    return response
