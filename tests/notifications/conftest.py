"""Fixtures for the notification tests: loopback servers, a small directory, settings, items."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from config.settings import Settings
from models.core.directory import Directory, parse_directory
from models.core.escalation import PlannedItem
from tests.notifications.servers import HTTPSServer

NOW = dt.datetime(2025, 12, 17, 4, 0, tzinfo=dt.UTC)  # 09:00 in Almaty


@pytest.fixture
def https(tmp_path) -> Iterator[HTTPSServer]:
    server = HTTPSServer(tmp_path).start()
    yield server
    server.stop()


def make_directory(*, teams: str | None = None, apprise: tuple[str, ...] = ()) -> Directory:
    """Three people (kk, ru, en) holding the roles of a small roadmap; john may have Teams."""
    teams_line = f"teams: {teams!r}" if teams else "teams: null"
    extra = ", ".join(repr(u) for u in apprise)
    return parse_directory(f"""
people:
  - {{id: aigerim, name: "Айгерім Сейітқызы", email: aigerim@example.kz, language: kk}}
  - {{id: ivan, name: "Иван Петров", email: ivan@example.kz, language: ru}}
  - id: john
    name: John Smith
    email: john@example.kz
    {teams_line}
    apprise: [{extra}]
    language: en
  - {{id: nobody, name: "No Channel", language: kk}}
roles:
  esg_office: {{holder: aigerim, superior: null}}
  chief_administrative_officer: {{holder: ivan, superior: esg_office}}
""", source="test-directory.yaml")


@pytest.fixture
def directory() -> Directory:
    return make_directory()


def make_settings(tmp_path, **values) -> Settings:
    values.setdefault("notify_timeout", 5.0)
    values.setdefault("notify_workers", 4)
    return Settings(home=tmp_path / "esgtrack-home", **values)


def item(measure: str = "E4", recipient: str = "aigerim", *, step: str = "remind-14",
         occurrence_id: int | None = None, kind: str = "reminder", due: str | None = "2025-12-31",
         level: int = 0) -> PlannedItem:
    """An item as the planner fills it."""
    return PlannedItem.from_payload({
        "org": "KT", "occurrence_id": occurrence_id, "measure": measure,
        "titles": {"kk": f"{measure}: экологиялық саясатты бекіту",
                   "ru": f"{measure}: утверждение экологической политики",
                   "en": f"{measure}: approve the environmental policy"},
        "period": 2025, "occurrence_kind": "due", "due": due, "days": 14, "step": step,
        "kind": kind, "level": level, "completion_form": "Директорлар кеңесінің шешімі",
        "completion_kind": "board_decision",
        "units": {"kk": ["Корпоративтік басқару және тұрақты даму департаменті"],
                  "ru": ["Департамент корпоративного управления и устойчивого развития"],
                  "en": ["Corporate Governance and Sustainable Development Department"]},
        "executors": {"kk": ["Бас әкімшілік директор"], "ru": ["Главный административный директор"],
                      "en": ["Chief Administrative Officer"]},
        "others_told": ["Иван Петров (Бас әкімшілік директор)"], "external_party": None,
        "record_hint": "", "contact": "Дана Нұрланқызы <esg@example.kz>",
        "recipient": recipient,
    })
