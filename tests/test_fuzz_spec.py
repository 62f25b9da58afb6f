"""Schemathesis fuzzes every operation in the committed openapi.yaml, every check on, zero failures."""

import atexit
import json
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from api.web.app import create_app
from seed.loader import build_database
from tests.conftest import make_token
from tests.contract import OPENAPI_FILE

# Schemathesis' WSGI transport reads a download without closing the response, so the download's
# file (in <database>.downloads) is closed by the garbage collector; that warning is the transport's.
pytestmark = [
    pytest.mark.filterwarnings(
        r"ignore:Exception ignored in.*\.downloads/:pytest.PytestUnraisableExceptionWarning"
    ),
]

# Examples per operation and generation mode; FUZZ_EXAMPLES=500 for a deep run.
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))

# Schemathesis collects its tests at import time, so the app and its database are made here too.
_db_dir = Path(tempfile.mkdtemp(prefix="icc-fuzz-"))
atexit.register(shutil.rmtree, _db_dir, ignore_errors=True)
build_database(_db_dir / "icc-events.db")
app = create_app({"DATABASE": str(_db_dir / "icc-events.db"), "TESTING": True, "RATE_LIMIT_ENABLED": False})

schema = schemathesis.openapi.from_path(OPENAPI_FILE)
schema.app = app

# An admin token, so writes are fuzzed past authentication (ignored_auth checks the 401 side).
# Every operation in openapi.yaml is fuzzed, so new routes are picked up without any change here.
# identity: Schemathesis' WSGI transport does not undo gzip (tests/test_query*.py cover compression).
AUTH_HEADERS = {
    "Authorization": f"Bearer {make_token(_db_dir / 'icc-events.db', 'fuzzer', 'admin')}",
    "Accept-Encoding": "identity",
}

REPORT = Path(os.environ.get("RELIABILITY_REPORT_DIR", "build/reliability")) / "fuzz.json"
CASES: Counter = Counter()


@pytest.fixture(scope="module", autouse=True)
def fuzz_report():
    """Writes how many cases each operation got, for docs/RELIABILITY.md."""
    yield
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    report = {"examples_setting": FUZZ_EXAMPLES, "cases": sum(CASES.values()), "per_operation": CASES}
    REPORT.write_text(json.dumps(report, indent=2, sort_keys=True))


def real_cursor(case) -> str | None:
    """A cursor this API issued for the case's sort (or search), from a one-record page; None if
    nothing follows."""
    params = {"limit": 1, **{k: case.query[k] for k in ("sort", "q", "collections") if k in case.query}}
    # A page for people (/warrants, /search) takes the cursors of its JSON twin under /v1.
    path = case.path if case.path.startswith("/v1/") else f"/v1{case.path}"
    response = app.test_client().get(path, query_string=params)
    if response.status_code != 200:
        return None  # the search page without q is its form: no cursor to page with
    next_url = response.get_json()["links"]["next"]
    return parse_qs(urlsplit(next_url).query)["cursor"][0] if next_url else None


def real_since(case) -> str:
    """A change-feed cursor this API issued."""
    return app.test_client().get("/v1/changes", query_string={"limit": 1}).get_json()["cursor"]


# Opaque parameters: JSON Schema can say "base64url", not "issued by this API", so schema-valid
# cases get a real value; negative cases keep the fuzzer's, which must be a 4xx.
OPAQUE_PARAMETERS = {"cursor": real_cursor, "since": real_since}


@schema.parametrize()
@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_conforms_to_the_spec(case):
    if case.query and case.meta.generation.mode is schemathesis.GenerationMode.POSITIVE:
        for name, real_value in OPAQUE_PARAMETERS.items():
            # This API's opaque cursors; reconcile suggest's cursor (Reconciliation 0.2) is a number.
            if name in case.query and not case.path.startswith("/v1/reconcile"):
                value = real_value(case)
                if value is None:
                    del case.query[name]
                else:
                    case.query[name] = value
        # A dependency OpenAPI 3.1 cannot state: include= and facet= need format=json (described
        # on those parameters; a 400 names them otherwise, tested in test_shape_and_formats.py).
        if case.query.get("format", "json") != "json":
            for name in ("include", "facet"):
                case.query.pop(name, None)
    CASES[f"{case.method} {case.path}"] += 1
    case.call_and_validate(headers=AUTH_HEADERS)
