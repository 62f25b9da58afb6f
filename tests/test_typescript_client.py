"""TypeScript types generated from openapi.yaml pass `tsc --strict`; a client typed by them reads a server.

openapi-typescript writes tests/js/generated/api.d.ts; tests/js/client/ holds the typed client
(read_api.ts, run on Node 20's fetch) and compile-time checks of the types (types_check.ts).
"""

import json
import subprocess

import pytest
import sqlite_utils

from tests.contract import OPENAPI_FILE
from tests.node_tools import JS_DIR, npx, require_node_tools
from tests.server_process import running_server


@pytest.fixture(scope="module")
def generation():
    require_node_tools("openapi-typescript", "tsc")
    return npx("openapi-typescript", str(OPENAPI_FILE), "--output", "generated/api.d.ts")


@pytest.fixture(scope="module")
def compiled(generation, tmp_path_factory):
    """The client compiled to JavaScript under --strict: the folder holding client/read_api.js."""
    assert generation.returncode == 0, generation.stdout + generation.stderr
    out = tmp_path_factory.mktemp("typescript")
    build = npx("tsc", "--project", "tsconfig.json", "--strict", "--outDir", str(out))
    assert build.returncode == 0, build.stdout + build.stderr
    return out


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """python -m api serve on a loopback port, building its database: (base URL, database path)."""
    workdir = tmp_path_factory.mktemp("server")
    path = workdir / "icc-events.db"
    with running_server(path, workdir / "server.log") as (url, _process):
        yield url, path


def test_generator_reports_no_warnings(generation):
    assert generation.returncode == 0, generation.stdout + generation.stderr
    assert "warn" not in (generation.stdout + generation.stderr).lower()
    assert (JS_DIR / "generated" / "api.d.ts").stat().st_size > 0


def test_generated_types_and_client_pass_tsc_strict(generation):
    assert generation.returncode == 0, generation.stderr
    check = npx("tsc", "--project", "tsconfig.json", "--strict", "--noEmit")
    assert check.returncode == 0, check.stdout + check.stderr


def test_typed_client_reads_a_page_its_links_and_a_record(compiled, server):
    url, db_path = server
    result = subprocess.run(
        ["node", str(compiled / "client" / "read_api.js"), url], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)

    db = sqlite_utils.Database(db_path)
    first, second = db.execute("SELECT id, title, situation, court_id FROM warrants ORDER BY id LIMIT 2")
    assert summary["page"]["ids"] == [first[0]]
    assert summary["page"]["self"] == f"{url}/v1/warrants?sort=id&limit=1"
    assert summary["page"]["next"].startswith(f"{url}/v1/warrants?")
    assert summary["next_page_ids"] == [second[0]]
    assert summary["record"] == {
        "id": first[0],
        "title": first[1],
        "situation": first[2],
        "self": f"/v1/warrants/{first[0]}",
        "selfUrl": f"{url}/v1/warrants/{first[0]}",
        "court": f"/v1/organizations/{first[3]}",
    }
    # Relative references (RFC 3986), which the client resolves with new URL(link, base).
    assert summary["official_links"] == {
        "self": "/v1/officials/tomoko-akane",
        "html": "/officials/tomoko-akane",
        "organization": "/v1/organizations/icc",
        "statements": "/v1/statements?speaker_official_id=tomoko-akane",
        "warrants": "/v1/warrants?subject_official_id=tomoko-akane",
        "sanctions": "/v1/sanctions?target_official_id=tomoko-akane",
    }
    assert summary["missing_status"] == 404
