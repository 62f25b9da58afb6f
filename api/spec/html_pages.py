"""The OpenAPI description of the pages for people: records, collections, search and timeline."""

import copy

from apispec import APISpec

from api.config import DEFAULTS
from api.model.collections import COLLECTIONS
from api.spec.components import problem, query_parameters, read_problems
from api.spec.pages import page
from api.web.html_pages import PAGE_QUERY_SCHEMAS, RECORD_PAGES, search_query, timeline_query

WITHOUT_EMPTY_FIELDS = {
    "description": "See Other: the query had empty parameters (a form's unfilled fields); `Location` is "
    "the same query without them, which the JSON API takes as well.",
    "headers": {
        "Location": {
            "description": "The same page without the empty parameters.",
            "schema": {"type": "string"},
        }
    },
}


# An unfilled form field: the page answers it with a 303 to the same query without it.
EMPTY = {"type": "string", "maxLength": 0}


def form_parameters(spec: APISpec, parameters: list) -> list[dict]:
    """The API's query parameters as a page takes them: each one's own schema, or empty if text.

    Written out, not referenced: the shared components are the JSON API's, which refuses empty values.
    """
    found = []
    for parameter in parameters:
        if isinstance(parameter, str):
            parameter = spec.components.parameters[parameter]
        parameter = copy.deepcopy(parameter)
        schema = parameter["schema"]
        if schema.get("type") != "string":
            found.append(parameter)  # not a form field (limit): empty is a 400, as on the API
            continue
        candidates = ((schema.get("enum") or [None])[0], schema.get("default"), schema.get("example"))
        example = next((value for value in candidates if value is not None), parameter.get("example"))
        parameter["schema"] = {"anyOf": [schema, EMPTY]}
        if example is not None:
            parameter["example"] = example
        found.append(parameter)
    return found


# The list parameters the JSON lists share as components: the pages reference the same ones.
LIST_SHARED = {"limit": "Limit", "cursor": "Cursor", "changed_since": "ChangedSince", "q": "Search"}


def add_html_pages(spec: APISpec, first_ids: dict[str, str]) -> None:
    """A page per record, one per collection, search and timeline; first_ids: an example id each."""

    spec.components.response("PageWithoutEmptyFields", WITHOUT_EMPTY_FIELDS)
    spec.components.response("RecordPageNotFound", problem("No record of this collection has this id."))
    for name, collection in COLLECTIONS.items():
        operations = page(
            f"{collection.singular}_list_page",
            f"{name.title()} page",
            f"The {name} as a page: the filters, search, sort and keyset paging of `GET /v1/{name}` (the "
            "same query string: copy it to get the JSON), counts per value of every facet as links, "
            "and a form. `format`, `fields`, `include` and `facet` are JSON's alone: a 400 here.",
            form_parameters(spec, query_parameters(spec, PAGE_QUERY_SCHEMAS[name], LIST_SHARED)),
        )
        with_errors(operations, "303", "400")
        spec.path(path=f"/{name}", operations=operations)
    for name in RECORD_PAGES:
        collection = COLLECTIONS[name]
        record_id = {
            "name": "record_id",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "minLength": 1, "maxLength": DEFAULTS["MAX_ID_LENGTH"]},
            "example": first_ids[name],
        }
        operations = page(
            f"{collection.singular}_page",
            f"{collection.singular.title()} page",
            "Every field in plain words, each with the citations backing it quoted inline (linked to "
            "the span in the source viewer) and their basis; the records it refers to and those "
            f"referring to it; its history. `links.html` of a {collection.singular} points here.",
            [record_id],
            not_found="RecordPageNotFound",
        )
        with_errors(operations, "400")
        spec.path(path=f"/{name}/{{record_id}}", operations=operations)
    search_parameters = query_parameters(spec, search_query, {"cursor": "Cursor"})
    search_parameters = [
        {**p, "required": False, "description": p["description"] + " Without any parameter: the empty form."}
        if isinstance(p, dict) and p["name"] == "q"
        else p
        for p in search_parameters
    ]
    operations = page(
        "search_page",
        "Search page",
        "One box over every collection: the ranked hits of `GET /v1/search` with their highlighted "
        "snippets, filterable by collection (`collections=`); works without JavaScript.",
        form_parameters(spec, search_parameters),
    )
    with_errors(operations, "303", "400")
    spec.path(path="/search", operations=operations)
    operations = page(
        "timeline_page",
        "Timeline page",
        "The entries of `GET /v1/timeline` in order, each date as exact as its source and no more, "
        "with the source's own words.",
        form_parameters(spec, query_parameters(spec, timeline_query, {"limit": "Limit", "cursor": "Cursor"})),
    )
    with_errors(operations, "303", "400")
    spec.path(path="/timeline", operations=operations)


def with_errors(operations: dict, *statuses: str) -> None:
    """The GET's responses with these too: 303 (empty form fields dropped) and read problems."""
    responses = operations["get"]["responses"]
    for status in statuses:
        if status == "303":
            responses["303"] = {"$ref": "#/components/responses/PageWithoutEmptyFields"}
        else:
            responses.update(read_problems(status))
    operations["get"]["responses"] = dict(sorted(responses.items()))
