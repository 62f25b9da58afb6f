"""The OpenAPI description of webhook subscriptions (api/web/webhook_views.py) and the messages they get."""

from apispec import APISpec

from api.spec.curation import SECURITY_SCHEME, problems
from schemas.webhooks import (
    DeliveriesQuerySchema,
    DeliverySchema,
    WebhookCreatedSchema,
    WebhookCreateSchema,
    WebhookPatchSchema,
    WebhookSchema,
)

SECURED = [{SECURITY_SCHEME: []}]
WEBHOOK_ID = {"name": "webhook_id", "in": "path", "required": True, "schema": {"type": "string"}}
MESSAGES = (
    "Every committed change is POSTed to each enabled subscription whose filters match, as "
    "`{type: <collection>.<action>, timestamp, data: <the /v1/changes entry>}`, signed per "
    "[Standard Webhooks](https://www.standardwebhooks.com/) (`webhook-id`, `webhook-timestamp`, "
    "`webhook-signature`). At least once: dedupe on `webhook-id`, which stays the same on retries. "
    "A record's changes arrive in order. A non-2xx answer, a timeout or a redirect is retried after "
    "min(5 s × 2^(n-1), 1 h) × a random 0.5-1; 15 failures in a row disable the subscription "
    "(PATCH `enabled: true` resumes it, with what it missed). Admin scope only."
)


def json_content(schema: str | dict) -> dict:
    if isinstance(schema, str):
        schema = {"$ref": f"#/components/schemas/{schema}"}
    return {"application/json": {"schema": schema}}


def operation(operation_id: str, summary: str, responses: dict, item: bool = False, **extra) -> dict:
    """One admin-only operation; an item's (item=True) takes the webhook_id path parameter."""
    if item:
        extra["parameters"] = [WEBHOOK_ID, *extra.get("parameters", [])]
    return {
        "operationId": operation_id,
        "summary": summary,
        "tags": ["webhooks"],
        "security": SECURED,
        "responses": responses,
        **extra,
    }


def add_webhooks(spec: APISpec) -> None:
    """/v1/webhooks and its items; the subscription and delivery schemas as components."""
    for name, schema in (
        ("Webhook", WebhookSchema),
        ("WebhookCreated", WebhookCreatedSchema),
        ("WebhookCreate", WebhookCreateSchema),
        ("WebhookPatch", WebhookPatchSchema),
        ("WebhookDelivery", DeliverySchema),
    ):
        spec.components.schema(name, schema=schema)
    spec.tag({"name": "webhooks", "description": MESSAGES})
    listing = {"type": "object", "required": ["data"], "properties": {"data": {"type": "array"}}}
    listing["properties"]["data"]["items"] = {"$ref": "#/components/schemas/Webhook"}
    page = {
        "type": "object",
        "required": ["data", "links"],
        "properties": {
            "data": {"type": "array", "items": {"$ref": "#/components/schemas/WebhookDelivery"}},
            "links": {"$ref": "#/components/schemas/PageLinks"},
        },
    }
    located = {"Location": {"description": "The subscription's URL.", "schema": {"type": "string"}}}
    spec.path(
        path="/v1/webhooks",
        operations={
            "post": operation(
                "create_webhook",
                "Register a webhook",
                {
                    "201": {
                        "description": "Registered; `secret` is shown this once.",
                        "headers": located,
                        "content": json_content("WebhookCreated"),
                    },
                    **problems(
                        "400", "401", "403", "413", "415", "422", "500", "503", accepts="application/json"
                    ),
                },
                description="The URL must be https and resolve to public addresses only (SSRF); "
                "a 422 names what is wrong. " + MESSAGES,
                requestBody={"required": True, "content": json_content("WebhookCreate")},
            ),
            "get": operation(
                "list_webhooks",
                "List webhooks",
                {"200": {"description": "Every subscription.", "content": json_content(listing)}}
                | problems("401", "403", "500"),
                description="Every subscription, with its filters, state and failure count; never "
                "its secret.",
            ),
        },
    )
    spec.path(
        path="/v1/webhooks/{webhook_id}",
        operations={
            "get": operation(
                "get_webhook",
                "One webhook",
                {"200": {"description": "The subscription.", "content": json_content("Webhook")}}
                | problems("401", "403", "404", "500"),
                description="One subscription: its URL, filters, whether it is enabled and how many "
                "deliveries failed in a row; never its secret.",
                item=True,
            ),
            "patch": operation(
                "update_webhook",
                "Change or re-enable a webhook",
                {"200": {"description": "The subscription as changed.", "content": json_content("Webhook")}}
                | problems(
                    "400",
                    "401",
                    "403",
                    "404",
                    "413",
                    "415",
                    "422",
                    "500",
                    "503",
                    accepts="application/merge-patch+json",
                ),
                description="`enabled: true` re-enables it, resets `failure_count` and makes what it "
                "missed due now; `enabled: false` pauses it (changes keep queueing).",
                item=True,
                requestBody={
                    "required": True,
                    "content": {
                        "application/merge-patch+json": json_content("WebhookPatch")["application/json"]
                    },
                },
            ),
            "delete": operation(
                "delete_webhook",
                "Delete a webhook",
                {"204": {"description": "Deleted, with its undelivered messages and its log."}}
                | problems("401", "403", "404", "500", "503"),
                description="Stops deliveries to it at once; its undelivered messages and its "
                "delivery log go with it.",
                item=True,
            ),
        },
    )
    spec.path(
        path="/v1/webhooks/{webhook_id}/deliveries",
        operations={
            "get": operation(
                "list_webhook_deliveries",
                "A webhook's delivery log",
                {"200": {"description": "Attempts, newest first.", "content": json_content(page)}}
                | problems("400", "401", "403", "404", "500"),
                description="Every delivery attempt, newest first: when, which message (webhook-id), "
                "the status code or the kind of error, and how long it took. Page back with `before`.",
                item=True,
                parameters=[{"in": "query", "schema": DeliveriesQuerySchema}],
            ),
        },
    )
