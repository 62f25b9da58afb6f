"""The README documents every command the CLI has."""

from pathlib import Path

import click
import pytest

from api.cli import cli

README = (Path(__file__).parent.parent / "README.md").read_text()


def command_lines(group: click.Group, prefix: str = "icc-events") -> list[str]:
    lines = []
    for name, command in group.commands.items():
        lines.append(f"{prefix} {name}")
        if isinstance(command, click.Group):
            lines.extend(command_lines(command, f"{prefix} {name}"))
    return lines


@pytest.mark.parametrize("command", command_lines(cli))
def test_every_command_is_in_the_readme(command):
    assert command in README
