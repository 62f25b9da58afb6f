"""The README says what the code does: the commands CI runs, every CLI command and option, every setting."""

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from api.cli import cli
from api.config import DEFAULTS, ENVIRONMENT

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


def readme_section(heading: str) -> str:
    """The README text under a `## heading`, up to the next heading of that level."""
    text = (ROOT / "README.md").read_text()
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def command_sections() -> dict[str, str]:
    """`### icc-events NAME` subsections of the README's command line section, by command name."""
    parts = re.split(r"\n### `icc-events ([a-z-]+)`\n", readme_section("Command line"))
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def help_text(*args: str) -> str:
    result = CliRunner().invoke(cli, [*args, "--help"])
    assert result.exit_code == 0, result.output
    return result.output


def test_readme_documents_every_command_and_no_other():
    assert set(command_sections()) == set(cli.commands)


def leaf_commands(
    command: click.Command, path: tuple[str, ...]
) -> list[tuple[tuple[str, ...], click.Command]]:
    """(argument path, command) for a command, or for every command under a group such as tokens."""
    if isinstance(command, click.Group):
        return [leaf for name, sub in command.commands.items() for leaf in leaf_commands(sub, (*path, name))]
    return [(path, command)]


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_readme_and_help_agree_on_each_command(name):
    section = command_sections()[name]
    for path, command in leaf_commands(cli.commands[name], (name,)):
        options = {o for p in command.params for o in p.opts if o.startswith("--")}
        assert options <= set(re.findall(r"--[a-z][a-z-]*", section)), path
        lines = help_text(*path).splitlines()
        examples = [line.strip() for line in lines if line.strip().startswith("icc-events ")]
        assert examples, f"`icc-events {' '.join(path)} --help` shows no example"
        assert all(example in section for example in examples), path
    documented = set(re.findall(r"--[a-z][a-z-]*", section)) - {"--help"}
    known = {o for _, c in leaf_commands(cli.commands[name], ()) for p in c.params for o in p.opts}
    assert documented <= known, "the README names options the command does not have"


def test_help_lists_every_command_and_the_version_option():
    text = help_text()
    assert "--version" in text
    assert all(f"  {name} " in text for name in cli.commands)


def settings_table() -> dict[str, str]:
    # An empty default is written *none*.
    row = r"^\| `(ICC_EVENTS_[A-Z_]+)` \| (?:`([^`]*)`|\*none\*) \|"
    rows = re.findall(row, readme_section("Operations"), re.M)
    return dict(rows)


def shown(value) -> str:
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value).lower() if isinstance(value, bool) else str(value)


def test_readme_lists_every_setting_with_its_default():
    assert settings_table() == {var: shown(DEFAULTS[key]) for var, (key, _) in ENVIRONMENT.items()}
