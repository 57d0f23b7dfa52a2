"""The roadmap's vocabulary as plain values: aspects, recurrences, targets, measures."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any

ROADMAP_TZ = "Asia/Almaty"


class Aspect(StrEnum):
    E = "E"
    S = "S"
    G = "G"


class RecurrenceKind(StrEnum):
    ANNUAL = "annual"
    ONCE = "once"
    BY = "by"
    AS_NEEDED = "as_needed"


class CompletionKind(StrEnum):
    """What kind of evidence closes a measure (drives evidence validation)."""

    ANNUAL_REPORT = "annual_report"
    REPORT = "report"
    ORDER = "order"
    PROTOCOL = "protocol"
    BOARD_DECISION = "board_decision"
    MANAGEMENT_DECISION = "management_decision"
    CERTIFICATE = "certificate"
    CONTRACT = "contract"
    SOFTWARE = "software"
    DOCUMENT = "document"


@dataclass(frozen=True)
class Recurrence:
    kind: RecurrenceKind
    start_year: int | None
    end_year: int | None

    def periods(self) -> list[int]:
        """The years in which this recurrence has an occurrence (none for as_needed)."""
        if self.kind is RecurrenceKind.AS_NEEDED or self.start_year is None:
            return []
        return list(range(self.start_year, (self.end_year or self.start_year) + 1))

    def rrule(self, month: int = 1, day: int = 1) -> str | None:
        """RFC 5545 DTSTART + RRULE (one instance per period year), None for as_needed."""
        if self.kind is RecurrenceKind.AS_NEEDED or self.start_year is None:
            return None
        count = len(self.periods())
        return (
            f"DTSTART;TZID={ROADMAP_TZ}:{self.start_year:04d}{month:02d}{day:02d}T000000\n"
            f"RRULE:FREQ=YEARLY;COUNT={count}"
        )

    def as_dict(self) -> dict:
        return {"kind": self.kind.value, "start_year": self.start_year, "end_year": self.end_year}


@dataclass(frozen=True)
class Target:
    metric: str
    value: float
    unit: str
    year: int | None
    direction: str = "at_least"

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class DueRule:
    """Where in its period an occurrence falls due (default: 31 December)."""

    month: int = 12
    day: int = 31
    year_offset: int = 0


@dataclass(frozen=True)
class Measure:
    id: str
    aspect: Aspect
    number: int
    topic: str
    title: str
    deadline_text: str
    recurrence: Recurrence
    completion_form: str
    executors: tuple[str, ...]
    units: tuple[str, ...]
    external_dependency: bool = False
    external_party: str | None = None
    target: Target | None = None
    line: int = 0
    title_ru: str = ""
    title_en: str = ""
    topic_ru: str = ""
    topic_en: str = ""
    completion_form_ru: str = ""
    completion_form_en: str = ""
    executor_roles: tuple[str, ...] = ()
    unit_roles: tuple[str, ...] = ()
    due: DueRule = field(default_factory=DueRule)

    @property
    def completion_kind(self) -> CompletionKind:
        return classify_completion_form(self.completion_form)

    def with_(self, **changes: Any) -> Measure:  # any of the fields, as dataclasses.replace
        return replace(self, **changes)

    def contract_dict(self) -> dict:
        """The JSON object of DESIGN.md's `measures --format json` contract."""
        return {
            "id": self.id,
            "aspect": self.aspect.value,
            "number": self.number,
            "topic": self.topic,
            "topic_ru": self.topic_ru,
            "topic_en": self.topic_en,
            "title": self.title,
            "title_ru": self.title_ru,
            "title_en": self.title_en,
            "deadline_text": self.deadline_text,
            "recurrence": self.recurrence.as_dict(),
            "completion_form": self.completion_form,
            "completion_form_ru": self.completion_form_ru,
            "completion_form_en": self.completion_form_en,
            "completion_kind": self.completion_kind.value,
            "executors": list(self.executors),
            "units": list(self.units),
            "executor_roles": list(self.executor_roles),
            "unit_roles": list(self.unit_roles),
            "external_dependency": self.external_dependency,
            "external_party": self.external_party,
            "target": self.target.as_dict() if self.target else None,
        }


@dataclass(frozen=True)
class Roadmap:
    title: str
    horizon_start: int
    horizon_end: int
    measures: tuple[Measure, ...]
    preamble: str = ""
    warnings: tuple[str, ...] = ()

    def by_id(self) -> dict[str, Measure]:
        return {m.id: m for m in self.measures}


# Keyword → kind, first match wins; ordered from the most to the least specific phrase.
_FORM_KINDS: tuple[tuple[str, CompletionKind], ...] = (
    (r"жылдық есеб|годово[йм] отч|annual report", CompletionKind.ANNUAL_REPORT),
    (r"сертификат|certificate", CompletionKind.CERTIFICATE),
    (r"директорлар ке[нң]ес\w* (шешім|бекіткен)|\bдк бекіткен|совет\w* директоров|board decision",
     CompletionKind.BOARD_DECISION),
    (r"басқарма шешім|решение правления|management board decision", CompletionKind.MANAGEMENT_DECISION),
    (r"бұйрық|приказ|\border\b", CompletionKind.ORDER),
    (r"хаттама|протокол|protocol|minutes", CompletionKind.PROTOCOL),
    (r"шарт\b|договор|contract", CompletionKind.CONTRACT),
    (r"бағдарламалық|программное|software", CompletionKind.SOFTWARE),
    (r"есеп|анықтама|қорытынды|отч[её]т|справка|report|assessment|бағалау|регистр|карта",
     CompletionKind.REPORT),
)


UNTRANSLATED = {"ru": "[нет перевода] ", "en": "[not translated] "}


def untranslated(lang: str, kazakh: str) -> str:
    """The visible placeholder for a text not translated yet: the Kazakh text, marked as such."""
    return UNTRANSLATED[lang] + kazakh


def is_untranslated(text: str) -> bool:
    return not text or any(text.startswith(mark) for mark in UNTRANSLATED.values())


def classify_completion_form(text: str) -> CompletionKind:
    lowered = text.casefold()
    for pattern, kind in _FORM_KINDS:
        if re.search(pattern, lowered):
            return kind
    return CompletionKind.DOCUMENT
