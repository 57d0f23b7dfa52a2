"""The reminder and escalation policy as plain values, read from YAML (config/policy.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from models.core.errors import InputError
from models.core.yamltext import parse_yaml

SPECIAL_RECIPIENTS = ("executors", "units", "superiors")


@dataclass(frozen=True)
class Level:
    after_days: int
    to: tuple[str, ...]


@dataclass(frozen=True)
class Policy:
    reminder_days: tuple[int, ...]
    reminder_to: tuple[str, ...]
    levels: tuple[Level, ...]
    cumulative: bool
    repeat_every: int
    repeat_max: int
    progress_escalate_to: tuple[str, ...]
    external_route_to: tuple[str, ...]
    esg_office: str
    reminders_shift: str
    escalations_shift: str
    link_days: int = 30            # an officer's signed link to their obligations stays valid this long
    calendar_link_days: int = 400  # a calendar subscription link (Outlook re-reads it for a year)


def load_policy(path: Path) -> Policy:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read the policy: {exc.strerror}", file=str(path)) from exc
    return parse_policy(text, source=str(path))


def parse_policy(text: str, *, source: str) -> Policy:
    data = parse_yaml(text, source=source)
    if not isinstance(data, dict):
        raise InputError("expected a mapping", file=source, field="<root>")
    f = _Fields(source)
    reminders = f.mapping(data, "reminders")
    escalation = f.mapping(data, "escalation")
    levels = tuple(
        Level(f.days(level, "after_days", f"escalation.levels[{i}]", minimum=1),
              f.names(level, "to", f"escalation.levels[{i}]"))
        for i, level in enumerate(f.items(escalation, "levels", "escalation"))
    )
    if [lv.after_days for lv in levels] != sorted({lv.after_days for lv in levels}):
        raise InputError("levels must be in increasing, distinct after_days", file=source,
                         field="escalation.levels", value=[lv.after_days for lv in levels])
    days = tuple(f.day_list(reminders, "days_before", "reminders"))
    shifts = data.get("business_days") or {}
    links = data.get("links", {})
    return Policy(
        reminder_days=tuple(sorted(set(days), reverse=True)),
        reminder_to=f.names(reminders, "to", "reminders"),
        levels=levels,
        cumulative=bool(escalation.get("cumulative", True)),
        repeat_every=f.days(escalation, "repeat_top_every_days", "escalation", default=7, minimum=1),
        repeat_max=f.days(escalation, "repeat_top_max", "escalation", default=8, minimum=0),
        progress_escalate_to=f.names(data, "progress_escalate_to", "", default=("esg_office",)),
        external_route_to=f.names(data, "external_route_to", "", default=("esg_office",)),
        esg_office=str(data.get("esg_office", "esg_office")),
        reminders_shift=f.choice(shifts, "reminders", "business_days", ("before", "after", "none"), "before"),
        escalations_shift=f.choice(shifts, "escalations", "business_days", ("before", "after", "none"), "after"),
        link_days=f.days(links, "valid_days", "links", default=30, minimum=1),
        calendar_link_days=f.days(links, "calendar_valid_days", "links", default=400, minimum=1),
    )


class _Fields:
    def __init__(self, source: str) -> None:
        self.source = source

    def _err(self, message: str, field: str, value: object = None) -> InputError:
        return InputError(message, file=self.source, field=field, value=value)

    def mapping(self, data: dict, key: str) -> dict:
        value = data.get(key)
        if not isinstance(value, dict):
            raise self._err("required section is missing or not a mapping", key, value)
        return value

    def items(self, data: dict, key: str, path: str) -> list:
        value = data.get(key)
        if not isinstance(value, list) or not value:
            raise self._err("expected a non-empty list", f"{path}.{key}", value)
        return value

    def days(self, data: object, key: str, path: str, *, default: int | None = None, minimum: int = 0) -> int:
        where = f"{path}.{key}" if path else key
        value = data.get(key, default) if isinstance(data, dict) else None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self._err(f"expected a whole number of days >= {minimum}", where, value)
        return value

    def day_list(self, data: dict, key: str, path: str) -> list[int]:
        values = self.items(data, key, path)
        for i, value in enumerate(values):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise self._err("expected a whole number of days >= 0", f"{path}.{key}[{i}]", value)
        return values

    def names(self, data: object, key: str, path: str, *,
              default: tuple[str, ...] | None = None) -> tuple[str, ...]:
        where = f"{path}.{key}" if path else key
        value = data.get(key, default) if isinstance(data, dict) else None
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, str) and v for v in value):
            raise self._err("expected a list of recipients (executors, units, superiors or role ids)", where, value)
        return tuple(value)

    def choice(self, data: dict, key: str, path: str, options: tuple[str, ...], default: str) -> str:
        value = data.get(key, default)
        if value not in options:
            raise self._err(f"expected one of {', '.join(options)}", f"{path}.{key}", value)
        return value
