"""Status counting per group (pure)."""

from hypothesis import given
from hypothesis import strategies as st

from models.core.progress import TOTAL, Bucket, tally

GROUPS = {("KT", "E1"): ["a", "b"], ("KT", "E2"): ["b"], ("KT", "E3"): []}


def test_counts_per_group_and_total():
    buckets = [Bucket("KT", "E1", "done", False, 2), Bucket("KT", "E1", "done", True, 1),
               Bucket("KT", "E2", "open", False, 3, overdue=2), Bucket("KT", "E3", "waived", False, 1)]
    rows = {r.group: r.counts for r in tally(buckets, GROUPS, {"a": "A"})}
    assert list(rows) == ["a", "b", TOTAL]
    assert (rows["a"].due, rows["a"].done_on_time, rows["a"].done_late) == (3, 2, 1)
    assert (rows["b"].due, rows["b"].open, rows["b"].overdue) == (6, 3, 2)
    total = rows[TOTAL]
    assert (total.due, total.waived, total.closed) == (7, 1, 4)
    assert total.percent == round(100 * 4 / 7, 1)


def test_nothing_due_has_no_percentage():
    rows = tally([], GROUPS)
    assert all(r.counts.due == 0 and r.counts.percent is None for r in rows)


bucket = st.builds(Bucket, st.just("KT"), st.sampled_from(["E1", "E2", "E3"]),
                   st.sampled_from(["open", "done", "waived"]), st.booleans(),
                   st.integers(0, 20), st.integers(0, 20))


@given(st.lists(bucket, max_size=20))
def test_the_parts_add_up(buckets):
    buckets = [b if b.status == "open" and b.overdue <= b.count else
               Bucket(b.org, b.measure, b.status, b.late, b.count, 0) for b in buckets]
    for row in tally(buckets, GROUPS):
        c = row.counts
        assert c.due == c.done_on_time + c.done_late + c.waived + c.open
        assert 0 <= c.overdue <= c.open
    total = next(r for r in tally(buckets, GROUPS) if r.group == TOTAL)
    assert total.counts.due == sum(b.count for b in buckets)
