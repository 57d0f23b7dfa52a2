"""The README is the front door: every command is documented and has help; the settings
table matches the settings class."""

import re
from pathlib import Path

import typer

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _commands(group, prefix: str = ""):
    # typer vendors its own copy of click: recognise groups by their sub-commands
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if hasattr(command, "commands"):
            yield from _commands(command, path + " ")
        else:
            yield path, command


def all_commands():
    from flows.cli.app import app

    return list(_commands(typer.main.get_command(app)))


def test_every_command_has_help():
    missing = [path for path, command in all_commands() if not (command.help or "").strip()]
    assert missing == []


def test_help_names_no_file_the_repository_lacks():
    root = Path(__file__).resolve().parents[2]
    texts = [f"{path}: {command.help} " + " ".join(p.help or "" for p in command.params)
             for path, command in all_commands()]
    named = {(text.split(":")[0], name) for text in texts for name in re.findall(r"\b[\w/.-]+\.md\b", text)}
    assert len(texts) > 25 and all("DESIGN" not in text for text in texts)
    assert sorted((path, name) for path, name in named if not (root / name).exists()) == []


def test_every_command_is_in_the_readme():
    missing = [path for path, _ in all_commands() if f"esgtrack {path}" not in README]
    assert missing == []


def test_every_option_has_help():
    options = [(path, p) for path, command in all_commands() for p in command.params
               if type(p).__name__ in ("Option", "TyperOption")]
    assert len(options) > 50
    missing = [f"{path} {p.name}" for path, p in options if not (p.help or "").strip()]
    assert missing == []


# Commands that act on no organisation's data (set-up, the demo, the directory of people,
# converting a document).
NO_ORG = {"serve", "demo", "init", "roadmap normalise", "directory load", "directory show",
          "keys init", "keys show",
          "web", "users disable", "users enable"}  # the portal serves every organisation; user
# names are global  # the signing key is the installation's, not an organisation's


def test_every_data_command_takes_org():
    missing = [path for path, command in all_commands() if path not in NO_ORG
               and not any("--org" in getattr(p, "opts", []) for p in command.params)]
    assert missing == []


def test_settings_table_matches_the_settings_class():
    from config.settings import Settings

    documented = set(re.findall(r"^\| `(ESGTRACK_[A-Z_]+)` \|", README, re.M))
    declared = {f"ESGTRACK_{name.upper()}" for name in Settings.model_fields}
    assert documented == declared
    assert all(field.description for field in Settings.model_fields.values())


def test_readme_shows_the_two_commands():
    assert "pip install -e . && .venv/bin/esgtrack demo" in README
    assert ".venv/bin/pip install -e '.[test]' && .venv/bin/pytest -n auto" in README
    ci = (Path(__file__).resolve().parents[2] / ".ci" / "run").read_text()
    assert "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/pytest -n auto" in ci
