"""Admin views over webhook subscriptions: register, list, change, re-enable, delete, read the log."""

from flask import Blueprint, current_app, request, url_for
from marshmallow import ValidationError

from api.model.errors import InvalidRecord
from api.model.provenance import flatten_errors
from api.model.webhook_targets import UnsafeTarget, check_url
from api.store import webhooks
from api.web.auth import require_scope
from api.web.database import get_db
from api.web.errors import APIProblem, problem
from api.web.links import link_next, self_url
from api.web.query_args import parse_query
from api.web.writes import JSON, MERGE_PATCH, json_body
from schemas.webhooks import (
    DeliveriesQuerySchema,
    DeliverySchema,
    WebhookCreatedSchema,
    WebhookCreateSchema,
    WebhookPatchSchema,
    WebhookSchema,
)

bp = Blueprint("webhooks", __name__, url_prefix="/v1/webhooks")
create_schema, patch_schema = WebhookCreateSchema(), WebhookPatchSchema()
webhook_schema, created_schema = WebhookSchema(), WebhookCreatedSchema()
deliveries_query, delivery_schema = DeliveriesQuerySchema(), DeliverySchema(many=True)


@bp.before_request
def admins_only():
    require_scope("admin")


@bp.errorhandler(webhooks.WebhookNotFound)
def not_found(error):
    return problem(404, f"No webhook subscription has the id {error.args[0]!r}.")


def load_body(schema, media_type: str) -> dict:
    """The body loaded by schema, its URL checked against the SSRF rules; else a 422."""
    try:
        body = schema.load(json_body(media_type))
    except ValidationError as error:
        raise InvalidRecord(flatten_errors(error.messages)) from None
    if "url" in body:
        try:
            check_url(body["url"], current_app.config["WEBHOOKS_ALLOW_PRIVATE"])
        except UnsafeTarget as error:
            raise APIProblem(422, str(error), errors={"url": str(error)}) from None
    return body


@bp.post("")
def create_webhook():
    """Register a URL for changes; the answer holds the signing secret, shown this once."""
    body = load_body(create_schema, JSON)
    created = webhooks.create_subscription(get_db(), body["url"], body["collections"], body["actions"])
    response = current_app.json.response(created_schema.dump(created))
    response.status_code = 201
    response.headers["Location"] = url_for(".get_webhook", webhook_id=created["id"], _external=True)
    return response


@bp.get("")
def list_webhooks():
    """Every subscription, oldest first, without secrets."""
    return {"data": webhook_schema.dump(webhooks.list_subscriptions(get_db()), many=True)}


@bp.get("/<webhook_id>")
def get_webhook(webhook_id):
    """One subscription, with whether it is enabled and its failures in a row."""
    return webhook_schema.dump(webhooks.get_subscription(get_db(), webhook_id))


@bp.patch("/<webhook_id>")
def update_webhook(webhook_id):
    """Change a subscription; enabled=true re-enables it and resets its failure count."""
    changes = load_body(patch_schema, MERGE_PATCH)
    return webhook_schema.dump(webhooks.update_subscription(get_db(), webhook_id, changes))


@bp.delete("/<webhook_id>")
def delete_webhook(webhook_id):
    """Stop and forget a subscription, its undelivered messages and its log."""
    webhooks.delete_subscription(get_db(), webhook_id)
    return "", 204


@bp.get("/<webhook_id>/deliveries")
def list_deliveries(webhook_id):
    """The subscription's delivery attempts, newest first."""
    args = parse_query(deliveries_query)
    entries, more = webhooks.list_deliveries(get_db(), webhook_id, args["limit"], args.get("before"))
    next_url = None
    if more:
        params = {**request.args.to_dict(), "before": entries[-1]["id"]}
        next_url = url_for(".list_deliveries", webhook_id=webhook_id, _external=True, **params)
    body = {"data": delivery_schema.dump(entries), "links": {"self": self_url(), "next": next_url}}
    return link_next(current_app.json.response(body), next_url)
