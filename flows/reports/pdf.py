"""The Board report as PDF (reportlab; DejaVu Sans from matplotlib's fonts, which covers the
Kazakh letters ә ғ қ ң ө ұ ү һ і — reportlab's built-in fonts do not): a cover, "page N of M"
on every page, headings kept with what follows them, words never cut inside a table cell."""

from __future__ import annotations

import io
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import escape

from flows.reports.board import BoardReport, done_percent
from flows.reports.status import percent_text
from models.core.progress import FIELDS, TOTAL, GroupRow

if TYPE_CHECKING:
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import Flowable, Image, Paragraph, Table

COLUMNS = FIELDS
FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"
PAD = 3  # cell padding, points
MIN_SIZE = 5.0  # the smallest type a cell shrinks to so that its longest word fits


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
def _styles() -> dict[str, ParagraphStyle]:
    from reportlab.lib.styles import ParagraphStyle

    base = ParagraphStyle("base", fontName=FONT, fontSize=8.5, leading=10.5)
    return {
        "base": base,
        "cover": ParagraphStyle("cover", parent=base, fontName=BOLD, fontSize=20, leading=25, spaceAfter=10),
        "h2": ParagraphStyle("h2", parent=base, fontName=BOLD, fontSize=12, leading=15,
                             spaceBefore=10, spaceAfter=4, textColor="#0d47a1"),
        "meta": ParagraphStyle("meta", parent=base, textColor="#555555", fontSize=9),
        "note": ParagraphStyle("note", parent=base, textColor="#444444", fontSize=8, leading=10, spaceAfter=3),
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9),
        "num": ParagraphStyle("num", parent=base, fontSize=7.5, leading=9, alignment=2),
        "head": ParagraphStyle("head", parent=base, fontName=BOLD, fontSize=6.8, leading=8.2),
        "key": ParagraphStyle("key", parent=base, fontName=BOLD, fontSize=9.5, leading=12),
        "value": ParagraphStyle("value", parent=base, fontSize=9.5, leading=12),
    }


def _p(text: object, style: str = "cell", room: float | None = None) -> Paragraph:
    """A paragraph; given the room a table column leaves, in type small enough that its longest
    word fits (a smaller size rather than a word cut in two)."""
    from reportlab.platypus import Paragraph

    chosen = _styles()[style] if room is None else _fitting(str(text), style, room)
    return Paragraph(str(escape(str(text))), chosen)


@lru_cache(maxsize=512)
def _fitting(text: str, style: str, room: float) -> ParagraphStyle:
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase.pdfmetrics import stringWidth

    base = _styles()[style]
    longest = max((stringWidth(word, base.fontName, base.fontSize) for word in text.split()), default=0)
    if longest <= room:
        return base
    size = max(MIN_SIZE, base.fontSize * room * 0.95 / longest)
    return ParagraphStyle(f"{style}{size:.2f}", parent=base, fontSize=size, leading=size * 1.2)


def _table(head: list[str], rows: list[list[Any]], widths: list[float], totals: Iterable[int] = frozenset()) -> Table:
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    widths = _widened(head, rows, widths)
    data = [[_p(h, "head", w - 2 * PAD) for h, w in zip(head, widths, strict=True)]]
    data += [[c if hasattr(c, "wrap") else _p(c, "cell", w - 2 * PAD) for c, w in zip(row, widths, strict=True)]
             for row in rows]
    table = Table(data, colWidths=widths, repeatRows=1)
    style = [("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#b0bec5")),
             ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eceff1")),
             ("VALIGN", (0, 0), (-1, -1), "TOP"),
             ("LEFTPADDING", (0, 0), (-1, -1), PAD), ("RIGHTPADDING", (0, 0), (-1, -1), PAD)]
    style += [("BACKGROUND", (0, i + 1), (-1, i + 1), colors.HexColor("#f5f5f5")) for i in totals]
    table.setStyle(TableStyle(style))
    return table


def _widened(head: list[str], rows: list[list[Any]], widths: list[float]) -> list[float]:
    """Column widths in which every word fits at the smallest type (a header such as
    "Мероприятие" over a column of short ids), the room taken from the widest column."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    def need(column: int) -> float:
        texts = [head[column], *(str(r[column]) for r in rows if not hasattr(r[column], "wrap"))]
        longest = max((stringWidth(word, BOLD, MIN_SIZE) for t in texts for word in t.split()), default=0)
        return longest / 0.95 + 2 * PAD + 1

    out = list(widths)
    for column in range(len(out)):
        short = need(column) - out[column]
        if short > 0:
            widest = max(range(len(out)), key=lambda i: out[i])
            out[column] += short
            out[widest] -= short
    return out


def _image(png: bytes, width: float) -> Image:
    from reportlab.lib.utils import ImageReader
    from reportlab.platypus import Image

    w, h = ImageReader(io.BytesIO(png)).getSize()
    return Image(io.BytesIO(png), width=width, height=width * h / w)


def _section(title: str, width: float, first: Flowable, *rest: Flowable) -> list[Flowable]:
    """A heading kept with the start of what follows it: a page break before the heading
    when the page has no room for the heading, any note under it and the first lines (a
    table's header row and first row, or a chart) of its content."""
    from reportlab.platypus import CondPageBreak, Paragraph

    heading = _p(title, "h2")
    needed = heading.wrap(width, 10_000)[1] + heading.style.spaceBefore + heading.style.spaceAfter
    for flowable in (first, *rest):
        height = flowable.wrap(width, 10_000)[1]
        row_heights = getattr(flowable, "_rowHeights", None)
        needed += sum(row_heights[:2]) if row_heights else height
        if not isinstance(flowable, Paragraph):
            break
    return [CondPageBreak(min(needed, 400.0)), heading, first, *rest]


def _progress(rows: list[GroupRow], head: str, w: dict[str, str], width: float) -> Table:
    body = [[r.label, *(_p(v, "num") for v in (*(getattr(r.counts, c) for c in COLUMNS),
                                                  percent_text(done_percent(r.counts))))] for r in rows]
    totals = {i for i, r in enumerate(rows) if r.group == TOTAL}
    number = (width * 0.68) / 7
    return _table([head, *(w[c] for c in COLUMNS), w["percent_done"]], body,
                  [width * 0.32] + [number] * 7, totals)


def _numbered(text: str, title: str) -> type[Canvas]:
    """A canvas that writes "page N of M" (localised) and the report's title at the foot of
    every page, once the number of pages is known."""
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    class Numbered(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._held: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802  (reportlab's name)
            self._held.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            for state in self._held:
                self.__dict__.update(state)
                self.setFont(FONT, 7.5)
                self.setFillColor("#666666")
                page_width = self._pagesize[0]
                self.drawString(15 * mm, 8 * mm, title)
                self.drawRightString(page_width - 15 * mm, 8 * mm,
                                     text.format(page=self._pageNumber, pages=len(self._held)))
                super().showPage()
            super().save()

    return Numbered


def render_pdf(report: BoardReport) -> bytes:
    """A4 portrait PDF bytes: the cover, then the sections."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate, Spacer

    _fonts()
    w, buffer = report.words, io.BytesIO()
    title = f"{w['report_title']} — {report.period}"
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=14 * mm, bottomMargin=16 * mm, title=title, author="esgtrack",
                            lang=report.lang)
    width = doc.width
    story = _cover(report, width)
    summary = [_p(report.summary_line(), "base")]
    if report.summary_checkins():
        summary.append(_p(report.summary_checkins(), "base"))
    story += _section(w["summary"], width, *summary)
    story += _section(w["progress_aspect"], width, _progress(report.aspects, w["aspect"], w, width),
                      Spacer(1, 4 * mm), _image(report.progress_png, width * 0.85))
    story += _section(w["progress_topic"], width, _progress(report.topics, w["topic"], w, width))
    story += _overdue(report, width) + _checkins(report, width) + _targets(report, width)
    story += _changes(report, width) + _completed(report, width)
    story += [Spacer(1, 6 * mm), _p(f"{w['generated']}, {report.as_of}", "meta")]
    doc.build(story, canvasmaker=_numbered(w["page_of"], title))
    return buffer.getvalue()


def _cover(report: BoardReport, width: float) -> list[Flowable]:
    """The first page: what the report is, for whom, on which roadmap edition and Board decision."""
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Spacer, Table, TableStyle

    w = report.words
    pairs: list[tuple[str, str]] = [(w["organisation"], ", ".join(report.orgs)), (w["period"], str(report.period)),
                                    (w["as_of"], str(report.as_of))]
    for c in report.covers:
        prefix = f"{c.org}: " if len(report.covers) > 1 else ""
        pairs.append((w["cover_roadmap"], prefix + (c.title_local or c.title)))
        if c.title_local and c.title_local != c.title:
            pairs.append((w["cover_original_title"], c.title))
        pairs += [(w["cover_decision"], prefix + (c.decision or w["cover_decision_unknown"])),
                  (w["cover_edition"], prefix + c.edition_line(w)),
                  (w["cover_horizon"], prefix + f"{c.horizon[0]}–{c.horizon[1]}")]
    rows = [[_p(k, "key", width * 0.3), _p(v, "value", width * 0.7 - 2 * PAD)] for k, v in pairs]
    table = Table(rows, colWidths=[width * 0.3, width * 0.7])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 6)]))
    return [Spacer(1, 40 * mm), _p(f"{w['report_title']} — {report.period}", "cover"),
            _p(w["report_for"], "meta"), Spacer(1, 12 * mm), table, PageBreak()]


def _overdue(report: BoardReport, width: float) -> list[Flowable]:
    w = report.words
    if not report.overdue:
        return _section(w["overdue_items"], width, _p(w["nothing_overdue"], "base"))
    rows = [[i["measure"], i["period"], i["title"], i["due"], i["days_overdue"], i["level_text"], i["owner"]]
            for i in report.overdue]
    widths = [0.075, 0.07, 0.315, 0.12, 0.08, 0.09, 0.25]
    return _section(w["overdue_items"], width,
                    _table([w["measure"], w["period"], w["title"], w["due_date"], w["days_overdue"],
                            w["level"], w["owner"]], rows, [width * f for f in widths]))


def _checkins(report: BoardReport, width: float) -> list[Flowable]:
    """Interim progress check-ins, apart from the measures: their own heading, a note on what
    they are, each row marked as a check-in with the measure's final deadline."""
    w = report.words
    if not report.checkins:
        return _section(w["checkins"], width, _p(w["nothing_checkins"], "base"))
    rows = [[i["measure"], f"{i['period']} ({w['kind_progress']})", i["title"], i["due"], i["days_overdue"],
             i["final"], i["owner"]] for i in report.checkins]
    widths = [0.075, 0.13, 0.285, 0.11, 0.08, 0.09, 0.23]
    return _section(w["checkins"], width, _p(report.checkins_note(), "note"),
                    _table([w["measure"], w["period"], w["title"], w["due_date"], w["days_overdue"],
                            w["final_deadline"], w["owner"]], rows, [width * f for f in widths]))


def _targets(report: BoardReport, width: float) -> list[Flowable]:
    w = report.words
    if not report.target_rows:
        return _section(w["targets"], width, _p(w["no_targets"], "base"))
    rows = [[t["measure"], t["metric"], t["target"], t["baseline"], t["latest"], t["expected"],
             t["status_text"]] for t in report.target_rows]
    widths = [0.075, 0.265, 0.16, 0.12, 0.12, 0.11, 0.15]
    table = _table([w["measure"], w["metric"], w["target"], w["baseline"], w["latest"], w["expected"],
                    w["status"]], rows, [width * f for f in widths])
    return _section(w["targets"], width, table,
                    _chart_grid([report.target_pngs[t.target_id] for t in report.targets], width))


def _chart_grid(pngs: list[bytes], width: float) -> Table:
    """Charts two to a row."""
    from reportlab.platypus import Table

    cells = [_image(png, width * 0.48) for png in pngs]
    rows = [cells[i:i + 2] + [""] * (2 - len(cells[i:i + 2])) for i in range(0, len(cells), 2)]
    return Table(rows, colWidths=[width * 0.5] * 2)


def _changes(report: BoardReport, width: float) -> list[Flowable]:
    w = report.words
    if not report.changes:
        return _section(w["changes"], width, _p(w["nothing_changed"], "base"))
    rows = [[c["recorded_on"], c["measure"], c["period"], c["change"], c["reason"], c["approved_by"],
             c["recorded_by"]] for c in report.changes]
    widths = [0.11, 0.075, 0.07, 0.22, 0.24, 0.155, 0.13]
    return _section(w["changes"], width,
                    _table([w["recorded_on"], w["measure"], w["period"], w["change"], w["reason"],
                            w["approved_by"], w["recorded_by"]], rows, [width * f for f in widths]))


def _completed(report: BoardReport, width: float) -> list[Flowable]:
    w = report.words
    if not report.completed:
        return _section(w["completed_items"], width, _p(w["nothing_completed"], "base"))
    rows = [[c["measure"], c["period"], c["title"], c["due"],
             c["completed_on"] + (f" ({w['late_mark']})" if c["late"] else ""),
             "; ".join(c["evidence"]) or w["none"]] for c in report.completed]
    widths = [0.075, 0.07, 0.375, 0.12, 0.12, 0.24]
    return _section(w["completed_items"], width,
                    _table([w["measure"], w["period"], w["title"], w["due_date"], w["completed_on"],
                            w["evidence"]], rows, [width * f for f in widths]))
