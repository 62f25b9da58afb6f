"""/v1 lists what the API serves; a known path with a trailing slash redirects to the one without."""

import http.client
import json
from urllib.parse import urlsplit

import pytest

from api.model.collections import COLLECTIONS
from tests.conftest import assert_problem
from tests.curation_data import JSON_HEADERS, new_organization
from tests.server_process import running_server


def test_the_index_lists_every_collection_with_urls_that_answer(client):
    response = client.get("/v1")
    assert response.status_code == 200
    index = response.get_json()
    assert [entry["name"] for entry in index["collections"]] == list(COLLECTIONS)
    for entry in index["collections"]:
        assert urlsplit(entry["url"]).path == f"/v1/{entry['name']}"
        assert client.get(entry["url"] + "?limit=1").status_code == 200
        first = client.get(entry["url"] + "?limit=1&fields=id").get_json()["data"][0]["id"]
        assert client.get(entry["item_url"].replace("{id}", first)).status_code == 200


def test_the_index_links_every_other_top_level_resource(client, admin):
    links = client.get("/v1").get_json()["links"]
    expected = {"self", "search", "timeline", "changes", "openapi", "docs"}
    assert expected <= set(links)
    assert {name for name in links if name.startswith("export/")} >= {"export/ftm", "export/sqlite"}
    for name, url in links.items():
        query = {"q": "court"} if name == "search" else {}
        # With an admin token: /v1/webhooks is listed too, and answers admins only.
        response = client.get(url, query_string=query, headers=admin)
        response.close()  # exports are files, open until closed
        assert response.status_code == 200, name


# (method, path with trailing slashes) -> the canonical Location
TRAILING_SLASHES = [
    ("GET", "/v1/", "/v1"),
    ("HEAD", "/v1/", "/v1"),
    ("GET", "/v1/warrants/", "/v1/warrants"),
    ("GET", "/v1/warrants/?status=outstanding&limit=2", "/v1/warrants?status=outstanding&limit=2"),
    ("GET", "/v1/warrants//", "/v1/warrants"),
    ("GET", "/v1/warrants/warrant-yoav-gallant/", "/v1/warrants/warrant-yoav-gallant"),
    ("GET", "/v1/warrants/no-such-warrant/", "/v1/warrants/no-such-warrant"),
    ("GET", "/v1/organizations/icc/history/", "/v1/organizations/icc/history"),
    ("GET", "/v1/search/?q=court", "/v1/search?q=court"),
    ("GET", "/v1/timeline/", "/v1/timeline"),
    ("GET", "/v1/changes/", "/v1/changes"),
    ("GET", "/v1/export/ftm/", "/v1/export/ftm"),
    ("GET", "/healthz/", "/healthz"),
    ("GET", "/docs/", "/docs"),
    ("POST", "/v1/organizations/", "/v1/organizations"),
    ("PUT", "/v1/organizations/icc/", "/v1/organizations/icc"),
    ("PATCH", "/v1/organizations/icc/", "/v1/organizations/icc"),
    ("DELETE", "/v1/organizations/icc/", "/v1/organizations/icc"),
    ("DELETE", "/healthz/", "/healthz"),  # a 405 there says which methods it takes
    ("GET", "/v1/warrants/%C3%A9t%C3%A9/", "/v1/warrants/%C3%A9t%C3%A9"),
    ("GET", "/v1//warrants/", "/v1/warrants"),
]


@pytest.mark.parametrize(("method", "path", "location"), TRAILING_SLASHES)
def test_a_known_path_with_a_trailing_slash_is_a_308_to_the_canonical_one(client, method, path, location):
    response = client.open(path, method=method)
    assert response.status_code == 308
    assert response.headers["Location"] == location
    assert response.get_data() == b""


@pytest.mark.parametrize(
    ("path", "status", "location"), [("//v1/", 308, "/v1"), ("//evil.example/", 404, None)]
)
def test_a_path_starting_with_two_slashes_never_redirects_to_another_host(client, path, status, location):
    # The test client would read //host/ as a host; PATH_INFO is what a server passes on.
    response = client.get("/", environ_overrides={"PATH_INFO": path})
    assert response.status_code == status
    assert response.headers.get("Location") == location  # //v1 would be the host v1 to a browser


@pytest.mark.parametrize("path", ["/v1/", "/v1/warrants/?limit=1", "/v1/events/event-duterte-arrest/"])
def test_following_the_redirect_gives_the_canonical_answer(client, path):
    followed = client.get(path, follow_redirects=True)
    canonical = client.get(path.replace("/?", "?").rstrip("/"))
    assert followed.status_code == canonical.status_code == 200
    assert followed.get_json() == canonical.get_json()


def test_a_redirected_post_keeps_its_method_and_body(client, writer):
    body = json.dumps(new_organization())
    response = client.post(
        "/v1/organizations/", data=body, headers={**writer, **JSON_HEADERS}, follow_redirects=True
    )
    assert response.status_code == 201
    assert client.get("/v1/organizations/test-monitor").status_code == 200


@pytest.mark.parametrize("path", ["/v1/nope", "/v1/nope/", "/nope/", "/v1/warrants/a/b/", "/v1/export/"])
def test_an_unknown_path_is_a_404_problem_pointing_at_the_index(client, path):
    body = assert_problem(client.get(path), 404)
    assert "/v1" in body["detail"]


def test_the_index_and_its_redirect_on_the_real_server(seed_db_path, tmp_path):
    db_path = tmp_path / "icc-events.db"
    db_path.write_bytes(seed_db_path.read_bytes())
    with running_server(db_path, tmp_path / "server.log") as (base_url, _):
        address = urlsplit(base_url)
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
        for path, location in [("/v1/?x=1", "/v1?x=1"), ("//v1/", "/v1")]:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            assert response.status == 308
            assert response.headers["Location"] == location
        connection.request("GET", "/v1")
        response = connection.getresponse()
        assert response.status == 200
        index = json.loads(response.read())
        assert [entry["name"] for entry in index["collections"]] == list(COLLECTIONS)
        assert index["links"]["self"] == f"{base_url}/v1"
        connection.close()
