"""The completion ledger's hash chain (pure): canonical JSON, entry hashes, verification.

One chain per organisation. Entry n's hash is
    sha256((prev_hash + "\\n" + canonical_json(payload)).encode("utf-8"))
with prev_hash the hash of entry n-1 (GENESIS, 64 zeros, for entry 1). The payload holds every
column of the entry (seq, org, event, actor, at, measure, period, occurrence_id) and the
event's data, so editing any stored value is detected: either the hash no longer matches the
payload, or a column no longer matches the hashed payload.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from models.core.chainhash import ALGORITHM as ALGORITHM  # re-exported: the ledger's hashing, in one place
from models.core.chainhash import COLUMNS, GENESIS, canonical_json, entry_hash
from models.core.schedule import OccurrenceKind, OccurrenceStatus

ROADMAP_IMPORTED = "roadmap_imported"
OCCURRENCE_OPENED = "occurrence_opened"
COMPLETED = "completed"
REOPENED = "reopened"
RESCHEDULED = "rescheduled"
WAIVED = "waived"
TARGET_READING = "target_reading"  # esgtrack target record (flows/usecases/targets.py)
TARGET_SET = "target_set"  # esgtrack target set: a target defined or changed
# The portal's maker-checker (flows/usecases/portal.py): an officer submits a completion or asks
# for a new deadline; the ESG office accepts (completed / rescheduled) or returns it with a reason.
SUBMITTED = "submitted"
RESCHEDULE_REQUESTED = "reschedule_requested"
RETURNED = "returned"
# Who may act: an officer's links revoked, a staff account added, disabled or enabled.
LINKS_REVOKED = "links_revoked"
STAFF_ACCOUNT = "staff_account"
EVENTS = (ROADMAP_IMPORTED, OCCURRENCE_OPENED, COMPLETED, REOPENED, RESCHEDULED, WAIVED,
          TARGET_READING, TARGET_SET, SUBMITTED, RESCHEDULE_REQUESTED, RETURNED, LINKS_REVOKED, STAFF_ACCOUNT)


def iso_utc(moment: dt.datetime) -> str:
    """An aware moment as ISO 8601 in UTC with microseconds: the form stored in payloads."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the ledger")
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Entry:
    """One ledger entry as plain values: its columns, the hashed payload text and the links."""

    seq: int
    org: str
    event: str
    actor: str
    at: str  # iso_utc
    measure: str | None
    period: int | None
    occurrence_id: int | None
    payload: str
    prev_hash: str
    hash: str

    @property
    def data(self) -> dict:
        return json.loads(self.payload).get("data", {})

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in (*COLUMNS, "payload", "prev_hash", "hash")}


def make_entry(prev: Entry | None, *, org: str, event: str, actor: str, at: dt.datetime,
               data: dict, measure: str | None = None, period: int | None = None,
               occurrence_id: int | None = None) -> Entry:
    """The entry that follows prev (None: the first of the organisation's chain)."""
    if event not in EVENTS:
        raise ValueError(f"unknown ledger event {event!r}")
    columns: dict[str, Any] = {"seq": prev.seq + 1 if prev else 1, "org": org, "event": event,
                               "actor": actor, "at": iso_utc(at), "measure": measure, "period": period,
                               "occurrence_id": occurrence_id}
    text = canonical_json({**columns, "data": data})
    prev_hash = prev.hash if prev else GENESIS
    return Entry(**columns, payload=text, prev_hash=prev_hash, hash=entry_hash(prev_hash, text))


@dataclass
class VerifyResult:
    """ok, the head (hash of the last good entry), and the first entry that cannot be trusted."""

    ok: bool = True
    org: str | None = None
    head: str = GENESIS
    head_seq: int = 0
    count: int = 0
    first_bad: int | None = None
    reason: str = ""
    anchor_seq: int | None = None  # where a given earlier head sits in the chain
    evidence: list[tuple[int, dict]] = field(default_factory=list)  # (seq, file) to check

    def fail(self, seq: int, reason: str) -> VerifyResult:
        self.ok, self.first_bad, self.reason = False, seq, reason
        return self


def verify_chain(entries: Iterable[Entry], *, org: str | None = None,
                 anchor: str | None = None) -> VerifyResult:
    """Re-compute an organisation's chain, entries in stored seq order. Stops at the first
    entry that cannot be trusted, so that a change is reported at the changed entry or earlier
    (a broken link between n-1 and n blames n-1, which may have been rewritten with a fresh
    hash, unless entry n is itself out of place). A chain cut short at its end, or whose last
    entry was rewritten, is only caught against an earlier head (anchor)."""
    result = VerifyResult(org=org)
    stream = iter(entries)
    prev, entry, expected = None, next(stream, None), 1
    while entry is not None:
        following = next(stream, None)  # one entry of look-ahead to tell which side moved
        problem = _check(entry, prev, expected, result.org, following)
        if problem is not None:
            return result.fail(*problem)
        result.org = result.org or entry.org
        result.count, result.head, result.head_seq = expected, entry.hash, expected
        if entry.hash == anchor:
            result.anchor_seq = expected
        result.evidence += [(expected, f) for f in _files(entry)]
        prev, entry, expected = entry, following, expected + 1
    return result


def _check(entry: Entry, prev: Entry | None, expected: int, org: str | None,
           following: Entry | None) -> tuple[int, str] | None:
    if entry.seq > expected:
        return expected, (f"entry {expected} is missing (the next stored entry is {entry.seq}): "
                          "deleted or reordered")
    if entry.seq < expected:
        return expected - 1, (f"entries {expected - 1} and {expected} are both stored as seq "
                              f"{entry.seq}: one was inserted or duplicated")
    try:
        payload = json.loads(entry.payload)
    except ValueError:
        return expected, f"entry {expected}: its payload is not JSON: edited"
    if not isinstance(payload, dict) or canonical_json(payload) != entry.payload:
        return expected, f"entry {expected}: its payload is not canonical JSON: edited"
    if entry_hash(entry.prev_hash, entry.payload) != entry.hash:
        return expected, f"entry {expected}: its hash does not match its content: edited"
    if entry.prev_hash != (prev.hash if prev else GENESIS):
        return _broken_link(payload.get("seq"), prev, expected,
                            orphan=following is not None and following.prev_hash != entry.hash)
    for name in COLUMNS:
        if payload.get(name) != getattr(entry, name):
            return expected, (f"entry {expected}: column {name!r} is {getattr(entry, name)!r} but "
                              f"the hashed record says {payload.get(name)!r}: edited")
    if org is not None and entry.org != org:
        return expected, f"entry {expected} belongs to organisation {entry.org!r}, not {org!r}: inserted"
    return None


def _broken_link(recorded: object, prev: Entry | None, expected: int, orphan: bool) -> tuple[int, str]:
    """Entry `expected` is intact in itself but does not follow the entry before it. Its hashed
    seq says which side moved: a later entry brought forward (something before it deleted or
    swapped), an entry pushed back (something inserted before it); at its own place, either
    it was slipped in (nothing follows it either: an orphan) or the entry before it was
    rewritten with a fresh hash."""
    if prev is None:
        return 1, "entry 1 does not start from the genesis hash: inserted or rewritten"
    if isinstance(recorded, int) and recorded > expected:
        return expected, (f"entry {expected} was recorded as entry {recorded}: entries before it "
                          "were deleted or it was moved")
    if isinstance(recorded, int) and recorded < expected:
        return prev.seq, (f"entry {expected} was recorded as entry {recorded}: entry {prev.seq} "
                          "was inserted before it")
    if orphan:
        return expected, (f"entry {expected} does not follow entry {prev.seq} and entry "
                          f"{expected + 1} does not follow it: entry {expected} was inserted or replaced")
    return prev.seq, (f"entry {expected} does not follow entry {prev.seq}: entry {prev.seq} was "
                      f"rewritten (or replaced) after entry {expected} was recorded")


def _files(entry: Entry) -> list[dict]:
    evidence = entry.data.get("evidence") or {}
    return list(evidence.get("files") or [])


@dataclass
class Facts:
    """What an occurrence's ledger entries say of it: its status (and the entry that set it),
    its completion time and lateness while done, whether it was rescheduled, and its due date
    as the last entry naming the occurrence saw it."""

    status: str
    seq: int
    completed_at: str | None = None  # iso_utc of the completing entry, while done
    late: bool | None = None         # as the completing entry judged it, while done
    rescheduled: bool = False
    kind: str | None = None
    due: str | None = None           # local date, YYYY-MM-DD
    due_seq: int = 0


STATUS_OF = {COMPLETED: OccurrenceStatus.DONE, REOPENED: OccurrenceStatus.OPEN, WAIVED: OccurrenceStatus.WAIVED,
             OCCURRENCE_OPENED: OccurrenceStatus.OPEN}


def state_from_events(entries: Iterable[Entry]) -> dict[int, Facts]:
    """occurrence id → what its entries say of it, the last word winning."""
    state: dict[int, Facts] = {}
    for entry in entries:
        if entry.occurrence_id is None or (entry.event not in STATUS_OF and entry.event != RESCHEDULED):
            continue
        data = entry.data
        facts = state.setdefault(entry.occurrence_id, Facts(OccurrenceStatus.OPEN, entry.seq))
        block = data.get("occurrence") or {}
        if block.get("due"):
            facts.kind, facts.due, facts.due_seq = block.get("kind"), block["due"], entry.seq
        if entry.event == RESCHEDULED:
            facts.rescheduled = True
            continue
        facts.status, facts.seq = STATUS_OF[entry.event], entry.seq
        done = entry.event == COMPLETED
        completed_at = data.get("completed_at") or entry.at  # a back-filled completion names its time
        facts.completed_at, facts.late = (completed_at, bool(data.get("late"))) if done else (None, None)
    return state


def disagreement(facts: Facts | None, *, status: str, completed_at: str | None, late: bool | None,
                 due: str, rescheduled: bool, planned_due: str | None = None
                 ) -> tuple[str, object, object, int | None] | None:
    """The first field in which a stored occurrence (its status, completion time as iso_utc,
    lateness, local due date, rescheduled flag) disagrees with its ledger entries: (field,
    what the ledger says, what is stored, the entry that says it), or None. A deadline never
    rescheduled is the one the roadmap plans (`planned_due`): no entry says otherwise."""
    said = facts or Facts(OccurrenceStatus.OPEN, 0)
    seq = facts.seq if facts else None
    stored = OccurrenceStatus.OPEN if status == OccurrenceStatus.WITHDRAWN else status
    checks: list[tuple[str, object, object, int | None]] = [
        ("status", said.status, stored, seq),
        ("completed_at", said.completed_at, completed_at, seq),
        ("late", said.late, late, seq),
        ("rescheduled", said.rescheduled, rescheduled, facts.due_seq if facts else None),
    ]
    fixed = said.status != OccurrenceStatus.OPEN or said.rescheduled or said.kind == OccurrenceKind.OPENED
    if facts is not None and facts.due is not None and fixed:  # an import moves only the others
        checks.append(("due", facts.due, due, facts.due_seq))
    if planned_due is not None and not said.rescheduled:
        checks.append(("due", planned_due, due, None))
    return next((check for check in checks if check[1] != check[2]), None)
