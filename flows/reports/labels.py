"""The words of the Board report, status tables and calendar feed (templates/report/labels.yaml)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

from models.core.yamltext import SafeLoader

REPORT_TEMPLATES = Path(__file__).resolve().parent / "templates" / "report"
LANGS = ("kk", "ru", "en")


@lru_cache(maxsize=1)
def _all() -> dict[str, dict[str, str]]:
    return yaml.load((REPORT_TEMPLATES / "labels.yaml").read_text(encoding="utf-8"), Loader=SafeLoader)


def words(lang: str) -> dict[str, str]:
    """Every label in one language (kk when the language is unknown)."""
    table = _all()
    return table.get(lang) or table["kk"]
