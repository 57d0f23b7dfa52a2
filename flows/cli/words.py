"""The CLI's tables in kk / ru / en: headers, statuses, kinds, deadlines, completion forms and
role names, from the one catalogue of words per language (flows/reports/templates/report/
labels.yaml) and the roadmap's own translations. JSON output keeps the contract's ids and
values; CSV keeps its field names as headers and shows the values in the language."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flows.reports.labels import form_in, metric_name, party_name, words
from models.core.escalation import role_names_in
from models.core.roadmap import RecurrenceKind
from models.store.tables import MeasureRow

__all__ = ["deadline_in", "form_in", "headers", "kind_word", "responsible", "role_names_in", "status_word",
           "target_in", "words"]


def headers(lang: str, columns: Sequence[str]) -> dict[str, str]:
    """Each column's header in the language (a column the catalogue lacks keeps its id)."""
    w = words(lang)
    return {c: w.get(f"col_{c}") or w.get(c) or c for c in columns}


def status_word(status: str, lang: str) -> str:
    return words(lang).get(f"occ_{status}", status)


def kind_word(kind: str, lang: str) -> str:
    return words(lang).get(f"kind_{kind}", kind)


def deadline_in(row: MeasureRow, lang: str) -> str:
    """The deadline: the document's phrase in Kazakh; in Russian and English, what it means."""
    if lang == "kk":
        return row.deadline_text
    w = words(lang)
    kind = RecurrenceKind(row.kind)
    if kind is RecurrenceKind.AS_NEEDED:
        return w["deadline_as_needed"]
    if kind is RecurrenceKind.ANNUAL:
        return w["deadline_annual"].format(start=row.start_year, end=row.end_year)
    year = row.end_year or row.start_year
    return w["deadline_once" if kind is RecurrenceKind.ONCE else "deadline_by"].format(year=year)


def responsible(row: MeasureRow, names: dict[str, dict[str, str]], lang: str) -> list[str]:
    """Who answers for a measure: its executors' role names, else its units', else the external
    party it depends on."""
    roles = list(row.executor_roles or row.unit_roles)
    if roles:
        return role_names_in(roles, names, lang)
    if row.external_dependency:
        return [f"{words(lang)['external']}: {party_name(row.external_party or '', lang)}"]
    return []


def target_in(target: dict[str, Any] | None, lang: str) -> str:
    if not target:
        return ""
    w = words(lang)
    sign = "≥" if target.get("direction", "at_least") == "at_least" else "≤"
    return (f"{metric_name(str(target['metric']), w)} {sign} {target['value']:g}{target['unit']} "
            f"{w['by_year'].format(year=target['year'])}")
