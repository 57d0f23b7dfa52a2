"""The ESG office's side of maker-checker: the review queue, accepting a submission (the
occurrence is completed or rescheduled, reminders stop or move) and returning it with a reason
(the officer is told through the outbox). One session_scope each: the decision, the
occurrence's change and their ledger entries land together or not at all."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session

from config.settings import Settings
from flows.usecases import occurrences as events
from models.core import ledger as L
from models.core.directory import Directory
from models.core.errors import InputError
from models.core.escalation import PlannedItem, StepKind, open_item
from models.core.evidence_rules import Evidence
from models.core.schedule import local_date
from models.store import ledger as ledger_store
from models.store import portal
from models.store.db import session_scope
from models.store.occurrences import OccurrenceRef
from models.store.tables import MeasureRow, OccurrenceRow, Submission, stored_id

MAX_ID = 2**31 - 1  # an INTEGER key: a larger id names nothing (and PostgreSQL would refuse to compare)
_RETURNED = {
    "kk": "ESG кеңсесі жіберілген материалды қайтарды: {reason}. Сілтеме арқылы қайта жіберіңіз.",
    "ru": "ESG-офис вернул отправленные материалы: {reason}. Отправьте их заново по ссылке.",
    "en": "The ESG office returned your submission: {reason}. Please submit again from your link.",
}
_DECLINED = {
    "kk": "ESG кеңсесі жаңа мерзімді бекітпеді: {reason}.",
    "ru": "ESG-офис не утвердил новый срок: {reason}.",
    "en": "The ESG office did not approve the new deadline: {reason}.",
}


@dataclass(frozen=True)
class Pending:
    submission: Submission
    title: str
    due: dt.date
    completion_form: str


def queue(engine: Engine, *, org: str, lang: str = "en") -> list[Pending]:
    """What awaits the ESG office in this organisation, oldest first."""
    from flows.reports.labels import form_in
    from flows.reports.status import localized

    with session_scope(engine) as session:
        out = []
        for sub in portal.submissions(session, org=org, state="pending"):
            occ = session.get(OccurrenceRow, sub.occurrence_id)
            m = session.get(MeasureRow, occ.measure_id) if occ else None
            if occ is None or m is None:
                continue
            out.append(Pending(sub, localized(m, "title", lang), local_date(occ.due_at), form_in(m, lang)))
        return out


def _pending(session: Session, *, org: str, submission_id: int) -> Submission:
    ledger_store.lock(session, org=org)
    sub = session.get(Submission, submission_id, with_for_update=True) if 0 < submission_id <= MAX_ID else None
    if sub is None or sub.org != org:
        raise InputError("no such submission", field="submission", value=submission_id)
    if sub.state != "pending":
        raise InputError(f"this submission was already {sub.state} by {sub.decided_by}", field="submission",
                         value=submission_id)
    return sub


def accept(engine: Engine, settings: Settings, *, org: str, submission_id: int, actor: str,
           now: dt.datetime) -> events.Recorded:
    """Accept: a completion is recorded (`completed`, naming the submission and the officer) and
    reminders stop; a reschedule request moves the deadline (`rescheduled`, approved by the actor)."""
    with session_scope(engine) as session:
        sub = _pending(session, org=org, submission_id=submission_id)
        ref = OccurrenceRef(org=org, measure=sub.measure, occurrence_id=sub.occurrence_id)
        review = {"submission": {"id": stored_id(sub), "by": sub.person, "at": sub.created_at.isoformat()}}
        if sub.kind == "completion":
            ev = sub.payload["evidence"]
            evidence = Evidence(ref=ev.get("ref"), date=_day(ev.get("date")), valid_until=_day(ev.get("valid_until")),
                                urls=tuple(ev.get("urls") or ()), note=ev.get("note"))
            # judged late or on time by the day the officer submitted it, not by the review's day
            recorded = events.complete(session, ref=ref, actor=actor, evidence=evidence, files=[],
                                       store_root=settings.evidence_dir, now=now,
                                       completed_on=local_date(sub.created_at),
                                       stored_files=tuple(ev.get("files") or ()), extra=review)
        else:
            recorded = events.reschedule(session, ref=ref, actor=actor, to=dt.date.fromisoformat(sub.payload["to"]),
                                         reason=sub.payload["reason"], approved_by=actor, now=now, extra=review)
        sub.state, sub.decided_at, sub.decided_by = "accepted", now, actor
        session.add(sub)
        return recorded


def give_back(engine: Engine, settings: Settings, directory: Directory, *, org: str, submission_id: int,
              actor: str, reason: str, now: dt.datetime) -> Submission:
    """Return a submission (or decline a reschedule request) with a reason: a `returned` ledger
    entry, and a message to the officer queued in the outbox (sent by the next delivery pass)."""
    if not reason.strip():
        raise InputError("say why it goes back to the officer", field="reason")
    from notifications.enqueue import enqueue

    with session_scope(engine) as session:
        sub = _pending(session, org=org, submission_id=submission_id)
        occ = session.get(OccurrenceRow, sub.occurrence_id)
        m = session.get(MeasureRow, occ.measure_id) if occ else None
        assert occ is not None and m is not None  # a foreign key holds the occurrence; it holds the measure
        sub.state, sub.decided_at, sub.decided_by, sub.reason = "returned", now, actor, reason.strip()
        session.add(sub)
        events.append_event(session, occ, m, event=L.RETURNED, actor=actor, now=now,
                            data={"submission": stored_id(sub), "kind": sub.kind, "reason": sub.reason})
        enqueue(session, items=[_told(sub, occ, m, directory)], directory=directory, settings=settings, now=now)
        return sub


def _told(sub: Submission, occ: OccurrenceRow, m: MeasureRow, directory: Directory) -> PlannedItem:
    person = directory.people.get(sub.person)
    lang = person.language if person else "kk"
    words = _RETURNED if sub.kind == "completion" else _DECLINED
    item = open_item(occ, m)
    return PlannedItem(
        org=item.org, occurrence_id=item.occurrence_id, measure=item.measure, titles=item.titles,
        period=item.period, occurrence_kind=item.kind, due=item.due.isoformat(), days=None,
        step=f"returned-{sub.id}", kind=StepKind.ALERT, level=0, completion_form=item.completion_form,
        completion_kind=item.completion_kind, units={}, executors={}, external_party=None,
        record_hint=words.get(lang, words["en"]).format(reason=sub.reason), recipient=sub.person)


def _day(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None
