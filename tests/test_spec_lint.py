"""openapi.yaml passes Redocly's `recommended` rules and Spectral's `spectral:oas`: no error, no warning.

Both rulesets are used as they come (tests/js/redocly.yaml, tests/js/.spectral.yaml): causes are fixed
in the spec builder, not by turning rules off.
"""

import json

import pytest

from tests.contract import OPENAPI_FILE
from tests.node_tools import npx, require_node_tools


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception), (None, pytest.skip.Exception)])
def test_missing_linters_fail_under_ci_and_skip_elsewhere(monkeypatch, tmp_path, ci, outcome):
    if ci:
        monkeypatch.setenv("CI", ci)
    else:
        monkeypatch.delenv("CI", raising=False)
    with pytest.raises(outcome, match="not installed"):
        require_node_tools("redocly", js_dir=tmp_path)


def test_redocly_recommended_reports_nothing():
    require_node_tools("redocly")
    result = npx("redocly", "lint", str(OPENAPI_FILE), "--config", "redocly.yaml", "--format", "json")
    report = json.loads(result.stdout)
    assert report["totals"] == {"errors": 0, "warnings": 0, "ignored": 0}, report["problems"]
    assert result.returncode == 0, result.stderr


def test_spectral_oas_reports_nothing(tmp_path):
    require_node_tools("spectral")
    output = tmp_path / "spectral.json"
    result = npx(
        "spectral", "lint", str(OPENAPI_FILE), "--ruleset", ".spectral.yaml",
        "--format", "json", "--output", str(output), "--fail-severity", "hint", "--quiet",
    )  # fmt: skip
    results = json.loads(output.read_text())
    assert results == [], [(r["code"], ".".join(map(str, r["path"])), r["message"]) for r in results]
    assert result.returncode == 0, result.stdout + result.stderr
