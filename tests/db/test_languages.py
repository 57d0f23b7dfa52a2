"""What the ESG office reads in Russian and English is Russian and English: the CLI's tables
and CSV files carry no Kazakh wording (only the document's own abbreviations, kept as names)
and no raw ids for headers, statuses or kinds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

KAZAKH = re.compile(r"[^\s│┃|,\"]*[әғқңөұүһіӘҒҚҢӨҰҮҺІ][^\s│┃|,\"]*")
NAMES = {"АҚД", "ЖҚО"}  # abbreviations the Russian role names keep as the document has them
COMMANDS = [["measures"], ["measures", "--format", "csv"], ["occurrences", "--period", "2026"],
            ["occurrences", "--format", "csv"], ["upcoming", "--as-of", "2026-12-20", "--days", "20"],
            ["status"], ["status", "--by", "executor"], ["status", "--by", "unit"], ["status", "--by", "topic"],
            ["target", "list"]]
RAW = ("executor_roles", "completion_form", "deadline_text", "days_left", "percent_complete", "on_track",
       "off_track", "as_needed", "women_share", "external:")


@pytest.fixture
def imported(cli, db_url, shipped_roadmap):
    code, _, err = cli("roadmap", "import", str(shipped_roadmap))
    assert code == 0, err


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c))
def test_no_kazakh_and_no_raw_ids_in_russian_or_english(cli, imported, lang, command):
    code, out, err = cli(*command, "--lang", lang)
    assert code == 0, err
    assert set(KAZAKH.findall(out)) <= NAMES, out
    assert "[not translated]" not in out and "[нет перевода]" not in out
    if "csv" not in command:  # a table: its headers, statuses and kinds are words, not ids
        assert not [raw for raw in RAW if raw in out], out


@pytest.mark.parametrize(("lang", "words"), [
    ("en", ["annually, 2025–2032", "Order", "Chief Administrative Officer"]),
    ("ru", ["ежегодно, 2025–2032", "Приказ", "Главный административный директор"]),
    ("kk", ["Бұйрық", "Жыл сайын"]),
])
def test_measures_speak_the_language(cli, imported, lang, words):
    code, out, err = cli("measures", "--aspect", "E", "--lang", lang, "--format", "csv")
    assert code == 0 and all(w in out for w in words), (out, err)


def test_statuses_and_kinds_are_words(cli, imported):
    code, out, err = cli("occurrences", "--measure", "S7", "--lang", "en", "--format", "csv")
    assert code == 0, err
    rows = [line.split(",") for line in out.splitlines()]
    header = rows[0]
    kinds = {r[header.index("kind")] for r in rows[1:]}
    statuses = {r[header.index("status")] for r in rows[1:]}
    assert kinds == {"interim progress check-in", "deadline"} and statuses == {"open"}


def test_every_word_of_the_messages_exists_in_every_language():
    folder = Path(__file__).resolve().parents[2] / "notifications" / "templates"
    names = {lang: set(re.findall(r"{%-? (?:set|macro) (\w+)", (folder / lang / "labels.j2").read_text("utf-8")))
             for lang in ("kk", "ru", "en")}
    assert names["kk"] and names["kk"] == names["ru"] - {"plural", "m10"} == names["en"]  # Russian plurals: helpers
