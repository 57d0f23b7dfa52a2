"""The Board report as Markdown or one self-contained HTML page (jinja2 templates in
templates/report/; charts as PNG, embedded as data: URIs in HTML, files beside Markdown).
The "% done" column counts done items only: waived ones have their own column."""

from __future__ import annotations

import base64
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from flows.reports.board import BoardReport, done_percent
from flows.reports.labels import REPORT_TEMPLATES
from flows.reports.status import percent_text
from models.core.progress import FIELDS, TOTAL, GroupRow

COLUMNS = FIELDS


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(REPORT_TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html.j2"]),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
        trim_blocks=False, lstrip_blocks=False,
    )
    env.filters["cell"] = _cell
    return env


def _cell(text: object) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _progress_table(w: dict) -> Callable[[list[GroupRow], str], str]:
    def render(rows: list[GroupRow], head: str) -> str:
        lines = [f"| {head} | " + " | ".join(w[c] for c in COLUMNS) + f" | {w['percent_done']} |",
                 "|---|" + "---:|" * (len(COLUMNS) + 1)]
        for row in rows:
            label = f"**{_cell(row.label)}**" if row.group == TOTAL else _cell(row.label)
            values = " | ".join(str(getattr(row.counts, c)) for c in COLUMNS)
            lines.append(f"| {label} | {values} | {percent_text(done_percent(row.counts))} |")
        return "\n".join(lines)
    return render


def _progress_html(w: dict) -> Callable[[list[GroupRow], str], Markup]:
    def render(rows: list[GroupRow], head: str) -> Markup:
        cells = "".join(f"<th>{escape(w[c])}</th>" for c in COLUMNS)
        out = [f"<table><tr><th>{escape(head)}</th>{cells}<th>{escape(w['percent_done'])}</th></tr>"]
        for row in rows:
            css = ' class="total"' if row.group == TOTAL else ""
            values = "".join(f'<td class="n">{getattr(row.counts, c)}</td>' for c in COLUMNS)
            out.append(f"<tr{css}><td>{escape(row.label)}</td>{values}"
                       f'<td class="n">{escape(percent_text(done_percent(row.counts)))}</td></tr>')
        return Markup("\n".join(out) + "</table>")
    return render


def render_html(report: BoardReport) -> str:
    """One HTML page; the charts travel inside it."""
    return _env().get_template("report.html.j2").render(
        r=report, w=report.words, progress_html=_progress_html(report.words),
        progress_src=data_uri(report.progress_png),
        target_src={tid: data_uri(png) for tid, png in report.target_pngs.items()},
    )


def render_markdown(report: BoardReport, out: Path) -> str:
    """Markdown text; the charts are written as PNG files beside `out` (OUT_charts/...)."""
    folder = out.with_name(out.stem + "_charts")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "progress.png").write_bytes(report.progress_png)
    target_src = {}
    for tid, png in report.target_pngs.items():
        name = f"target-{tid}.png"
        (folder / name).write_bytes(png)
        target_src[tid] = f"{folder.name}/{name}"
    return _env().get_template("report.md.j2").render(
        r=report, w=report.words, progress_table=_progress_table(report.words),
        progress_src=f"{folder.name}/progress.png", target_src=target_src,
    )
