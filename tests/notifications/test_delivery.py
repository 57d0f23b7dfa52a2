"""Delivery over real loopback transports: email (aiosmtpd), Teams (HTTPS, trustme), journal."""

from __future__ import annotations

import datetime as dt
import json

from pydantic import SecretStr

from models.store.db import session_scope
from models.store.outbox import list_rows
from notifications import enqueue as queue
from notifications import outbox
from tests.notifications.conftest import NOW, item, make_directory, make_settings
from tests.notifications.servers import text_of


def enqueue(engine, items, directory, settings) -> int:
    with session_scope(engine) as session:
        return queue.enqueue(session, items=items, directory=directory, settings=settings, now=NOW)


def rows(engine, **where):
    with session_scope(engine) as session:
        found = list_rows(session)
    return [r for r in found if all(getattr(r, k) == v for k, v in where.items())]


def test_email_arrives_in_kazakh_and_russian(engine, smtp, directory, tmp_path):
    settings = make_settings(tmp_path, smtp_url=SecretStr(smtp.url()))
    assert enqueue(engine, [item("E4", "aigerim"), item("E4", "ivan")], directory, settings) == 2
    report = outbox.deliver_pending(engine, directory=directory, settings=settings, now=NOW)
    assert report.counts == {"sent": 2} and report.messages == 2 and report.problems == []

    kk, = smtp.to("aigerim@example.kz")
    assert kk["Subject"].startswith("[E4 · 2025] Еске салу")
    assert "14 күн қалды" in kk["Subject"]
    body = text_of(kk)
    assert "Құрметті Айгерім Сейітқызы!" in body
    assert "E4: экологиялық саясатты бекіту" in body
    assert "Директорлар кеңесінің шешімі" in body
    assert "Корпоративтік басқару және тұрақты даму департаменті" in body
    assert "Иван Петров (Бас әкімшілік директор)" in body
    assert "Не істеу керек" in body and "Орындалғаннан кейін ESG кеңсесіне (Дана Нұрланқызы <esg@example.kz>)" in body
    assert "esgtrack" not in body.replace("esgtrack жүйесі", "")  # no command an officer cannot run
    assert "<td>Орындау мерзімі</td>" in text_of(kk, "html")

    ru, = smtp.to("ivan@example.kz")
    assert ru["Subject"].startswith("[E4 · 2025] Напоминание: срок исполнения 31.12.2025")
    assert "осталось 14 дней" in ru["Subject"]
    body = text_of(ru)
    assert "Здравствуйте, Иван Петров!" in body
    assert "E4: утверждение экологической политики" in body
    assert "решение Совета директоров" in body

    sent = rows(engine, status="sent")
    assert len(sent) == 2 and all(r.attempts == 1 and r.sent_at == NOW for r in sent)
    assert {r.language for r in sent} == {"kk", "ru"}
    assert all(r.masked_target.startswith(f"mailto://127.0.0.1:{smtp.port}") for r in sent)


def test_one_digest_per_recipient_and_channel(engine, smtp, directory, tmp_path):
    settings = make_settings(tmp_path, smtp_url=SecretStr(smtp.url()))
    items = [item("E4", "ivan", occurrence_id=None, step="remind-14"),
             item("S2", "ivan", step="remind-7"),
             item("G5", "ivan", step="escalate-14", kind="escalation", level=2, due="2025-11-30")]
    enqueue(engine, items, directory, settings)
    report = outbox.deliver_pending(engine, directory=directory, settings=settings, now=NOW)
    assert report.messages == 1 and report.counts == {"sent": 3}
    mail, = smtp.messages
    assert mail["Subject"] == "Дорожная карта ESG, 17.12.2025: 3 пункта — G5, E4, S2 (просрочено: 1)"
    body = text_of(mail)
    assert body.index("1. G5") < body.index("2. E4") < body.index("3. S2")  # escalation first
    assert "просрочено на 17 дней" in body and "Эскалация: уровень 2" in body
    assert {r.subject for r in rows(engine)} == {mail["Subject"]}


def test_teams_gets_the_adaptive_card_over_verified_https(engine, https, tmp_path):
    directory = make_directory(teams=https.workflows_url())
    settings = make_settings(tmp_path, ca_file=https.ca_file)
    enqueue(engine, [item("S3", "john")], directory, settings)
    report = outbox.deliver_pending(engine, directory=directory, settings=settings, now=NOW)
    assert report.counts == {"sent": 1}, report.problems
    request, = https.accepted()
    assert request.path == "/workflows/wf0123abcd/triggers/manual/paths/invoke"
    assert request.query["sig"] == ["sig9876zyxw"]
    attachment, = request.body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    text = json.dumps(card, ensure_ascii=False)
    assert "[S3 · 2025] Reminder" in text and "S3: approve the environmental policy" in text
    assert "Board of Directors decision" in text and "14 days left" in text
    row, = rows(engine)
    assert row.channel == "teams" and "sig9876zyxw" not in row.masked_target
    assert "wf0123abcd" not in row.masked_target


def test_teams_refuses_an_untrusted_certificate(engine, https, tmp_path):
    directory = make_directory(teams=https.workflows_url())
    settings = make_settings(tmp_path)  # no ca_file: the throw-away CA is not trusted
    enqueue(engine, [item("S3", "john")], directory, settings)
    report = outbox.deliver_pending(engine, directory=directory, settings=settings, now=NOW)
    assert report.counts == {"failed": 1} and https.requests == []


def test_journal_is_the_default_channel(engine, directory, tmp_path):
    settings = make_settings(tmp_path)  # no SMTP, nobody has Teams: everything to the journal
    enqueue(engine, [item("E4", "aigerim"), item("G2", "john", step="remind-7")], directory, settings)
    report = outbox.deliver_pending(engine, directory=directory, settings=settings, now=NOW)
    assert report.counts == {"sent": 2}
    lines = [json.loads(line) for line in settings.journal_path.read_text("utf-8").splitlines()]
    assert {(r["recipient"], r["channel"], r["language"]) for r in lines} == {
        ("aigerim", "journal", "kk"), ("john", "journal", "en")}
    kk = next(r for r in lines if r["recipient"] == "aigerim")
    assert kk["measures"] == ["E4"] and kk["subject"].startswith("[E4 · 2025] Еске салу")
    assert "Құрметті Айгерім Сейітқызы!" in kk["body"]


def test_extra_apprise_urls_get_their_own_rows(engine, tmp_path):
    journal = tmp_path / "extra.jsonl"
    directory = make_directory(apprise=(f"journal://local{journal}",))
    settings = make_settings(tmp_path)
    enqueue(engine, [item("E1", "john")], directory, settings)
    assert [r.channel for r in rows(engine)] == ["apprise"]
    outbox.deliver_pending(engine, directory=directory, settings=settings, now=NOW)
    record, = [json.loads(x) for x in journal.read_text("utf-8").splitlines()]
    assert record["subject"].startswith("[E1 · 2025] Reminder")


def test_enqueue_is_idempotent(engine, directory, tmp_path, smtp):
    settings = make_settings(tmp_path, smtp_url=SecretStr(smtp.url()))
    items = [item("E4", "aigerim"), item("E4", "ivan"), item("E4", "nobody")]
    assert enqueue(engine, items, directory, settings) == 3
    assert enqueue(engine, items, directory, settings) == 0
    keys = sorted(r.idem_key for r in rows(engine))
    assert keys == ["KT/E4:remind-14:aigerim:email", "KT/E4:remind-14:ivan:email",
                    "KT/E4:remind-14:nobody:journal"]


def test_messages_carry_a_link_signed_for_their_recipient(engine, smtp, https, tmp_path):
    """With ESGTRACK_BASE_URL set, the email has the person's link to their obligations and the
    Teams card a button to it; each link opens for its own person and organisation only."""
    from config.settings import signing_key
    from models.core import links
    from models.core.policy import load_policy

    directory = make_directory(teams=https.workflows_url())
    settings = make_settings(tmp_path, smtp_url=SecretStr(smtp.url()), ca_file=https.ca_file,
                             base_url="https://esg.example.kz")
    enqueue(engine, [item("S3", "john"), item("E4", "ivan")], directory, settings)
    report = outbox.deliver_pending(engine, directory=directory, settings=settings, now=NOW)
    assert report.problems == []
    key, days = signing_key(settings), load_policy(settings.resolved_policy).link_days
    mails = {env[1][0]: text_of(m) for env, m in zip(smtp.envelopes, smtp.messages, strict=True)}
    assert "https://esg.example.kz/o/" in mails["ivan@example.kz"], mails["ivan@example.kz"]
    token = mails["ivan@example.kz"].split("https://esg.example.kz/o/", 1)[1].split()[0]
    opened = links.read(token, key, purpose="my", now=NOW)
    assert (opened.org, opened.person, opened.expires - opened.issued) == ("KT", "ivan", dt.timedelta(days=days))
    assert "Отправьте подтверждение или попросите перенести срок" in mails["ivan@example.kz"]
    card = https.accepted()[0].body["attachments"][0]["content"]
    action, = card["actions"]
    assert action["type"] == "Action.OpenUrl" and action["title"] == "Open my obligations"
    assert links.read(action["url"].rsplit("/", 1)[1], key, purpose="my", now=NOW).person == "john"


def test_without_a_base_url_messages_carry_no_link(engine, smtp, directory, tmp_path):
    settings = make_settings(tmp_path, smtp_url=SecretStr(smtp.url()))
    enqueue(engine, [item("E4", "ivan")], directory, settings)
    outbox.deliver_pending(engine, directory=directory, settings=settings, now=NOW)
    assert "/o/" not in text_of(smtp.messages[0])
