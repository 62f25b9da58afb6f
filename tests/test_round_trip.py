"""A record as read can be written back: read-only fields are accepted when they are what the server
computes, and a 422 names each one that is not."""

import json
import urllib.error
import urllib.request
from urllib.parse import urljoin

import pytest

from api.model.collections import COLLECTIONS
from schemas.common import READ_ONLY, split_read_only, value_at
from tests.conftest import assert_problem, make_token
from tests.curation_data import JSON_HEADERS, PATCH_HEADERS
from tests.server_process import running_server

EDITED_NOTE = "Edited in a GET, edit, PUT round trip."


def first_record(client, name: str):
    """The first record of a collection as GET serves it, and its ETag."""
    record_id = client.get(f"/v1/{name}?limit=1&fields=id").get_json()["data"][0]["id"]
    response = client.get(f"/v1/{name}/{record_id}")
    assert response.status_code == 200
    return f"/v1/{name}/{record_id}", response.get_json(), response.headers["ETag"]


def read_only_paths(name: str, record: dict) -> list[tuple]:
    """Every read-only value a served record carries, by path: ("citations", 0, "url")..."""
    return list(split_read_only(COLLECTIONS[name].schema, record)[1])


def changed(value):
    return "changed" if value is None or isinstance(value, str) else {"changed": True}


def with_value(record: dict, path: tuple, value) -> dict:
    """A deep copy of record with value at path."""
    record = json.loads(json.dumps(record))
    target = record
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return record


@pytest.fixture
def editor(app, db_path):
    """An admin token's headers: sources, too, may only be changed by admins."""
    return {"Authorization": f"Bearer {make_token(db_path, 'editor', 'admin')}"}


def put(client, headers, url: str, body, etag: str):
    return client.put(url, data=json.dumps(body), headers={**headers, **JSON_HEADERS, "If-Match": etag})


@pytest.mark.parametrize("name", list(COLLECTIONS))
def test_a_record_as_read_edited_and_put_back_is_200_and_the_edit_shows(client, editor, name):
    url, record, etag = first_record(client, name)
    assert read_only_paths(name, record)  # the record carries read-only fields, which go back too
    response = put(client, editor, url, {**record, "notes": EDITED_NOTE}, etag)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["ETag"] != etag
    after = client.get(url).get_json()
    assert after["notes"] == EDITED_NOTE
    assert after == {**record, "notes": EDITED_NOTE, "updated_at": after["updated_at"]}


@pytest.mark.parametrize("name", list(COLLECTIONS))
def test_a_record_put_back_unchanged_keeps_its_etag(client, editor, name):
    url, record, etag = first_record(client, name)
    response = put(client, editor, url, record, etag)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["ETag"] == etag


def resolved(value, base: str):
    """value with every relative reference (a string starting with /) resolved against base."""
    if isinstance(value, str) and value.startswith("/"):
        return urljoin(base, value)
    if isinstance(value, list):
        return [resolved(item, base) for item in value]
    if isinstance(value, dict):
        return {name: resolved(item, base) for name, item in value.items()}
    return value


@pytest.mark.parametrize("name", list(COLLECTIONS))
def test_a_record_put_back_with_its_links_resolved_is_200(client, editor, name):
    # Clients that follow links resolve them (the TypeScript client does): what they send back
    # names the same resources, on whatever host they read them from.
    url, record, etag = first_record(client, name)
    links = {"links": resolved(record["links"], "https://api.example/")}
    if record.get("citations"):
        links["citations"] = [resolved(c, "https://api.example/") for c in record["citations"]]
    assert links["links"] != record["links"]
    response = put(client, editor, url, {**record, **links, "notes": EDITED_NOTE}, etag)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert client.get(url).get_json()["links"] == record["links"]


def test_a_resolved_link_to_another_record_is_still_422(client, editor):
    url, record, etag = first_record(client, "warrants")
    other = {**record["links"], "self": "https://api.example/v1/warrants/another-warrant"}
    response = put(client, editor, url, {**record, "links": other}, etag)
    assert list(assert_problem(response, 422)["errors"]) == ["links"]


def test_a_link_that_is_not_a_url_is_422_not_500(client, editor):
    url, record, etag = first_record(client, "warrants")
    broken = {**record["links"], "self": "http://[oops" + record["links"]["self"]}
    response = put(client, editor, url, {**record, "links": broken}, etag)
    assert list(assert_problem(response, 422)["errors"]) == ["links"]
    assert client.get(url).headers["ETag"] == etag


CHANGED_READ_ONLY = [
    *((name, path) for name in COLLECTIONS for path in [("links",), ("created_at",), ("updated_at",)]),
    ("warrants", ("citations", 0, "url")),
    ("warrants", ("issued", "earliest")),
    ("statements", ("said", "latest")),
    ("sources", ("sha256",)),
    ("sources", ("length",)),
    ("sources", ("published", "latest")),
]


@pytest.mark.parametrize(("name", "path"), CHANGED_READ_ONLY)
def test_a_changed_read_only_field_is_422_naming_it_and_changes_nothing(client, editor, name, path):
    url, record, etag = first_record(client, name)
    body = with_value({**record, "notes": EDITED_NOTE}, path, changed(value_at(record, path)))
    errors = assert_problem(put(client, editor, url, body, etag), 422)["errors"]
    field = ".".join(str(step) for step in path)
    assert list(errors) == [field]
    assert "Read-only" in errors[field]
    assert client.get(url).headers["ETag"] == etag


@pytest.mark.parametrize("name", list(COLLECTIONS))
def test_every_read_only_value_of_every_collection_is_checked(client, editor, name):
    url, record, etag = first_record(client, name)
    for path in read_only_paths(name, record):
        body = with_value(record, path, changed(value_at(record, path)))
        errors = assert_problem(put(client, editor, url, body, etag), 422)["errors"]
        assert list(errors) == [".".join(str(step) for step in path)]


def test_a_date_bound_that_no_longer_fits_the_edited_date_is_422_naming_it(client, editor):
    url, record, etag = first_record(client, "warrants")
    body = with_value(record, ("issued", "date"), "2023")
    body = with_value(body, ("issued", "precision"), "year")
    errors = assert_problem(put(client, editor, url, body, etag), 422)["errors"]
    assert set(errors) == {"issued.earliest", "issued.latest"}
    assert '"2023-01-01"' in errors["issued.earliest"]  # it says what the server computes


def test_read_only_fields_in_a_create_are_422_when_the_server_sets_them(client, editor):
    _, record, _ = first_record(client, "organizations")
    body = {**record, "id": "a-copy"}
    body.pop("links")
    errors = assert_problem(
        client.post("/v1/organizations", data=json.dumps(body), headers={**editor, **JSON_HEADERS}), 422
    )["errors"]
    assert errors == {"created_at": READ_ONLY, "updated_at": READ_ONLY}


@pytest.mark.parametrize("name", list(COLLECTIONS))
def test_a_merge_patch_with_read_only_fields_as_read_is_200(client, editor, name):
    url, record, etag = first_record(client, name)
    echoed = {key: record[key] for key in ("links", "created_at", "updated_at", "citations") if key in record}
    patch = {**echoed, "notes": EDITED_NOTE}
    response = client.patch(
        url, data=json.dumps(patch), headers={**editor, **PATCH_HEADERS, "If-Match": etag}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert client.get(url).get_json()["notes"] == EDITED_NOTE


def test_a_merge_patch_changing_a_read_only_field_is_422_naming_it(client, editor):
    url, record, etag = first_record(client, "warrants")
    patch = {"issued": {"earliest": "1999-01-01"}}
    response = client.patch(
        url, data=json.dumps(patch), headers={**editor, **PATCH_HEADERS, "If-Match": etag}
    )
    assert list(assert_problem(response, 422)["errors"]) == ["issued.earliest"]


def exchange(method: str, url: str, headers: dict, body=None) -> tuple[int, dict, dict]:
    """(status, headers, JSON body) of one request to a real server, errors included."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


def test_a_round_trip_through_the_real_server(seed_db_path, tmp_path):
    db_path = tmp_path / "icc-events.db"
    db_path.write_bytes(seed_db_path.read_bytes())
    token = {"Authorization": f"Bearer {make_token(db_path, 'editor', 'admin')}"}
    with running_server(db_path, tmp_path / "server.log") as (base_url, _):
        for name in COLLECTIONS:
            list_url = f"{base_url}/v1/{name}?limit=1"
            status, _, page = exchange("GET", list_url, {})
            url = urljoin(list_url, page["data"][0]["links"]["self"])  # a relative reference
            status, headers, record = exchange("GET", url, {})
            assert status == 200
            write = {**token, **JSON_HEADERS, "If-Match": headers["ETag"]}
            status, headers, written = exchange("PUT", url, write, {**record, "notes": EDITED_NOTE})
            assert status == 200, written
            status, _, after = exchange("GET", url, {})
            assert after["notes"] == EDITED_NOTE
            write["If-Match"] = headers["ETag"]
            status, _, problem = exchange("PUT", url, write, {**after, "created_at": "2000-01-01T00:00:00Z"})
            assert status == 422
            assert list(problem["errors"]) == ["created_at"]
