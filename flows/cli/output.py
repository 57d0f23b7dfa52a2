"""Printing results: rich tables for people, JSON and CSV for programs."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from models.core.sheets import cell


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class Lang(StrEnum):
    kk = "kk"
    ru = "ru"
    en = "en"


console = Console()
err_console = Console(stderr=True)


def to_json(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


def to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(row.get(k)) for k in columns})
    return buffer.getvalue()


def _cell(value: object) -> str:
    return str(cell(value))


def emit(rows: Sequence[Mapping[str, Any]], *, fmt: Format, columns: Sequence[str], title: str = "",
         out: Path | None = None, json_data: object = None, empty: str = "nothing to show",
         headers: Mapping[str, str] | None = None) -> None:
    """Print rows in the chosen format (to --out if given). JSON prints json_data if given; a
    table shows `headers` (column → its name in the reader's language) over its columns."""
    if fmt is Format.json:
        text = to_json(list(rows) if json_data is None else json_data) + "\n"
    elif fmt is Format.csv:
        text = to_csv(rows, columns)
    else:
        if out is not None:
            raise ValueError("--out needs --format json or csv")
        if not rows:
            console.print(f"[dim]{empty}[/dim]")
            return
        table = Table(title=title or None, show_lines=False, header_style="bold")
        for column in columns:
            table.add_column((headers or {}).get(column, column), overflow="fold")
        for row in rows:
            table.add_row(*(_cell(row.get(c)) for c in columns))
        console.print(table)
        return
    if out is not None:
        out.write_text(text, encoding="utf-8")
        err_console.print(f"wrote {out}")
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
