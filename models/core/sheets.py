"""Tables for spreadsheets: CSV in Excel's dialect (UTF-8 with a BOM, so Excel reads Cyrillic
and Kazakh letters) and XLSX through openpyxl. Cells starting like a formula are kept as text:
an actor or a note typed as "=HYPERLINK(…)" must not run in an auditor's spreadsheet."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence
from pathlib import Path

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str | int | float | bool:
    """A value as one spreadsheet cell: lists joined with "; ", dicts as JSON, None empty."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, (bool, int, float)):
        return value
    return str(value)


def _csv_cell(value: object) -> str:
    value = cell(value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value  # OWASP's advice for CSV: a leading apostrophe keeps it text
    return str(value)


def csv_bytes(rows: Sequence[dict], columns: Sequence[str]) -> bytes:
    """CSV in the csv module's "excel" dialect, UTF-8 with a BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, dialect="excel")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row.get(c)) for c in columns])
    return buffer.getvalue().encode("utf-8-sig")


def write_xlsx(path: Path, sheets: dict[str, tuple[Sequence[dict], Sequence[str]]]) -> None:
    """One worksheet per entry: {title: (rows, columns)}; a bold, frozen header row."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for title, (rows, columns) in sheets.items():
        sheet = book.create_sheet(title[:31])
        sheet.append(list(columns))
        for header in sheet[1]:
            header.font = Font(bold=True)
        for r, row in enumerate(rows, start=2):
            for c, column in enumerate(columns, start=1):
                raw = row.get(column)
                target = sheet.cell(row=r, column=c)
                if isinstance(raw, dt.datetime):  # a real date-time cell; Excel has no zones: the header names it
                    if raw.tzinfo is not None:
                        raise ValueError(f"column {column}: give a local (naive) time, and name its zone in the header")
                    target.value = raw
                    target.number_format = "yyyy-mm-dd hh:mm:ss"
                    continue
                value = cell(raw)
                if isinstance(value, str):
                    target.value = ILLEGAL_CHARACTERS_RE.sub("", value)
                    target.data_type = "s"  # never a formula
                else:
                    target.value = value
        sheet.freeze_panes = "A2"
        for c, column in enumerate(columns, start=1):
            width = max([len(str(column))] + [len(str(cell(row.get(column)))) for row in rows[:200]])
            sheet.column_dimensions[sheet.cell(row=1, column=c).column_letter].width = min(60, width + 2)
    book.save(path)
