"""Rendering reminders, escalations, alerts and daily digests in kk / ru / en (pure).

An item is the plain dict the planner fills (measure, titles, period, due, step, kind, level,
completion form, units, executors, others told, the ESG office's contact …). One message per recipient
lists all of their items; with a single item the subject is that item's. The words live in
templates/LANG/labels.j2, the layout in templates/{subject,text,html}.j2; the Teams Adaptive
Card is built here from the same words.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from models.core.directory import LANGUAGES, Person
from models.core.escalation import PlannedItem, StepKind

TEMPLATES = Path(__file__).resolve().parent / "templates"
KINDS = tuple(StepKind)
CARD_ITEMS = 15          # a Teams card shows this many items; the email has them all
SHORT_TITLE = 90


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str
    card: dict            # an Adaptive Card (the "content" of a Teams attachment)
    recipient: str        # person id
    language: str
    measures: tuple[str, ...]
    kind: str             # reminder | escalation | alert | digest

    @property
    def title(self) -> str:
        return self.subject


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=lambda name: bool(name and name.startswith("html")),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


@lru_cache(maxsize=len(LANGUAGES))
def labels(lang: str) -> Any:  # a jinja2 TemplateModule: its words and macros are made at run time
    """The words of one language (templates/LANG/labels.j2) as a module of strings and macros."""
    return _env().get_template(f"{lang}/labels.j2").module


def render(kind: str, items: Sequence[PlannedItem], recipient: Person, *, as_of: dt.date,
           others_told: Sequence[str] | None = None, link: str | None = None) -> Message:
    """One message to one person about one or more items, in the person's language.
    kind is reminder, escalation, alert or digest (several items make a digest anyway). `link`:
    the person's signed link to their obligations in the portal (a button on the Teams card)."""
    if not items:
        raise ValueError("render() needs at least one item")
    lang = recipient.language if recipient.language in LANGUAGES else "kk"
    views = sorted((_view(i, lang, as_of, others_told) for i in items), key=_urgency)
    if len(views) == 1 and kind == "digest":
        kind = views[0]["kind"]
    elif len(views) > 1:
        kind = "digest"
    ids = list(dict.fromkeys(v["measure"] for v in views))
    context = {
        "lang": lang, "name": recipient.name_in(lang), "kind": kind, "items": views,
        "day": format_date(as_of, lang), "ids": ", ".join(ids),
        "overdue": sum(1 for v in views if (v["days"] or 0) < 0), "link": link,
    }
    env = _env()
    subject = " ".join(env.get_template("subject.j2").render(context).split())
    context["subject"] = subject
    return Message(
        subject=subject,
        text=env.get_template("text.j2").render(context),
        html=env.get_template("html.j2").render(context),
        card=adaptive_card(subject, context),
        recipient=recipient.id, language=lang, measures=tuple(ids), kind=kind,
    )


def format_date(day: dt.date, lang: str) -> str:
    return day.isoformat() if lang == "en" else day.strftime("%d.%m.%Y")


def _urgency(view: dict) -> tuple:
    """Escalations first (highest level first), then the most overdue, then E1 < E2 < E10."""
    days = view["days"] if view["days"] is not None else 10**6
    return (-KINDS.index(view["kind"]) if view["kind"] in KINDS else 0, -view["level"], days,
            _natural(view["measure"]), view["period"] or 0)


def _natural(code: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", code))


def _view(item: PlannedItem, lang: str, as_of: dt.date, others_told: Sequence[str] | None) -> dict:
    """What the templates show of one item, in one language. Days are recomputed from the
    due date and as_of: a message retried days later still says the right thing."""
    L = labels(lang)
    due = _date(item.due)
    kind = item.kind if item.kind in KINDS else StepKind.REMINDER
    title = item.titles.get(lang) or item.titles.get("kk") or item.measure
    party = item.external_party
    return {
        "measure": item.measure or "?", "period": item.period,
        "org": item.org, "kind": kind, "level": item.level,
        "title": title, "short_title": _shorten(title),
        "note": "; ".join(n for n in ({"progress": L.progress, "opened": L.opened}.get(item.occurrence_kind, ""),
                                      str(L.deputy_for(item.standing_in_for)) if item.standing_in_for else "")
                          if n),
        "due_text": format_date(due, lang) if due else "",
        "days": (due - as_of).days if due else None,
        "completion": L.progress_form if item.occurrence_kind == "progress" else _completion(item, lang),
        "executors": _in(item.executors, lang),
        "units": _in(item.units, lang),
        "external": str(L.external(party)) if party else "",
        "others": list(others_told if others_told is not None else item.others_told),
        "next": item.record_hint or str(L.next_action(
            kind, item.occurrence_kind, item.contact, _completion(item, lang), item.period)),
    }


def _date(value: object) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SHORT_TITLE else text[: SHORT_TITLE - 1].rstrip() + "…"


def _in(names: dict[str, list[str]], lang: str) -> list[str]:
    """Names in the language, else in Kazakh."""
    return names.get(lang) or names.get("kk") or []


def _completion(item: PlannedItem, lang: str) -> str:
    return completion_text(lang, item.completion_form.strip(), item.completion_kind,
                           item.completion_forms.get(lang, ""))


def completion_text(lang: str, form: str, kind: str, translated: str) -> str:
    """A completion form for a reader: the document's words in Kazakh; in Russian and English the
    roadmap's translation, else the form's kind ("order", "annual report"), so that the Kazakh
    wording stays out (messages, tables, reports and calendars all say it this way)."""
    if lang == "kk":
        return form
    return translated or labels(lang).kinds.get(kind, "") or form


# --- Teams -----------------------------------------------------------------------------


def adaptive_card(subject: str, context: dict) -> dict:
    """An Adaptive Card 1.4 with one container (title + facts) per item."""
    L = labels(context["lang"])
    views = context["items"]
    body: list[dict] = [
        {"type": "TextBlock", "text": subject, "weight": "Bolder", "size": "Medium", "wrap": True},
        {"type": "TextBlock", "text": f"{L.greeting(context['name'])} {L.intro(context['kind'], len(views))}",
         "wrap": True},
    ]
    body += [_card_item(v, L) for v in views[:CARD_ITEMS]]
    if len(views) > CARD_ITEMS:
        body.append({"type": "TextBlock", "text": f"+{len(views) - CARD_ITEMS} {L.more_items}",
                     "wrap": True, "isSubtle": True})
    body.append({"type": "TextBlock", "text": L.footer, "wrap": True, "isSubtle": True, "size": "Small"})
    card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
            "version": "1.4", "body": body, "msteams": {"width": "Full"}}
    if context.get("link"):
        card["actions"] = [{"type": "Action.OpenUrl", "title": L.open_portal, "url": context["link"]}]
    return card


def _card_item(v: dict, L: Any) -> dict:
    facts = []
    if v["due_text"]:
        days = f" — {L.days(v['days'])}" if v["days"] is not None else ""
        facts.append({"title": L.due, "value": v["due_text"] + days})
    if v["kind"] == StepKind.ESCALATION:
        facts.append({"title": L.escalation, "value": str(L.level(v["level"]))})
    for label, value in ((L.completion_form, v["completion"]), (L.executors, "; ".join(v["executors"])),
                         (L.units, "; ".join(v["units"]))):
        if value:
            facts.append({"title": label, "value": value})
    facts.append({"title": L.others_told, "value": "; ".join(v["others"]) or L.nobody_else})
    if v["next"]:
        facts.append({"title": L.todo, "value": v["next"]})
    head = f"{v['measure']}{' · ' + str(v['period']) if v['period'] else ''} — {v['title']}"
    items = [{"type": "TextBlock", "text": head, "weight": "Bolder", "wrap": True}]
    if v["note"] or v["external"]:
        items.append({"type": "TextBlock", "text": " ".join(x for x in (v["note"], v["external"]) if x),
                      "wrap": True, "isSubtle": True})
    items.append({"type": "FactSet", "facts": facts})
    style = {StepKind.ESCALATION: "attention", StepKind.ALERT: "warning"}.get(v["kind"], "emphasis")
    return {"type": "Container", "style": style, "separator": True, "items": items}
