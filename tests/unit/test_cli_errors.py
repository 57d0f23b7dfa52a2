"""Mistakes in the environment read as one line with the right exit code, never a traceback."""

import pytest

from config.settings import get_settings


@pytest.mark.parametrize("name, value, code, words", [
    ("ESGTRACK_NOTIFY_WORKERS", "abc", 2, "setting ESGTRACK_NOTIFY_WORKERS"),
    ("ESGTRACK_DATABASE_URL", "foo://x", 2, "not a usable database URL"),
    ("ESGTRACK_DATABASE_URL", "postgresql+psycopg://nobody:secret@127.0.0.1:1/x", 1, "cannot use the database"),
])
def test_environment_mistakes(cli, monkeypatch, name, value, code, words):
    monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    got, _out, err = cli("measures")
    assert got == code and words in " ".join(err.split())
    assert "Traceback" not in err and "secret" not in err


def test_spread_without_a_server_is_bad_input(cli, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    got, _, err = cli("run", "daily", "--spread")
    assert got == 2 and "PREFECT_API_URL" in err


@pytest.mark.parametrize("text, expected", [
    ("2026-02-10T11:00+05:00", "2026-02-10T06:00:00+00:00"),
    ("2026-02-10T06:00Z", "2026-02-10T06:00:00+00:00"),
    ("2026-02-10T11:00", "2026-02-10T06:00:00+00:00"),   # no zone: Almaty's
    ("2026-02-10", "2026-02-10T04:00:00+00:00"),          # a date: 09:00 in Almaty
])
def test_now_reads_an_instant_in_almaty_unless_it_names_a_zone(text, expected):
    from flows.cli.app import parse_instant

    assert parse_instant(text, "--now").isoformat() == expected


@pytest.mark.parametrize("text", ["soon", "P1D", "11:00", "2026-02-30"])
def test_a_bad_now_is_bad_input_naming_the_option(text):
    from flows.cli.app import parse_instant
    from models.core.errors import InputError

    with pytest.raises(InputError, match="--now"):
        parse_instant(text, "--now")


def test_the_cli_runs_at_the_instant_now_names(cli, tmp_path):
    """`--now` is what the CLI's clock reads: today's Almaty date follows it (the fixture's
    NOW is replaced by the last --now given)."""
    import datetime as dt

    from flows.cli import app as cli_app

    code, _, err = cli("--now", "2031-05-04T23:30+05:00", "init")
    assert code == 0, err
    assert cli_app.today() == dt.date(2031, 5, 4)
    code, _, err = cli("--now", "tomorrow", "init")
    assert code == 2 and "--now" in err


@pytest.mark.parametrize("command", [
    ["log", "--format", "csv", "--out", "{missing}/log.csv"],
    ["evidence-pack", "--period", "2025", "--out", "{missing}/kt.zip"],
    ["roadmap", "normalise", "{document}", "--out", "{missing}/kt.yaml"],
    ["checkpoint", "--out", "{missing}/kt.checkpoint"],
    ["report", "--period", "2025", "--out", "{missing}/board.pdf"],
    ["calendar", "--all", "--out", "{missing}/roadmap.ics"],
    ["log", "--format", "json", "--out", "{folder}"],
])
def test_out_into_a_missing_directory_is_an_error_not_a_new_folder(cli, tmp_path, command):
    from config import SHIPPED_DOCUMENT

    names = {"missing": str(tmp_path / "no-such-folder"), "folder": str(tmp_path), "document": str(SHIPPED_DOCUMENT)}
    code, _out, err = cli(*[part.format(**names) for part in command])
    flat = " ".join(err.split())
    assert code == 2 and "--out" in flat and ("no such directory" in flat or "this is a directory" in flat), err
    assert not (tmp_path / "no-such-folder").exists() and "Traceback" not in err
