"""Recording completions and other events: occurrence state and ledger entry land together,
evidence fits the completion form, completion stops reminders (SQLite; PostgreSQL when set)."""

import datetime as dt
import json
import stat

import pytest
import sqlalchemy as sa
from sqlmodel import select

from config.settings import get_settings
from flows.usecases import occurrences as events
from flows.usecases import roadmap as roadmaps
from models.core.errors import InputError
from models.core.evidence_rules import Evidence
from models.core.ledger import GENESIS
from models.core.schedule import end_of_day, local_date
from models.evidence.store import path_for
from models.store import audit
from models.store import ledger as ledger_store
from models.store import occurrences as occ_store
from models.store.db import session_scope
from models.store.tables import LedgerEntry, OccurrenceRow
from tests.db.ledger_helpers import NOW, UTC, complete, complete_order, ref, rows


def occurrence(engine, code: str, period: int = 2025, org: str = "KT") -> OccurrenceRow:
    with session_scope(engine) as s:
        return events.select_occurrence(s, ref=ref(code, period, org=org), statuses=("open",))[0]


def verify(engine, org: str = "KT", anchor=None):
    with session_scope(engine) as s:
        return audit.verify_org(s, org=org, store_root=get_settings().evidence_dir, anchor=anchor)


def test_completing_marks_done_and_appends_an_entry(engine, imported):
    rec = complete_order(engine)
    occ = occurrence(engine, "E6")
    assert occ.status == "done" and occ.completed_at == NOW and occ.late is False
    [row] = rows(engine)
    assert (row["seq"], row["event"], row["actor"], row["measure"], row["period"]) == \
        (1, "completed", "aigerim", "E6", 2025)
    assert row["occurrence_id"] == occ.id and row["prev_hash"] == GENESIS
    data = json.loads(row["payload"])["data"]
    assert data["evidence"]["ref"] == "E6-2025/1" and data["evidence"]["date"] == "2025-10-01"
    assert data["completion_kind"] == "order" and data["late"] is False
    assert rec.entry.hash == row["hash"]
    result = verify(engine)
    assert result.ok and result.head == row["hash"]


def test_a_completion_after_the_due_date_is_late(engine, imported):
    complete_order(engine, now=dt.datetime(2026, 1, 5, 5, 0, tzinfo=UTC))
    occ = occurrence(engine, "E6")
    assert occ.late is True
    assert json.loads(rows(engine)[0]["payload"])["data"]["days_late"] == 5


def test_a_completion_on_the_due_day_in_almaty_is_on_time(engine, imported):
    # 31 December 23:00 in Almaty is 18:00 UTC: still the due day.
    complete_order(engine, now=dt.datetime(2025, 12, 31, 18, 0, tzinfo=UTC))
    assert occurrence(engine, "E6").late is False


def test_files_are_hashed_and_stored_once_by_content(engine, imported, tmp_path):
    report = tmp_path / "Есеп 2025.pdf"
    report.write_bytes(b"%PDF-1.7 integrated annual report")
    copy = tmp_path / "copy.pdf"
    copy.write_bytes(report.read_bytes())
    complete(engine, "E2", files=(report,))
    complete(engine, "E3", files=(copy,), urls=("https://kt.kz/ar-2025",))
    files = [json.loads(r["payload"])["data"]["evidence"]["files"][0] for r in rows(engine)]
    assert files[0]["sha256"] == files[1]["sha256"] and files[0]["name"] == "Есеп 2025.pdf"
    stored = path_for(get_settings().evidence_dir, files[0]["sha256"])
    assert stored.read_bytes() == report.read_bytes() and files[0]["size"] == stored.stat().st_size
    assert not stored.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert len([p for p in get_settings().evidence_dir.rglob("*") if p.is_file()]) == 1


def test_missing_evidence_writes_nothing(engine, imported, tmp_path):
    with pytest.raises(InputError, match="E6 is completed by an order: give --evidence-ref"):
        complete(engine, "E6")
    missing = tmp_path / "nope.pdf"
    with pytest.raises(InputError, match=r"nope\.pdf"):
        complete(engine, "E2", files=(missing,))
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"scan")
    with pytest.raises(InputError, match="--evidence-date"):
        complete(engine, "E6", files=(scan,), ref="12")
    assert rows(engine) == [] and occurrence(engine, "E6").status == "open"
    assert not get_settings().evidence_dir.exists() or not any(get_settings().evidence_dir.rglob("*"))


def test_a_failure_after_recording_leaves_neither_change(engine, imported):
    with pytest.raises(RuntimeError), session_scope(engine) as s:
        events.complete(s, ref=ref("E6"), actor="a", evidence=Evidence(ref="1", date=dt.date(2025, 1, 1)),
                        files=[], store_root=get_settings().evidence_dir, now=NOW)
        raise RuntimeError("crash before commit")
    assert rows(engine) == [] and occurrence(engine, "E6").status == "open"


def test_completing_twice_is_refused(engine, imported):
    complete_order(engine)
    with pytest.raises(InputError, match="E6 2025 is done on 2025-11-03: reopen it first"):
        complete_order(engine)
    assert len(rows(engine)) == 1


def test_certificates_need_validity(engine, imported):
    with pytest.raises(InputError, match="--valid-until"):
        complete(engine, "G8", ref="ISO 37001 №77")
    complete(engine, "G8", ref="ISO 37001 №77", valid_until=dt.date(2028, 5, 1))
    assert occurrence(engine, "G8").status == "done"


def test_a_progress_check_in_takes_a_progress_update(engine, imported):
    with pytest.raises(InputError, match="progress"):
        complete(engine, "S7", 2025)
    rec = complete(engine, "S7", 2025, note="Policy drafted; 40 % of managers trained")
    assert rec.occurrence.kind == "progress"


def test_completion_stops_reminders_and_escalations(engine, imported):
    from flows.usecases.planning import load_directory_for, load_policy_for, plan_orgs

    settings, as_of = get_settings(), dt.date(2026, 1, 20)  # E6 2025 is 20 days overdue
    with session_scope(engine) as s:
        plan = plan_orgs(s, orgs=["KT"], as_of=as_of, directory=load_directory_for(settings),
                         policy=load_policy_for(settings))
    assert any(i.measure == "E6" and i.period == 2025 for i in plan.items)
    complete_order(engine, now=dt.datetime(2026, 1, 19, tzinfo=UTC))
    e6 = occurrence(engine, "E6")
    with session_scope(engine) as s:
        still_open = occ_store.find(s, org="KT", where=occ_store.OccurrenceFilter(status="open"))
        plan = plan_orgs(s, orgs=["KT"], as_of=as_of, directory=load_directory_for(settings),
                         policy=load_policy_for(settings))
    assert e6.id not in {o.id for o, _ in still_open}
    assert not [i for i in plan.items if i.occurrence_id == e6.id]
    assert plan.items  # the others are still reminded


def test_reopen_then_complete_again(engine, imported):
    complete_order(engine)
    with pytest.raises(InputError, match="--reason"), session_scope(engine) as s:
        events.reopen(s, ref=ref("E6"), actor="audit", reason=" ", now=NOW)
    with session_scope(engine) as s:
        events.reopen(s, ref=ref("E6"), actor="audit", reason="wrong order number", now=NOW)
    occ = occurrence(engine, "E6")
    assert occ.status == "open" and occ.completed_at is None and occ.late is None
    complete_order(engine)
    assert [r["event"] for r in rows(engine)] == ["completed", "reopened", "completed"]
    assert verify(engine).ok


def test_reopening_an_open_occurrence_is_refused(engine, imported):
    with pytest.raises(InputError, match="only a done or waived"), session_scope(engine) as s:
        events.reopen(s, ref=ref("E6"), actor="a", reason="r", now=NOW)


def test_reschedule_moves_the_deadline_and_survives_a_reimport(engine, imported, shipped_roadmap):
    from models.core.normalised import load_roadmap

    with pytest.raises(InputError, match="--approved-by"), session_scope(engine) as s:
        events.reschedule(s, ref=ref("E6"), actor="esg", to=dt.date(2026, 3, 31),
                          reason="waiting for the regulator", approved_by="", now=NOW)
    with session_scope(engine) as s:
        events.reschedule(s, ref=ref("E6"), actor="esg", to=dt.date(2026, 3, 31),
                          reason="waiting for the regulator", approved_by="Management Board, protocol 7",
                          now=NOW)
    occ = occurrence(engine, "E6")
    assert occ.due_at == end_of_day(dt.date(2026, 3, 31)) and occ.rescheduled
    assert local_date(occ.planned_due_at) == dt.date(2025, 12, 31)
    with session_scope(engine) as s:
        roadmaps.import_roadmap(s, org="KT", loaded=load_roadmap(shipped_roadmap), now=NOW)
    assert occurrence(engine, "E6").due_at == end_of_day(dt.date(2026, 3, 31))
    data = json.loads(rows(engine)[0]["payload"])["data"]
    assert (data["from"], data["to"], data["approved_by"]) == \
        ("2025-12-31", "2026-03-31", "Management Board, protocol 7")
    complete_order(engine, now=dt.datetime(2026, 2, 1, tzinfo=UTC))
    assert occurrence(engine, "E6").late is False


def test_waive_and_not_applicable(engine, imported):
    with session_scope(engine) as s:
        events.waive(s, ref=ref("E6"), actor="esg", reason="merged into E8", approved_by="CAO", now=NOW)
        events.waive(s, ref=ref("E8"), actor="esg", reason="no such sites", approved_by="CAO",
                     now=NOW, not_applicable=True)
    assert occurrence(engine, "E6").status == "waived"
    assert [json.loads(r["payload"])["data"]["ground"] for r in rows(engine)] == ["waived", "not_applicable"]
    with pytest.raises(InputError, match="is waived"):
        complete_order(engine)


def test_an_unknown_period_names_the_known_ones(engine, imported):
    with pytest.raises(InputError, match="E6 has no occurrence in 2031; its periods: 2025"):
        complete_order(engine, period=2031)


def test_organisations_have_separate_chains(engine, imported, shipped_roadmap):
    from models.core.normalised import load_roadmap

    with session_scope(engine) as s:
        roadmaps.import_roadmap(s, org="KCELL", loaded=load_roadmap(shipped_roadmap), now=NOW)
    complete_order(engine)
    complete_order(engine, org="KCELL")
    complete_order(engine, "E8")
    by_org = {(r["org"], r["seq"]): r for r in rows(engine)}
    assert set(by_org) == {("KT", 1), ("KT", 2), ("KCELL", 1)}
    assert by_org[("KCELL", 1)]["prev_hash"] == GENESIS
    assert verify(engine, "KT").ok and verify(engine, "KCELL").ok
    with session_scope(engine) as s:
        assert ledger_store.chain_orgs(s) == ["KCELL", "KT"]


@pytest.mark.parametrize("statement", ["UPDATE ledger_entry SET actor = 'mallory'",
                                       "DELETE FROM ledger_entry"])
def test_the_database_refuses_update_and_delete(engine, imported, statement):
    complete_order(engine)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
        conn.exec_driver_sql(statement)
    assert rows(engine)[0]["actor"] == "aigerim"


@pytest.mark.parametrize("statement", ["UPDATE ledger_entry SET actor = 'x'", "DELETE FROM ledger_entry"])
def test_create_all_databases_have_the_triggers_too(memory_engine, statement):
    with memory_engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO organisation (code, name, created_at) VALUES ('KT', '', '2025-01-01')")
    with session_scope(memory_engine) as s:
        ledger_store.append(s, org="KT", event="completed", actor="a", at=NOW, data={})
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), memory_engine.begin() as conn:
        conn.exec_driver_sql(statement)


def test_the_log_filters(engine, imported, tmp_path):
    complete_order(engine)
    complete(engine, "S2", actor="Айгерім", urls=("https://kt.kz/s2",))
    complete_order(engine, "E8", actor="bolat")
    with session_scope(engine) as s:
        def seqs(**kw):
            return [r["seq"] for r in audit.log_rows(s, where=ledger_store.LogFilter(**kw))]

        assert seqs() == [1, 2, 3]
        assert seqs(aspect="s") == [2] and seqs(measure="e8") == [3]
        assert seqs(actor="айгерім") == [2] and seqs(event="completed", period=2025) == [1, 2, 3]
        assert seqs(period=2026) == [] and seqs(org="KCELL") == []


def test_reads_for_reports(engine, imported):
    """How a report reads completions: the entries of an event for some occurrences."""
    rec = complete_order(engine)
    with session_scope(engine) as s:
        found = ledger_store.entries(s, where=ledger_store.LogFilter(
            org="KT", event="completed", occurrence_ids=(rec.occurrence.id,)))
        data = ledger_store.to_entry(found[0]).data
    assert data["evidence"]["ref"] == "E6-2025/1"


def test_verify_catches_an_occurrence_marked_done_outside_esgtrack(engine, imported):
    complete_order(engine)
    with session_scope(engine) as s:
        occ = s.exec(select(OccurrenceRow).where(OccurrenceRow.status == "open")).first()
        occ.status = "done"
        s.add(occ)
    result = verify(engine)
    assert not result.ok and result.first_bad == 2 and f"occurrence {occ.id}" in result.reason


def test_the_orm_cannot_edit_an_entry_either(engine, imported):
    complete_order(engine)
    with session_scope(engine) as s:
        row = s.exec(select(LedgerEntry)).one()
        row.actor = "mallory"
        s.add(row)
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            s.flush()
        s.rollback()
