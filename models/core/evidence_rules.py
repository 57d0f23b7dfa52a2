"""What evidence closes a measure, by its completion form (pure).

The roadmap's column "Аяқтау нысаны" says how each measure is completed: an order or a
decision is identified by its number and date, a certificate by its number and validity, a
report or a disclosure in the annual report by the document itself or a link to it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlsplit

from models.core.errors import InputError
from models.core.roadmap import CompletionKind

K = CompletionKind

# kind → (what it is, in a sentence's words; what identifies it)
_NUMBERED = {
    K.ORDER: "an order",
    K.PROTOCOL: "a protocol (minutes of a meeting)",
    K.BOARD_DECISION: "a decision of the Board of Directors",
    K.MANAGEMENT_DECISION: "a decision of the Management Board",
    K.CONTRACT: "a contract",
}
_DOCUMENTED = {
    K.REPORT: "a report",
    K.ANNUAL_REPORT: "a disclosure in the integrated annual report",
    K.DOCUMENT: "a confirming document",
    K.SOFTWARE: "software put into operation (its acceptance document or link)",
}
_THE = {K.ORDER: "the order's", K.PROTOCOL: "the protocol's", K.CONTRACT: "the contract's",
        K.BOARD_DECISION: "the decision's", K.MANAGEMENT_DECISION: "the decision's",
        K.CERTIFICATE: "the certificate's"}


@dataclass(frozen=True)
class Evidence:
    """What the person recording a completion gave (files by name; they are hashed later)."""

    ref: str | None = None
    date: dt.date | None = None
    valid_until: dt.date | None = None
    files: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    note: str | None = None

    def as_dict(self) -> dict:
        return {"ref": self.ref, "date": _iso(self.date), "valid_until": _iso(self.valid_until),
                "urls": list(self.urls), "note": self.note}


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def numbered(ref: str) -> str:
    """An evidence reference as a document number: "№ 45-п", "№ АР-17"; one that carries its
    own number sign stays as written ("ISO 37001 №77", "No. 12": never "№ ISO 37001 №77")."""
    text = ref.strip()
    return text if any(sign in text.casefold() for sign in ("№", "no.", "#")) else f"№ {text}"


def describe(kind: CompletionKind) -> str:
    """What a measure of this kind needs, in one phrase (for help and reminders)."""
    if kind is K.CERTIFICATE:
        return "a certificate: --evidence-ref (its number) and --valid-until"
    if kind in _NUMBERED:
        return f"{_NUMBERED[kind]}: --evidence-ref (its number) and --evidence-date"
    return f"{_DOCUMENTED[kind]}: at least one --file or --url"


def check(kind: CompletionKind, evidence: Evidence, *, measure: str, today: dt.date,
          progress: bool = False) -> None:
    """Raise InputError naming what is missing or wrong; return None when the evidence fits.
    A `by` measure's yearly progress check-in is closed by a progress update (a file, a link
    or a note), not by the final order or decision."""
    _check_values(evidence, today)
    if progress:
        if not (evidence.files or evidence.urls or (evidence.note or "").strip()):
            raise InputError(f"{measure}'s progress check-in needs a progress update: give "
                             "--file, --url or --note", field="--note")
        return
    missing = _missing(kind, evidence)
    if missing:
        what = _NUMBERED.get(kind) or _DOCUMENTED.get(kind) or "a certificate"
        raise InputError(f"{measure} is completed by {what}: give {' and '.join(missing)}",
                         field=missing[0].split(" ")[0])


def _missing(kind: CompletionKind, evidence: Evidence) -> list[str]:
    ref = (evidence.ref or "").strip()
    if kind is K.CERTIFICATE:
        wanted = [("--evidence-ref (the certificate's number)", ref),
                  ("--valid-until (the last day it is valid)", evidence.valid_until)]
    elif kind in _NUMBERED:
        wanted = [(f"--evidence-ref ({_THE[kind]} number)", ref),
                  (f"--evidence-date ({_THE[kind]} date)", evidence.date)]
    else:
        return [] if evidence.files or evidence.urls else ["--file or --url (the document or a link to it)"]
    return [name for name, value in wanted if not value]


def _check_values(evidence: Evidence, today: dt.date) -> None:
    if evidence.date and evidence.date > today:
        raise InputError(f"the document is dated after today ({today})", field="--evidence-date",
                         value=evidence.date.isoformat())
    if evidence.valid_until and evidence.valid_until < today:
        raise InputError(f"the certificate expired before today ({today})", field="--valid-until",
                         value=evidence.valid_until.isoformat())
    if evidence.valid_until and evidence.date and evidence.valid_until < evidence.date:
        raise InputError("the certificate is valid until a day before it was issued",
                         field="--valid-until", value=evidence.valid_until.isoformat())
    for url in evidence.urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InputError("expected an http:// or https:// link", field="--url", value=url)
