"""The change feed: its query arguments and its entries (one per write, deletions as tombstones)."""

from marshmallow import Schema, fields, validate

from api.model.collections import COLLECTIONS
from api.store.changes import ACTIONS
from schemas.query import MAX_PAGE_SIZE, Cursor

DEFAULT_CHANGES_PAGE = 100


class ChangesQuerySchema(Schema):
    """since: the cursor of the last page read (none: from the beginning); limit: entries per page."""

    since = Cursor("The `cursor` of the last page you read; leave out to start at the beginning.")
    limit = fields.Int(
        load_default=DEFAULT_CHANGES_PAGE,
        validate=validate.Range(min=1, max=MAX_PAGE_SIZE),
        metadata={"description": "Entries per page."},
    )


class ChangeSchema(Schema):
    """One write: which record, what happened, who did it and when, the record before and after."""

    seq = fields.Int(
        required=True, metadata={"description": "Position in the log; increases with every write."}
    )
    collection = fields.Str(required=True, validate=validate.OneOf(list(COLLECTIONS)))
    record_id = fields.Str(required=True)
    action = fields.Str(required=True, validate=validate.OneOf(ACTIONS))
    at = fields.Str(required=True, metadata={"description": "When, UTC ISO 8601."})
    actor = fields.Str(
        required=True,
        metadata={"description": "The name of the token that wrote it; (seed) or (import) for bulk loads."},
    )
    etag = fields.Str(
        required=True,
        allow_none=True,
        metadata={"description": "The record's ETag after; null for a deletion."},
    )
    before = fields.Dict(
        required=True,
        allow_none=True,
        metadata={"description": "The record before the write, as served without links; null on creation."},
    )
    after = fields.Dict(
        required=True,
        allow_none=True,
        metadata={"description": "The record after the write; null on deletion (a tombstone)."},
    )
