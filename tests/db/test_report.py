"""The Board report in Markdown, HTML and PDF: sections, embedded charts, evidence, languages."""

import base64
import datetime as dt
import re

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
    """E1 2025 completed with evidence (through the ledger), two more done, a target set and
    readings recorded."""
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
                    "## Progress per topic", "## Overdue items", "## Targets", "## Completed items"):
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
    section = html.split("<h2>Overdue items</h2>")[1].split("<h2>")[0]
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
