"""Rendering in kk / ru / en: every message names its measure, in the recipient's language."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from models.core.directory import Person
from models.core.escalation import PlannedItem
from notifications.messages import labels, render

AS_OF = dt.date(2025, 12, 17)


def person(lang: str, name: str = "Айгерім") -> Person:
    return Person(id=f"p-{lang}", name=name, email=None, teams=None, apprise=(), language=lang)


def item(measure="E4", due="2025-12-31", kind="reminder", **extra) -> PlannedItem:
    base = {
        "org": "KT", "occurrence_id": 1, "measure": measure, "period": 2025, "due": due,
        "titles": {"kk": "Экологиялық саясат", "ru": "Экологическая политика", "en": "Environmental policy"},
        "step": "remind-14", "kind": kind, "level": 0, "completion_form": "Бұйрық",
        "completion_kind": "order", "units": {"kk": ["ТДД"], "ru": ["ДУР"], "en": ["SDD"]},
        "executors": {"kk": ["Бас әкімшілік директор"], "ru": ["Главный административный директор"],
                      "en": ["Chief Administrative Officer"]},
        "others_told": ["Иван Петров (cao)"], "external_party": None,
        "record_hint": "", "contact": "Dana <esg@example.kz>",
    }
    return PlannedItem.from_payload({**base, "recipient": "p", **extra})


@pytest.mark.parametrize(("lang", "subject", "words"), [
    ("kk", "[E4 · 2025] Еске салу: орындау мерзімі 31.12.2025 (14 күн қалды) — Экологиялық саясат",
     ["Құрметті Айгерім!", "Аяқтау нысаны: Бұйрық", "Жауапты орындаушылар: Бас әкімшілік директор",
      "Сондай-ақ хабардар етілді: Иван Петров (cao)",
      "Не істеу керек: Орындалғаннан кейін ESG кеңсесіне (Dana <esg@example.kz>) мынаны жіберіңіз: Бұйрық"]),
    ("ru", "[E4 · 2025] Напоминание: срок исполнения 31.12.2025 (осталось 14 дней) — Экологическая политика",
     ["Здравствуйте, Айгерім!", "Форма завершения: приказ\n", "Ответственные структурные подразделения: ДУР",
      "Также уведомлены: Иван Петров (cao)",
      "Что сделать: После исполнения направьте в офис ESG (Dana <esg@example.kz>): приказ (номер и дату"]),
    ("en", "[E4 · 2025] Reminder: due date 2025-12-31 (14 days left) — Environmental policy",
     ["Dear Айгерім,", "Completion form expected: order\n", "Responsible units: SDD",
      "Also told: Иван Петров (cao)",
      "What to do: Once it is done, send the ESG office (Dana <esg@example.kz>) the order (its number and date"]),
])
def test_reminder_in_each_language(lang, subject, words):
    message = render("reminder", [item()], person(lang), as_of=AS_OF)
    assert message.subject == subject
    assert message.text.splitlines()[0] == subject          # the first line names the measure
    assert all(w in message.text for w in words), message.text
    assert "esgtrack" not in message.text.replace("esgtrack жүйесі", "").replace("by esgtrack", "").replace(
        "системой esgtrack", "")  # an officer is never told to run a command they do not have
    if lang != "kk":  # the Kazakh completion form stays out of Russian and English messages
        assert "Бұйрық" not in message.text and "Бұйрық" not in message.html
    assert message.language == lang and message.measures == ("E4",) and message.kind == "reminder"
    assert f'<html lang="{lang}">' in message.html and "E4" in message.html


@pytest.mark.parametrize(("days", "text"), [
    (1, "остался 1 день"), (2, "осталось 2 дня"), (5, "осталось 5 дней"), (11, "осталось 11 дней"),
    (21, "остался 21 день"), (0, "срок сегодня"), (-1, "просрочено на 1 день"),
    (-3, "просрочено на 3 дня"), (-14, "просрочено на 14 дней"),
])
def test_russian_plurals(days, text):
    assert str(labels("ru").days(days)) == text


def test_days_are_recomputed_from_the_due_date_not_taken_from_the_item():
    message = render("escalation", [item(kind="escalation", level=2, days=99, due="2025-12-03")],
                     person("en"), as_of=AS_OF)
    assert "(level 2): due date 2025-12-03 (overdue by 14 days)" in message.subject


def test_digest_lists_every_item_most_urgent_first():
    items = [item("E4"), item("G5", due="2025-11-30", kind="escalation", level=1), item("S2")]
    message = render("digest", items, person("kk"), as_of=AS_OF)
    assert message.subject == "ESG жол картасы, 17.12.2025: 3 тармақ — G5, E4, S2 (мерзімі өткен: 1)"
    assert message.measures == ("G5", "E4", "S2") and message.kind == "digest"
    assert "1. G5 · 2025" in message.text and "3. S2 · 2025" in message.text
    assert len([b for b in message.card["body"] if b["type"] == "Container"]) == 3


def test_a_digest_of_one_item_has_that_items_subject():
    one = render("digest", [item()], person("en"), as_of=AS_OF)
    assert one.subject.startswith("[E4 · 2025] Reminder") and one.kind == "reminder"


def test_alert_without_due_date_and_units():
    alert = item("FLOW", due=None, kind="alert", titles={"en": "Flow daily-deadlines failed"},
                 units={}, executors={}, completion_form="", completion_kind="",
                 record_hint="Open the Prefect UI")
    message = render("alert", [alert], person("en"), as_of=AS_OF)
    assert message.subject == "[FLOW · 2025] Attention — Flow daily-deadlines failed"
    assert "What to do: Open the Prefect UI" in message.text
    assert "Due date" not in message.text and "Responsible" not in message.text


def test_missing_translation_falls_back_to_kazakh_and_external_party_is_named():
    g1 = item("G1", titles={"kk": "Тәуелсіз директорлар үлесі"}, executors={}, units={},
              external_party="«Самұрық-Қазына» АҚ")
    message = render("reminder", [g1], person("ru"), as_of=AS_OF)
    assert "Тәуелсіз директорлар үлесі" in message.subject
    assert "Исполнение зависит от решений «Самұрық-Қазына» АҚ" in message.text


def test_html_is_escaped_and_card_is_an_adaptive_card():
    evil = item(titles={"en": "<script>alert(1)</script> & co"})
    message = render("reminder", [evil], person("en"), as_of=AS_OF)
    assert "<script>" not in message.html and "&lt;script&gt;" in message.html
    card = message.card
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    facts = {f["title"]: f["value"] for f in card["body"][2]["items"][-1]["facts"]}
    assert facts["Due date"] == "2025-12-31 — 14 days left"
    assert facts["Also told"] == "Иван Петров (cao)"


def test_every_language_defines_the_same_words():
    def names(lang):
        module = labels(lang)
        return {n for n in dir(module) if not n.startswith("_")}

    assert names("kk") == names("ru") - {"plural"} == names("en")
    assert set(labels("kk").kinds) == set(labels("ru").kinds) == set(labels("en").kinds)


def test_a_planned_item_survives_its_stored_payload_and_an_older_payload_still_renders():
    planned = item(others_told=["Иван Петров (cao)", "ESG office"])
    stored = json.loads(json.dumps(planned.payload()))  # as the outbox's JSON column returns it
    assert PlannedItem.from_payload(stored) == planned
    # a payload written before a key existed, with names as a plain list: read as empty / every language
    older = {k: v for k, v in stored.items() if k not in {"record_hint", "completion_kind", "contact"}}
    older["units"] = ["ТДД"]
    again = PlannedItem.from_payload(older)
    assert again.record_hint == "" and again.contact == ""
    assert again.units == {"kk": ["ТДД"], "ru": ["ТДД"], "en": ["ТДД"]}
    assert "ТДД" in render("reminder", [again], person("en"), as_of=AS_OF).text


@pytest.mark.parametrize(("lang", "form", "ask"), [
    ("kk", "Аяқтау нысаны: орындалу барысы туралы анықтама",
     "2025 жылғы орындалу барысы туралы қысқаша анықтаманы"),
    ("ru", "Форма завершения: справка о ходе исполнения", "краткую справку о ходе исполнения за 2025 год"),
    ("en", "Completion form expected: a progress note", "a short progress note for 2025"),
])
def test_a_check_in_asks_for_a_progress_note_not_the_final_form(lang, form, ask):
    message = render("reminder", [item(occurrence_kind="progress")], person(lang), as_of=AS_OF)
    assert form in message.text and ask in message.text, message.text
    assert "Бұйрық" not in message.text.replace("Аяқтау нысаны", "")
    card = json.dumps(message.card, ensure_ascii=False)
    assert ask in card and "esgtrack complete" not in card


def test_the_roadmaps_translation_of_the_completion_form_is_shown_when_known():
    translated = item(completion_form="Басқарма төрағасы бекіткен есеп", completion_kind="report",
                      completion_forms={"ru": "Отчёт, утверждённый Председателем Правления",
                                        "en": "Report approved by the Chairman of the Management Board"})
    for lang, line in (("ru", "Форма завершения: Отчёт, утверждённый Председателем Правления"),
                       ("en", "Completion form expected: Report approved by the Chairman of the Management Board"),
                       ("kk", "Аяқтау нысаны: Басқарма төрағасы бекіткен есеп")):
        assert line in render("reminder", [translated], person(lang), as_of=AS_OF).text
