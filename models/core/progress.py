"""Status figures: occurrences due so far, done on time, done late, open, overdue, waived and
percent complete, per group (pure).

Definitions, as of a day D (Almaty), over occurrences that are not withdrawn:
- due: due on or before D (the denominator);
- done_on_time: due, status done, not late; done_late: due, status done, late;
- waived: due, status waived;
- open: due, status open (so due = done_on_time + done_late + waived + open);
- overdue: the part of open that was due before D (an item due on D itself is open, not
  overdue, until the day is over);
- percent complete: (done_on_time + done_late + waived) / due × 100, None when nothing is due.
An occurrence counts once in each group it belongs to: a measure with three executors counts
in each executor's row, once in the total.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from models.core.schedule import OccurrenceStatus

FIELDS = ("due", "done_on_time", "done_late", "open", "overdue", "waived")
TOTAL = "total"


@dataclass
class Counts:
    due: int = 0
    done_on_time: int = 0
    done_late: int = 0
    open: int = 0
    overdue: int = 0
    waived: int = 0

    @property
    def closed(self) -> int:
        return self.done_on_time + self.done_late + self.waived

    @property
    def percent(self) -> float | None:
        return round(100.0 * self.closed / self.due, 1) if self.due else None

    def add(self, bucket: Bucket) -> None:
        self.due += bucket.count
        if bucket.status == OccurrenceStatus.DONE:
            if bucket.late:
                self.done_late += bucket.count
            else:
                self.done_on_time += bucket.count
        elif bucket.status == OccurrenceStatus.WAIVED:
            self.waived += bucket.count
        elif bucket.status == OccurrenceStatus.OPEN:
            self.open += bucket.count
            self.overdue += bucket.overdue

    def as_dict(self) -> dict:
        return {**asdict(self), "percent_complete": self.percent}


@dataclass(frozen=True)
class Bucket:
    """Occurrences of one measure that are due so far and alike in status and lateness;
    overdue says how many of them were due before the day (counted for open ones only)."""

    org: str
    measure: str
    status: str
    late: bool
    count: int
    overdue: int = 0


@dataclass(frozen=True)
class GroupRow:
    org: str
    group: str
    label: str
    counts: Counts

    def as_dict(self) -> dict:
        return {"org": self.org, "group": self.group, "label": self.label, **self.counts.as_dict()}


def tally(buckets: Iterable[Bucket], groups_of: dict[tuple[str, str], Sequence[str]],
          labels: dict[str, str] | None = None) -> list[GroupRow]:
    """Counts per (org, group) in order of first appearance in groups_of, then each org's
    total. groups_of maps (org, measure) to its group keys; labels names the keys."""
    labels = labels or {}
    table: dict[tuple[str, str], Counts] = {}
    for (org, _measure), keys in groups_of.items():
        for key in keys:
            table.setdefault((org, key), Counts())
        table.setdefault((org, TOTAL), Counts())
    for bucket in buckets:
        for key in groups_of.get((bucket.org, bucket.measure), ()):
            table.setdefault((bucket.org, key), Counts()).add(bucket)
        table.setdefault((bucket.org, TOTAL), Counts()).add(bucket)
    ordered = sorted(table, key=lambda k: (k[0], k[1] == TOTAL))
    return [GroupRow(org, key, labels.get(key, key), table[(org, key)]) for org, key in ordered]
