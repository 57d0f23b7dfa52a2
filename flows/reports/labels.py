"""The words of the Board report, status tables and calendar feed (templates/report/labels.yaml)
and the names it gives in kk / ru / en to what the roadmap names only in Kazakh or by an id
(templates/report/catalogue.yaml: documents and external parties; labels.yaml: metrics)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from models.core.yamltext import SafeLoader

REPORT_TEMPLATES = Path(__file__).resolve().parent / "templates" / "report"
LANGS = ("kk", "ru", "en")


@lru_cache(maxsize=1)
def _all() -> dict[str, dict[str, str]]:
    return yaml.load((REPORT_TEMPLATES / "labels.yaml").read_text(encoding="utf-8"), Loader=SafeLoader)


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict[str, Any]]:
    return yaml.load((REPORT_TEMPLATES / "catalogue.yaml").read_text(encoding="utf-8"), Loader=SafeLoader)


def words(lang: str) -> dict[str, str]:
    """Every label in one language (kk when the language is unknown)."""
    table = _all()
    return table.get(lang) or table["kk"]


def metric_name(metric: str, w: dict[str, str]) -> str:
    """A metric's name in the words' language; an id the labels do not know reads as words
    (spaces for underscores), so that it wraps between words, never inside one."""
    return w.get(f"metric_{metric}") or metric.replace("_", " ")


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def party_name(party: str, lang: str) -> str:
    """An external party (e.g. Самұрық-Қазына) in the language; unknown ones as written."""
    names = {_key(k): v for k, v in (catalogue().get("parties") or {}).items()}
    return (names.get(_key(party)) or {}).get(lang) or party


def document(title: str) -> dict[str, dict[str, str]]:
    """A roadmap document's `title` and Board `decision` in kk / ru / en ({} when unknown)."""
    documents = {_key(k): v for k, v in (catalogue().get("documents") or {}).items()}
    return documents.get(_key(title)) or {}


def form_in(row: Any, lang: str) -> str:
    """A measure's completion form: the document's words in Kazakh; the roadmap's translation,
    else the form's kind ("order", "annual report"), in Russian and English."""
    from notifications.messages import completion_text

    return completion_text(lang, str(row.completion_form), str(row.completion_kind),
                           getattr(row, f"completion_form_{lang}", ""))
