"""The icc-events command: seed, openapi, and serve on a real Granian process."""

import urllib.request

import sqlite_utils
from click.testing import CliRunner

from api import __version__
from api.cli import cli
from tests.server_process import STOP_TIMEOUT, running_server


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_seed_builds_the_database(tmp_path):
    path = tmp_path / "built.db"
    result = CliRunner().invoke(cli, ["seed", "--db", str(path)])
    assert result.exit_code == 0, result.output
    assert "4 warrants" in result.output
    assert sqlite_utils.Database(path)["warrants"].count == 4


def test_openapi_writes_the_committed_description(tmp_path):
    from tests.contract import OPENAPI_FILE

    out = tmp_path / "openapi.yaml"
    result = CliRunner().invoke(cli, ["openapi", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text() == OPENAPI_FILE.read_text()


def test_serve_builds_a_missing_database_and_answers_on_granian(tmp_path):
    path = tmp_path / "missing.db"
    with running_server(path, tmp_path / "server.log") as (base_url, process):
        with urllib.request.urlopen(f"{base_url}/v1/warrants") as response:
            assert response.status == 200
            assert response.headers["Server"] == "granian"
        assert path.exists()
        process.terminate()
        assert process.wait(timeout=STOP_TIMEOUT) == 0
