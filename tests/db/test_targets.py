"""Targets in the database: seeded from the document, set by the ESG office, readings recorded
with their ledger event in the same commit."""

import json

import pytest
from sqlmodel import select

from flows.usecases import roadmap as roadmaps
from models.core.normalised import load_roadmap
from models.evidence.store import path_for
from models.store import ledger as ledger_store
from models.store.db import session_scope
from models.store.tables import LedgerEntry, MeasureRow, TargetReadingRow, TargetRow
from tests.conftest import NOW, READ_BY, SET_BY
from tests.db.test_ledger_tamper import EngineBeginAttack


def targets(engine):
    with session_scope(engine) as s:
        return {s.get(MeasureRow, t.measure_id).code: t for t in s.exec(select(TargetRow))}


def test_import_seeds_the_documents_targets(engine, imported):
    seeded = targets(engine)
    assert set(seeded) == {"G1", "G5", "G6"}
    g5 = seeded["G5"]
    assert (g5.metric, g5.target_value, g5.unit, g5.target_year, g5.direction, g5.source) == (
        "women_share_board_of_directors", 35.0, "%", 2032, "at_least", "document")
    assert g5.baseline_year is None


def test_reimport_keeps_a_baseline_the_office_set(engine, imported, shipped_roadmap, cli, db_url):
    code, _out, err = cli("target", "set", "G5", *SET_BY, "--baseline-year", "2024", "--baseline-value", "12.5",
                         "--milestone", "2028=25")
    assert code == 0, err
    with session_scope(engine) as s:
        roadmaps.import_roadmap(s, org="KT", loaded=load_roadmap(shipped_roadmap), now=NOW)
    g5 = targets(engine)["G5"]
    assert (g5.baseline_year, g5.baseline_value, g5.milestones, g5.source) == (2024, 12.5, [[2028, 25.0]], "document")
    assert len(targets(engine)) == 3


def test_set_a_target_the_document_does_not_state(engine, imported, cli, db_url):
    code, _out, err = cli("target", "set", "E4", *SET_BY, "--metric", "waste_generated_t", "--unit", "t",
                         "--direction", "at_most", "--baseline-year", "2024", "--baseline-value", "1000",
                         "--target-year", "2030", "--target-value", "700")
    assert code == 0, err
    e4 = targets(engine)["E4"]
    assert (e4.direction, e4.target_value, e4.source) == ("at_most", 700.0, "set")


@pytest.mark.parametrize("args, field", [
    (["E4", "--metric", "waste_t"], "--target-year"),
    (["E4", "--metric", "x", "--target-year", "2030", "--target-value", "1", "--direction", "sideways"], "--direction"),
    (["G5", "--baseline-year", "2033", "--baseline-value", "1"], "--baseline-year"),
    (["G5", "--baseline-year", "2024"], "--baseline-year"),
    (["G5", "--milestone", "2028:25"], "--milestone"),
    (["G5", "--milestone", "2040=25"], "--milestone"),
    (["E4"], "--metric"),
    (["Z9", "--metric", "m"], "MEASURE"),
])
def test_bad_target_input_exits_2_naming_the_field(engine, imported, cli, db_url, args, field):
    before = {k: (t.baseline_year, t.target_value) for k, t in targets(engine).items()}
    code, _, err = cli("target", "set", *args, "--by", "esg", "--reason", "r")
    assert code == 2 and field in err, err
    assert {k: (t.baseline_year, t.target_value) for k, t in targets(engine).items()} == before


def test_record_appends_a_ledger_event_in_the_same_commit(engine, imported, cli, db_url, tmp_path, _isolated_home):
    source = tmp_path / "board-composition-2025.pdf"
    source.write_bytes(b"%PDF-1.4 board composition")
    code, _out, err = cli("target", "record", "G5", "--year", "2025", "--value", "22.2", "--by", "Айгерім",
                         "--evidence-ref", "AR-2025 p.41", "--file", str(source))
    assert code == 0, err
    with session_scope(engine) as s:
        reading = s.exec(select(TargetReadingRow)).one()
        entry = ledger_store.head(s, org="KT")
    assert (reading.year, reading.value, reading.actor, reading.evidence_ref) == (2025, 22.2, "Айгерім", "AR-2025 p.41")
    assert entry.event == "target_reading" and entry.measure == "G5" and entry.period == 2025
    data = entry.data
    assert data["value"] == 22.2 and data["reading_id"] == reading.id
    assert data["evidence"]["files"][0]["sha256"] == reading.evidence_sha256
    assert path_for(_isolated_home / "evidence", reading.evidence_sha256).read_bytes() == source.read_bytes()


def test_a_failed_ledger_append_leaves_no_reading(engine, imported, cli, db_url, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ledger_store, "append", broken)
    with pytest.raises(RuntimeError):
        cli("target", "record", "G6", "--year", "2025", "--value", "30", *READ_BY)
    with session_scope(engine) as s:
        assert s.exec(select(TargetReadingRow)).all() == []
        assert s.exec(select(LedgerEntry).where(LedgerEntry.event == "target_reading")).all() == []


@pytest.mark.parametrize("args, field", [
    (["E1", "--year", "2025", "--value", "1", "--by", "x"], "MEASURE"),   # no target
    (["G5", "--year", "1700", "--value", "1", "--by", "x"], "--year"),
    (["G5", "--year", "2025", "--value", "nan", "--by", "x"], "--value"),
    (["G5", "--year", "2025", "--value", "1", "--by", " "], "--by"),
    (["G5", "--year", "2025", "--value", "1", "--by", "x", "--file", "/nonexistent.pdf"], "--file"),
    (["G5", "--year", "2025", "--value", "1", "--by", "x", "--metric", "nope"], "--metric"),
])
def test_bad_readings_exit_2(engine, imported, cli, db_url, args, field):
    code, _, err = cli("target", "record", *args, "--evidence-ref", "AR-2025")
    assert code == 2 and field in err, err
    with session_scope(engine) as s:
        assert s.exec(select(TargetReadingRow)).all() == []


def test_target_list_judges_the_latest_reading(engine, imported, cli, db_url):
    cli("target", "set", "G5", *SET_BY, "--baseline-year", "2024", "--baseline-value", "10")
    cli("target", "record", "G5", "--year", "2025", "--value", "11", *READ_BY)
    cli("target", "record", "G5", "--year", "2025", "--value", "9", *READ_BY)  # a correction
    cli("target", "record", "G6", "--year", "2025", "--value", "30", *READ_BY)
    code, out, err = cli("target", "list", "--format", "json")
    assert code == 0, err
    by_measure = {t["measure"]: t for t in json.loads(out)}
    assert by_measure["G5"]["latest"]["status"] == "off_track" and by_measure["G5"]["latest"]["value"] == 9
    assert by_measure["G5"]["readings"] == [[2025, 9.0]]  # the correction supersedes: charts plot one a year
    assert by_measure["G6"]["latest"]["status"] == "not_judged"
    assert by_measure["G1"]["latest"]["status"] == "no_reading"


def test_a_target_change_is_a_ledger_event_and_what_the_roadmap_states_needs_the_board(
        engine, imported, cli, db_url, shipped_roadmap):
    code, _, err = cli("target", "set", "G5", "--baseline-year", "2024", "--baseline-value", "10")
    assert code == 2 and "--by" in err
    code, _, err = cli("target", "set", "G5", "--by", "esg", "--baseline-year", "2024", "--baseline-value", "10")
    assert code == 2 and "--reason" in err
    code, _, err = cli("target", "set", "G5", *SET_BY, "--target-value", "5")  # the Board's 35 %
    assert code == 2 and "--approved-by" in err and "target_value" in err
    assert targets(engine)["G5"].target_value == 35.0
    code, _, err = cli("target", "set", "G5", *SET_BY, "--target-value", "30", "--approved-by", "Board")
    assert code == 2 and "together" in err
    code, _, err = cli("target", "set", "G5", "--by", "esg", "--reason", "a smaller Board from 2027",
                       "--target-value", "30", "--approved-by", "Board of Directors",
                       "--decision", "protocol 12 of 2026-03-05")
    assert code == 0, err
    with session_scope(engine) as s:
        entry = ledger_store.head(s, org="KT")
    data = entry.data
    assert (entry.event, entry.actor, entry.measure) == ("target_set", "esg", "G5")
    assert (data["previous"]["target_value"], data["definition"]["target_value"]) == (35.0, 30.0)
    assert (data["approved_by"], data["decision"], data["reason"]) == (
        "Board of Directors", "protocol 12 of 2026-03-05", "a smaller Board from 2027")
    with session_scope(engine) as s:  # a re-import keeps what the Board decided
        roadmaps.import_roadmap(s, org="KT", loaded=load_roadmap(shipped_roadmap), now=NOW)
    assert (targets(engine)["G5"].target_value, targets(engine)["G5"].source) == (30.0, "decision")


def test_readings_need_a_source_and_a_share_stays_within_100(engine, imported, cli, db_url):
    code, _, err = cli("target", "record", "G5", "--year", "2025", "--value", "22", "--by", "x")
    assert code == 2 and "--evidence-ref" in err
    code, _, err = cli("target", "record", "G5", "--year", "2025", "--value", "140", *READ_BY)
    assert code == 2 and "--value" in err and "between 0 and 100" in err
    assert cli("target", "record", "G5", "--year", "2025", "--value", "22", *READ_BY)[0] == 0
    code, _, err = cli("target", "set", "G5", *SET_BY, "--unit", "share", "--approved-by", "Board",
                       "--decision", "protocol 1")
    assert code == 2 and "--unit" in err and "readings" in err


@pytest.fixture
def recorded_targets(engine, imported, cli, db_url):
    """G5 with a baseline the ESG office set (entry 1) and a reading (2); E4 defined by the office (3)."""
    assert cli("target", "set", "G5", *SET_BY, "--baseline-year", "2024", "--baseline-value", "10")[0] == 0
    assert cli("target", "record", "G5", "--year", "2025", "--value", "22", *READ_BY)[0] == 0
    assert cli("target", "set", "E4", *SET_BY, "--metric", "waste_t", "--unit", "t", "--direction", "at_most",
               "--target-year", "2030", "--target-value", "700")[0] == 0
    assert cli("verify")[0] == 0
    return engine


@pytest.mark.parametrize(("table", "where", "values", "words"), [
    (TargetRow, {"metric": "women_share_board_of_directors"}, {"target_value": 5.0},
     "target G5 women_share_board_of_directors: target_value is 5.0 but entry 1 says 35.0"),
    (TargetRow, {"metric": "waste_t"}, {"direction": "at_least"}, "direction is at_least but entry 3 says at_most"),
    (TargetRow, {"metric": "independent_directors_share_board_of_directors"}, {"target_value": 10.0},
     "target_value is 10.0 but the roadmap states 50.0 and no ledger entry records a change"),
    (TargetReadingRow, {"year": 2025}, {"value": 35.0}, "value is 35.0 but entry 2 says 22.0"),
])
def test_a_target_or_reading_changed_outside_esgtrack_is_caught(cli, recorded_targets, table, where, values, words):
    t = table.__table__
    with EngineBeginAttack(recorded_targets) as conn:  # the append-only triggers dropped first
        conn.execute(t.update().where(*(t.c[k] == v for k, v in where.items())).values(**values))
    code, out, err = cli("verify")
    assert code == 1 and words in " ".join((out + err).split()), out + err


def test_a_deleted_reading_is_caught(cli, recorded_targets):
    with EngineBeginAttack(recorded_targets) as conn:
        conn.execute(TargetReadingRow.__table__.delete())
    code, out, err = cli("verify")
    assert code == 1 and "entry 2 records target reading" in " ".join((out + err).split())


@pytest.mark.parametrize("statement", [
    "UPDATE target_reading SET value = 35", "DELETE FROM target_reading",
    "UPDATE roadmap_edition SET sha256 = 'forged'", "DELETE FROM roadmap_edition"])
def test_readings_and_editions_refuse_update_and_delete(recorded_targets, statement):
    import sqlalchemy as sa

    with pytest.raises(sa.exc.DatabaseError, match="append-only"), recorded_targets.begin() as conn:
        conn.execute(sa.text(statement))


def test_an_edition_that_changes_a_stated_target_keeps_verify_whole(engine, imported, cli, db_url, shipped_roadmap,
                                                                    tmp_path):
    assert cli("target", "set", "G5", *SET_BY, "--baseline-year", "2024", "--baseline-value", "10")[0] == 0
    text = shipped_roadmap.read_text(encoding="utf-8")
    stated = "metric: women_share_board_of_directors\n    value: 35.0"
    assert stated in text
    edition = tmp_path / "roadmap-2026-edition.yaml"
    edition.write_text(text.replace(stated, stated.replace("35.0", "40.0")), encoding="utf-8")
    code, _, err = cli("roadmap", "import", str(edition))
    assert code == 0, err
    g5 = targets(engine)["G5"]
    assert (g5.target_value, g5.baseline_value) == (40.0, 10.0)  # the document's value, the office's baseline
    code, out, err = cli("verify")
    assert code == 0, out + err  # the import's entry records the target it changed


def test_a_deleted_target_and_a_share_out_of_range_are_refused(cli, recorded_targets):
    code, _, err = cli("target", "set", "G5", *SET_BY, "--milestone", "2028=300")
    assert code == 2 and "--milestone" in err and "between 0 and 100" in err
    with EngineBeginAttack(recorded_targets) as conn:
        conn.execute(TargetRow.__table__.delete().where(TargetRow.__table__.c.metric == "waste_t"))
    code, out, err = cli("verify")
    assert code == 1 and "target waste_t that entry 3 defines is gone" in " ".join((out + err).split())


def test_a_target_set_before_targets_were_ledger_events_is_recorded_as_it_stands(engine, imported, cli, db_url):
    with session_scope(engine) as s:  # what `target set` wrote before it appended a ledger entry
        e4 = s.exec(select(MeasureRow).where(MeasureRow.code == "E4")).one()
        s.add(TargetRow(org="KT", measure_id=e4.id, metric="waste_t", unit="t", direction="at_most",
                        target_year=2030, target_value=700.0, source="set", updated_at=NOW))
    code, out, err = cli("verify")
    assert code == 1 and "target E4 waste_t" in " ".join((out + err).split())
    assert cli("target", "set", "E4", "--metric", "waste_t", "--by", "esg", "--reason", "recorded")[0] == 0
    assert targets(engine)["E4"].target_value == 700.0
    code, out, err = cli("verify")
    assert code == 0, out + err
