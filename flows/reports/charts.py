"""Charts of the Board report as PNG bytes (matplotlib, Agg backend, DejaVu Sans: it has the
Kazakh letters ә ғ қ ң ө ұ ү һ і)."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

from flows.reports.labels import metric_name
from models.core.progress import TOTAL, GroupRow
from models.core.targets import TargetView, trajectory
from models.core.targets import format_value as fmt_value

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COLOURS = {"done_on_time": "#2e7d32", "done_late": "#f9a825", "waived": "#9e9e9e",
           "open_not_overdue": "#90caf9", "overdue": "#c62828"}
DPI = 110


def _pyplot() -> ModuleType:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 9,
                         "svg.hashsalt": "esgtrack", "axes.spines.top": False,
                         "axes.spines.right": False})
    return plt


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", metadata={"Software": None})
    _pyplot().close(fig)
    return buffer.getvalue()


def progress_chart(rows: Sequence[GroupRow], words: dict[str, str]) -> bytes:
    """Horizontal stacked bars per group: done on time, late, waived, open, overdue; the
    figure beside a bar is the part done (waived items are not done)."""
    plt = _pyplot()
    rows = [r for r in rows if r.group != TOTAL]
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(rows) + 1.2))
    labels = [r.label for r in rows]
    left = [0] * len(rows)
    parts = [("done_on_time", lambda c: c.done_on_time), ("done_late", lambda c: c.done_late),
             ("waived", lambda c: c.waived), ("open_not_overdue", lambda c: c.open - c.overdue),
             ("overdue", lambda c: c.overdue)]
    for key, value_of in parts:
        values = [value_of(r.counts) for r in rows]
        name = words["open"] if key == "open_not_overdue" else words[key]
        ax.barh(labels, values, left=left, color=COLOURS[key], label=name)
        left = [a + b for a, b in zip(left, values, strict=True)]
    for y, row in enumerate(rows):
        c = row.counts
        pct = 100.0 * (c.done_on_time + c.done_late) / c.due if c.due else None
        ax.text(left[y] + 0.2, y, "—" if pct is None else f"{pct:.0f} %", va="center")
    ax.invert_yaxis()
    ax.set_xlabel(words["due"])
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18 - 0.3 / max(len(rows), 1)),
              ncol=5, frameon=False, fontsize=8)
    return _png(fig)


def target_chart(view: TargetView, words: dict[str, str], first_year: int) -> bytes:
    """Readings (points) against the trajectory (line) and the target (star)."""
    plt = _pyplot()
    spec = view.spec
    fig, ax = plt.subplots(figsize=(5.2, 2.8))
    path = trajectory(spec, view.readings, first_year)
    if path:
        ax.plot([p.year for p in path], [p.value for p in path], "--", color="#546e7a",
                label=words["trajectory"])
    if view.readings:
        ax.plot([r.year for r in view.readings], [r.value for r in view.readings], "o-",
                color="#1565c0", label=words["readings"])
    ax.plot([spec.target_year], [spec.target_value], "*", markersize=14, color="#2e7d32",
            label=f"{words['target_point']} {fmt_value(spec.target_value, spec.unit)}")
    values = [spec.target_value, *(p.value for p in path), *(r.value for r in view.readings)]
    if min(values) >= 0:  # shares and quantities: the axis starts at zero, honestly scaled
        ax.set_ylim(0, max(values) * 1.15 or 1)
    # wrapped between words, never inside one
    ax.set_title(textwrap.fill(f"{view.measure} · {metric_name(spec.metric, words)}", 60,
                               break_long_words=False, break_on_hyphens=False), fontsize=9)
    ax.set_ylabel(spec.unit or "")
    ax.set_xlim(min([first_year, spec.target_year, *(r.year for r in view.readings)]) - 0.5,
                spec.target_year + 0.5)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, frameon=False, loc="best")
    return _png(fig)
