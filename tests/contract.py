"""Holds every response the suite receives against the committed openapi.yaml."""

import gzip
import json
import re
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jsonschema
import yaml
from referencing import Registry, Resource

OPENAPI_FILE = Path(__file__).parent.parent / "openapi.yaml"
SPEC_URI = "urn:icc-events:openapi"
# Routes that serve files, not API operations: they stay out of the spec, and out of Swagger UI.
UNDESCRIBED_ENDPOINTS = {
    "static": "the pages' own CSS and JavaScript",
    "docs.asset": "the Swagger UI files vendored by flask-swagger-ui",
}


@cache
def load_spec() -> dict:
    return yaml.safe_load(OPENAPI_FILE.read_text(encoding="utf-8"))


@cache
def registry() -> Registry:
    contents = {"$schema": "https://json-schema.org/draft/2020-12/schema", **load_spec()}
    return Registry().with_resource(SPEC_URI, Resource.from_contents(contents))


def resolve(node: dict) -> dict:
    """node, or the part of the spec its local $ref points at (shared components are referenced)."""
    while "$ref" in node:
        target = load_spec()
        for key in node["$ref"].removeprefix("#/").split("/"):
            target = target[key]
        node = target
    return node


def path_pattern(template: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$")


def find_operation(method: str, path: str) -> tuple[str, dict] | None:
    """The spec's (path template, operation) serving this request, preferring literal matches."""
    candidates = [
        (template, item)
        for template, item in load_spec()["paths"].items()
        if path_pattern(template).match(path)
    ]
    candidates.sort(key=lambda c: c[0].count("{"))
    for template, item in candidates:
        if method.lower() in item:
            return template, item[method.lower()]
    return None


def validate_response(method: str, path: str, response) -> None:
    """Fail unless the response's status, media type and body are what the spec describes."""
    found = find_operation(method, path)
    if found is None and response.status_code == 308:
        # A path the API has, with trailing or repeated slashes: redirected to the one the spec describes.
        location = unquote(urlsplit(response.headers["Location"]).path)
        described = any(path_pattern(template).match(location) for template in load_spec()["paths"])
        assert location == re.sub("/{2,}", "/", path).rstrip("/") and described, (method, path, location)
        return
    if found is None:
        # Requests to paths the API does not have must still get a problem body.
        assert response.mimetype == "application/problem+json", (method, path, response.status_code)
        validate_body("#/components/schemas/Problem", json.loads(response.get_data()))
        return
    template, operation = found
    documented = operation["responses"].get(str(response.status_code))
    assert documented is not None, f"{method} {template}: status {response.status_code} not in the spec"
    documented = resolve(documented)
    content = documented.get("content")
    if not content:
        assert not response.get_data(), f"{method} {template}: a body where the spec has none"
        return
    assert response.mimetype in content, (
        f"{method} {template}: {response.mimetype} is not one of {list(content)}"
    )
    schema = content[response.mimetype].get("schema", {})
    if response.mimetype == "application/json" or response.mimetype.endswith("+json"):
        validate_body(schema, json.loads(decoded_body(response)))
    elif "x-line-schema" in content[response.mimetype]:
        # NDJSON: every line is one JSON document described by the media type's x-line-schema.
        for line in decoded_body(response).splitlines():
            validate_body(content[response.mimetype]["x-line-schema"], json.loads(line))


def decoded_body(response) -> bytes:
    """The body with any gzip content coding undone."""
    data = response.get_data()
    return gzip.decompress(data) if response.headers.get("Content-Encoding") == "gzip" else data


def validate_body(schema_or_ref, body) -> None:
    schema = {"$ref": schema_or_ref} if isinstance(schema_or_ref, str) else schema_or_ref
    schema = rebase_refs(schema)
    jsonschema.Draft202012Validator(schema, registry=registry()).validate(body)


def rebase_refs(node):
    """Point local '#/components/...' refs at the spec resource in the registry."""
    if isinstance(node, dict):
        return {
            k: (SPEC_URI + v if k == "$ref" and v.startswith("#") else rebase_refs(v))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [rebase_refs(v) for v in node]
    return node
