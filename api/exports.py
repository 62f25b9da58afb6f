"""Collections as CSV or NDJSON: every matching record streamed in constant memory, unless a limit asks
for one page (api/records.py serves those).
"""

from flask import current_app, request, stream_with_context

from api.caching import cache_headers, is_fresh, not_modified, streamed_etag
from api.collections import Collection
from api.db import connect
from api.errors import APIProblem
from api.formats import content_type, text_lines
from api.shape import render_row, sparse
from api.store import iter_rows


def reject_json_only_arguments(args: dict) -> None:
    """include and facet shape JSON; CSV and NDJSON have no place for them."""
    if args.get("include") or args.get("facet"):
        raise APIProblem(
            400,
            "include and facet need format=json.",
            errors={k: "Only with format=json." for k in ("include", "facet") if args.get(k)},
        )


def export(collection: Collection, fmt: str, args: dict, where: list, params: list, after: list | None):
    """The response streaming every record after the cursor, read from one snapshot in keyset batches."""
    reject_json_only_arguments(args)
    db = connect(current_app.config["DATABASE"])
    try:
        # One read transaction for the ETag pass and the body, so the tag describes what is sent.
        db.execute("BEGIN")
        versions = iter_rows(db, collection, where, params, args["sort"], after, "etag, updated_at")
        etag, modified = streamed_etag([request.url, fmt], versions)
    except BaseException:
        db.conn.close()
        raise
    if is_fresh(etag, modified):
        db.conn.close()
        return not_modified(etag, modified)
    wanted = args.get("fields")
    rows = iter_rows(db, collection, where, params, args["sort"], after)
    # Not through the page cache: a whole collection streaming by would only evict the hot records.
    records = (sparse(render_row(collection, row), wanted) for row in rows)
    lines = text_lines(fmt, collection, records, wanted)
    response = current_app.response_class(stream_with_context(lines), content_type=content_type(fmt))
    # Closed when the server is done with the body, even if the client left (or it was a HEAD).
    response.call_on_close(db.conn.close)
    return cache_headers(response, etag, modified)
