"""The README is the front door: every command is documented and has help; the settings
table matches the settings class."""

import re
from pathlib import Path

import click
import typer

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = ""):
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            yield from _commands(command, path + " ")
        else:
            yield path, command


def all_commands():
    from flows.cli import app

    return list(_commands(typer.main.get_command(app)))


def test_every_command_has_help():
    missing = [path for path, command in all_commands() if not (command.help or "").strip()]
    assert missing == []


def test_every_command_is_in_the_readme():
    missing = [path for path, _ in all_commands() if f"esgtrack {path}" not in README]
    assert missing == []


def test_every_option_has_help():
    missing = [f"{path} {p.name}" for path, command in all_commands() for p in command.params
               if isinstance(p, click.Option) and not (p.help or "").strip()]
    assert missing == []


def test_settings_table_matches_the_settings_class():
    from config.settings import Settings

    documented = set(re.findall(r"^\| `(ESGTRACK_[A-Z_]+)` \|", README, re.M))
    declared = {f"ESGTRACK_{name.upper()}" for name in Settings.model_fields}
    assert documented == declared
    assert all(field.description for field in Settings.model_fields.values())


def test_readme_shows_the_two_commands():
    assert "pip install -e . && .venv/bin/esgtrack demo" in README
    assert ".venv/bin/pip install -e '.[test]' && .venv/bin/pytest" in README
    ci = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text()
    assert "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/pytest" in ci
