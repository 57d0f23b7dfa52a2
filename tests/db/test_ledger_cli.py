"""The ledger's commands end to end: exit codes, messages that name what is missing, and the
entries that imports and opened occurrences write (SQLite; PostgreSQL when set)."""

import datetime as dt
import json

import pytest

from tests.db.ledger_helpers import rows

JANUARY = dt.datetime(2026, 1, 20, 4, tzinfo=dt.UTC)  # E6 2025 overdue, its new date ahead


@pytest.fixture
def kt(cli, db_url, shipped_roadmap, snapshot):
    def build() -> None:
        code, _out, err = cli("roadmap", "import", str(shipped_roadmap), "--by", "esg-office")
        assert code == 0, err

    snapshot("ledger-kt", build)
    from models.store.db import get_engine

    return get_engine(db_url)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_an_import_is_recorded_with_its_edition_and_hash(cli, kt, shipped_roadmap):
    [entry] = rows(kt)
    payload = json.loads(entry["payload"])
    assert entry["event"] == "roadmap_imported" and entry["actor"] == "esg-office"
    data = payload["data"]
    assert data["source_name"] == shipped_roadmap.name and len(data["sha256"]) == 64
    assert data["edition_id"] == 1 and data["measure_count"] == 49 and data["changed"] is True
    assert len(data["changes"]["added"]) == 49
    cli("roadmap", "import", str(shipped_roadmap))
    second = json.loads(rows(kt)[1]["payload"])["data"]
    assert second["edition_id"] == 2 and second["changed"] is False and second["sha256"] == data["sha256"]


def test_missing_evidence_is_exit_2_naming_it(cli, kt):
    code, _out, err = cli("complete", "E6", "--period", "2025", "--by", "aigerim", "--evidence-ref", "45")
    assert code == 2
    assert "E6 is completed by an order: give --evidence-date (the order's date)" in flat(err)
    code, _, err = cli("complete", "E2", "--period", "2025", "--by", "aigerim", "--file", "/nonexistent/r.pdf")
    assert code == 2 and "/nonexistent/r.pdf" in err
    code, _, err = cli("complete", "E6", "--period", "2025", "--evidence-ref", "45",
                       "--evidence-date", "2025-10-01")
    assert code == 2 and "--by" in err
    code, _, err = cli("complete", "E6", "--period", "2025", "--by", "a", "--evidence-ref", "45",
                       "--evidence-date", "1 Oct")
    assert code == 2 and "--evidence-date" in err
    assert len(rows(kt)) == 1  # only the import


def test_complete_prints_the_entry_and_lateness(cli, kt):
    code, out, err = cli("complete", "E6", "--period", "2025", "--by", "aigerim",
                         "--evidence-ref", "45-п", "--evidence-date", "2025-10-01")
    assert code == 0, err
    head = rows(kt)[-1]["hash"]
    assert "completed E6 2025" in out and f"ledger entry KT#2 {head}" in out
    assert "late by" in out or "on time" in out
    code, _, err = cli("complete", "E6", "--period", "2025", "--by", "aigerim",
                       "--evidence-ref", "45-п", "--evidence-date", "2025-10-01")
    assert code == 2 and "reopen it first" in flat(err)


def test_reopen_reschedule_waive_from_the_command_line(cli, kt):
    assert cli("complete", "E6", "--period", "2025", "--by", "a", "--evidence-ref", "1",
               "--evidence-date", "2025-01-10")[0] == 0
    assert cli("reopen", "E6", "--period", "2025", "--by", "audit", "--reason", "wrong scan")[0] == 0
    code, out, err = cli("reschedule", "E6", "--period", "2025", "--by", "esg", "--to", "2026-02-27",
                         "--reason", "regulator", "--approved-by", "CEO", now=JANUARY)
    assert code == 0 and "to 2026-02-27" in out, err
    assert cli("waive", "E6", "--period", "2025", "--by", "esg", "--reason", "dropped",
               "--approved-by", "Board")[0] == 0
    assert [r["event"] for r in rows(kt)][1:] == ["completed", "reopened", "rescheduled", "waived"]
    code, _, err = cli("reschedule", "E6", "--period", "2025", "--by", "esg", "--to", "2026-03-01",
                       "--reason", "x", "--approved-by", "y")
    assert code == 2 and "only an open occurrence" in flat(err)
    assert cli("complete", "E6", "--period", "2025", "--by", "a", "--kind", "weekly")[0] == 2


def test_an_opened_occurrence_is_recorded_and_completed(cli, kt, tmp_path):
    code, _, err = cli("open", "S10", "--due", "2026-04-30", "--by", "esg-office",
                         "--reason", "new Board members")
    assert code == 0, err
    opened = rows(kt)[-1]
    data = json.loads(opened["payload"])["data"]
    assert opened["event"] == "occurrence_opened" and opened["measure"] == "S10"
    assert data["reason"] == "new Board members" and data["occurrence"]["due"] == "2026-04-30"
    proof = tmp_path / "training.pdf"
    proof.write_bytes(b"attendance list")
    code, _out, err = cli("complete", "S10", "--period", "2026", "--by", "hr", "--file", str(proof))
    assert code == 0, err
    assert rows(kt)[-1]["occurrence_id"] == opened["occurrence_id"]
    code, _, err = cli("complete", "S10", "--period", "2027", "--by", "hr", "--file", str(proof))
    assert code == 2 and "S10 has no occurrence in 2027; its periods: 2026" in flat(err)


def test_verify_covers_every_organisation(cli, kt, shipped_roadmap):
    assert cli("roadmap", "import", str(shipped_roadmap), "--org", "KCELL")[0] == 0
    code, out, err = cli("verify", "--format", "json")
    assert code == 0, err
    assert [(r["org"], r["ok"], r["entries"]) for r in json.loads(out)] == [("KCELL", True, 1), ("KT", True, 1)]
    code, out, _ = cli("verify", "--org", "KCELL")
    assert code == 0 and out.startswith("KCELL: intact, 1 entries")
    assert cli("verify", "--org", "NOPE")[0] == 2


def test_verify_on_an_empty_database(cli, db_url):
    code, out, _ = cli("verify")
    assert code == 0 and "no ledger entries yet" in out


def test_a_past_deadline_needs_a_reason_and_none_precedes_its_period(cli, kt):
    moved = ("reschedule", "E6", "--period", "2025", "--by", "esg", "--reason", "regulator", "--approved-by", "CEO")
    code, _, err = cli(*moved, "--to", "2026-02-27")  # the CLI's day is in November 2026
    assert code == 2 and "--backdate" in flat(err) and "in the past" in flat(err)
    code, _, err = cli(*moved, "--to", "2024-12-31", "--backdate", "x")
    assert code == 2 and "before its period starts (2025-01-01)" in flat(err)
    code, _, err = cli(*moved, "--to", "2026-02-27", "--backdate", "approved on 2026-02-20, recorded late")
    assert code == 0, err
    assert json.loads(rows(kt)[-1]["payload"])["data"]["backdate"] == "approved on 2026-02-20, recorded late"


def test_a_completion_recorded_later_is_judged_by_the_day_it_was_done(cli, kt):
    order = ("complete", "E6", "--period", "2025", "--by", "aigerim", "--evidence-ref", "45-п",
             "--evidence-date", "2025-12-20")
    code, _, err = cli(*order, "--completed-on", "2026-11-17")  # the CLI's day is 2026-11-16
    assert code == 2 and "--completed-on" in err and "after today" in flat(err)
    code, out, err = cli(*order, "--completed-on", "2025-12-20")  # due 2025-12-31, entered in 2026
    assert code == 0 and "on time" in out, err
    data = json.loads(rows(kt)[-1]["payload"])["data"]
    assert (data["late"], data["completed_on"]) == (False, "2025-12-20")
    assert data["completed_at"].startswith("2025-12-20")
    assert str(rows(kt)[-1]["at"]).startswith("2026-11-16")  # when it was entered (by whom: its actor)
    code, _, err = cli("verify")
    assert code == 0, err  # the occurrence's completion time is the one the entry names


@pytest.mark.parametrize("command", [["occurrences", "--measure", "Z1"], ["log", "--measure", "E99"],
                                     ["occurrences", "--org", "KT", "--measure", "E99"]])
def test_an_unknown_measure_is_named_not_an_empty_answer(cli, kt, command):
    code, out, err = cli(*command)
    assert code == 2 and "--measure" in err and f"no measure '{command[-1]}'" in flat(err), (out, err)
    assert "nothing" not in out


def test_a_known_measure_with_nothing_to_show_is_still_an_answer(cli, kt):
    code, out, err = cli("log", "--measure", "E6")
    assert code == 0 and "no ledger entries match" in out, err
    code, out, err = cli("occurrences", "--measure", "e6", "--format", "json")
    assert code == 0 and {o["measure"] for o in json.loads(out)} == {"E6"}, err
