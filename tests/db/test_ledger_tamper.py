"""Tampering with a database as an attacker with database access would: the append-only
triggers dropped, rows edited, deleted, inserted and reordered, evidence files changed.
`esgtrack verify` exits 1 and names the entry (SQLite; PostgreSQL when set)."""

import dataclasses
import datetime as dt
import json
import os

import pytest
import sqlalchemy as sa

from config.settings import get_settings
from models.core.ledger import canonical_json, entry_hash, make_entry
from models.evidence.store import path_for
from models.store.ledger import to_entry
from models.store.tables import LedgerEntry, OccurrenceRow
from tests.db.ledger_helpers import attack, rows

T = LedgerEntry.__table__


@pytest.fixture
def chain(cli, db_url, shipped_roadmap, tmp_path, snapshot):
    """KT's chain: 1 import, 2 E6 done, 3 E2 done with a file, 4 S1 rescheduled, 5 G8 done,
    6 E8 waived, 7 S2 done with a link."""

    def build() -> None:
        report = tmp_path / "integrated-report-2025.pdf"
        report.write_bytes(b"%PDF integrated annual report 2025")
        commands = [
            ["roadmap", "import", str(shipped_roadmap)],
            ["complete", "E6", "--period", "2025", "--by", "aigerim", "--evidence-ref", "45-p",
             "--evidence-date", "2025-10-01"],
            ["complete", "E2", "--period", "2025", "--by", "aigerim", "--file", str(report)],
            ["reschedule", "S1", "--period", "2026", "--by", "esg", "--to", "2027-03-31",
             "--reason", "budget", "--approved-by", "Management Board"],
            ["complete", "G8", "--period", "2025", "--by", "bolat", "--evidence-ref", "ISO-37001-9",
             "--valid-until", "2099-01-01"],
            ["waive", "E8", "--period", "2025", "--by", "esg", "--reason", "merged",
             "--approved-by", "CAO"],
            ["complete", "S2", "--period", "2025", "--by", "dana", "--url", "https://kt.kz/s2"],
        ]
        for command in commands:
            code, out, err = cli(*command)
            assert code == 0, (command, out, err)
        assert [r["seq"] for r in rows(engine_of(db_url))] == list(range(1, 8))

    snapshot("ledger-chain", build)
    return engine_of(db_url)


def engine_of(url):
    from models.store.db import get_engine

    return get_engine(url)


def entry(engine, seq: int):
    with engine.connect() as conn:
        row = conn.execute(sa.select(T).where(T.c.org == "KT", T.c.seq == seq)).one()
    return to_entry(LedgerEntry(**row._mapping))


def insert(engine, forged, **overrides) -> None:
    values = dict(dataclasses.asdict(forged).items())
    values["at"] = dt.datetime.fromisoformat(values["at"])
    with engine.begin() as conn:
        conn.execute(T.insert().values(**{**values, **overrides}))


def set_seq(engine, old: int, new: int) -> None:
    with engine.begin() as conn:
        conn.execute(T.update().where(T.c.org == "KT", T.c.seq == old).values(seq=new))


def rehashed(e, **changes):
    data = json.loads(e.payload)
    data.update(changes)
    text = canonical_json(data)
    return dataclasses.replace(e, payload=text, hash=entry_hash(e.prev_hash, text), **changes)


def assert_caught(cli, seq: int, *words: str):
    code, out, err = cli("verify")
    assert code == 1, out + err
    out, err = " ".join(out.split()), " ".join(err.split())  # rich wraps long lines
    assert f"BROKEN at entry {seq}" in out and f"entry {seq}" in err
    for word in words:
        assert word in out + err


def test_an_intact_ledger_verifies(cli, chain):
    code, out, err = cli("verify")
    assert code == 0, err
    assert f"KT: intact, 7 entries, head {entry(chain, 7).hash}" in out


def test_edited_column(cli, chain):
    attack(chain, "UPDATE ledger_entry SET actor = 'mallory' WHERE org = 'KT' AND seq = 3")
    assert_caught(cli, 3, "column 'actor'")


def test_edited_time(cli, chain):
    with EngineBeginAttack(chain) as conn:
        conn.execute(T.update().where(T.c.seq == 5).values(
            at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC)))
    assert_caught(cli, 5, "column 'at'")


def test_edited_payload(cli, chain):
    attack(chain, "UPDATE ledger_entry SET payload = REPLACE(payload, '45-p', '46-p') WHERE seq = 2")
    assert_caught(cli, 2, "hash does not match")


def test_edited_and_rehashed(cli, chain):
    forged = rehashed(entry(chain, 3), actor="mallory")
    with EngineBeginAttack(chain) as conn:
        conn.execute(T.update().where(T.c.seq == 3).values(payload=forged.payload, actor="mallory",
                                                           hash=forged.hash))
    assert_caught(cli, 3, "rewritten")


def test_deleted_entry(cli, chain):
    attack(chain, "DELETE FROM ledger_entry WHERE org = 'KT' AND seq = 3")
    assert_caught(cli, 3, "missing")


def test_deleted_entry_with_the_rest_renumbered(cli, chain):
    attack(chain, "DELETE FROM ledger_entry WHERE org = 'KT' AND seq = 3")
    for seq in range(4, 8):
        set_seq(chain, seq, seq - 1)
    assert_caught(cli, 3, "deleted")


def test_deleted_last_entry(cli, chain):
    attack(chain, "DELETE FROM ledger_entry WHERE org = 'KT' AND seq = 7")
    assert_caught(cli, 7, "no ledger entry records it")


def test_inserted_entry(cli, chain):
    attack(chain)
    for seq in range(7, 2, -1):
        set_seq(chain, seq, seq + 1)
    forged = make_entry(entry(chain, 2), org="KT", event="completed", actor="mallory",
                        at=dt.datetime(2026, 3, 2, 5, 0, tzinfo=dt.UTC),
                        data={"evidence": {"ref": "forged"}}, measure="E10", period=2027)
    fake_prev = "f" * 64  # chaining it to entry 2 would collide with entry 3 on (org, prev_hash)
    insert(chain, dataclasses.replace(forged, prev_hash=fake_prev, hash=entry_hash(fake_prev, forged.payload)))
    assert_caught(cli, 3, "inserted")


def test_forged_completion_appended(cli, chain):
    attack(chain)
    forged = make_entry(entry(chain, 7), org="KT", event="completed", actor="mallory",
                        at=dt.datetime(2026, 3, 2, 5, 0, tzinfo=dt.UTC),
                        data={}, measure="S3", period=2025, occurrence_id=_occurrence_id(chain, "S3"))
    insert(chain, forged)
    assert_caught(cli, 8, "changed outside esgtrack")


def test_reordered_entries(cli, chain):
    attack(chain)
    set_seq(chain, 3, -3)
    set_seq(chain, 4, 3)
    set_seq(chain, -3, 4)
    assert_caught(cli, 3, "recorded as entry 4")


def test_changed_evidence_file(cli, chain):
    sha = json.loads(entry(chain, 3).payload)["data"]["evidence"]["files"][0]["sha256"]
    stored = path_for(get_settings().evidence_dir, sha)
    os.chmod(stored, 0o644)
    stored.write_bytes(b"%PDF a different report")
    assert_caught(cli, 3, "was changed")


def test_vanished_evidence_file(cli, chain):
    sha = json.loads(entry(chain, 3).payload)["data"]["evidence"]["files"][0]["sha256"]
    path_for(get_settings().evidence_dir, sha).unlink()
    assert_caught(cli, 3, "missing from the store")


def test_an_earlier_head_survives_appends(cli, chain):
    head = entry(chain, 5).hash
    code, out, err = cli("verify", "--head", head)
    assert code == 0, err
    assert f"head {head} is entry 5; 2 entries came after it" in out


def test_a_rewritten_history_loses_the_auditors_head(cli, chain):
    """An attacker who edits entry 2 and re-computes every later hash passes the plain check;
    the head handed to an auditor earlier is what catches it."""
    head = entry(chain, 7).hash
    prev_hash = entry(chain, 1).hash
    stored = [entry(chain, seq) for seq in range(2, 8)]
    with EngineBeginAttack(chain) as conn:
        for e in stored:
            seq = e.seq
            text = e.payload.replace("45-p", "99-p")
            new_hash = entry_hash(prev_hash, text)
            conn.execute(T.update().where(T.c.org == "KT", T.c.seq == seq).values(
                payload=text, prev_hash=prev_hash, hash=new_hash))
            prev_hash = new_hash
    assert cli("verify")[0] == 0
    code, out, err = cli("verify", "--head", head)
    assert code == 1 and f"head {head} is not in the ledger" in " ".join(err.split())
    assert "intact" not in out.replace("NOT INTACT", "") and "NOT INTACT" in out  # never "intact" on exit 1


def test_malformed_head_is_bad_input(cli, chain):
    code, _out, err = cli("verify", "--head", "abc")
    assert code == 2 and "--head" in err


def _occurrence_id(engine, code: str, period: int = 2025) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT o.id FROM occurrence o JOIN measure m ON m.id = o.measure_id "
            "WHERE m.org = 'KT' AND m.code = :code AND o.period = :period AND o.kind = 'due'"),
            {"code": code, "period": period}).scalar_one()


class EngineBeginAttack:
    """`with EngineBeginAttack(engine) as conn:` — triggers dropped, one transaction."""

    def __init__(self, engine):
        self.engine = engine

    def __enter__(self):
        attack(self.engine)
        self.context = self.engine.begin()
        return self.context.__enter__()

    def __exit__(self, *exc):
        return self.context.__exit__(*exc)


# --- the occurrences' state against the ledger ----------------------------------------------

OCC = OccurrenceRow.__table__


def edit_occurrence(engine, code: str, period: int = 2025, **values) -> None:
    """An attacker's UPDATE of one occurrence row (no ledger entry)."""
    target = _occurrence_id(engine, code, period)
    with engine.begin() as conn:
        conn.execute(OCC.update().where(OCC.c.id == target).values(**values))


def stored_late(engine, code: str) -> bool:
    with engine.connect() as conn:
        return bool(conn.execute(sa.select(OCC.c.late).where(OCC.c.id == _occurrence_id(engine, code))).scalar_one())


@pytest.mark.parametrize(("code", "seq", "change", "field"), [
    ("E6", 2, lambda late: {"late": not late}, "late"),
    ("E6", 2, lambda _: {"completed_at": dt.datetime(2025, 12, 30, 6, tzinfo=dt.UTC)}, "completed_at"),
    ("E6", 2, lambda _: {"due_at": dt.datetime(2026, 6, 30, 18, 59, tzinfo=dt.UTC)}, "due"),
    ("E8", 6, lambda _: {"completed_at": dt.datetime(2025, 12, 1, tzinfo=dt.UTC), "late": False}, "completed_at"),
])
def test_an_edited_done_or_waived_occurrence_is_caught(cli, chain, code, seq, change, field):
    edit_occurrence(chain, code, **change(stored_late(chain, code)))
    assert_caught(cli, seq, f"{field} is", f"but entry {seq} says", "changed outside esgtrack")


def test_a_rescheduled_due_date_moved_again_is_caught(cli, chain):
    edit_occurrence(chain, "S1", 2026, due_at=dt.datetime(2028, 3, 31, 18, 59, tzinfo=dt.UTC))
    assert_caught(cli, 4, "due is 2028-03-31", "but entry 4 says 2027-03-31")


def test_a_deadline_marked_rescheduled_without_an_entry_is_caught(cli, chain):
    edit_occurrence(chain, "E1", rescheduled=True)
    assert_caught(cli, 8, "rescheduled is True but no ledger entry records it")


def test_a_completion_time_on_an_open_occurrence_is_caught(cli, chain):
    edit_occurrence(chain, "E1", completed_at=dt.datetime(2025, 12, 1, tzinfo=dt.UTC))
    assert_caught(cli, 8, "completed_at is", "no ledger entry records it")


def test_an_open_deadline_moved_without_a_reschedule_is_caught(cli, chain):
    edit_occurrence(chain, "E1", due_at=dt.datetime(2026, 6, 30, 18, 59, tzinfo=dt.UTC))
    assert_caught(cli, 8, "due is 2026-06-30 but the roadmap plans 2025-12-31")


@pytest.mark.parametrize(("change", "words"), [
    ({"status": "withdrawn"}, "it is withdrawn but the roadmap plans it"),
    ({"due_at": dt.datetime(2026, 6, 30, 18, 59, tzinfo=dt.UTC),
      "planned_due_at": dt.datetime(2026, 6, 30, 18, 59, tzinfo=dt.UTC)},
     "planned due is 2026-06-30 but the roadmap plans 2025-12-31"),
])
def test_an_open_obligation_hidden_or_moved_with_its_plan_is_caught(cli, chain, change, words):
    edit_occurrence(chain, "E1", **change)
    assert_caught(cli, 8, words, "changed outside esgtrack")
