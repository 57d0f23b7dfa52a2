"""The portal's rows: staff accounts, submissions awaiting review, link revocations and failed
sign-ins. Functions add and flush; the use case's session_scope commits."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, func, select

from models.store.tables import LinkRevocation, LoginAttempt, StaffUser, Submission


def user_named(session: Session, *, username: str) -> StaffUser | None:
    return session.exec(select(StaffUser).where(StaffUser.username == username.strip().lower())).first()


def users_by_email(session: Session, *, email: str) -> list[StaffUser]:
    return list(session.exec(select(StaffUser).where(func.lower(StaffUser.email) == email.strip().lower())))


def users(session: Session, *, org: str | None = None) -> list[StaffUser]:
    query = select(StaffUser).order_by(col(StaffUser.org), col(StaffUser.username))
    if org:
        query = query.where(StaffUser.org == org)
    return list(session.exec(query))


def failures_since(session: Session, *, key: str, since: dt.datetime) -> int:
    query = select(func.count()).select_from(LoginAttempt).where(LoginAttempt.key == key, LoginAttempt.at > since)
    return int(session.exec(query).one())


def add_failure(session: Session, *, key: str, at: dt.datetime) -> None:
    session.add(LoginAttempt(key=key[:200], at=at))
    session.flush()


def revoked_before(session: Session, *, org: str, person: str) -> dt.datetime | None:
    row = session.get(LinkRevocation, (org, person))
    return row.revoked_before if row else None


def revoke(session: Session, *, org: str, person: str, at: dt.datetime, by: str, reason: str) -> None:
    row = session.get(LinkRevocation, (org, person)) or LinkRevocation(org=org, person=person, revoked_before=at,
                                                                       revoked_by=by)
    row.revoked_before, row.revoked_by, row.reason = at, by, reason
    session.add(row)
    session.flush()


def submissions(session: Session, *, org: str, state: str | None = None, person: str | None = None,
                occurrence_ids: list[int] | None = None) -> list[Submission]:
    query = select(Submission).where(Submission.org == org).order_by(col(Submission.created_at), col(Submission.id))
    if state:
        query = query.where(Submission.state == state)
    if person:
        query = query.where(Submission.person == person)
    if occurrence_ids is not None:
        query = query.where(col(Submission.occurrence_id).in_(occurrence_ids))
    return list(session.exec(query))


def pending_for(session: Session, *, occurrence_id: int, kind: str) -> Submission | None:
    return session.exec(select(Submission).where(Submission.occurrence_id == occurrence_id,
                                                 Submission.kind == kind, Submission.state == "pending")
                        .with_for_update()).first()
