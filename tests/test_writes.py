"""Writes: create, replace, merge-patch and delete records, each validated, cited and version-checked."""

import hashlib
import json

import pytest

from api.model.collections import COLLECTIONS
from api.store.editing import writable
from tests.conftest import assert_problem
from tests.curation_data import (
    ICC_CITATION,
    JSON_HEADERS,
    PATCH_HEADERS,
    new_official,
    new_organization,
)

ICC = "/v1/organizations/icc"


def post(client, headers, collection: str, body, **extra):
    return client.post(
        f"/v1/{collection}", data=json.dumps(body), headers={**headers, **JSON_HEADERS, **extra}
    )


def patch(client, headers, url: str, body, etag: str | None):
    precondition = {"If-Match": etag} if etag else {}
    return client.patch(url, data=json.dumps(body), headers={**headers, **PATCH_HEADERS, **precondition})


def etag_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.headers["ETag"]


def test_create_is_201_with_location_and_etag_and_readable(client, writer):
    response = post(client, writer, "organizations", new_organization())
    assert response.status_code == 201
    assert response.headers["Location"].endswith("/v1/organizations/test-monitor")
    body = response.get_json()
    assert body["name"] == "Test Monitor"
    assert body["created_at"] == body["updated_at"]
    read = client.get(response.headers["Location"])
    assert read.status_code == 200
    assert read.headers["ETag"] == response.headers["ETag"]
    assert read.get_json() == body


def test_create_source_computes_sha256_and_length(client, writer):
    text = "A second article.\r\nThe court met again."
    body = {
        "id": "second-article",
        "title": "Second",
        "text": text,
        "published": {"date": None, "precision": None},
    }
    response = post(client, writer, "sources", body)
    assert response.status_code == 201
    stored = response.get_json()
    assert stored["length"] == len(text)
    assert stored["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert stored["text"] == text


def test_merge_patch_changes_only_the_given_fields(client, writer):
    before = client.get(ICC).get_json()
    response = patch(client, writer, ICC, {"description": "Edited.", "country": None}, etag_of(client, ICC))
    assert response.status_code == 200
    after = response.get_json()
    assert after["description"] == "Edited."
    assert after["country"] is None
    assert after["name"] == before["name"] and after["citations"] == before["citations"]
    assert after["created_at"] == before["created_at"] and after["updated_at"] > before["updated_at"]
    assert response.headers["ETag"] == etag_of(client, ICC) != ""


@pytest.mark.parametrize(
    "body, named",
    [
        ({"": None, "6": None}, {"", "6"}),
        ({"issued": {"date": "2024", "colour": None}}, {"issued.colour"}),
    ],
)
def test_merge_patch_naming_no_field_is_422_even_as_a_removal(client, writer, body, named):
    url = "/v1/warrants/warrant-benjamin-netanyahu"
    before = client.get(url)
    response = patch(client, writer, url, body, before.headers["ETag"])
    problem = assert_problem(response, 422)
    assert set(problem["errors"]) == named
    assert client.get(url).get_data() == before.get_data()


def test_put_replaces_the_record(client, writer):
    url = "/v1/officials/tomoko-akane"
    body = new_official("tomoko-akane", name="Tomoko Akane", role="ICC President")
    response = client.put(
        url, data=json.dumps(body), headers={**writer, **JSON_HEADERS, "If-Match": etag_of(client, url)}
    )
    assert response.status_code == 200
    assert response.get_json()["role"] == "ICC President"
    assert response.get_json()["citations"] == [
        {
            **body["citations"][0],
            "attributed_to": None,
            "reasoning": None,
            "url": response.get_json()["citations"][0]["url"],
        }
    ]


def test_putting_back_what_was_read_with_an_unknown_field_is_422_naming_only_that_field(client, writer):
    url = "/v1/statements/statement-tomoko-akane-no-pressure"
    read = client.get(url)
    body = {**read.get_json(), "colour": "red"}
    response = client.put(
        url, data=json.dumps(body), headers={**writer, **JSON_HEADERS, "If-Match": read.headers["ETag"]}
    )
    assert assert_problem(response, 422)["errors"] == {"colour": "Unknown field."}
    assert client.get(url).headers["ETag"] == read.headers["ETag"]


def test_write_that_changes_nothing_keeps_the_etag(client, writer):
    etag = etag_of(client, ICC)
    response = patch(client, writer, ICC, {}, etag)
    assert response.status_code == 200
    assert response.headers["ETag"] == etag
    history = client.get("/v1/organizations/icc/history").get_json()["data"]
    assert [entry["action"] for entry in history] == ["created"]


def test_delete_is_204_and_then_404(client, writer, admin):
    url = "/v1/organizations/test-monitor"
    assert post(client, writer, "organizations", new_organization()).status_code == 201
    response = client.delete(url, headers={**admin, "If-Match": etag_of(client, url)})
    assert response.status_code == 204
    assert response.get_data() == b""
    assert_problem(client.get(url), 404)


def test_deleting_a_record_others_refer_to_is_409_naming_them(client, admin):
    body = assert_problem(client.delete(ICC, headers={**admin, "If-Match": etag_of(client, ICC)}), 409)
    assert body["errors"]["officials/tomoko-akane"] == "Refers to it in organization_id."
    assert "warrants/" in " ".join(body["errors"])  # the court of every warrant
    assert client.get(ICC).status_code == 200


def test_deleting_a_cited_source_is_409(client, admin):
    url = "/v1/sources/trump-campaign-against-icc-faces-resistance"
    body = assert_problem(client.delete(url, headers={**admin, "If-Match": etag_of(client, url)}), 409)
    assert body["errors"]["organizations/icc"] == "Refers to it in citations."


def test_stale_if_match_is_412_and_changes_nothing(client, writer):
    stale = etag_of(client, ICC)
    assert patch(client, writer, ICC, {"description": "First."}, stale).status_code == 200
    response = patch(client, writer, ICC, {"description": "Second."}, stale)
    assert_problem(response, 412)
    assert response.headers["ETag"] == etag_of(client, ICC)
    assert client.get(ICC).get_json()["description"] == "First."


def test_weak_if_match_never_matches(client, writer):
    weak = "W/" + etag_of(client, ICC)
    assert_problem(patch(client, writer, ICC, {"description": "x"}, weak), 412)


def test_if_match_star_matches_an_existing_record(client, writer):
    assert patch(client, writer, ICC, {"description": "Any version."}, "*").status_code == 200


def test_source_text_cannot_change(client, admin):
    url = "/v1/sources/trump-campaign-against-icc-faces-resistance"
    body = assert_problem(patch(client, admin, url, {"text": "Rewritten."}, etag_of(client, url)), 422)
    assert "text" in body["errors"]


BAD_BODIES = [
    ("missing required field", {k: v for k, v in new_organization().items() if k != "name"}, "name"),
    ("null required field", new_organization(name=None), "name"),
    ("bad enum", new_organization(kind="cabal"), "kind"),
    ("unknown field", new_organization(colour="red"), "colour"),
    ("read-only field", new_organization(created_at="2020-01-01"), "created_at"),
    ("bad id", new_organization("Not A Slug"), "id"),
    ("no citation", new_organization(citations=[]), "citations"),
    (
        "quote not at offsets",
        new_organization(citations=[{**ICC_CITATION, "start": 220, "end": 254}]),
        "citations.0.quote",
    ),
    (
        "unknown source",
        new_organization(citations=[{**ICC_CITATION, "source_id": "nope"}]),
        "citations.0.source_id",
    ),
    (
        "past the end",
        new_organization(citations=[{**ICC_CITATION, "start": 10**6, "end": 10**6 + 34}]),
        "citations.0.end",
    ),
    ("dangling reference", new_organization(parent_id="no-such-org"), "parent_id"),
    ("not an object", [new_organization()], "_schema"),
    ("null", None, "_schema"),
]


@pytest.mark.parametrize(("case", "body", "field"), BAD_BODIES, ids=[c for c, _, _ in BAD_BODIES])
def test_invalid_record_is_422_naming_the_field_and_changes_nothing(client, writer, case, body, field):
    before = client.get("/v1/changes?limit=500").get_json()["data"]
    problem = assert_problem(post(client, writer, "organizations", body), 422)
    assert field in problem["errors"], problem["errors"]
    assert client.get("/v1/changes?limit=500").get_json()["data"] == before


def test_existing_id_is_409(client, writer):
    body = assert_problem(post(client, writer, "organizations", new_organization("icc")), 409)
    assert "id" in body["errors"]


def test_changing_the_id_is_422(client, writer):
    body = assert_problem(patch(client, writer, ICC, {"id": "icc-2"}, etag_of(client, ICC)), 422)
    assert "id" in body["errors"]


def test_put_body_with_another_id_is_422(client, writer):
    headers = {**writer, **JSON_HEADERS, "If-Match": etag_of(client, ICC)}
    response = client.put(ICC, data=json.dumps(new_organization("other")), headers=headers)
    assert "id" in assert_problem(response, 422)["errors"]


@pytest.mark.parametrize(
    "data",
    [
        b"{",
        b'{"id": "a", "id": "b"}',
        b'{"start": NaN}',
        b"\xff\xfe",
        b"",
        b'{"a": ' * 20 + b"1" + b"}" * 20,
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=["truncated", "duplicate key", "NaN", "not utf-8", "empty", "too deep", "recursion bomb"],
)
def test_malformed_json_is_400(client, writer, data):
    assert_problem(client.post("/v1/organizations", data=data, headers={**writer, **JSON_HEADERS}), 400)


@pytest.mark.parametrize(
    ("method", "url", "content_type", "accept_header"),
    [
        ("post", "/v1/organizations", "text/plain", "Accept-Post"),
        ("post", "/v1/organizations", "application/x-www-form-urlencoded", "Accept-Post"),
        ("patch", ICC, "application/json", "Accept-Patch"),
        ("put", ICC, "application/merge-patch+json", "Accept-Post"),
    ],
)
def test_wrong_media_type_is_415_naming_the_right_one(
    client, writer, method, url, content_type, accept_header
):
    headers = {**writer, "Content-Type": content_type, "If-Match": etag_of(client, ICC)}
    response = getattr(client, method)(url, data="{}", headers=headers)
    assert_problem(response, 415)
    assert response.headers[accept_header].startswith("application/")


def test_body_above_the_limit_is_413(app, client, writer):
    app.config["MAX_BODY_BYTES"] = 1000
    body = new_organization(description="x" * 2000)
    assert_problem(post(client, writer, "organizations", body), 413)
    assert_problem(client.get("/v1/organizations/test-monitor"), 404)


def test_body_limit_comes_from_the_environment(monkeypatch, db_path):
    from api.web.app import create_app

    monkeypatch.setenv("ICC_EVENTS_MAX_BODY_BYTES", "1234")
    assert create_app({"DATABASE": str(db_path)}).config["MAX_BODY_BYTES"] == 1234


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_missing_if_match_is_428(client, writer, admin, method):
    headers = {**admin, **(PATCH_HEADERS if method == "patch" else JSON_HEADERS)}
    response = getattr(client, method)(ICC, data="{}", headers=headers)
    assert_problem(response, 428)


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_unknown_id_is_404(client, admin, method):
    headers = {**admin, **(PATCH_HEADERS if method == "patch" else JSON_HEADERS), "If-Match": "*"}
    assert_problem(getattr(client, method)("/v1/organizations/nope", data="{}", headers=headers), 404)


def test_write_lock_held_past_the_busy_timeout_is_503_with_retry_after(app, writer, db_path):
    import sqlite3

    # The setting the connections read, shortened: the write waits 10 ms for the lock, not 5 s.
    app.config["DB_BUSY_TIMEOUT_MS"] = 10
    client = app.test_client()
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        response = post(client, writer, "organizations", new_organization())
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert_problem(response, 503)
    assert response.headers["Retry-After"] == "1"
    assert_problem(client.get("/v1/organizations/test-monitor"), 404)


@pytest.mark.parametrize("name", list(COLLECTIONS))
def test_every_collection_takes_a_copy_of_its_first_record_then_deletes_it(client, writer, admin, name):
    first = client.get(f"/v1/{name}?limit=1").get_json()["data"][0]
    copy = {**writable(COLLECTIONS[name].schema, first), "id": f"copy-of-{first['id']}"[:80]}
    created = post(client, writer, name, copy)
    assert created.status_code == 201, created.get_json()
    assert writable(COLLECTIONS[name].schema, created.get_json()) == copy
    url = created.headers["Location"]
    unchanged = client.put(
        url, data=json.dumps(copy), headers={**admin, **JSON_HEADERS, "If-Match": created.headers["ETag"]}
    )
    assert unchanged.status_code == 200
    assert unchanged.headers["ETag"] == created.headers["ETag"]
    assert client.delete(url, headers={**admin, "If-Match": created.headers["ETag"]}).status_code == 204


DANGLING_REFERENCES = [
    (
        "statements/statement-tomoko-akane-no-pressure",
        {"speaker_official_id": "nobody"},
        "speaker_official_id",
    ),
    ("warrants/warrant-benjamin-netanyahu", {"subject_official_id": "nobody"}, "subject_official_id"),
    ("warrants/warrant-benjamin-netanyahu", {"court_id": "no-court"}, "court_id"),
    (
        "warrants/warrant-benjamin-netanyahu",
        {"withdrawal_attempts": [{"actor_official_id": "nobody", "description": "x"}]},
        "withdrawal_attempts.0.actor_official_id",
    ),
    (
        "statements/statement-reed-rubinstein-terminate-or-all-options",
        {"warrant_ids": ["no-warrant"]},
        "warrant_ids.0",
    ),
]


@pytest.mark.parametrize(("path", "change", "field"), DANGLING_REFERENCES)
def test_reference_to_a_missing_record_is_422_and_changes_nothing(client, writer, path, change, field):
    url = f"/v1/{path}"
    before = client.get(url).get_json()
    body = assert_problem(patch(client, writer, url, change, etag_of(client, url)), 422)
    assert list(body["errors"]) == [field]
    assert client.get(url).get_json() == before


def test_an_edit_that_meets_a_newer_version_under_the_lock_is_made_again_from_it(db_path):
    # The new version is made before the write lock is taken; another writer may land in between.
    from api.store.db import connect
    from api.store.editing import replace_record

    officials = COLLECTIONS["officials"]
    ours, theirs = connect(str(db_path)), connect(str(db_path))
    seen = []

    def add_ours(current: dict) -> dict:
        seen.append(current.get("notes"))
        if len(seen) == 1:  # their edit commits after we read the record, before we lock it
            replace_record(
                theirs, officials, "tomoko-akane", lambda c: {**c, "notes": "Theirs."}, any_tag, "bob"
            )
        return {**current, "notes": f"{current.get('notes')} Ours."}

    row = replace_record(ours, officials, "tomoko-akane", add_ours, any_tag, "alice")
    assert seen[1] == "Theirs."
    assert json.loads(row["served_json"])["notes"] == "Theirs. Ours."
    logged = [r["actor"] for r in ours.query("SELECT actor FROM changes WHERE record_id = 'tomoko-akane'")]
    assert logged[-2:] == ["bob", "alice"]


def any_tag(_etag: str) -> bool:
    return True


def test_an_edit_that_waited_for_the_lock_is_stamped_after_the_writer_before_it(db_path):
    # updated_at is what ?changed_since= compares: it must follow commit order, or a client that
    # synced up to the last stamp it saw never sees an edit that committed after it, stamped before.
    import threading
    import time

    from api.model.clock import now_iso
    from api.store.changes import full_row, log_change, snapshot, stored_record
    from api.store.db import connect
    from api.store.editing import get_row, replace_record, update_row

    officials = COLLECTIONS["officials"]
    first, second = [r["id"] for r in connect(str(db_path)).query("SELECT id FROM officials LIMIT 2")]
    holder = connect(str(db_path))
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock while ours is asked for
    ours = threading.Thread(
        target=replace_record,
        args=(connect(str(db_path)), officials, first, lambda c: {**c, "notes": "Ours."}, any_tag, "alice"),
    )
    ours.start()
    time.sleep(0.3)
    row = get_row(holder, officials, second)
    record = {**snapshot(officials, row), "notes": "Theirs."}
    theirs = full_row(officials, stored_record(officials, record, row["created_at"], now_iso()))
    update_row(holder, officials, theirs)
    log_change(
        holder, officials, second, "updated", "bob", theirs["updated_at"], snapshot(officials, row), theirs
    )
    holder.execute("COMMIT")
    ours.join()
    logged = list(holder.query("SELECT actor, at FROM changes ORDER BY seq DESC LIMIT 2"))[::-1]
    assert [entry["actor"] for entry in logged] == ["bob", "alice"]
    assert logged[0]["at"] < logged[1]["at"]
    changed_since = [
        r["id"] for r in holder.query("SELECT id FROM officials WHERE updated_at >= ?", [logged[0]["at"]])
    ]
    assert sorted(changed_since) == sorted([first, second])
