"""The Board report in Markdown, HTML and PDF: the cover, sections, embedded charts, evidence,
done and waived apart, interim check-ins apart, the period's changes, page numbers, headings
kept with their content, and every word in the report's language."""

import base64
import datetime as dt
import html
import re

import pypdf
import pytest
import sqlalchemy as sa

from models.core.evidence_rules import Evidence
from models.store.db import session_scope
from models.store.tables import OccurrenceRow
from tests.conftest import READ_BY, SET_BY

PNG = b"\x89PNG\r\n\x1a\n"
NOW = dt.datetime(2026, 2, 10, 6, 0, tzinfo=dt.UTC)  # after 2025's deadlines: late


@pytest.fixture
def progressed(engine, imported, cli, db_url, tmp_path, _isolated_home):
    """E1 2025 completed with evidence (through the ledger), two more done, S3 2025 waived,
    E6 2025 rescheduled, a target set and readings recorded."""
    from flows.usecases.occurrences import complete
    from models.store.occurrences import OccurrenceRef

    source = tmp_path / "audit-report-2025.pdf"
    source.write_bytes(b"%PDF-1.4 audit")
    with session_scope(engine) as s:
        complete(s, ref=OccurrenceRef(org="KT", measure="E1", period=2025), actor="Айгерім",
                 evidence=Evidence(ref="АР-17", date=dt.date(2026, 2, 1), valid_until=dt.date(2027, 1, 1),
                                   urls=("https://example.kz/esg/2025",)),
                 files=[source], store_root=_isolated_home / "evidence", now=NOW)
    with engine.begin() as conn:
        ids = conn.execute(sa.select(OccurrenceRow.id).where(OccurrenceRow.period == 2025)
                           .order_by(OccurrenceRow.id).offset(1).limit(2)).scalars().all()
        conn.execute(sa.update(OccurrenceRow.__table__).where(OccurrenceRow.id.in_(ids))
                     .values(status="done", late=False, completed_at=NOW))
    assert cli("target", "set", "G5", *SET_BY, "--baseline-year", "2024", "--baseline-value", "10")[0] == 0
    assert cli("target", "record", "G5", "--year", "2025", "--value", "12", *READ_BY)[0] == 0
    assert cli("target", "set", "E4", *SET_BY, "--metric", "waste_t", "--unit", "t", "--direction", "at_most",
               "--baseline-year", "2024", "--baseline-value", "1000", "--target-year", "2030",
               "--target-value", "700")[0] == 0
    assert cli("target", "record", "E4", "--year", "2025", "--value", "990", *READ_BY)[0] == 0
    assert cli("waive", "S3", "--period", "2025", "--by", "esg", "--reason", "merged into S2",
               "--approved-by", "Board committee")[0] == 0
    assert cli("reschedule", "E6", "--period", "2025", "--by", "esg", "--to", "2026-12-31",
               "--reason", "water study moved", "--approved-by", "Chairman of the Management Board")[0] == 0


def report(cli, tmp_path, fmt, lang, name=None):
    out = tmp_path / (name or f"report.{fmt}")
    code, _, err = cli("report", "--period", "2025", "--format", fmt, "--lang", lang,
                       "--out", str(out), "--as-of", "2026-12-01")
    assert code == 0, err
    return out


def test_markdown_has_every_section_and_chart_files(progressed, cli, tmp_path):
    out = report(cli, tmp_path, "md", "en")
    text = out.read_text(encoding="utf-8")
    for heading in ("# ESG roadmap progress report — 2025", "## Summary", "## Progress per aspect",
                    "## Progress per topic", "## Overdue measures", "## Overdue interim progress check-ins",
                    "## Targets", "## Changes in the period", "## Completed items"):
        assert heading in text
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(images) == 1 + 4  # progress + one chart per target (G1, G5, G6, E4)
    for src in images:
        assert (out.parent / src).read_bytes().startswith(PNG)
    assert "| E1 | 2025 |" in text and "№ АР-17 (2026-02-01)" in text and "audit-report-2025.pdf" in text
    assert "off track" in text  # E4: 990 t against 950 t expected


def test_html_embeds_its_charts_and_speaks_kazakh(progressed, cli, tmp_path):
    html = report(cli, tmp_path, "html", "kk").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="kk">' in html
    for heading in ("Аспектілер бойынша орындалу", "Тақырыптар бойынша орындалу", "Мерзімі өткен іс-шаралар",
                    "Мақсатты көрсеткіштер", "Орындалған іс-шаралар"):
        assert f"<h2>{heading}</h2>" in html
    images = re.findall(r'<img alt="[^"]*" src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == 5 and all(base64.b64decode(i).startswith(PNG) for i in images)
    assert "№ АР-17" in html and "https://example.kz/esg/2025" in html
    assert "жоспардан қалып отыр" in html  # E4 off track
    assert "Марат Жаксылыков" in html  # an overdue item's owner, named from the directory


def test_overdue_items_carry_their_escalation_level(progressed, cli, tmp_path):
    html = report(cli, tmp_path, "html", "en").read_text(encoding="utf-8")
    section = html.split("<h2>Overdue measures</h2>")[1].split("<h2>")[0]
    rows = re.findall(r"<tr><td>([A-Z]\d+)</td><td>(\d+)</td>.*?<td class=\"n\">(\d+)</td>"
                      r"<td[^>]*>([^<]+)</td>", section)
    assert rows and ("E1", "2025") not in {(m, p) for m, p, _, _ in rows}
    assert all(days == "335" and level == "4" for m, p, days, level in rows if p == "2025")


def test_pdf_has_pages_fonts_and_images(progressed, cli, tmp_path):
    data = report(cli, tmp_path, "pdf", "ru").read_bytes()
    assert data.startswith(b"%PDF-")
    pages = re.findall(rb"/Type\s*/Page\b(?!s)", data)
    assert len(pages) >= 2
    assert b"DejaVuSans" in data  # a font with Cyrillic and the Kazakh letters, embedded
    assert len(re.findall(rb"/Subtype\s*/Image", data)) >= 5


@pytest.mark.parametrize("args, field", [
    (["--period", "1800", "--out", "x.html"], "--period"),
    (["--period", "2025", "--format", "docx", "--out", "x.docx"], "--format"),
    (["--period", "2025", "--out", "x.html", "--as-of", "yesterday"], "--as-of"),
])
def test_bad_report_options_exit_2(imported, cli, db_url, tmp_path, args, field):
    code, _, err = cli("report", *args)
    assert code == 2 and field in err, err


# --- for the Board: words, counts, cover, changes, pages ----------------------------------

CHECKINS = ("S7", "S15", "G1", "G3", "G5", "G6", "G12", "G16")  # `by 2032` measures: yearly check-ins
KAZAKH_ONLY = re.compile(r"\w*[әғқңөұүһіӘҒҚҢӨҰҮҺІ]\w*")
# Abbreviations of Kazakhtelecom's units, kept as the document has them (config/roadmaps/*.i18n.yaml)
ABBREVIATIONS = ("АҚД", "ЖҚО")


def pdf_pages(path):
    return [page.extract_text() for page in pypdf.PdfReader(path).pages]


def section(text, heading, level="## "):
    return text.split(f"{level}{heading}\n")[1].split(f"\n{level}")[0]


def test_done_and_waived_are_counted_apart_in_every_language(progressed, cli, tmp_path):
    summaries = {"en": "Of 30 items due in 2025: 3 done (10 %), 1 waived, 26 open, of which 26 overdue.",
                 "ru": "Из 30 пунктов со сроком в 2025 году выполнено 3 (10 %), освобождено от исполнения 1, "
                       "не выполнено 26, из них просрочено 26.",
                 "kk": "2025 жылы мерзімі келген 30 тармақтың 3 орындалды (10 %), 1 орындаудан босатылды, "
                       "26 орындалмаған, оның ішінде мерзімі өткені: 26."}
    for lang, summary in summaries.items():
        text = report(cli, tmp_path, "md", lang, f"report-{lang}.md").read_text(encoding="utf-8")
        assert summary in text, lang
        total = next(line for line in text.splitlines() if line.startswith("| **"))
        assert total.endswith("| 30 | 2 | 1 | 26 | 26 | 1 | 10 % |"), total  # % done leaves the waiver out


def test_interim_checkins_stand_apart_from_overdue_measures(progressed, cli, tmp_path):
    text = report(cli, tmp_path, "md", "en").read_text(encoding="utf-8")
    measures = section(text, "Overdue measures")
    checkins = section(text, "Overdue interim progress check-ins")
    assert not {m for m in CHECKINS if f"| {m} |" in measures}
    assert "the measure itself is due on its final deadline" in checkins
    for m in CHECKINS:
        assert f"| {m} | 2025 (interim progress check-in) |" in checkins and "| by 2032 |" in checkins
    assert "Of the overdue, 8 are yearly interim progress check-ins" in text
    ru = report(cli, tmp_path, "html", "ru").read_text(encoding="utf-8")
    assert ru.count("(промежуточная проверка хода исполнения)") == len(CHECKINS)


def test_metrics_have_names_and_parties_speak_the_language(progressed, cli, tmp_path):
    expected = {"en": ("Share of women on the Management Board", "External party: Samruk-Kazyna"),
                "ru": ("Доля женщин в Правлении", "Внешняя сторона: Самрук-Казына"),
                "kk": ("Басқармадағы әйелдердің үлесі", "Сыртқы тарап: Самұрық-Қазына")}
    for lang, (metric, party) in expected.items():
        md = report(cli, tmp_path, "md", lang, f"r-{lang}.md").read_text(encoding="utf-8")
        assert f"| G6 | {metric} |" in md and party in md and "women_share" not in md


def test_cover_names_the_board_decision_and_edition(progressed, cli, tmp_path, engine):
    from models.store.audit import editions

    with session_scope(engine) as s:
        sha = editions(s, org="KT")[-1]["sha256"]
    en = report(cli, tmp_path, "md", "en").read_text(encoding="utf-8")
    assert "| Board decision | Annex to decision No. 20 of the Board of Directors of Kazakhtelecom JSC " \
           "of 11 December 2024 |" in en
    assert (f"| Edition | No. 1 of 1, imported on 2026-11-16 from kazakhtelecom-2025-2032.yaml "
            f"(SHA-256 {sha[:16]}…) |") in en
    assert "| Roadmap | Kazakhtelecom JSC ESG practices development roadmap for 2025–2032 |" in en
    first = " ".join(pdf_pages(report(cli, tmp_path, "pdf", "ru"))[0].split())
    assert "Приложение к решению Совета директоров АО «Казахтелеком» от 11 декабря 2024 года № 20" in first
    assert "Редакция № 1 из 1" in first and "Просроченные мероприятия" not in first  # the cover stands alone


def test_changes_of_the_period_come_from_the_ledger(progressed, cli, tmp_path):
    text = section(report(cli, tmp_path, "md", "en").read_text(encoding="utf-8"), "Changes in the period")
    assert "| 2026-11-16 | S3 | 2025 | waived | merged into S2 | Board committee | esg |" in text
    assert ("| 2026-11-16 | E6 | 2025 | deadline moved from 2025-12-31 to 2026-12-31 | water study moved "
            "| Chairman of the Management Board | esg |") in text
    ru = report(cli, tmp_path, "html", "ru").read_text(encoding="utf-8")
    assert "срок перенесён с 2025-12-31 на 2026-12-31" in ru and "освобождено от исполнения" in ru


def test_pdf_numbers_its_pages_keeps_headings_with_their_content_and_words_whole(progressed, cli, tmp_path):
    from flows.reports.labels import words

    for lang in ("kk", "ru", "en"):
        w = words(lang)
        pages = pdf_pages(report(cli, tmp_path, "pdf", lang, f"report-{lang}.pdf"))
        headings = {w[k] for k in ("summary", "progress_aspect", "progress_topic", "overdue_items", "checkins",
                                   "targets", "changes", "completed_items")}
        seen = set()
        for number, text in enumerate(pages, start=1):
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            assert lines[-1] == w["page_of"].format(page=number, pages=len(pages)), (lang, number)
            body = lines[:-2]  # the footer: the report's title and "page N of M"
            assert body[-1] not in headings, (lang, number, body[-1])
            seen |= headings & set(body)
        assert seen == headings, lang
        flat = " ".join(" ".join(pages).split())
        metric = w["metric_women_share_management_board"]
        assert metric in flat and "women_share" not in flat, lang
        for word in {*metric.split(), *w["measure"].split(), *w["level"].split(), *w["not_escalated"].split()}:
            cuts = [f"{word[:k]} {word[k:]}" for k in range(2, len(word) - 1)]
            assert not [cut for cut in cuts if cut in flat], (lang, word)  # no word cut in two


def test_no_kazakh_in_russian_or_english_reports(progressed, cli, tmp_path):
    from config.settings import get_settings
    from flows.usecases.planning import load_directory_for

    # people's own names are proper names; a distribution list's has its ru/en name (`names`)
    people = [p.name for p in load_directory_for(get_settings()).people.values() if not p.names]
    title = '"Қазақтелеком" АҚ ESG практикаларын дамытудың 2025-2032 жылдарға арналған жол картасы'
    allowed = sorted([title, *people, *ABBREVIATIONS], key=len, reverse=True)
    for lang in ("ru", "en"):
        texts = [report(cli, tmp_path, fmt, lang, f"r-{lang}.{fmt}").read_text(encoding="utf-8")
                 for fmt in ("md", "html")]
        texts += pdf_pages(report(cli, tmp_path, "pdf", lang, f"r-{lang}.pdf"))
        for text in texts:
            text = " ".join(html.unescape(text).split())
            for name in allowed:
                text = text.replace(" ".join(name.split()), " ")
            assert KAZAKH_ONLY.findall(text) == [], lang


def test_headings_go_to_the_next_page_with_their_table(tmp_path):
    """A heading that would land at a page's foot moves to the next page with the table's
    header row and first row."""
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate, Spacer

    from flows.reports import pdf

    pdf._fonts()
    out = tmp_path / "keep.pdf"
    doc = SimpleDocTemplate(str(out), pagesize=A4)
    table = pdf._table(["Measure", "Title"], [["E1", "An item"], ["E2", "Another"]], [100.0, 300.0])
    doc.build([Spacer(1, doc.height - 30), *pdf._section("Lonely heading", doc.width, table)])
    pages = pdf_pages(out)
    assert len(pages) == 2 and "Lonely heading" not in pages[0]
    assert [line.strip() for line in pages[1].split("\n")][:3] == ["Lonely heading", "Measure", "Title"]


@pytest.mark.parametrize("args, message", [
    (["--period", "1999"], "1999 is outside the roadmap's horizon 2025–2032"),
    (["--period", "2033"], "2033 is outside the roadmap's horizon 2025–2032"),
    (["--period", "2028", "--as-of", "2026-12-01"], "2028 has not begun by --as-of 2026-12-01"),
])
def test_a_period_outside_the_horizon_exits_2_and_writes_nothing(imported, cli, db_url, tmp_path, args, message):
    out = tmp_path / "empty.md"
    code, _, err = cli("report", *args, "--format", "md", "--out", str(out))
    assert code == 2 and "--period" in err and message in " ".join(err.split()), err
    assert not out.exists() and not (tmp_path / "empty_charts").exists()


def test_a_report_without_a_roadmap_exits_2(cli, db_url, tmp_path):
    out = tmp_path / "empty.pdf"
    code, _, err = cli("report", "--period", "2025", "--format", "pdf", "--out", str(out), "--as-of", "2026-12-01")
    assert code == 2 and "--period" in err and "no roadmap is imported" in err, err
    assert not out.exists()
