"""The officer's side of the portal: signed links, "my obligations", submitting a completion
with its evidence, asking for a new deadline. Each write is one session_scope: the submission
row and its ledger entry land together or not at all."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from config.settings import Settings, signing_key
from flows.usecases.occurrences import append_event, checked_evidence
from models.core import ledger as L
from models.core import links
from models.core.directory import Directory, Person
from models.core.errors import InputError
from models.core.escalation import current_step, open_item, responsible_for
from models.core.evidence_rules import Evidence
from models.core.policy import Policy
from models.core.schedule import OccurrenceStatus, local_date
from models.evidence import store as evidence_store
from models.store import ledger as ledger_store
from models.store import occurrences, portal
from models.store.db import session_scope
from models.store.measures import org_codes
from models.store.tables import MeasureRow, OccurrenceRow, Submission, stored_id


def link_url(settings: Settings, policy: Policy, *, org: str, person: str, now: dt.datetime,
             purpose: str = "my") -> str:
    """A person's signed link: their obligations page, or their calendar feed."""
    days = policy.calendar_link_days if purpose == "cal" else policy.link_days
    token = links.issue(org=org, person=person, purpose=purpose, now=now, valid=dt.timedelta(days=days),
                        key=signing_key(settings))
    return links.url(settings.portal_url, token, purpose)


def open_link(engine: Engine, settings: Settings, directory: Directory, *, token: str, purpose: str,
              now: dt.datetime) -> tuple[links.Link, Person]:
    """The link's claims and person, if it opens: signed by us, for this purpose, not expired,
    not revoked, for a person still in the directory. Else LinkError with the reason."""
    link = links.read(token, signing_key(settings), purpose=purpose, now=now)
    check_not_revoked(engine, link)
    person = directory.people.get(link.person)
    if person is None:
        raise links.LinkError("unknown")
    return link, person


def check_not_revoked(engine: Engine, link: links.Link) -> None:
    with session_scope(engine) as session:
        before = portal.revoked_before(session, org=link.org, person=link.person)
    if before is not None and link.issued <= before:
        raise links.LinkError("revoked")


def revoke_links(engine: Engine, *, org: str, person: str, by: str, reason: str, now: dt.datetime) -> None:
    """Every link of this person issued until now stops opening (sessions opened by one too);
    the ledger keeps who revoked them, when and why."""
    if not by.strip():
        raise InputError("give --by (who revokes them)", field="--by")
    with session_scope(engine) as session:
        org_codes(session, org=org)
        portal.revoke(session, org=org, person=person, at=now, by=by.strip(), reason=reason.strip())
        ledger_store.append(session, org=org, event=L.LINKS_REVOKED, actor=by, at=now,
                            data={"person": person, "reason": reason.strip()})


MAX_ID = 2**31 - 1  # an INTEGER key: a larger id names nothing (and PostgreSQL would refuse to compare)


# --- "my obligations" -----------------------------------------------------------------------

@dataclass(frozen=True)
class MyItem:
    occurrence_id: int
    measure: str
    period: int
    kind: str                 # due | progress | opened
    title: str
    due: dt.date
    days: int                 # left (negative: overdue)
    level: int                # escalation level reached (0: none)
    completion_form: str
    completion_kind: str
    pending: Submission | None     # a submission awaiting the ESG office
    returned: Submission | None    # the latest one the ESG office returned, if no later one waits
    reschedule: Submission | None  # a reschedule request awaiting the ESG office


def responsible_roles(directory: Directory, policy: Policy, person: str) -> tuple[set[str], bool]:
    """The roles a person holds, and whether they follow up the external measures (the ESG office)."""
    roles = set(directory.roles_of(person))
    return roles, policy.esg_office in roles


def my_items(engine: Engine, *, org: str, person: str, directory: Directory, policy: Policy, lang: str,
             as_of: dt.date) -> list[MyItem]:
    """The person's open occurrences, soonest due first, with their review state."""
    from flows.reports.labels import form_in
    from flows.reports.status import localized

    roles, office = responsible_roles(directory, policy, person)
    with session_scope(engine) as session:
        rows = [(occ, m) for occ, m in occurrences.open_in_due_order(session, orgs=[org])
                if responsible_for(m, roles, external=office)]
        subs = portal.submissions(session, org=org, occurrence_ids=[stored_id(o) for o, _ in rows])
    items = []
    for occ, m in rows:
        step = current_step(open_item(occ, m), policy, as_of)
        mine = [s for s in subs if s.occurrence_id == occ.id]
        pending = next((s for s in mine if s.kind == "completion" and s.state == "pending"), None)
        returned = next((s for s in reversed(mine) if s.kind == "completion" and s.state == "returned"), None)
        due = local_date(occ.due_at)
        items.append(MyItem(
            occurrence_id=stored_id(occ), measure=m.code, period=occ.period, kind=occ.kind,
            title=localized(m, "title", lang), due=due, days=(due - as_of).days,
            level=step.level if step and step.kind == "escalation" else 0,
            completion_form=form_in(m, lang), completion_kind=m.completion_kind, pending=pending,
            returned=None if pending else returned,
            reschedule=next((s for s in mine if s.kind == "reschedule" and s.state == "pending"), None)))
    return items


# --- submitting -------------------------------------------------------------------------------

def _actor(person: Person) -> str:
    return f"{person.name} ({person.id}, signed link)"


def _mine_open(session: Session, *, org: str, person: str, occurrence_id: int, directory: Directory, policy: Policy
               ) -> tuple[OccurrenceRow, MeasureRow]:
    """The occurrence, under the chain's lock, if it is open, of this organisation and this
    person's to complete; else bad input (an officer cannot act on another's obligations)."""
    ledger_store.lock(session, org=org)
    occ = session.get(OccurrenceRow, occurrence_id, with_for_update=True) if 0 < occurrence_id <= MAX_ID else None
    m = session.get(MeasureRow, occ.measure_id) if occ is not None else None
    roles, office = responsible_roles(directory, policy, person)
    if occ is None or m is None or occ.org != org or not responsible_for(m, roles, external=office):
        raise InputError("no such obligation of yours", field="occurrence", value=occurrence_id)
    if occ.status != OccurrenceStatus.OPEN:
        raise InputError(f"{m.code} {occ.period} is {occ.status}: nothing to submit", field="occurrence",
                         value=occurrence_id)
    return occ, m


def submit_completion(engine: Engine, settings: Settings, *, org: str, person: Person, occurrence_id: int,
                      evidence: Evidence, files: list[Path], directory: Directory, policy: Policy,
                      now: dt.datetime) -> Submission:
    """An officer's completion, for the ESG office to accept: the evidence must fit the measure's
    completion form exactly as `esgtrack complete` checks it; files go to the evidence store."""
    evidence_store.check_readable(files)
    with session_scope(engine) as session:
        occ, m = _mine_open(session, org=org, person=person.id, occurrence_id=occurrence_id,
                            directory=directory, policy=policy)
        if portal.pending_for(session, occurrence_id=stored_id(occ), kind="completion"):
            raise InputError(f"{m.code} {occ.period} already awaits the ESG office's review", field="occurrence")
        evidence = checked_evidence(occ, m, evidence, names=[p.name for p in files], now=now)
        stored = [evidence_store.store(settings.evidence_dir, path).as_dict() for path in files]
        return _submitted(session, occ, m, person, kind="completion", event=L.SUBMITTED, now=now,
                          payload={"evidence": {**evidence.as_dict(), "files": stored}})


def request_reschedule(engine: Engine, *, org: str, person: Person, occurrence_id: int, to: dt.date | None,
                       reason: str, directory: Directory, policy: Policy, now: dt.datetime) -> Submission:
    """An officer asks for a new deadline; the ESG office approves it (the deadline moves) or not."""
    if to is None:
        raise InputError("give the new date", field="to")
    if not reason.strip():
        raise InputError("say why the deadline should move", field="reason")
    if to <= local_date(now):
        raise InputError("the new date must be after today", field="to", value=to.isoformat())
    with session_scope(engine) as session:
        occ, m = _mine_open(session, org=org, person=person.id, occurrence_id=occurrence_id,
                            directory=directory, policy=policy)
        if to == local_date(occ.due_at):
            raise InputError(f"{m.code} {occ.period} is already due on {to}", field="to", value=to.isoformat())
        if portal.pending_for(session, occurrence_id=stored_id(occ), kind="reschedule"):
            raise InputError(f"a new date for {m.code} {occ.period} already awaits the ESG office", field="to")
        payload = {"from": local_date(occ.due_at).isoformat(), "to": to.isoformat(), "reason": reason.strip()}
        return _submitted(session, occ, m, person, kind="reschedule", event=L.RESCHEDULE_REQUESTED, now=now,
                          payload=payload)


def _submitted(session: Session, occ: OccurrenceRow, m: MeasureRow, person: Person, *, kind: str, event: str,
               payload: dict, now: dt.datetime) -> Submission:
    """The submission row and its ledger entry (the entry names the row and carries its payload)."""
    sub = Submission(org=occ.org, occurrence_id=stored_id(occ), measure=m.code, period=occ.period,
                     person=person.id, kind=kind, payload=payload, created_at=now)
    session.add(sub)
    session.flush()
    append_event(session, occ, m, event=event, actor=_actor(person), now=now,
                 data={"submission": stored_id(sub), **payload})
    return sub
