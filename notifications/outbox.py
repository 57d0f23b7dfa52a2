"""The outbox: claim rows under a unique key, deliver digests on a bounded pool, record outcomes.

Row life: pending → sending → sent; a refusal → failed (retried with backoff) → dead after
MAX_ATTEMPTS; no answer in time → unknown (it may have arrived: resent only on request, by
`esgtrack outbox retry --unknown`); an occurrence completed or waived meanwhile → cancelled.
Rows one run left in "sending" (it crashed) become unknown once their lease has expired.
A message whose rows all end dead goes on by the next route of the person's fallback order
(notifications/fallback.py), in the same run.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from config.settings import Settings, signing_key
from models.core import links
from models.core.delivery import OutboxStatus
from models.core.directory import Directory
from models.core.errors import InputError
from models.core.escalation import PlannedItem
from models.core.policy import Policy, load_policy
from models.core.schedule import local_date
from models.store import outbox as outbox_rows
from models.store.db import session_scope
from notifications import channels
from notifications.channels import Outcome
from notifications.fallback import hand_on
from notifications.fanout import expand_notices
from notifications.messages import Message, render

BACKOFF = tuple(dt.timedelta(minutes=m) for m in (1, 5, 30, 120, 360))
MAX_ATTEMPTS = 6
LEASE = dt.timedelta(hours=1)
ROUNDS = 8  # claim and send, then hand dead messages on: at most one round per route, and more
OUTCOMES = (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.DEAD, OutboxStatus.UNKNOWN,
            OutboxStatus.CANCELLED)


# --- deliver ----------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    """One delivery run, in rows (one row = one message to one person over one channel).

    claimed = sent + failed + dead + unknown + cancelled: every row the run claimed (first
    attempts, retries and fallbacks) is counted once, by how it ended. The rest is outside
    that sum: expired (rows a crashed run had left "sending", now unknown), fallbacks (rows
    this run added for messages whose routes all ended dead; claimed in this run, so counted
    above too), and remaining (after the run, in its organisations: failed and pending rows
    waiting for their time, dead rows no route delivered, dead rows another route delivered)."""

    batch_id: str
    claimed: int = 0
    messages: int = 0
    expired: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # outcome → rows (non-zero only)
    fallbacks: int = 0
    remaining: dict[str, int] = field(default_factory=dict)
    problems: list[dict[str, Any]] = field(default_factory=list)  # dead and unknown rows
    fanout: dict[str, Any] = field(default_factory=dict)  # notices expanded into rows first
    seconds: float = 0.0

    @property
    def summary(self) -> dict[str, int]:
        """The claimed rows by outcome (zeros included; they add up to claimed), then the rest."""
        return {"claimed": self.claimed, **{s.value: self.counts.get(s, 0) for s in OUTCOMES},
                "fallbacks": self.fallbacks, "expired": self.expired,
                **{f"remaining_{k}": v for k, v in self.remaining.items()}}

    @property
    def adds_up(self) -> bool:
        return sum(self.counts.get(s, 0) for s in OUTCOMES) == self.claimed == sum(self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {"batch_id": self.batch_id, "claimed": self.claimed, "messages": self.messages,
                "expired": self.expired, "counts": dict(self.counts), "fallbacks": self.fallbacks,
                "remaining": dict(self.remaining), "summary": self.summary, "problems": self.problems,
                "fanout": dict(self.fanout), "seconds": self.seconds}


def summary_line(summary: dict[str, int]) -> str:
    """One line for people: the claimed rows by outcome (they add up), then the rest."""
    line = (f"{summary['claimed']} row(s) claimed = {summary['sent']} sent + {summary['failed']} failed "
            f"(retried later) + {summary['dead']} dead + {summary['unknown']} unknown + "
            f"{summary['cancelled']} cancelled")
    extra = [f"{summary['fallbacks']} by fallback" if summary.get("fallbacks") else "",
             f"{summary['expired']} expired lease(s) now unknown" if summary.get("expired") else ""]
    left = {k: summary.get(f"remaining_{k}", 0) for k in ("failed", "pending", "dead", "dead_delivered")}
    if any(left.values()):
        extra.append(f"left: {left['failed']} failed, {left['pending']} pending, {left['dead']} dead "
                     f"undelivered, {left['dead_delivered']} dead but delivered by another route")
    return "; ".join([line, *[e for e in extra if e]])


@dataclass(frozen=True)
class Claimed:
    id: int
    org: str
    recipient: str
    channel: str
    measure: str
    payload: dict[str, Any]
    attempts: int


@dataclass
class Group:
    """The rows of one recipient and channel: one message."""

    recipient: str
    channel: str
    rows: list[Claimed]
    message: Message | None = None
    masked: str = ""


def deliver_pending(engine: Engine, *, directory: Directory, settings: Settings, now: dt.datetime,
                    limit: int | None = None, progress: Callable[[int, int], None] | None = None,
                    backoff: Sequence[dt.timedelta] = BACKOFF, max_attempts: int = MAX_ATTEMPTS,
                    lease: dt.timedelta = LEASE, as_of: dt.date | None = None,
                    orgs: Sequence[str] | None = None, policy: Policy | None = None) -> DeliveryReport:
    """Expand the claimed notices into rows (notifications/fanout.py), claim the rows that
    are due (of these organisations, or all), send one digest per (recipient, channel) on a
    bounded pool, record each outcome. A failure of one message never stops the others.
    Messages count days as of `as_of` (default: now's date in Almaty)."""
    started = time.monotonic()
    channels.check_settings(settings)  # bad settings stop here, before anything is claimed
    report = DeliveryReport(batch_id=uuid.uuid4().hex[:16])
    policy = policy or load_policy(settings.resolved_policy)
    report.fanout = expand_notices(engine, directory=directory, settings=settings, now=now, orgs=orgs,
                                   policy=policy).as_dict()
    report.expired = expire_leases(engine, now=now, lease=lease)
    retries = _Policy(now, tuple(backoff), max_attempts, as_of or local_date(now),
                      PortalLinks.of(settings, policy, now))
    with channels.trust_store(getattr(settings, "ca_file", None)):
        for _ in range(ROUNDS):
            left = None if limit is None else limit - report.claimed
            if left is not None and left <= 0:
                break
            _round(engine, report, directory, settings, retries, progress, left, orgs)
            added = hand_on(engine, directory=directory, settings=settings, now=now, orgs=orgs)
            report.fallbacks += added
            if not added:
                break
    report.problems = problems(engine, batch_id=report.batch_id)
    with session_scope(engine) as session:
        report.remaining = outbox_rows.remaining(session, orgs=orgs)
    report.seconds = round(time.monotonic() - started, 3)
    return report


def _round(engine: Engine, report: DeliveryReport, directory: Directory, settings: Settings, retries: _Policy,
           progress: Callable[[int, int], None] | None, limit: int | None, orgs: Sequence[str] | None) -> None:
    """Claim what is due and send it: one digest per (recipient, channel)."""
    claimed, cancelled = claim(engine, now=retries.now, batch_id=report.batch_id, limit=limit, orgs=orgs)
    report.claimed += len(claimed) + cancelled
    _count(report, OutboxStatus.CANCELLED, cancelled)
    groups = _groups(claimed)
    report.messages += len(groups)
    _send_all(engine, groups, directory, settings, retries, report, progress)


def expire_leases(engine: Engine, *, now: dt.datetime, lease: dt.timedelta = LEASE) -> int:
    """Rows left "sending" by a run that died: we cannot know whether they went out."""
    with session_scope(engine) as session:
        return outbox_rows.expire_leases(session, now=now, lease=lease)


def claim(engine: Engine, *, now: dt.datetime, batch_id: str, limit: int | None = None,
          orgs: Sequence[str] | None = None) -> tuple[list[Claimed], int]:
    """Mark due rows "sending" in one committed transaction, before anything is sent (see
    models.store.outbox.claim_due). Returns the claimed rows and how many were cancelled."""
    with session_scope(engine) as session:
        live, cancelled = outbox_rows.claim_due(session, now=now, batch_id=batch_id, limit=limit, orgs=orgs)
    claimed = [Claimed(r.id, r.org, r.recipient, r.channel, r.measure, r.payload, r.attempts + 1)
               for r in live]
    return claimed, cancelled


def _groups(claimed: list[Claimed]) -> list[Group]:
    groups: dict[tuple[str, str], Group] = {}
    for row in claimed:
        key = (row.recipient, row.channel)
        groups.setdefault(key, Group(row.recipient, row.channel, [])).rows.append(row)
    return list(groups.values())


@dataclass(frozen=True)
class PortalLinks:
    """Signs each message's link to its recipient's obligations (ESGTRACK_BASE_URL set)."""

    base: str
    key: bytes
    valid: dt.timedelta
    now: dt.datetime

    @classmethod
    def of(cls, settings: Settings, policy: Policy, now: dt.datetime) -> PortalLinks | None:
        if not settings.base_url:
            return None
        return cls(settings.base_url, signing_key(settings), dt.timedelta(days=policy.link_days), now)

    def for_person(self, org: str, person: str) -> str:
        token = links.issue(org=org, person=person, purpose="my", now=self.now, valid=self.valid, key=self.key)
        return links.url(self.base, token, "my")


@dataclass(frozen=True)
class _Policy:
    now: dt.datetime
    backoff: tuple[dt.timedelta, ...]
    max_attempts: int
    as_of: dt.date
    links: PortalLinks | None = None

    def after_failure(self, attempts: int) -> tuple[str, dt.datetime | None]:
        if attempts >= self.max_attempts or not self.backoff:
            return OutboxStatus.DEAD, None
        return OutboxStatus.FAILED, self.now + self.backoff[min(attempts, len(self.backoff)) - 1]


def _send_all(engine: Engine, groups: list[Group], directory: Directory, settings: Settings, policy: _Policy,
              report: DeliveryReport, progress: Callable[[int, int], None] | None) -> None:
    as_of = policy.as_of
    pending: list[dict[str, Any]] = []
    done = 0
    with ThreadPoolExecutor(max_workers=settings.notify_workers,
                            thread_name_prefix="esgtrack-send") as pool:
        futures = [pool.submit(_deliver_group, g, directory, settings, as_of, policy.links) for g in groups]
        for future in as_completed(futures):
            group, result = future.result()
            pending += _updates(group, result, policy, report)
            done += 1
            if progress:
                progress(done, len(groups))
            if len(pending) >= outbox_rows.CHUNK:
                _record(engine, pending)
                pending = []
    _record(engine, pending)


def _deliver_group(group: Group, directory: Directory, settings: Settings, as_of: dt.date,
                   portal: PortalLinks | None = None) -> tuple[Group, channels.SendResult]:
    """Render and send one group's message (runs on the pool); never raises."""
    person = directory.people.get(group.recipient)
    if person is None:
        return group, channels.SendResult(Outcome.INVALID, f"{group.recipient!r} is not in the directory")
    try:
        target = channels.target_for(person, group.channel, settings)
        group.masked = target.masked
        items = [PlannedItem.from_payload(r.payload) for r in group.rows]
        kind = items[0].kind if len(items) == 1 else "digest"
        link = portal.for_person(group.rows[0].org, person.id) if portal else None
        group.message = render(kind, items, person, as_of=as_of, link=link)
    except InputError as exc:
        return group, channels.SendResult(Outcome.INVALID, exc.message)
    except Exception as exc:
        return group, channels.SendResult(Outcome.INVALID, f"cannot render: {type(exc).__name__}: {exc}")
    return group, channels.send(group.message, target, timeout=settings.notify_timeout)


def _updates(group: Group, result: channels.SendResult, policy: _Policy, report: DeliveryReport
             ) -> list[dict[str, Any]]:
    updates = []
    for row in group.rows:
        values: dict[str, Any] = {"_id": row.id, "status": OutboxStatus.SENT, "next_attempt_at": None,
                                  "last_error": result.error, "sent_at": None, "updated_at": policy.now}
        if result.outcome is Outcome.SENT:
            values.update(sent_at=policy.now, last_error=None)
        elif result.outcome is Outcome.TIMEOUT:
            values["status"] = OutboxStatus.UNKNOWN
        elif result.outcome is Outcome.INVALID:
            values["status"] = OutboxStatus.DEAD
        else:
            values["status"], values["next_attempt_at"] = policy.after_failure(row.attempts)
        message = group.message
        values.update(subject=message.subject if message else None,
                      language=message.language if message else None,
                      masked_target=group.masked or None)
        _count(report, values["status"], 1)
        updates.append(values)
    return updates


def _record(engine: Engine, updates: list[dict[str, Any]]) -> None:
    if updates:
        with session_scope(engine) as session:
            outbox_rows.record(session, updates)


def _count(report: DeliveryReport, status: str, n: int) -> None:
    if n:
        report.counts[status] = report.counts.get(status, 0) + n


def problems(engine: Engine, *, batch_id: str | None = None) -> list[dict[str, Any]]:
    """Dead and unknown rows (of one batch, or all): what the flow and the CLI report."""
    with session_scope(engine) as session:
        return outbox_rows.problems(session, batch_id=batch_id)


# --- retry ------------------------------------------------------------------------------


def make_due(engine: Engine, *, now: dt.datetime, unknown: bool = False, dead: bool = False,
             orgs: Sequence[str] | None = None) -> int:
    """Make failed rows (and, on request, unknown or dead ones) due now, of these
    organisations or all. Dead rows start their attempts afresh. Returns how many rows."""
    with session_scope(engine) as session:
        return outbox_rows.make_due(session, now=now, unknown=unknown, dead=dead, orgs=orgs)
