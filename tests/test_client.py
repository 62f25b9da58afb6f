"""A Python client generated from openapi.yaml reads every collection from a real server."""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlite_utils

from api.model.collections import COLLECTIONS
from tests.server_process import running_server

ROOT = Path(__file__).parent.parent
PACKAGE = "icc_events_client"


@pytest.fixture(scope="module")
def generation(tmp_path_factory):
    """openapi-python-client run on the committed spec, as the README shows; its output and package."""
    out = tmp_path_factory.mktemp("client")
    bin_dir = Path(sys.executable).parent
    command = [
        str(bin_dir / "openapi-python-client"),
        "generate",
        "--path",
        str(ROOT / "openapi.yaml"),
        "--config",
        str(ROOT / "openapi-client.yaml"),
        "--meta",
        "none",
        "--output-path",
        str(out / PACKAGE),
    ]
    # Its post-hooks run ruff, which sits beside this interpreter.
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(command, cwd=out, env=env, capture_output=True, text=True, timeout=120)
    sys.path.insert(0, str(out))
    yield result
    sys.path.remove(str(out))
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """python -m api serve on a loopback port, building its database: (base URL, database path)."""
    workdir = tmp_path_factory.mktemp("server")
    path = workdir / "icc-events.db"
    with running_server(path, workdir / "server.log") as (url, _process):
        yield url, path


@pytest.fixture(scope="module")
def api_client(generation, server):
    client_module = importlib.import_module(f"{PACKAGE}.client")
    with client_module.Client(base_url=server[0], raise_on_unexpected_status=True) as client:
        yield client


def operation(tag: str, name: str):
    return importlib.import_module(f"{PACKAGE}.api.{tag}.{name}")


def test_generator_reports_no_warnings(generation):
    assert generation.returncode == 0, generation.stdout + generation.stderr
    assert "warning" not in (generation.stdout + generation.stderr).lower()


@pytest.mark.parametrize("collection", COLLECTIONS.values(), ids=list(COLLECTIONS))
def test_generated_client_lists_and_fetches_every_record(api_client, server, collection):
    list_records = operation(collection.name, f"list_{collection.name}")
    get_record = operation(collection.name, f"get_{collection.singular}")
    ids, cursor = [], None
    while True:
        kwargs = {"cursor": cursor} if cursor else {}
        response = list_records.sync_detailed(client=api_client, limit=5, sort="id", **kwargs)
        assert response.status_code == 200
        # The typed model holds everything the server sent: the spec describes the data exactly.
        assert response.parsed.to_dict() == json.loads(response.content)
        ids += [record.id for record in response.parsed.data]
        if not response.parsed.links.next_:
            break
        cursor = parse_qs(urlsplit(response.parsed.links.next_).query)["cursor"][0]
    stored = sqlite_utils.Database(server[1]).execute(f"SELECT id FROM [{collection.table}] ORDER BY id")
    assert ids == [row[0] for row in stored]
    for record_id in ids:
        record = get_record.sync(client=api_client, record_id=record_id)
        assert record.id == record_id
        # links are a typed model: self is an attribute, not a key of a dict.
        # A relative reference, resolved against the URL the record was read from.
        assert record.links.self_ == f"/v1/{collection.name}/{record_id}"


def test_generated_client_gets_a_problem_for_an_unknown_record(api_client):
    problem = operation("warrants", "get_warrant").sync(client=api_client, record_id="no-such-warrant")
    assert (problem.status, problem.title) == (404, "Not Found")


def test_generated_client_downloads_the_exports(api_client):
    ftm = operation("exports", "export_ftm").sync(client=api_client)
    assert ftm.splitlines()[0].startswith('{"id":"icc-events-')
    sqlite = operation("exports", "export_sqlite").sync(client=api_client)
    assert sqlite.payload.read(16) == b"SQLite format 3\x00"
    bundle = operation("exports", "export_csv").sync(client=api_client)
    assert bundle.payload.read(4) == b"PK\x03\x04"
