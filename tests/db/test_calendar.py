"""Calendar feeds parsed back with icalendar: one event per open occurrence, alarms at the
policy's offsets, stable UIDs, the person's language."""

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from config import DEFAULT_POLICY
from models.core.policy import load_policy
from models.core.schedule import local_date
from models.store.db import session_scope
from models.store.tables import MeasureRow, OccurrenceRow
from tests.conftest import NOW

OFFSETS = sorted(load_policy(DEFAULT_POLICY).reminder_days, reverse=True)


def open_occurrences(engine, role=None):
    with session_scope(engine) as s:
        rows = s.execute(sa.select(OccurrenceRow, MeasureRow)
                         .join(MeasureRow, OccurrenceRow.measure_id == MeasureRow.id)
                         .where(OccurrenceRow.status == "open")).all()
    return {f"KT-occ{o.id}@esgtrack": (o, m) for o, m in rows
            if role is None or role in (*m.executor_roles, *m.unit_roles)}


def events(path):
    cal = Calendar.from_ical(path.read_bytes())
    return cal, {str(e["UID"]): e for e in cal.walk("VEVENT")}


def close_one(engine):
    with engine.begin() as conn:
        first = conn.execute(sa.select(OccurrenceRow.id).order_by(OccurrenceRow.id).limit(1)).scalar()
        conn.execute(sa.update(OccurrenceRow.__table__).where(OccurrenceRow.id == first)
                     .values(status="done", late=False))


def test_all_open_occurrences_become_events_with_alarms(engine, imported, cli, db_url, tmp_path):
    close_one(engine)
    out = tmp_path / "all.ics"
    code, _, err = cli("calendar", "--all", "--lang", "en", "--out", str(out))
    assert code == 0, err
    assert out.read_bytes().startswith(b"BEGIN:VCALENDAR\r\n")
    _cal, found = events(out)
    expected = open_occurrences(engine)
    assert set(found) == set(expected) and len(found) == 219
    for uid, event in found.items():
        occ, m = expected[uid]
        start = event.decoded("DTSTART")
        assert type(start) is dt.date and start == local_date(occ.due_at)
        assert event.decoded("DTEND") == start + dt.timedelta(days=1)
        assert str(event["SUMMARY"]) == f"{m.code} {occ.period}: {' '.join(m.title_en.split())}"
        alarms = event.walk("VALARM")
        assert [-a.decoded("TRIGGER").days for a in alarms] == OFFSETS
        assert all(str(a["ACTION"]) == "DISPLAY" and str(a["DESCRIPTION"]) for a in alarms)
        described = str(event["DESCRIPTION"])  # English throughout: no Kazakh form, no command to run
        form = "a progress note" if occ.kind == "progress" else m.completion_form_en
        assert f"Completion form: {form}" in described and "esgtrack" not in described
        assert not re.search("[әғқңөұүһі]", described), described
        assert "What to do: " in described


def test_reexport_keeps_uids_and_a_moved_deadline_raises_the_sequence(engine, imported, cli, db_url, tmp_path):
    first, second = tmp_path / "1.ics", tmp_path / "2.ics"
    cli("calendar", "--all", "--out", str(first))
    _, before = events(first)
    uid = next(iter(before))
    occurrence_id = int(uid.split("occ")[1].split("@")[0])
    with engine.begin() as conn:
        conn.execute(sa.update(OccurrenceRow.__table__).where(OccurrenceRow.id == occurrence_id).values(
            due_at=dt.datetime(2027, 3, 1, 18, 59, 59, tzinfo=dt.UTC),
            updated_at=NOW + dt.timedelta(minutes=5)))  # after the import's stamp
    cli("calendar", "--all", "--out", str(second))
    _, after = events(second)
    assert set(after) == set(before)
    assert after[uid].decoded("DTSTART") == dt.date(2027, 3, 1)
    assert int(after[uid]["SEQUENCE"]) > int(before[uid]["SEQUENCE"])


def test_a_persons_feed_has_their_roles_in_their_language(engine, imported, cli, db_url, tmp_path):
    out = tmp_path / "md-infosec.ics"
    code, _, err = cli("calendar", "--person", "md-infosec", "--out", str(out))  # language: ru
    assert code == 0, err
    cal, found = events(out)
    expected = open_occurrences(engine, "managing_director_information_security")
    assert set(found) == set(expected) and found
    for uid, event in found.items():
        assert str(event["SUMMARY"]).endswith(" ".join(expected[uid][1].title_ru.split()))
    assert "Савченко" in str(cal["X-WR-CALNAME"])


def test_the_esg_office_also_gets_the_external_measures(engine, imported, cli, db_url, tmp_path):
    out = tmp_path / "esg.ics"
    assert cli("calendar", "--person", "esg-head", "--out", str(out))[0] == 0
    _, found = events(out)
    measures = {str(e["SUMMARY"]).split()[0] for e in found.values()}
    assert {"G1", "G3", "G5", "G6"} <= measures


def test_a_units_feed(engine, imported, cli, db_url, tmp_path):
    out = tmp_path / "unit.ics"
    code, _, err = cli("calendar", "--unit", "information_security_service", "--lang", "kk", "--out", str(out))
    assert code == 0, err
    _, found = events(out)
    assert set(found) == set(open_occurrences(engine, "information_security_service"))


@pytest.mark.parametrize("args, field", [
    ([], "--person"), (["--all", "--unit", "x"], "--person"),
    (["--person", "nobody"], "--person"), (["--unit", "no_such_role"], "--unit"),
])
def test_bad_calendar_options_exit_2(imported, cli, db_url, tmp_path, args, field):
    out = tmp_path / "x.ics"
    code, _, err = cli("calendar", *args, "--out", str(out))
    assert code == 2 and field in err, err
    assert not out.exists()
