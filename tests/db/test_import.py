"""Importing and re-importing roadmaps into a real database (SQLite; PostgreSQL when set)."""

import datetime as dt
import re
from pathlib import Path

from sqlmodel import select

from flows.usecases import roadmap as roadmaps
from models.core.normalised import load_roadmap
from models.store import measures
from models.store import occurrences as occ_store
from models.store.db import session_scope
from models.store.tables import MeasureRow, OccurrenceRow
from tests.conftest import NOW


def do_import(engine, path: Path, org="KT"):
    with session_scope(engine) as s:
        return roadmaps.import_roadmap(s, org=org, loaded=load_roadmap(path), now=NOW)


def count(engine, model, **where):
    with session_scope(engine) as s:
        rows = s.exec(select(model)).all()
        return sum(1 for r in rows if all(getattr(r, k) == v for k, v in where.items()))


def test_first_import_creates_measures_and_occurrences(engine, shipped_document):
    report = do_import(engine, shipped_document)
    assert len(report.added) == 49
    assert report.occurrences["added"] == 220
    assert count(engine, MeasureRow) == 49
    assert count(engine, OccurrenceRow) == 220


def test_reimport_is_idempotent(engine, shipped_document):
    do_import(engine, shipped_document)
    report = do_import(engine, shipped_document)
    assert not report.changed
    assert report.occurrences == {"added": 0, "moved": 0, "withdrawn": 0, "unchanged": 220}
    assert count(engine, MeasureRow) == 49 and count(engine, OccurrenceRow) == 220


def test_organisations_are_separate(engine, shipped_document):
    do_import(engine, shipped_document, org="KT")
    do_import(engine, shipped_document, org="KCELL")
    assert count(engine, MeasureRow, org="KCELL") == 49
    assert count(engine, OccurrenceRow) == 440


def revise(text: str) -> str:
    """A revised edition: E6 moves to 2026, E8 is removed, a new measure is inserted as E2
    (E2..E7 are renumbered E3..E8), S10 is unchanged."""
    e6 = ("\tБұйрық\n\tБас әкімшілік директор.   \n"
          "\tКорпоративтік басқару және тұрақты даму департаменті.\n\n\t\nҚалдықтар")
    text = text.replace("\t2025 ж.\n" + e6, "\t2026 ж.\n" + e6)
    e8 = re.search(r"\t8\.\n.*?(?=\tБиоалуантүрлілік)", text, re.S).group(0)
    text = text.replace(e8, "")
    new = ("\t2\n\tЖаңа іс-шара: су тұтыну мақсаттары.\n\t2026 ж.\n\tБұйрық\n\tБас әкімшілік директор\n"
           "\tКорпоративтік басқару және тұрақты даму департаменті\n\n")
    head, tail = text.split("\t2\n\tЖыл сайын қаржылық", 1)
    tail = "\t2\n\tЖыл сайын қаржылық" + tail
    for n in range(7, 1, -1):  # renumber E2..E7 → E3..E8 within the E table only
        e_table, rest = tail.split(" 1. \"Қазақтелеком\" АҚ ESG", 1)
        e_table = re.sub(rf"^\t{n}\.?\n", f"\t{n + 1}\n", e_table, count=1, flags=re.M)
        tail = e_table + " 1. \"Қазақтелеком\" АҚ ESG" + rest
    return head + new + tail


def test_revised_edition_updates_in_place(engine, shipped_document, tmp_path):
    do_import(engine, shipped_document)
    with session_scope(engine) as s:  # a recorded completion of the 2025 E6 order
        e6 = measures.get_measure(s, org="KT", code="E6")
        occ = s.exec(select(OccurrenceRow).where(OccurrenceRow.measure_id == e6.id)).one()
        occ.status, occ.completed_at, occ.late = "done", dt.datetime(2025, 11, 1, tzinfo=dt.UTC), False
        s.add(occ)
        e6_id = e6.id
    revised = tmp_path / "roadmap-rev2.txt"
    revised.write_text(revise(shipped_document.read_text(encoding="utf-8")), encoding="utf-8")
    report = do_import(engine, revised)
    assert report.added == ["E2"]
    assert report.removed == ["E8"]
    assert ("E2", "E3") in report.renumbered and ("E6", "E7") in report.renumbered
    assert [d[0] for d in report.deadlines] == ["E7"]  # the old E6, now 2026
    with session_scope(engine) as s:
        moved = s.get(MeasureRow, e6_id)
        assert moved.code == "E7" and moved.start_year == 2026
        occs = s.exec(select(OccurrenceRow).where(OccurrenceRow.measure_id == e6_id)).all()
        by_period = {o.period: o.status for o in occs}
        assert by_period == {2025: "done", 2026: "open"}  # the completion is untouched
        codes = [m.code for m in measures.measures(s, org="KT")]
        assert len(codes) == len(set(codes)) == 49
        e8_old = s.exec(select(MeasureRow).where(MeasureRow.active == False)).all()  # noqa: E712
        assert [m.code for m in e8_old] == ["E8"] or [m.title[:10] for m in e8_old]
    again = do_import(engine, revised)
    assert not again.changed and again.occurrences["added"] == 0


def test_withdrawn_occurrences_of_removed_measures(engine, shipped_document, tmp_path):
    do_import(engine, shipped_document)
    revised = tmp_path / "rev.txt"
    revised.write_text(revise(shipped_document.read_text(encoding="utf-8")), encoding="utf-8")
    report = do_import(engine, revised)
    assert report.occurrences["withdrawn"] >= 1
    with session_scope(engine) as s:
        opened = occ_store.find(s, org="KT", where=occ_store.OccurrenceFilter(measure="E8"))
        assert all(o.status != "withdrawn" for o, _ in opened)


def test_a_new_measure_is_marked_untranslated_until_translated(cli, db_url, shipped_document, tmp_path):
    """A revised edition's new measure: ru/en readers see its Kazakh title marked as not
    translated, the import warns, `roadmap translate` fills it in, and a re-import keeps it."""
    from models.core.roadmap import UNTRANSLATED

    assert cli("roadmap", "import", str(shipped_document))[0] == 0
    assert cli("roadmap", "translate")[2].split()[1:3] == ["0", "measure(s)"]
    revised = tmp_path / "roadmap-rev2.txt"
    revised.write_text(revise(shipped_document.read_text(encoding="utf-8")), encoding="utf-8")
    code, out, err = cli("roadmap", "import", str(revised))
    assert code == 0 and "no Russian or English title for E2:" in " ".join(err.split()), err
    import json
    shown = {m["id"]: m["title_en"] for m in json.loads(cli("measures", "--format", "json")[1])}
    assert shown["E2"] == UNTRANSLATED["en"] + "Жаңа іс-шара: су тұтыну мақсаттары."
    assert not shown["E3"].startswith("[")  # the renumbered measures keep their translations
    _, _, err = cli("directory", "check")  # the example directory has Russian and English readers
    assert "KT:E2: no Russian or English title yet; en, ru readers see" in " ".join(err.split()), err
    code, out, err = cli("roadmap", "translate")
    assert code == 0 and out.startswith("E2: Жаңа іс-шара") and "1 measure(s)" in err
    assert cli("roadmap", "translate", "E2", "--ru", "[нет перевода] x")[0] == 2  # a placeholder is no translation
    assert cli("roadmap", "translate", "E99", "--en", "x")[0] == 2
    assert cli("roadmap", "translate", "E2")[0] == 2
    code, out, err = cli("roadmap", "translate", "E2", "--ru", "Новое мероприятие: цели по водопотреблению",
                         "--en", "New measure: water consumption targets")
    assert code == 0 and "translated E2" in out, err
    shown = {m["id"]: m["title_ru"] for m in json.loads(cli("measures", "--format", "json")[1])}
    assert shown["E2"] == "Новое мероприятие: цели по водопотреблению"
    code, _, err = cli("roadmap", "import", str(revised))  # the same edition again: the translation stays
    assert code == 0 and "no Russian or English title" not in err
    assert "no Russian or English title" not in cli("directory", "check")[2]
    assert json.loads(cli("measures", "--format", "json")[1])[1]["title_en"] == "New measure: water consumption targets"
    assert "New measure: water consumption targets" in cli("measures", "--lang", "en", "--format", "csv")[1]


def test_translations_from_a_file_land_all_or_none(cli, db_url, shipped_document, tmp_path):
    revised = tmp_path / "roadmap-rev2.txt"
    revised.write_text(revise(shipped_document.read_text(encoding="utf-8")), encoding="utf-8")
    assert cli("roadmap", "import", str(revised))[0] == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("measures:\n  E2: {title_en: New measure}\n  Z9: {title_en: nothing}\n", encoding="utf-8")
    code, _, err = cli("roadmap", "translate", "--file", str(bad))
    assert code == 2 and "Z9" in err
    assert cli("roadmap", "translate")[1].startswith("E2:")  # E2 was not half-translated
    good = tmp_path / "good.yaml"
    good.write_text("measures:\n  E2: {title_ru: Новое, title_en: New}\n", encoding="utf-8")
    assert cli("roadmap", "translate", "--file", str(good))[0] == 0
    assert "0 measure(s)" in cli("roadmap", "translate")[2]
    malformed = tmp_path / "malformed.yaml"
    malformed.write_text("measures: [E2]\n", encoding="utf-8")
    code, _, err = cli("roadmap", "translate", "--file", str(malformed))
    assert code == 2 and "malformed.yaml" in err and "measures" in err
