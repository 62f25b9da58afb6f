"""The npm tools some tests run (tests/js/package.json, installed by `npm ci --prefix tests/js`).

Where they are missing those tests skip; with CI=true they fail instead, so CI cannot pass without them.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

JS_DIR = Path(__file__).parent / "js"
# Redocly CLI reports usage to its makers unless told not to; tests reach nothing beyond loopback.
QUIET = {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true", "NO_UPDATE_NOTIFIER": "1"}


def require_node_tools(*tools: str, js_dir: Path = JS_DIR) -> None:
    """Skip (fail under CI=true) unless npx and each tool in js_dir/node_modules/.bin are there."""
    missing = [t for t in tools if not (js_dir / "node_modules" / ".bin" / t).exists()]
    problem = None
    if shutil.which("npx") is None:
        problem = "npx is not installed (Node 20 with npm)"
    elif missing:
        problem = f"{', '.join(missing)} not installed (npm ci --prefix tests/js)"
    if problem and os.environ.get("CI") == "true":
        pytest.fail(f"the npm tools must run in CI: {problem}")
    if problem:
        pytest.skip(problem)


def npx(*args: str, cwd: Path = JS_DIR, timeout: float = 300) -> subprocess.CompletedProcess:
    """A tool from tests/js/node_modules, never one fetched on demand (npx --no-install)."""
    return subprocess.run(
        ["npx", "--no-install", *args],
        cwd=cwd,
        env={**os.environ, **QUIET},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
