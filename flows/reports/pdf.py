"""The Board report as PDF (reportlab; DejaVu Sans from matplotlib's fonts, which covers the
Kazakh letters ә ғ қ ң ө ұ ү һ і — reportlab's built-in fonts do not)."""

from __future__ import annotations

import io
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from markupsafe import escape

from flows.reports.board import BoardReport
from flows.reports.status import percent_text
from models.core.progress import FIELDS, TOTAL, GroupRow

if TYPE_CHECKING:
    from reportlab.platypus import Image, Paragraph, Table

COLUMNS = FIELDS
FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"
PAD = 3  # cell padding, points


@lru_cache(maxsize=1)
def _fonts() -> None:
    import matplotlib
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont(FONT, str(folder / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(folder / "DejaVuSans-Bold.ttf")))
    addMapping(FONT, 0, 0, FONT)
    addMapping(FONT, 1, 0, BOLD)


@lru_cache(maxsize=1)
def _styles() -> dict:
    from reportlab.lib.styles import ParagraphStyle

    base = ParagraphStyle("base", fontName=FONT, fontSize=8.5, leading=10.5)
    return {
        "base": base,
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=16, leading=20, spaceAfter=4),
        "h2": ParagraphStyle("h2", parent=base, fontName=BOLD, fontSize=12, leading=15,
                             spaceBefore=10, spaceAfter=4, textColor="#0d47a1"),
        "meta": ParagraphStyle("meta", parent=base, textColor="#555555", fontSize=9),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9),
        "num": ParagraphStyle("num", parent=base, fontSize=7.5, leading=9, alignment=2),
        "head": ParagraphStyle("head", parent=base, fontName=BOLD, fontSize=6.8, leading=8.2),
    }


def _p(text: object, style: str = "cell") -> Paragraph:
    from reportlab.platypus import Paragraph

    return Paragraph(str(escape(str(text))), _styles()[style])


def _head(text: str, room: float) -> Paragraph:
    """A header cell whose longest word fits its column (smaller type rather than a word cut
    in two)."""
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.platypus import Paragraph

    style = _styles()["head"]
    longest = max((stringWidth(word, BOLD, style.fontSize) for word in str(text).split()), default=0)
    if longest > room:
        size = max(5.0, style.fontSize * room * 0.92 / longest)
        style = ParagraphStyle(f"head{size:.2f}", parent=style, fontSize=size, leading=size * 1.2)
    return Paragraph(str(escape(str(text))), style)


def _table(head: list[str], rows: list[list], widths: list[float], totals: Iterable[int] = frozenset()) -> Table:
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    data = [[_head(h, w - 2 * PAD) for h, w in zip(head, widths, strict=True)]]
    data += [[c if hasattr(c, "wrap") else _p(c) for c in row] for row in rows]
    table = Table(data, colWidths=widths, repeatRows=1)
    style = [("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#b0bec5")),
             ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eceff1")),
             ("VALIGN", (0, 0), (-1, -1), "TOP"),
             ("LEFTPADDING", (0, 0), (-1, -1), PAD), ("RIGHTPADDING", (0, 0), (-1, -1), PAD)]
    style += [("BACKGROUND", (0, i + 1), (-1, i + 1), colors.HexColor("#f5f5f5")) for i in totals]
    table.setStyle(TableStyle(style))
    return table


def _image(png: bytes, width: float) -> Image:
    from reportlab.lib.utils import ImageReader
    from reportlab.platypus import Image

    w, h = ImageReader(io.BytesIO(png)).getSize()
    return Image(io.BytesIO(png), width=width, height=width * h / w)


def _progress(rows: list[GroupRow], head: str, w: dict, width: float) -> Table:
    body = [[r.label, *(_p(v, "num") for v in (*(getattr(r.counts, c) for c in COLUMNS),
                                                  percent_text(r.counts.percent)))] for r in rows]
    totals = {i for i, r in enumerate(rows) if r.group == TOTAL}
    number = (width * 0.68) / 7
    return _table([head, *(w[c] for c in COLUMNS), w["percent_complete"]], body,
                  [width * 0.32] + [number] * 7, totals)


def render_pdf(report: BoardReport) -> bytes:
    """A4 portrait PDF bytes."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate, Spacer

    _fonts()
    w, buffer = report.words, io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=14 * mm, bottomMargin=14 * mm,
                            title=f"{w['report_title']} — {report.period}", author="esgtrack",
                            lang=report.lang)
    width = doc.width
    story = [_p(f"{w['report_title']} — {report.period}", "title"),
             _p(f"{w['report_for']}. {w['organisation']}: {', '.join(report.orgs)}. "
                f"{w['as_of']}: {report.as_of}.", "meta"),
             _p(w["summary"], "h2"), _p(report.summary_line(), "base"),
             _p(w["progress_aspect"], "h2"), _progress(report.aspects, w["aspect"], w, width),
             Spacer(1, 4 * mm), _image(report.progress_png, width * 0.85),
             _p(w["progress_topic"], "h2"), _progress(report.topics, w["topic"], w, width)]
    story += _overdue(report, width) + _targets(report, width) + _completed(report, width)
    story += [Spacer(1, 6 * mm), _p(f"{w['generated']}, {report.as_of}", "meta")]
    doc.build(story)
    return buffer.getvalue()


def _overdue(report: BoardReport, width: float) -> list:
    w = report.words
    if not report.overdue:
        return [_p(w["overdue_items"], "h2"), _p(w["nothing_overdue"], "base")]
    rows = [[i["measure"], i["period"], i["title"], i["due"], i["days_overdue"], i["level_text"], i["owner"]]
            for i in report.overdue]
    widths = [0.075, 0.07, 0.315, 0.12, 0.08, 0.09, 0.25]
    return [_p(w["overdue_items"], "h2"),
            _table([w["measure"], w["period"], w["title"], w["due_date"], w["days_overdue"],
                    w["level"], w["owner"]], rows, [width * f for f in widths])]


def _targets(report: BoardReport, width: float) -> list:
    w = report.words
    if not report.target_rows:
        return [_p(w["targets"], "h2"), _p(w["no_targets"], "base")]
    rows = [[t["measure"], t["metric"], t["target"], t["baseline"], t["latest"], t["expected"],
             t["status_text"]] for t in report.target_rows]
    widths = [0.075, 0.265, 0.16, 0.12, 0.12, 0.11, 0.15]
    story = [_p(w["targets"], "h2"),
             _table([w["measure"], w["metric"], w["target"], w["baseline"], w["latest"],
                     w["expected"], w["status"]], rows, [width * f for f in widths])]
    return [*story, _chart_grid([report.target_pngs[t.target_id] for t in report.targets], width)]


def _chart_grid(pngs: list[bytes], width: float) -> Table:
    """Charts two to a row."""
    from reportlab.platypus import Table

    cells = [_image(png, width * 0.48) for png in pngs]
    rows = [cells[i:i + 2] + [""] * (2 - len(cells[i:i + 2])) for i in range(0, len(cells), 2)]
    return Table(rows, colWidths=[width * 0.5] * 2)


def _completed(report: BoardReport, width: float) -> list:
    w = report.words
    if not report.completed:
        return [_p(w["completed_items"], "h2"), _p(w["nothing_completed"], "base")]
    rows = [[c["measure"], c["period"], c["title"], c["due"],
             c["completed_on"] + (f" ({w['late_mark']})" if c["late"] else ""),
             "; ".join(c["evidence"]) or w["none"]] for c in report.completed]
    widths = [0.075, 0.07, 0.375, 0.12, 0.12, 0.24]
    return [_p(w["completed_items"], "h2"),
            _table([w["measure"], w["period"], w["title"], w["due_date"], w["completed_on"],
                    w["evidence"]], rows, [width * f for f in widths])]
