"""The foundation's CLI as a user runs it: import, measures, occurrences, upcoming, open."""

import json

from sqlmodel import select

from models.store.db import get_engine, session_scope
from models.store.tables import MeasureRow

CONTRACT_KEYS = {"id", "aspect", "number", "topic", "title", "title_ru", "title_en", "deadline_text",
                 "recurrence", "completion_form", "executors", "units", "external_dependency", "target"}


def test_import_then_measures_json_contract(db_url, cli, shipped_document):
    code, out, err = cli("roadmap", "import", str(shipped_document))
    assert code == 0, err
    assert "49 measures (E 16, S 16, G 17)" in out
    assert "G6" in err  # the merged-cell warning
    code, out, _ = cli("measures", "--format", "json")
    data = json.loads(out)
    assert len(data) == 49
    assert all(set(m) >= CONTRACT_KEYS for m in data)
    e9 = next(m for m in data if m["id"] == "E9")
    assert e9["recurrence"] == {"kind": "annual", "start_year": 2026, "end_year": 2032}
    s10 = next(m for m in data if m["id"] == "S10")
    assert s10["recurrence"] == {"kind": "as_needed", "start_year": None, "end_year": None}
    g5 = next(m for m in data if m["id"] == "G5")
    assert g5["external_dependency"] is True and g5["executors"] == []
    assert g5["target"] == {"metric": "women_share_board_of_directors", "value": 35.0, "unit": "%",
                            "year": 2032, "direction": "at_least"}
    assert data[0]["title_en"].startswith("Conduct an independent audit")


def test_reimport_prints_no_changes(db_url, cli, shipped_roadmap):
    assert cli("roadmap", "import", str(shipped_roadmap))[0] == 0
    code, out, _ = cli("roadmap", "import", str(shipped_roadmap), "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["added"] == [] and report["occurrences"]["added"] == 0


def test_bad_document_exits_2_and_writes_nothing(db_url, cli, tmp_path, shipped_document):
    text = shipped_document.read_text(encoding="utf-8").replace("\tЖыл сайынғы негізде", "\tТоқсан сайын")
    bad = tmp_path / "bad.txt"
    bad.write_text(text, encoding="utf-8")
    code, _out, err = cli("roadmap", "import", str(bad))
    assert code == 2
    line = text.splitlines().index("\tТоқсан сайын") + 1
    assert f"bad.txt:{line}" in err and "deadline" in err
    with session_scope(get_engine(db_url)) as s:
        assert s.exec(select(MeasureRow)).all() == []


def test_empty_and_missing_files_exit_2(db_url, cli, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert cli("roadmap", "import", str(empty))[0] == 2
    code, _, err = cli("roadmap", "import", str(tmp_path / "nope.txt"))
    assert code == 2 and "nope.txt" in err


def test_occurrences_filters(db_url, cli, shipped_roadmap):
    cli("roadmap", "import", str(shipped_roadmap))
    rows = json.loads(cli("occurrences", "--period", "2025", "--aspect", "E", "--format", "json")[1])
    assert {r["measure"] for r in rows} == {"E1", "E2", "E3", "E4", "E5", "E6", "E8", "E12", "E14"}
    rows = json.loads(cli("occurrences", "--executor", "corporate_secretary", "--format", "json")[1])
    assert {r["measure"] for r in rows} == {"G2"} and len(rows) == 8
    rows = json.loads(cli("occurrences", "--measure", "S7", "--format", "json")[1])
    assert [r["kind"] for r in rows] == ["progress"] * 7 + ["due"]
    csv_out = cli("occurrences", "--measure", "E4", "--format", "csv")[1]
    assert csv_out.splitlines()[0].startswith("org,measure,period")
    assert cli("occurrences", "--status", "late")[0] == 2


def test_upcoming_and_open(db_url, cli, shipped_roadmap):
    cli("roadmap", "import", str(shipped_roadmap))
    rows = json.loads(cli("upcoming", "--as-of", "2025-12-20", "--days", "15", "--format", "json")[1])
    assert rows and all(r["due"] == "2025-12-31" and r["days_left"] == 11 for r in rows)
    late = json.loads(cli("upcoming", "--as-of", "2026-01-05", "--days", "1", "--format", "json")[1])
    assert late and all((r["days_left"], r["days_overdue"]) == (None, 5) for r in late if r["due"] == "2025-12-31")
    assert all(r["days_left"] is None or r["days_left"] >= 0 for r in late)
    header, *lines = cli("upcoming", "--as-of", "2026-01-05", "--days", "1", "--format", "csv")[1].splitlines()
    assert "days_overdue" in header and lines and not any(",-" in line for line in lines)
    assert cli("upcoming", "--as-of", "20-12-2025")[0] == 2
    code, out, _ = cli("open", "S10", "--due", "2026-03-18", "--by", "esg-office", "--reason", "new board member")
    assert code == 0 and "S10" in out
    rows = json.loads(cli("occurrences", "--measure", "S10", "--format", "json")[1])
    assert [(r["kind"], r["due"]) for r in rows] == [("opened", "2026-03-18")]
    code, _, err = cli("open", "E1", "--due", "2026-03-18")
    assert code == 2 and "not as_needed" in err
    assert cli("open", "Z9", "--due", "2026-03-18")[0] == 2
