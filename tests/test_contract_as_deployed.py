"""Schemathesis' own CLI against the real server, started with its defaults (rate limits on).

Every check and every operation, Schemathesis' default settings (a fixed seed, so CI is repeatable)
and an admin token. The one failure allowed is the one no fuzzer can avoid: a made-up `cursor` or
`since`, which the spec describes as an opaque token this API issued, is a 400 naming only it.
"""

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import make_token
from tests.contract import OPENAPI_FILE
from tests.server_process import running_server

ROOT = OPENAPI_FILE.parent
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
OPAQUE_PARAMETERS = {"cursor", "since"}
SEED = "14203"


def failures(junit_xml: Path) -> list[str]:
    """Each failing test case's report, from Schemathesis' JUnit file."""
    cases = []
    for failure in ET.parse(junit_xml).iter("failure"):
        cases += [case for case in re.split(r"\n?\d+\. Test Case ID: ", failure.text or "") if case.strip()]
    return cases


def is_made_up_opaque_token(case: str) -> bool:
    """A schema-valid request whose only fault is a cursor or since this API never issued."""
    codes = set(re.findall(r"^- (ST\d+) ", case, re.MULTILINE))
    body = re.search(r"^\[400\] Bad Request:\n\n\s+`(.*)`$", case, re.MULTILINE)
    if codes != {"ST202"} or not body:
        return False
    problem = json.loads(body[1])
    return problem["status"] == 400 and set(problem.get("errors", {})) <= OPAQUE_PARAMETERS


def test_schemathesis_finds_nothing_but_made_up_cursors_on_the_real_server(seed_db_path, tmp_path):
    db_path = tmp_path / "icc-events.db"
    shutil.copy(seed_db_path, db_path)
    token = make_token(db_path, "schemathesis", "admin")
    with running_server(db_path, tmp_path / "server.log") as (base_url, _):
        command = [str(SCHEMATHESIS), "run", str(OPENAPI_FILE), "--url", base_url, "--seed", SEED]
        command += ["--header", f"Authorization: Bearer {token}", "--report", "junit"]
        command += ["--report-dir", str(tmp_path / "report"), "--no-color"]
        # From the checkout, so Schemathesis reads its settings from schemathesis.toml.
        run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1500)
    [junit] = (tmp_path / "report").glob("junit-*.xml")
    cases = failures(junit)
    unexpected = [case for case in cases if not is_made_up_opaque_token(case)]
    assert not unexpected, "\n\n".join(case[:2000] for case in unexpected[:10])
    if not cases:
        assert run.returncode == 0, run.stdout[-4000:]
    assert "Tested: " in run.stdout and "Selected: " in run.stdout, run.stdout[-2000:]


@pytest.mark.parametrize(
    ("case", "allowed"),
    [
        (
            "GetX\n\n- ST202 Schema-valid request rejected\n\n[400] Bad Request:\n\n"
            '    `{"status": 400, "errors": {"cursor": "Not a cursor issued for this sort."}}`\n',
            True,
        ),
        (
            "GetX\n\n- ST202 Schema-valid request rejected\n\n[400] Bad Request:\n\n"
            '    `{"status": 400, "errors": {"limit": "Must be at most 500."}}`\n',
            False,
        ),
        ("GetX\n\n- ST103 Undocumented status code\n\n[431] Request Header Fields Too Large:\n", False),
        (
            "GetX\n\n- ST202 Schema-valid request rejected\n- ST103 Undocumented status code\n\n"
            '[400] Bad Request:\n\n    `{"status": 400, "errors": {"since": "x"}}`\n',
            False,
        ),
    ],
)
def test_only_a_400_naming_an_opaque_token_alone_is_excused(case, allowed):
    assert is_made_up_opaque_token(case) is allowed
