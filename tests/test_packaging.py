"""What `pip install .` installs: every module of every layer, the pages' files and the seed."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_the_wheel_holds_every_module_template_and_seed_file(tmp_path):
    # The servers the tests start import the installed package, not this checkout: a module left out
    # of the wheel is a server that cannot start.
    # Built from a copy without build/, which setuptools would otherwise pack from an earlier build.
    source = tmp_path / "source"
    ignored = shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "node_modules", "*.db*", ".data", ".hypothesis"
    )
    shutil.copytree(ROOT, source, ignore=ignored)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(source), "-w", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    packed = set(zipfile.ZipFile(wheel).namelist())
    wanted = [
        *ROOT.glob("api/**/*.py"),
        *ROOT.glob("schemas/*.py"),
        *ROOT.glob("seed/*.py"),
        *ROOT.glob("api/web/templates/*.html"),
        *ROOT.glob("api/web/static/*"),
        ROOT / "api/web/openapi.yaml",
        *ROOT.glob("seed/data/*.yaml"),
        *ROOT.glob("seed/sources/*.txt"),
    ]
    missing = sorted(str(p.relative_to(ROOT)) for p in wanted if str(p.relative_to(ROOT)) not in packed)
    assert missing == []
    assert "api/store/migrations.py" in packed
