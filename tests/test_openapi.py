"""openapi.yaml is the contract: valid OpenAPI 3.1, generated from the code, never drifting."""

from openapi_spec_validator import validate

from api.spec.openapi import render_spec
from tests.contract import OPENAPI_FILE, UNDESCRIBED_ENDPOINTS, load_spec, resolve


def test_committed_spec_is_valid_openapi_3_1():
    spec = load_spec()
    assert spec["openapi"] == "3.1.0"
    validate(spec)


def test_committed_spec_equals_the_one_generated_from_the_schemas(app):
    assert render_spec(app) == OPENAPI_FILE.read_text(encoding="utf-8"), (
        "openapi.yaml is stale: run `icc-events openapi` and commit it"
    )


# Written inline, the shared responses, headers and parameters took 7,551 bytes an operation (460,596
# for 61); referenced, 4,625 (282,109 for the same 61). The bound is per operation, so new operations
# may add their own size but not undo the sharing.
MAX_SPEC_BYTES_PER_OPERATION = 6_000


def test_shared_parts_are_referenced_so_the_spec_stays_small():
    spec = load_spec()
    methods = {"get", "post", "put", "patch", "delete"}
    operations = sum(1 for item in spec["paths"].values() for method in item if method in methods)
    assert OPENAPI_FILE.stat().st_size < MAX_SPEC_BYTES_PER_OPERATION * operations
    assert {"responses", "parameters", "headers", "schemas"} <= set(spec["components"])


def test_served_spec_is_the_committed_file(client):
    response = client.get("/openapi.yaml")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == OPENAPI_FILE.read_text(encoding="utf-8")


def spec_routes(spec) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in spec["paths"].items() for method in item}


def app_routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in UNDESCRIBED_ENDPOINTS:
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((method, path))
    return routes


def test_every_route_is_in_the_spec_and_every_spec_path_is_a_route(app):
    assert app_routes(app) == spec_routes(load_spec())


def test_only_file_routes_are_left_out_of_the_spec(app):
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules()}
    for endpoint in UNDESCRIBED_ENDPOINTS:
        assert rules[endpoint].methods - {"HEAD", "OPTIONS"} == {"GET"}
        assert rules[endpoint].rule.startswith(("/static/", "/docs/assets/"))


# Valid values of filters that have no example (an example would narrow Swagger UI's "Try it out").
VALUES_BY_NAME = {"q": "court", "changed_since": "2000-01-01T00:00:00Z"}


def example_value(parameter: dict):
    schema, name = parameter["schema"], parameter["name"]
    return (
        (schema.get("enum") or [None])[0]
        or schema.get("default")
        or parameter.get("example")
        or schema.get("example")
        or VALUES_BY_NAME.get(name)
        or ("2024" if name.endswith(("_from", "_to")) else "x")
    )


def test_every_parameter_in_the_spec_is_accepted(client):
    for template, item in load_spec()["paths"].items():
        if "get" not in item:
            continue  # POST /v1/verify reads a body, tested in tests/test_verify.py
        parameters = [resolve(p) for p in item["get"].get("parameters", [])]
        path = template
        for parameter in parameters:
            if parameter["in"] == "path" and "example" in parameter:
                path = path.replace(f"{{{parameter['name']}}}", str(parameter["example"]))
        if "{" in path:  # no example id to fill in; those parameters are tested where they are served
            continue
        required = {
            p["name"]: example_value(p) for p in parameters if p["in"] == "query" and p.get("required")
        }
        for parameter in parameters:
            if parameter["in"] != "query" or parameter["name"] in ("cursor", "since"):
                continue
            query = {**required, parameter["name"]: example_value(parameter)}
            response = client.get(path, query_string=query)
            assert response.status_code == 200, (path, parameter["name"], response.get_json())
