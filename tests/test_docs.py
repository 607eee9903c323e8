"""The README documents every `kb` command and every one of its options, in its Commands table."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from indexer.cli import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def commands_table() -> dict[str, str]:
    """Each command's row of the README's Commands table, by command name."""
    section = README.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    return {match.group(1): line for line in section.splitlines()
            if (match := re.match(r"\| `kb ([a-z-]+)", line))}


def test_the_table_has_a_row_for_each_command_and_no_other():
    assert set(commands_table()) == set(main.commands)


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_option_of_a_command_is_in_its_row(name):
    row = commands_table().get(name, "")
    options = [opt for param in main.commands[name].params if isinstance(param, click.Option)
               for opt in param.opts if opt.startswith("--")]
    assert options and [opt for opt in options if not re.search(re.escape(opt) + r"\b", row)] == []


@pytest.mark.parametrize("name", sorted(main.commands))
def test_every_command_has_help(name):
    assert main.commands[name].help and main.commands[name].get_short_help_str()
