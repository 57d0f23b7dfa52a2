"""The shipped roadmap, the example directory and a real SMTP server: who gets which message,
in which language (the planner's items through enqueue and deliver_pending)."""

from __future__ import annotations

import datetime as dt
import re

from pydantic import SecretStr

from config import EXAMPLE_DIRECTORY
from flows.usecases.planning import load_policy_for, plan_batch
from models.core.directory import load_directory
from notifications import outbox
from tests.conftest import morning
from tests.notifications.conftest import make_settings
from tests.notifications.servers import text_of

GREETING = {"kk": "Құрметті ", "ru": "Здравствуйте, ", "en": "Dear "}


def test_each_person_gets_one_digest_in_their_language(engine, imported, smtp, tmp_path):
    settings = make_settings(tmp_path, smtp_url=SecretStr(smtp.url()), notify_workers=8)
    directory = load_directory(EXAMPLE_DIRECTORY)
    as_of = dt.date(2026, 1, 5)  # the 2025 occurrences are past due: first escalations
    now = morning(as_of)
    dry = plan_batch(engine, orgs=["KT"], as_of=as_of, settings=settings, directory=directory,
                     policy=load_policy_for(settings), now=now, claim=False)  # what the dry run shows
    batch = plan_batch(engine, orgs=["KT"], as_of=as_of, settings=settings, directory=directory,
                       policy=load_policy_for(settings), now=now)
    steps = {(i.occurrence_id, i.step) for i in dry.items}
    assert batch.claimed == len(steps) > 10
    report = outbox.deliver_pending(engine, directory=directory, settings=settings, now=now, as_of=as_of)
    # the claimed steps fan out to exactly the recipients the dry run named
    assert report.fanout["notices"] == batch.claimed and report.fanout["messages"] == len(dry.items)
    assert report.counts == {"sent": len(dry.items)} and report.problems == []

    expected: dict[str, set[str]] = {}
    for item in dry.items:
        expected.setdefault(directory.person(item.recipient).email, set()).add(item.measure)
    assert len(smtp.messages) == len(expected) == report.messages      # one digest each
    by_address = {e[1][0]: m for e, m in zip(smtp.envelopes, smtp.messages, strict=True)}
    for person in directory.people.values():
        mail = by_address.get(person.email)
        if mail is None:
            assert person.email not in expected
            continue
        body = text_of(mail)
        assert GREETING[person.language] + person.name in body
        named = set(re.findall(r"\b[ESG]\d{1,2}\b", mail["Subject"]))
        assert named == expected[person.email], (person.id, mail["Subject"])
        assert "просрочено на 5 дней" in body or person.language != "ru"  # days as of as_of
