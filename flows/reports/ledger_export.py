"""The completion log as a file for auditors: CSV (Excel's dialect, UTF-8 with a BOM), JSON
(every row with its event data) or XLSX (a real Almaty date-time column beside the exact UTC
text), laid out as `esgtrack log --format csv|json|xlsx` writes it (flows/cli/ledger.py)."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from models.core.roadmap import ROADMAP_TZ
from models.core.sheets import csv_bytes, write_xlsx
from models.store.audit import LOG_COLUMNS

FORMATS = {  # format → media type
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
LOCAL = f"at ({ROADMAP_TZ})"  # Excel keeps no zone: a real date-time, its zone in the header


def log_bytes(rows: list[dict[str, Any]], fmt: str) -> bytes:
    """The log's rows (flows/usecases/audit.py::log) in one of FORMATS."""
    if fmt == "csv":
        return csv_bytes(rows, LOG_COLUMNS)
    if fmt == "json":
        return (json.dumps(rows, ensure_ascii=False, indent=2, default=str) + "\n").encode("utf-8")
    if fmt == "xlsx":
        return _xlsx(rows)
    raise ValueError(f"unknown log format {fmt!r}")


def xlsx_sheet(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """The log as a spreadsheet's rows and columns: `at` as a real Almaty date-time beside the
    exact UTC text."""
    shown = [{**r, LOCAL: _local_time(r["at"]), "at_utc": r["at"]} for r in rows]
    columns = [c for column in LOG_COLUMNS for c in ((LOCAL, "at_utc") if column == "at" else (column,))]
    return shown, columns


def _xlsx(rows: list[dict[str, Any]]) -> bytes:
    with tempfile.TemporaryDirectory(prefix="esgtrack-log-") as folder:
        path = Path(folder) / "ledger.xlsx"
        write_xlsx(path, {"ledger": xlsx_sheet(rows)})
        return path.read_bytes()


def _local_time(at: str) -> dt.datetime:
    """An entry's time (iso_utc) in Almaty, to the second, without its zone (a spreadsheet cell)."""
    local = dt.datetime.fromisoformat(at).astimezone(ZoneInfo(ROADMAP_TZ))
    return local.replace(tzinfo=None, microsecond=0)
