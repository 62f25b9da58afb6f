"""The README's commands are the ones CI runs."""

from pathlib import Path

ROOT = Path(__file__).parent.parent


def readme_commands() -> list[str]:
    lines = (ROOT / "README.md").read_text().splitlines()
    return [line.strip() for line in lines if line.startswith("    python3 -m venv")]


def test_readme_opens_with_a_run_and_a_test_command():
    run, test = readme_commands()[:2]
    assert run.endswith("icc-events serve")
    assert test.endswith("python -m pytest")


def test_ci_runs_the_readme_test_command():
    ci_script = (ROOT / ".ci" / "run").read_text()
    assert readme_commands()[1] in ci_script.splitlines()
