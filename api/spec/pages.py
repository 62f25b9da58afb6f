"""The OpenAPI description of the HTML pages, and of the X-Request-ID header every response carries."""

from apispec import APISpec

from api.spec.components import header_ref, headers, read_problems, response_ref

HTML_PAGE = {"text/html": {"schema": {"type": "string"}}}
REQUEST_ID = {
    "description": "The request's id: the client's X-Request-ID when it is 1 to 128 of A-Z a-z 0-9 . _ : -, "
    "otherwise a new one. The access log records it.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,128}$"},
}


def page(operation_id: str, summary: str, description: str, parameters=(), not_found: str = "") -> dict:
    """A GET of an HTML page; not_found names the shared 404 response of a page with a path parameter."""
    responses = {
        "200": response_ref("Page"),
        "304": response_ref("PageNotModified"),
    }
    if not_found:
        responses["404"] = response_ref(not_found)
    responses.update(read_problems("414", "500"))
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
    spec.components.response(
        "Page", {"description": "The page.", "headers": headers(ETag="PageETag"), "content": HTML_PAGE}
    )
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
            not_found="SourcePageNotFound",
        ),
    )


def add_request_id_header(spec: dict) -> dict:
    """Every response of every operation carries X-Request-ID."""
    components = spec.setdefault("components", {})
    components["headers"] = {"X-Request-ID": REQUEST_ID, **components.get("headers", {})}
    responses = [r for item in spec["paths"].values() for o in item.values() for r in o["responses"].values()]
    for response in [*responses, *components.get("responses", {}).values()]:
        if "$ref" not in response:
            response.setdefault("headers", {})["X-Request-ID"] = header_ref("X-Request-ID")
    return spec
