"""The OpenAPI description of the HTML pages, and of the X-Request-ID header every response carries."""

from apispec import APISpec

HTML_PAGE = {"text/html": {"schema": {"type": "string"}}}
PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
REQUEST_ID = {
    "description": "The request's id: the client's X-Request-ID when it is 1 to 128 of A-Z a-z 0-9 . _ : -, "
    "otherwise a new one. The access log records it.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,128}$"},
}


def page(operation_id: str, summary: str, description: str, parameters=(), not_found: str = "") -> dict:
    etag = {"description": "Strong validator of the page's content.", "schema": {"type": "string"}}
    responses = {
        "200": {"description": "The page.", "headers": {"ETag": etag}, "content": HTML_PAGE},
        "304": {"description": "The page is unchanged since the ETag sent in If-None-Match."},
    }
    if not_found:
        responses["404"] = {"description": not_found, "content": PROBLEM}
    responses["500"] = {"description": "An unexpected error; details are logged.", "content": PROBLEM}
    operation = {
        "operationId": operation_id,
        "summary": summary,
        "description": description,
        "tags": ["pages"],
        "responses": responses,
    }
    if parameters:
        operation["parameters"] = list(parameters)
    return {"get": operation}


def add_pages(spec: APISpec) -> None:
    """The pages people read: HTML, same server, same error shape."""
    spec.path(
        path="/",
        operations=page(
            "landing_page",
            "Landing page",
            "What the dataset is, counts per collection, the latest changes, and links onward.",
        ),
    )
    spec.path(
        path="/docs",
        operations=page(
            "docs_page", "Interactive API docs", "Swagger UI over /openapi.yaml, served offline."
        ),
    )
    source_id = {
        "name": "source_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "example": "trump-campaign-against-icc-faces-resistance",
    }
    spec.path(
        path="/sources/{source_id}",
        operations=page(
            "source_page",
            "Source viewer",
            "The source's full text with every cited span highlighted; each highlight links to the "
            "records citing it. A citation's `url` points here, at `#char=start,end`.",
            [source_id],
            not_found="No source has this id.",
        ),
    )


def add_request_id_header(spec: dict) -> dict:
    """Every response of every operation carries X-Request-ID."""
    spec.setdefault("components", {}).setdefault("headers", {})["X-Request-ID"] = REQUEST_ID
    for item in spec["paths"].values():
        for operation in item.values():
            for response in operation["responses"].values():
                response.setdefault("headers", {})["X-Request-ID"] = {
                    "$ref": "#/components/headers/X-Request-ID"
                }
    return spec
