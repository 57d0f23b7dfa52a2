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
    got, out, err = cli("measures")
    assert got == code and words in " ".join(err.split())
    assert "Traceback" not in err and "secret" not in err


def test_spread_without_a_server_is_bad_input(cli, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    got, _, err = cli("run", "daily", "--spread")
    assert got == 2 and "PREFECT_API_URL" in err
