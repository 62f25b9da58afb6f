"""Webhook subscriptions (bodies in, records out) and their delivery attempts."""

from marshmallow import Schema, fields, validate

from api.model.collections import COLLECTIONS
from api.store.changes import ACTIONS
from schemas.common import StrictSchema
from schemas.query import MAX_PAGE_SIZE

MAX_URL_LENGTH = 2000


def url_field(**kwargs) -> fields.Url:
    return fields.Url(
        schemes={"http", "https"},
        require_tld=False,
        validate=validate.Length(max=MAX_URL_LENGTH),
        metadata={
            "description": "Where to POST each change. https, to a public address: loopback, "
            "private, link-local, multicast and reserved addresses are refused (unless the server "
            "runs with ICC_EVENTS_WEBHOOKS_ALLOW_PRIVATE=true, for tests and development)."
        },
        **kwargs,
    )


def filter_field(choices, what: str) -> fields.List:
    return fields.List(
        fields.Str(validate=validate.OneOf(choices)),
        load_default=list,
        metadata={"description": f"Only changes of these {what}; empty or left out: all."},
    )


class WebhookCreateSchema(StrictSchema):
    """A new subscription: a URL and optional filters."""

    url = url_field(required=True)
    collections = filter_field(list(COLLECTIONS), "collections")
    actions = filter_field(ACTIONS, "actions")


class WebhookPatchSchema(StrictSchema):
    """Fields to change; enabled=true re-enables a subscription and resets its failure count."""

    url = url_field()
    collections = fields.List(fields.Str(validate=validate.OneOf(list(COLLECTIONS))))
    actions = fields.List(fields.Str(validate=validate.OneOf(ACTIONS)))
    enabled = fields.Bool(metadata={"description": "false pauses deliveries; true resumes them."})


class WebhookSchema(Schema):
    """A subscription as served; its secret only once, in the answer to its creation."""

    id = fields.Str(required=True, dump_only=True)
    url = fields.Str(required=True)
    collections = fields.List(fields.Str(), required=True)
    actions = fields.List(fields.Str(), required=True)
    enabled = fields.Bool(required=True)
    failure_count = fields.Int(
        required=True, metadata={"description": "Failed attempts in a row; reset by a success."}
    )
    disabled_at = fields.Str(
        required=True,
        allow_none=True,
        metadata={"description": "When it was disabled (by PATCH or after repeated failure); else null."},
    )
    created_at = fields.Str(required=True)
    updated_at = fields.Str(required=True)


class WebhookCreatedSchema(WebhookSchema):
    secret = fields.Str(
        required=True,
        metadata={
            "description": "The Standard Webhooks signing secret (whsec_ and base64). Shown only "
            "here: store it now; it is never served or logged again."
        },
    )


class WebhookListSchema(Schema):
    data = fields.List(fields.Nested(WebhookSchema), required=True)


class DeliverySchema(Schema):
    """One attempt to deliver one change to one subscription."""

    id = fields.Int(required=True)
    webhook_id = fields.Str(
        required=True, metadata={"description": "The webhook-id header sent; the same on every retry."}
    )
    change_seq = fields.Int(required=True, metadata={"description": "The change's seq in /v1/changes."})
    attempt = fields.Int(required=True, metadata={"description": "1 for the first try of this message."})
    attempted_at = fields.Str(required=True)
    status_code = fields.Int(
        required=True, allow_none=True, metadata={"description": "The receiver's status; null if none."}
    )
    error = fields.Str(
        required=True,
        allow_none=True,
        metadata={
            "description": "Why it failed without a status (e.g. timeout, refused-address); else null."
        },
    )
    duration_ms = fields.Int(required=True)
    delivered = fields.Bool(required=True, metadata={"description": "true for a 2xx answer."})


class DeliveriesQuerySchema(Schema):
    limit = fields.Int(
        load_default=50,
        validate=validate.Range(min=1, max=MAX_PAGE_SIZE),
        metadata={"description": "Attempts per page, newest first."},
    )
    before = fields.Int(
        validate=validate.Range(min=1),
        metadata={"description": "Only attempts with an id below this (the next page's link sets it)."},
    )


class DeliveryPageSchema(Schema):
    data = fields.List(fields.Nested(DeliverySchema), required=True)
    links = fields.Dict(required=True)
