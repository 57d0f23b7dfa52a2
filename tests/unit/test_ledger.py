"""The ledger's hash chain (pure): canonical JSON, the hash's definition, and the property
that any single change to a chain is found at the changed entry or earlier."""

import datetime as dt
import hashlib
import json
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.core.ledger import (
    COLUMNS,
    COMPLETED,
    GENESIS,
    Entry,
    canonical_json,
    entry_hash,
    make_entry,
    state_from_events,
    verify_chain,
)

T0 = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)
EVENTS = ["completed", "reopened", "rescheduled", "waived", "occurrence_opened"]


def build(n: int, org: str = "KT", texts=None) -> list[Entry]:
    chain, prev = [], None
    for i in range(n):
        text = texts[i % len(texts)] if texts else f"note {i}"
        prev = make_entry(prev, org=org, event=EVENTS[i % len(EVENTS)], actor=f"person-{i % 3}",
                          at=T0 + dt.timedelta(minutes=i), measure=f"E{i % 16 + 1}", period=2025,
                          occurrence_id=100 + i % 7, data={"note": text, "evidence": {"files": []}})
        chain.append(prev)
    return chain


def test_canonical_json_is_sorted_compact_and_keeps_kazakh_letters():
    assert canonical_json({"b": 1, "a": ["ә", None]}) == '{"a":["ә",null],"b":1}'


def test_entry_hash_is_sha256_of_prev_newline_payload():
    payload = canonical_json({"seq": 1})
    expected = hashlib.sha256((GENESIS + "\n" + payload).encode("utf-8")).hexdigest()
    assert entry_hash(GENESIS, payload) == expected


def test_entries_link_and_carry_their_columns_in_the_payload():
    chain = build(3)
    assert chain[0].prev_hash == GENESIS and chain[0].seq == 1
    assert [e.prev_hash for e in chain[1:]] == [e.hash for e in chain[:-1]]
    payload = json.loads(chain[2].payload)
    assert {k: payload[k] for k in COLUMNS} == {k: getattr(chain[2], k) for k in COLUMNS}
    assert payload["at"] == "2025-03-01T09:32:00.000000+00:00"


def test_an_intact_chain_verifies_to_its_head():
    chain = build(5)
    result = verify_chain(chain, org="KT", anchor=chain[1].hash)
    assert result.ok and result.head == chain[-1].hash and result.head_seq == 5
    assert result.anchor_seq == 2 and result.first_bad is None


def test_empty_chain_is_intact_at_genesis():
    result = verify_chain([])
    assert result.ok and result.head == GENESIS and result.count == 0


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        make_entry(None, org="KT", event=COMPLETED, actor="a", at=dt.datetime(2025, 1, 1), data={})


def test_unknown_events_are_refused():
    with pytest.raises(ValueError):
        make_entry(None, org="KT", event="deleted", actor="a", at=T0, data={})


# --- tampering: any single change is found at that entry or earlier ------------------------

FIELDS = ["payload", "prev_hash", "hash", *COLUMNS]


def _other(value, draw):
    if isinstance(value, int) and not isinstance(value, bool):
        return value + draw(st.integers(1, 5)) * draw(st.sampled_from([1, -1]))
    if value is None:
        return draw(st.sampled_from(["X", 0]))
    return value + draw(st.text(min_size=1, max_size=3))


@st.composite
def tampered(draw):
    """(original chain, tampered chain, index of the changed entry, how)."""
    n = draw(st.integers(2, 12))
    chain = build(n, texts=draw(st.lists(st.text(max_size=8), min_size=1, max_size=3)))
    how = draw(st.sampled_from(["edit", "edit_rehash", "delete", "insert", "insert_unchained", "swap"]))
    renumber = draw(st.booleans())  # in a database seq is unique: the attacker renumbers rows
    k = draw(st.integers(0, n - 1 if how.startswith("edit") else n - 2))
    bad = list(chain)
    if how == "edit":
        name = draw(st.sampled_from(FIELDS))
        bad[k] = replace(chain[k], **{name: _other(getattr(chain[k], name), draw)})
    elif how == "edit_rehash":  # the attacker edits the payload and recomputes the entry's hash
        data = json.loads(chain[k].payload)
        data["actor"] = data["actor"] + draw(st.text(min_size=1, max_size=3))
        text = canonical_json(data)
        bad[k] = replace(chain[k], payload=text, actor=data["actor"],
                         hash=entry_hash(chain[k].prev_hash, text))
    elif how == "delete":
        del bad[k]
    elif how == "insert":  # a well-formed entry, chained from k-1, slipped in before k
        prev = chain[k - 1] if k else None
        forged = make_entry(prev, org="KT", event="completed", actor="mallory", at=T0,
                            data={"forged": True}, measure="E1", period=2025, occurrence_id=1)
        bad.insert(k, forged)
    elif how == "insert_unchained":  # ... or linked to a made-up predecessor
        forged = make_entry(chain[k - 1] if k else None, org="KT", event="waived", actor="mallory",
                            at=T0, data={}, measure="E1", period=2025, occurrence_id=1)
        fake = draw(st.text("0123456789abcdef", min_size=64, max_size=64))
        bad.insert(k, replace(forged, prev_hash=fake, hash=entry_hash(fake, forged.payload)))
    else:
        bad[k], bad[k + 1] = chain[k + 1], chain[k]
    if renumber and not how.startswith("edit"):
        bad = [replace(e, seq=i) for i, e in enumerate(bad, start=1)]
    return chain, bad, k, how


@settings(max_examples=400, deadline=None)
@given(tampered())
def test_any_single_change_is_found_at_that_entry_or_earlier(case):
    original, bad, k, how = case
    if bad == original:
        return
    result = verify_chain(bad, org="KT", anchor=original[-1].hash)
    if result.ok:  # only a rewritten last entry looks intact: its old head is gone
        assert how == "edit_rehash" and k == len(original) - 1 and result.anchor_seq is None
        return
    assert result.first_bad is not None and result.first_bad <= k + 1  # seq is 1-based
    assert result.reason


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 10), st.data())
def test_a_chain_cut_short_is_caught_against_an_earlier_head(n, data):
    chain = build(n)
    keep = data.draw(st.integers(0, n - 1))
    result = verify_chain(chain[:keep], org="KT", anchor=chain[-1].hash)
    assert result.ok and result.anchor_seq is None  # verify --head reports it


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 10), st.integers(1, 5))
def test_appending_keeps_every_earlier_head(n, more):
    chain = build(n + more)
    result = verify_chain(chain, org="KT", anchor=chain[n - 1].hash)
    assert result.ok and result.anchor_seq == n


def test_an_entry_from_another_organisation_is_refused():
    kt, other = build(3), build(3, org="KCELL")
    result = verify_chain([*kt[:2], other[2]], org="KT")
    assert not result.ok and result.first_bad <= 3


def test_state_from_events_keeps_the_last_word_per_occurrence():
    prev = None
    entries = []
    for event in ("completed", "reopened", "completed"):
        prev = make_entry(prev, org="KT", event=event, actor="a", at=T0, data={}, occurrence_id=7)
        entries.append(prev)
    done, reopened = state_from_events(entries)[7], state_from_events(entries[:2])[7]
    assert (done.status, done.seq, done.completed_at, done.late) == ("done", 3, entries[2].at, False)
    assert (reopened.status, reopened.seq, reopened.completed_at, reopened.late) == ("open", 2, None, None)


def _renumber(entries):
    return [replace(e, seq=i) for i, e in enumerate(entries, start=1)]


def test_entries_moved_in_a_database_are_named():
    chain = build(5)
    swapped = _renumber([*chain[:2], chain[3], chain[2], chain[4]])
    result = verify_chain(swapped, org="KT")
    assert result.first_bad == 3 and "recorded as entry 4" in result.reason


def test_an_entry_deleted_in_a_database_is_named():
    chain = build(5)
    result = verify_chain(_renumber([*chain[:2], *chain[3:]]), org="KT")
    assert result.first_bad == 3 and "deleted" in result.reason


def test_an_entry_inserted_in_a_database_is_named():
    chain = build(5)
    forged = make_entry(chain[1], org="KT", event="completed", actor="mallory", at=T0, data={})
    result = verify_chain(_renumber([*chain[:2], forged, *chain[2:]]), org="KT")
    assert result.first_bad == 3 and "inserted" in result.reason


def test_a_rewritten_entry_is_named_by_the_broken_link_after_it():
    chain = build(5)
    data = json.loads(chain[2].payload)
    data["actor"] = "mallory"
    text = canonical_json(data)
    rewritten = replace(chain[2], payload=text, actor="mallory", hash=entry_hash(chain[2].prev_hash, text))
    result = verify_chain([*chain[:2], rewritten, *chain[3:]], org="KT")
    assert result.first_bad == 3 and "rewritten" in result.reason


def test_the_ledgers_pure_modules_import_no_shell_library():
    import subprocess
    import sys

    modules = ("models.core.ledger, models.core.evidence_rules, models.evidence.store, models.evidence.pack, "
               "models.evidence.verify, models.core.sheets")
    code = (f"import sys, {modules}; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('prefect', 'sqlmodel', 'sqlalchemy', 'apprise')); print(bad); sys.exit(bool(bad))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
