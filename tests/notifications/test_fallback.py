"""Fallback over real transports: when every row of a message ends dead, the next route of the
person's fallback order delivers it (email in aiosmtpd, the deputy, the journal), the outbox
records which route and why, and nothing is sent twice."""

from __future__ import annotations

import datetime as dt
import json
import threading

from pydantic import SecretStr

from models.core.directory import parse_directory
from notifications import fallback, outbox
from tests.notifications.conftest import NOW, item, make_settings
from tests.notifications.servers import free_port, text_of
from tests.notifications.test_delivery import enqueue, rows

MINUTE = dt.timedelta(minutes=1)
OUTCOMES = ("sent", "failed", "dead", "unknown", "cancelled")


def people(teams: str, *, order: str = "[teams, email, deputy]", default: str = "") -> str:
    return f"""
{default}
people:
  - id: john
    name: John Smith
    email: john@example.kz
    teams: {teams!r}
    language: en
    deputy: ivan
    fallback: {order}
  - {{id: ivan, name: "Иван Петров", email: ivan@example.kz, language: ru}}
  - {{id: aigerim, name: "Айгерім Сейітқызы", language: kk, deputy: ivan}}
roles:
  esg_office: {{holder: ivan, superior: null}}
"""


def deliver(engine, directory, settings, now=NOW, **kw):
    report = outbox.deliver_pending(engine, directory=directory, settings=settings, now=now,
                                    backoff=(MINUTE,), max_attempts=2, **kw)
    assert report.adds_up and report.claimed == sum(report.summary[k] for k in OUTCOMES)
    return report


def test_teams_down_falls_back_to_email_once_teams_is_dead(engine, smtp, https, tmp_path):
    directory = parse_directory(people(https.workflows_url()), source="fallback.yaml")
    settings = make_settings(tmp_path, smtp_url=SecretStr(smtp.url()), ca_file=https.ca_file)
    https.behaviour.statuses = [500, 500]
    assert enqueue(engine, [item("E4", "john")], directory, settings) == 1  # teams only, first

    first = deliver(engine, directory, settings)
    assert first.counts == {"failed": 1} and first.fallbacks == 0 and not smtp.messages  # not dead yet
    assert first.remaining == {"failed": 1, "pending": 0, "dead": 0, "dead_delivered": 0}

    second = deliver(engine, directory, settings, now=NOW + MINUTE)
    assert second.counts == {"dead": 1, "sent": 1} and second.fallbacks == 1 and second.claimed == 2
    assert second.remaining == {"failed": 0, "pending": 0, "dead": 0, "dead_delivered": 1}
    mail, = smtp.to("john@example.kz")
    assert "E4" in mail["Subject"]
    teams, email = rows(engine)
    assert (teams.channel, teams.status, teams.hop, teams.fallback_to) == ("teams", "dead", 0, "email")
    assert (email.channel, email.status, email.hop, email.recipient) == ("email", "sent", 1, "john")
    assert email.message_key == teams.message_key and email.fallback_to is None
    assert "john teams" in email.fallback_reason and "500" in email.fallback_reason
    assert "order teams → email → deputy" in email.fallback_reason
    assert [r.status for r in https.requests] == [500, 500]

    assert deliver(engine, directory, settings, now=NOW + 60 * MINUTE).claimed == 0  # nothing twice
    assert fallback.hand_on(engine, directory=directory, settings=settings, now=NOW + 60 * MINUTE) == 0
    assert outbox.make_due(engine, now=NOW + 60 * MINUTE, dead=True) == 0  # delivered: not resent
    assert len(smtp.to("john@example.kz")) == 1 and len(rows(engine)) == 2


def test_then_the_deputy_then_the_journal(engine, https, tmp_path):
    """Teams dead, the relay closed: the deputy's email fails too, and the journal keeps it."""
    directory = parse_directory(people(https.workflows_url(), order="[teams, email, deputy, journal]"),
                                source="fallback.yaml")
    closed = f"mailto://127.0.0.1:{free_port()}?from=esg@example.kz"
    settings = make_settings(tmp_path, smtp_url=SecretStr(closed), ca_file=https.ca_file)
    https.behaviour.statuses = [500] * 10
    enqueue(engine, [item("S3", "john")], directory, settings)
    for minutes in (0, 1, 2, 3):
        report = deliver(engine, directory, settings, now=NOW + minutes * MINUTE)
    assert report.remaining["dead"] == 0 and report.remaining["dead_delivered"] == 3
    hops = [(r.hop, r.recipient, r.channel, r.status, r.fallback_to) for r in rows(engine)]
    assert hops == [(0, "john", "teams", "dead", "email"), (1, "john", "email", "dead", "deputy ivan"),
                    (2, "ivan", "email", "dead", "journal"), (3, "john", "journal", "sent", None)]
    record, = [json.loads(x) for x in settings.journal_path.read_text("utf-8").splitlines()]
    assert record["recipient"] == "john" and record["measures"] == ["S3"]


def test_an_exhausted_order_is_dead_and_reported(engine, https, tmp_path):
    directory = parse_directory(people(https.workflows_url(), order="[teams]"), source="fallback.yaml")
    settings = make_settings(tmp_path, ca_file=https.ca_file)
    https.behaviour.statuses = [500, 500]
    enqueue(engine, [item("G2", "john")], directory, settings)
    deliver(engine, directory, settings)
    last = deliver(engine, directory, settings, now=NOW + MINUTE)
    assert last.counts == {"dead": 1} and last.fallbacks == 0 and last.remaining["dead"] == 1
    row, = rows(engine)
    assert row.fallback_to == "none" and last.problems[0]["fallback_to"] == "none"
    assert outbox.make_due(engine, now=NOW + 2 * MINUTE, dead=True) == 1  # on request, resent
    assert deliver(engine, directory, settings, now=NOW + 2 * MINUTE).counts == {"sent": 1}


def test_a_person_without_a_channel_reaches_their_deputy_first(engine, smtp, tmp_path):
    directory = parse_directory(people("workflows://h.example.kz/a/b/", default="fallback: [channels, deputy]"),
                                source="fallback.yaml")
    settings = make_settings(tmp_path, smtp_url=SecretStr(smtp.url()))
    enqueue(engine, [item("E9", "aigerim")], directory, settings)
    assert deliver(engine, directory, settings).counts == {"sent": 1}
    row, = rows(engine)
    assert (row.recipient, row.channel, row.hop) == ("ivan", "email", 0)
    assert "aigerim has no channel of their own" in row.fallback_reason
    message, = smtp.to("ivan@example.kz")  # in the deputy's language, saying whom it stands in for
    body = " ".join(text_of(message).split())
    assert "направлено вам как заместителю: до адресата (Айгерім Сейітқызы) сообщение не дошло" in body, body


def test_a_message_back_to_the_person_is_not_a_deputys_copy(engine, tmp_path):
    """aigerim has no channel: her deputy is written to first; when that dies the journal keeps
    it for her, without the deputy's "sent to you as deputy" note."""
    directory = parse_directory(people("workflows://h.example.kz/a/b/",
                                       default="fallback: [channels, deputy, journal]"), source="fallback.yaml")
    closed = f"mailto://127.0.0.1:{free_port()}?from=esg@example.kz"
    settings = make_settings(tmp_path, smtp_url=SecretStr(closed))
    enqueue(engine, [item("E9", "aigerim")], directory, settings)
    for minutes in (0, 1, 2):
        deliver(engine, directory, settings, now=NOW + minutes * MINUTE)
    hops = [(r.recipient, r.channel, r.status, r.payload.get("standing_in_for")) for r in rows(engine)]
    assert hops == [("ivan", "email", "dead", "Айгерім Сейітқызы"), ("aigerim", "journal", "sent", "")]
    record, = [json.loads(x) for x in settings.journal_path.read_text("utf-8").splitlines()]
    assert record["recipient"] == "aigerim" and "орынбасар" not in json.dumps(record, ensure_ascii=False)


def test_two_deliverers_hand_on_a_message_once(engine, smtp, https, tmp_path):
    directory = parse_directory(people(https.workflows_url()), source="fallback.yaml")
    settings = make_settings(tmp_path, smtp_url=SecretStr(smtp.url()), ca_file=https.ca_file)
    https.behaviour.statuses = [500] * 40
    enqueue(engine, [item(f"S{n}", "john", step=f"remind-{n}") for n in range(1, 11)], directory, settings)
    deliver(engine, directory, settings)                      # all teams rows failed once
    barrier = threading.Barrier(2)
    reports = []

    def run():
        barrier.wait()
        reports.append(deliver(engine, directory, settings, now=NOW + MINUTE))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.fallbacks for r in reports) == 10
    emails = rows(engine, channel="email")
    assert len(emails) == 10 and {r.status for r in emails} == {"sent"}
    told = sorted(m for mail in smtp.to("john@example.kz") for m in range(1, 11) if f"S{m}" in mail["Subject"]
                  + mail.get_body(("plain",)).get_content())
    assert told == list(range(1, 11))                         # each measure by email, once


def test_a_crash_after_handing_on_sends_the_fallback_once(engine, smtp, https, tmp_path):
    directory = parse_directory(people(https.workflows_url()), source="fallback.yaml")
    settings = make_settings(tmp_path, smtp_url=SecretStr(smtp.url()), ca_file=https.ca_file)
    https.behaviour.statuses = [500, 500]
    enqueue(engine, [item("E4", "john")], directory, settings)
    deliver(engine, directory, settings)
    outbox.claim(engine, now=NOW + MINUTE, batch_id="crashed")  # teams claimed, then the run died
    report = deliver(engine, directory, settings, now=NOW + 2 * MINUTE * 60)  # lease expired: unknown
    assert report.expired == 1 and report.fallbacks == 0 and not smtp.messages  # may have arrived
    assert rows(engine)[0].status == "unknown"
