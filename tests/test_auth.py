"""Tokens: made and revoked on the command line, stored as hashes, checked on every write."""

import json

import pytest
import sqlite_utils
from click.testing import CliRunner

from api.cli import cli
from tests.conftest import assert_problem
from tests.curation_data import JSON_HEADERS, new_organization


def create(db_path, name: str, scope: str = "write"):
    return CliRunner().invoke(
        cli, ["tokens", "create", "--name", name, "--scope", scope, "--db", str(db_path)]
    )


def post_with(client, authorization: str | None):
    headers = {**JSON_HEADERS, **({"Authorization": authorization} if authorization else {})}
    return client.post("/v1/organizations", data=json.dumps(new_organization()), headers=headers)


def test_token_is_printed_once_as_the_last_line_and_stored_only_as_a_hash(db_path):
    result = create(db_path, "alice")
    assert result.exit_code == 0, result.output
    token = result.output.splitlines()[-1]
    assert token.startswith("icc_")
    dump = "\n".join(sqlite_utils.Database(db_path).iterdump())
    assert token not in dump
    assert token.rsplit("_", 1)[-1] not in dump


def test_created_token_authorizes_writes(client, db_path):
    token = create(db_path, "alice").output.splitlines()[-1]
    response = post_with(client, f"Bearer {token}")
    assert response.status_code == 201
    assert client.get("/v1/organizations/test-monitor/history").get_json()["data"][0]["actor"] == "alice"


def test_list_shows_names_and_scopes_but_no_secrets(db_path):
    token = create(db_path, "alice", "admin").output.splitlines()[-1]
    result = CliRunner().invoke(cli, ["tokens", "list", "--db", str(db_path)])
    assert result.exit_code == 0
    assert result.output.startswith("alice\tadmin\t")
    assert result.output.rstrip().endswith("active")
    assert token.rsplit("_", 1)[-1] not in result.output


def test_revoked_token_is_401(client, db_path):
    token = create(db_path, "alice").output.splitlines()[-1]
    result = CliRunner().invoke(cli, ["tokens", "revoke", "--name", "alice", "--db", str(db_path)])
    assert result.exit_code == 0
    assert_problem(post_with(client, f"Bearer {token}"), 401)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["tokens", "create", "--name", "(seed)"], "token name"),
        (["tokens", "create", "--name", "alice", "--scope", "root"], "root"),
        (["tokens", "revoke", "--name", "nobody"], "nobody"),
    ],
)
def test_bad_token_commands_fail_with_a_message(db_path, arguments, message):
    result = CliRunner().invoke(cli, [*arguments, "--db", str(db_path)])
    assert result.exit_code != 0
    assert message in result.output


def test_a_name_is_taken_once(db_path):
    assert create(db_path, "alice").exit_code == 0
    result = create(db_path, "alice")
    assert result.exit_code == 1
    assert "exists" in result.output


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Bearer nonsense",
        "Bearer icc_000000000000_secret",
        "Basic YWxpY2U6c2VjcmV0",
    ],
    ids=["missing", "empty", "malformed", "unknown key", "not bearer"],
)
def test_missing_or_bad_token_is_401_with_a_bearer_challenge(client, authorization):
    response = post_with(client, authorization)
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_problem(client.get("/v1/organizations/test-monitor"), 404)


def test_right_key_with_wrong_secret_is_401(client, writer):
    token = writer["Authorization"].removeprefix("Bearer ")
    assert_problem(post_with(client, f"Bearer {token[:-1]}{'A' if token[-1] != 'A' else 'B'}"), 401)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("delete", "/v1/organizations/icc"),
        ("patch", "/v1/sources/trump-campaign-against-icc-faces-resistance"),
    ],
)
def test_write_scope_cannot_delete_or_edit_sources_403(client, writer, method, url):
    response = getattr(client, method)(url, headers={**writer, "If-Match": "*"})
    assert_problem(response, 403)
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


def test_reads_need_no_token(client):
    assert client.get("/v1/changes").status_code == 200
