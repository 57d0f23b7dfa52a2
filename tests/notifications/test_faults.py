"""Faults on real transports: after each, every message is delivered exactly once or is
visibly dead (or unknown, when a send timed out and may have arrived)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
import time

from pydantic import SecretStr
from sqlmodel import select

from models.store.db import session_scope
from models.store.tables import OccurrenceRow
from notifications import outbox
from tests.notifications.conftest import NOW, item, make_directory, make_settings
from tests.notifications.servers import SMTPServer, free_port
from tests.notifications.test_delivery import enqueue, rows

MINUTE = dt.timedelta(minutes=1)
BACKOFF = (MINUTE, 5 * MINUTE)


def deliver(engine, directory, settings, now=NOW, **kw):
    return outbox.deliver_pending(engine, directory=directory, settings=settings, now=now,
                                  backoff=BACKOFF, max_attempts=3, **kw)


def test_smtp_port_closed_retries_with_backoff_then_dead(engine, directory, tmp_path):
    directory = dataclasses.replace(directory, fallback=("channels",))  # no fallback: see test_fallback.py
    port = free_port()
    secret_url = f"mailtos://esg:hunter2secret@127.0.0.1:{port}?from=esg@example.kz"
    settings = make_settings(tmp_path, smtp_url=SecretStr(secret_url))
    enqueue(engine, [item("E4", "aigerim")], directory, settings)

    first = deliver(engine, directory, settings)
    row, = rows(engine)
    assert first.counts == {"failed": 1} and row.attempts == 1
    assert row.next_attempt_at == NOW + MINUTE
    assert deliver(engine, directory, settings).claimed == 0          # not due yet
    assert deliver(engine, directory, settings, now=NOW + MINUTE).counts == {"failed": 1}
    last = deliver(engine, directory, settings, now=NOW + 6 * MINUTE)
    row, = rows(engine)
    assert last.counts == {"dead": 1} and row.status == "dead" and row.attempts == 3
    problem, = last.problems
    assert problem["measure"] == "E4" and problem["status"] == "dead"
    assert "127.0.0.1" in problem["last_error"]
    for text in (row.last_error, row.masked_target, json.dumps(problem)):
        assert "hunter2secret" not in text
    assert deliver(engine, directory, settings, now=NOW + dt.timedelta(days=1)).claimed == 0

    server = SMTPServer(port=port)  # the relay is back: an explicit retry delivers it once
    server.controller.start()
    try:
        plain = make_settings(tmp_path, smtp_url=SecretStr(f"mailto://127.0.0.1:{port}?from=esg@example.kz"))
        assert outbox.make_due(engine, now=NOW + dt.timedelta(days=1), dead=True) == 1
        assert deliver(engine, directory, plain, now=NOW + dt.timedelta(days=1)).counts == {"sent": 1}
        assert deliver(engine, directory, plain, now=NOW + dt.timedelta(days=2)).claimed == 0
        assert len(server.to("aigerim@example.kz")) == 1
    finally:
        server.controller.stop()


def test_http_500_then_200_is_delivered_exactly_once(engine, https, tmp_path):
    directory = make_directory(teams=https.workflows_url())
    settings = make_settings(tmp_path, ca_file=https.ca_file)
    https.behaviour.statuses = [500]
    enqueue(engine, [item("S5", "john")], directory, settings)
    failed = deliver(engine, directory, settings)
    assert failed.counts == {"failed": 1}
    assert "500" in rows(engine)[0].last_error
    assert deliver(engine, directory, settings, now=NOW + MINUTE).counts == {"sent": 1}
    assert deliver(engine, directory, settings, now=NOW + dt.timedelta(days=1)).claimed == 0
    assert [r.status for r in https.requests] == [500, 200]
    assert len(https.accepted()) == 1
    row, = rows(engine)
    assert row.status == "sent" and row.attempts == 2 and row.last_error is None


def test_slow_endpoint_times_out_as_unknown_and_is_not_resent(engine, https, tmp_path):
    directory = make_directory(teams=https.workflows_url())
    settings = make_settings(tmp_path, ca_file=https.ca_file, notify_timeout=0.4)
    https.behaviour.delay = 1.5
    enqueue(engine, [item("G7", "john")], directory, settings)
    started = time.monotonic()
    report = deliver(engine, directory, settings)
    assert time.monotonic() - started < 1.4                # it did not wait for the answer
    assert report.counts == {"unknown": 1}
    assert report.problems[0]["status"] == "unknown"
    _wait_for(lambda: len(https.requests) == 1)          # it did arrive, late
    for later in (MINUTE, dt.timedelta(days=1)):
        assert deliver(engine, directory, settings, now=NOW + later).claimed == 0
    assert len(https.requests) == 1 and rows(engine)[0].status == "unknown"

    https.behaviour.delay = 0                              # resent only when asked to
    patient = make_settings(tmp_path, ca_file=https.ca_file)
    assert outbox.make_due(engine, now=NOW + MINUTE) == 0
    assert outbox.make_due(engine, now=NOW + MINUTE, unknown=True) == 1
    assert deliver(engine, directory, patient, now=NOW + MINUTE).counts == {"sent": 1}
    assert len(https.requests) == 2


def test_one_failing_channel_does_not_hold_back_the_others(engine, smtp, https, tmp_path):
    directory = make_directory(teams=https.workflows_url())
    settings = make_settings(tmp_path, smtp_url=SecretStr(smtp.url()), ca_file=https.ca_file)
    https.behaviour.statuses = [500]
    enqueue(engine, [item("E2", "john"), item("E2", "ivan")], directory, settings)
    report = deliver(engine, directory, settings)
    assert report.counts == {"sent": 2, "failed": 1}
    assert {(r.recipient, r.channel, r.status) for r in rows(engine)} == {
        ("john", "email", "sent"), ("john", "teams", "failed"), ("ivan", "email", "sent")}


def test_person_gone_from_the_directory_is_dead_not_dropped(engine, directory, tmp_path):
    settings = make_settings(tmp_path)
    enqueue(engine, [item("E4", "aigerim")], directory, settings)
    smaller = make_directory()
    del smaller.people["aigerim"]
    report = deliver(engine, smaller, settings)
    assert report.counts == {"dead": 1}
    assert "not in the directory" in report.problems[0]["last_error"]


def test_completed_occurrence_is_cancelled_not_sent(engine, imported, directory, tmp_path):
    settings = make_settings(tmp_path)
    with session_scope(engine) as session:
        occ = session.exec(select(OccurrenceRow).order_by(OccurrenceRow.id)).first()
    enqueue(engine, [item("E1", "aigerim", occurrence_id=occ.id),
                     item("E1", "ivan", occurrence_id=occ.id)], directory, settings)
    with session_scope(engine) as session:
        session.get(OccurrenceRow, occ.id).status = "done"
    report = deliver(engine, directory, settings)
    assert report.counts == {"cancelled": 2} and report.messages == 0
    assert not settings.journal_path.exists()


def test_crashed_run_leaves_unknown_after_its_lease(engine, directory, tmp_path):
    settings = make_settings(tmp_path)
    enqueue(engine, [item("E4", "aigerim")], directory, settings)
    claimed, _ = outbox.claim(engine, now=NOW, batch_id="crashed")  # ... and then the run died
    assert len(claimed) == 1 and rows(engine)[0].status == "sending"
    assert deliver(engine, directory, settings, now=NOW + MINUTE).expired == 0
    report = deliver(engine, directory, settings, now=NOW + dt.timedelta(hours=2))
    assert report.expired == 1 and rows(engine)[0].status == "unknown"
    assert not settings.journal_path.exists()


def test_two_deliverers_at_once_never_send_a_row_twice(engine, directory, tmp_path):
    settings = make_settings(tmp_path)
    people = ["aigerim", "ivan", "john", "nobody"]
    items = [item(f"S{n}", person, step=f"remind-{n}") for n in range(1, 11) for person in people]
    enqueue(engine, items, directory, settings)
    barrier = threading.Barrier(2)
    reports = []

    def run():
        barrier.wait()
        reports.append(deliver(engine, directory, settings))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.claimed for r in reports) == 40
    lines = [json.loads(x) for x in settings.journal_path.read_text("utf-8").splitlines()]
    told = sorted((x["recipient"], m) for x in lines for m in x["measures"])
    assert told == sorted((p, f"S{n}") for n in range(1, 11) for p in people)
    assert {r.status for r in rows(engine)} == {"sent"}


def _wait_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)
