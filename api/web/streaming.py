"""Collections as CSV or NDJSON: every matching record streamed in constant memory, unless a limit asks
for one page (api/web/records.py serves those). The whole collection in its default order is a file built
once per version of the collection (api/exports/download_files.py), served with byte ranges.
"""

from collections.abc import Iterator
from pathlib import Path

import sqlite_utils
from flask import current_app, request, stream_with_context

from api.exports.download_files import downloads_directory, open_download
from api.model.collections import Collection
from api.model.rendering import served
from api.store.db import connect
from api.store.reads import SERVED_SELECT, iter_rows
from api.web.caching import read_response, streamed_etag
from api.web.errors import APIProblem
from api.web.files import file_response
from api.web.formats import content_type, text_lines, text_rows
from api.web.shape import sparse


def reject_json_only_arguments(args: dict) -> None:
    """include and facet shape JSON; CSV and NDJSON have no place for them."""
    if args.get("include") or args.get("facet"):
        raise APIProblem(
            400,
            "include and facet need format=json.",
            errors={k: "Only with format=json." for k in ("include", "facet") if args.get(k)},
        )


def is_whole_collection(collection: Collection, args: dict, where: list, after: list | None) -> bool:
    """No filter, cursor or fields=, in the default order: the same body for every such request."""
    default_sort = [(collection.default_sort, False)]
    return not where and after is None and not args.get("fields") and args["sort"] == default_sort


def export(collection: Collection, fmt: str, args: dict, where: list, params: list, after: list | None):
    """The response with every record after the cursor, read from one snapshot in keyset batches."""
    reject_json_only_arguments(args)
    whole = is_whole_collection(collection, args, where, after)
    db = connect(current_app.config["DATABASE"])
    try:
        # One read transaction for the ETag pass and the body, so the tag describes what is sent.
        db.execute("BEGIN")
        versions = iter_rows(db, collection, where, params, args["sort"], after, "etag, updated_at")
        # A whole collection's file holds stored records, whose links are relative: one for every host.
        parts = [collection.name, fmt] if whole else [request.url, fmt]
        etag, modified = streamed_etag(parts, versions)
        if whole:
            try:
                return read_response(
                    etag, modified, lambda: whole_file(db, collection, fmt, args, etag, modified)
                )
            finally:
                db.conn.close()
        response = read_response(
            etag, modified, lambda: streamed(db, collection, fmt, args, after, where, params)
        )
    except BaseException:
        db.conn.close()
        raise
    if response.status_code == 304:
        db.conn.close()
    return response


def whole_file(db, collection: Collection, fmt: str, args: dict, etag: str, modified):
    """The whole collection from its download file, built from this read transaction if missing."""
    file, _ = open_download(
        downloads_directory(current_app.config),
        f"{collection.name}.{fmt}",
        etag,
        lambda path: write_lines(path, db, collection, fmt, args) or etag,
    )
    return file_response(file, etag, content_type(fmt), modified)


def served_select(fmt: str, args: dict) -> str:
    """Only the stored lines' columns, unless fields= needs the records parsed (from served_json)."""
    return "id, served_json" if args.get("fields") else SERVED_SELECT[fmt]


def streamed(db, collection: Collection, fmt: str, args: dict, after, where: list, params: list):
    """The matching records streamed from the read transaction, which closes with the response."""
    rows = iter_rows(db, collection, where, params, args["sort"], after, served_select(fmt, args))
    response = current_app.response_class(
        stream_with_context(text(collection, fmt, args, rows)), content_type=content_type(fmt)
    )
    # Closed when the server is done with the body, even if the client left (or it was a HEAD).
    response.call_on_close(db.conn.close)
    return response


def text(collection: Collection, fmt: str, args: dict, rows) -> Iterator[str]:
    """The CSV or NDJSON lines of these rows: their stored lines, or fewer fields when fields= asks."""
    wanted = args.get("fields")
    if not wanted:
        return text_rows(fmt, collection, rows)
    return text_lines(fmt, collection, (sparse(served(row), wanted) for row in rows), wanted)


def write_lines(path: Path, db: sqlite_utils.Database, collection: Collection, fmt: str, args: dict) -> None:
    """The whole collection's lines into the file at path, byte for byte what the stream sends."""
    rows = iter_rows(db, collection, [], [], args["sort"], None, served_select(fmt, args))
    with path.open("w", encoding="utf-8", newline="") as out:
        out.writelines(text(collection, fmt, args, rows))
