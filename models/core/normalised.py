"""The normalised roadmap YAML: measures with ru/en titles and the role ids people map to.

`esgtrack roadmap import` accepts the board's document or this YAML; a document is enriched
from a catalogue (the shipped YAML): titles are matched by their Kazakh text, so renumbered
measures keep their translations, and executor/unit names map to role ids.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import EllipsisType
from typing import Any, TypeVar

import yaml

from models.core.errors import InputError
from models.core.importer import parse_deadline, parse_document
from models.core.roadmap import (
    Aspect,
    DueRule,
    Measure,
    Recurrence,
    RecurrenceKind,
    Roadmap,
    Target,
)
from models.core.yamltext import SafeLoader, parse_yaml

FORMAT = "esgtrack-roadmap/1"
ESG_OFFICE_ROLE = "esg_office"


@dataclass(frozen=True)
class Role:
    id: str
    kind: str
    kk: tuple[str, ...]
    ru: str = ""
    en: str = ""

    def name(self, language: str) -> str:
        return {"ru": self.ru, "en": self.en}.get(language) or (self.kk[0] if self.kk else self.id)


@dataclass
class Catalogue:
    """What a bare document lacks: translations and role ids."""

    roles: list[Role] = field(default_factory=list)
    titles: dict[str, tuple[str, str]] = field(default_factory=dict)  # normalised kk → (ru, en)
    topics: dict[str, tuple[str, str]] = field(default_factory=dict)
    forms: dict[str, tuple[str, str]] = field(default_factory=dict)  # completion forms

    def role_id(self, name: str) -> str | None:
        key = _norm(name)
        for role in self.roles:
            if any(_norm(alias) == key for alias in role.kk):
                return role.id
        return None


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().strip(".").casefold()


@dataclass(frozen=True)
class LoadedRoadmap:
    roadmap: Roadmap
    roles: tuple[Role, ...]
    source_name: str
    sha256: str


# --- loading -----------------------------------------------------------------------------


def load_roadmap(path: Path, catalogue: Catalogue | None = None) -> LoadedRoadmap:
    """Read a roadmap document (.txt) or normalised YAML; InputError names file and line."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the roadmap: {exc.strerror}", file=str(path)) from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError("not UTF-8 text", file=str(path), value=f"byte {exc.start}") from exc
    digest = hashlib.sha256(raw).hexdigest()
    if path.suffix.lower() in {".yaml", ".yml"}:
        roadmap, roles = roadmap_from_yaml(text, source=str(path))
        return LoadedRoadmap(roadmap, roles, path.name, digest)
    roadmap = parse_document(text, source=str(path))
    catalogue = catalogue or Catalogue()
    roadmap = enrich(roadmap, catalogue)
    return LoadedRoadmap(roadmap, tuple(catalogue.roles), path.name, digest)


def catalogue_from_yaml(path: Path) -> Catalogue:
    roadmap, roles = roadmap_from_yaml(path.read_text(encoding="utf-8"), source=str(path))
    return Catalogue(
        roles=list(roles),
        titles={_norm(m.title): (m.title_ru, m.title_en) for m in roadmap.measures},
        topics={_norm(m.topic): (m.topic_ru, m.topic_en) for m in roadmap.measures},
        forms={_norm(m.completion_form): (m.completion_form_ru, m.completion_form_en) for m in roadmap.measures},
    )


def catalogue_from_i18n(i18n: Path, document: Path) -> Catalogue:
    """A catalogue from a translations file keyed by measure id (see config/roadmaps/*.i18n.yaml)
    and the document those ids refer to."""
    try:
        data = yaml.load(i18n.read_text(encoding="utf-8"), Loader=SafeLoader) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read translations: {exc}", file=str(i18n)) from exc
    roadmap = parse_document(document.read_text(encoding="utf-8"), source=str(document))
    titles = {}
    for m in roadmap.measures:
        entry = (data.get("measures") or {}).get(m.id) or {}
        titles[_norm(m.title)] = (entry.get("title_ru", ""), entry.get("title_en", ""))
    topics = {_norm(k): (v.get("ru", ""), v.get("en", "")) for k, v in (data.get("topics") or {}).items()}
    forms = {_norm(k): (v.get("ru", ""), v.get("en", "")) for k, v in (data.get("completion_forms") or {}).items()}
    roles = [Role(r["id"], r.get("kind", "unit"), tuple(r.get("kk", [])), r.get("ru", ""), r.get("en", ""))
             for r in data.get("roles") or []]
    return Catalogue(roles=roles, titles=titles, topics=topics, forms=forms)


def enrich(roadmap: Roadmap, catalogue: Catalogue) -> Roadmap:
    """Attach translations and role ids; unknown names get a derived role id and a warning."""
    warnings = list(roadmap.warnings)
    measures = []
    for m in roadmap.measures:
        ru, en = catalogue.titles.get(_norm(m.title), ("", ""))
        topic_ru, topic_en = catalogue.topics.get(_norm(m.topic), ("", ""))
        form_ru, form_en = catalogue.forms.get(_norm(m.completion_form), ("", ""))
        measures.append(m.with_(
            title_ru=ru, title_en=en, topic_ru=topic_ru, topic_en=topic_en,
            completion_form_ru=form_ru, completion_form_en=form_en,
            executor_roles=_role_ids(m.executors, catalogue, warnings, m.id),
            unit_roles=_role_ids(m.units, catalogue, warnings, m.id),
        ))
    return Roadmap(roadmap.title, roadmap.horizon_start, roadmap.horizon_end, tuple(measures),
                   roadmap.preamble, tuple(warnings))


def _role_ids(names: Iterable[str], catalogue: Catalogue, warnings: list[str], mid: str) -> tuple[str, ...]:
    ids = []
    for name in names:
        rid = catalogue.role_id(name)
        if rid is None:
            rid = slug(name)
            if catalogue.roles:
                warnings.append(f"{mid}: {name!r} is not a known role; role id {rid!r} derived")
        if rid not in ids:
            ids.append(rid)
    return tuple(ids)


_TRANSLIT = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "i", "k", "l", "m", "n", "o", "p", "r",
     "s", "t", "u", "f", "kh", "ts", "ch", "sh", "sch", "", "y", "", "e", "yu", "ya", "a", "g",
     "q", "n", "o", "u", "u", "h", "i"], strict=True))


def slug(text: str) -> str:
    latin = "".join(_TRANSLIT.get(ch, ch) for ch in text.casefold())
    return re.sub(r"[^a-z0-9]+", "_", latin).strip("_")[:60] or "role"


# --- YAML ---------------------------------------------------------------------------------


def roadmap_to_dict(roadmap: Roadmap, roles: Iterable[Role], *, source_name: str, sha256: str) -> dict:
    measures = []
    for m in roadmap.measures:
        item = m.contract_dict()
        item.pop("completion_kind")
        item["rrule"] = m.recurrence.rrule(1, 1)
        if m.due != DueRule():
            item["due"] = {"month": m.due.month, "day": m.due.day, "year_offset": m.due.year_offset}
        item["line"] = m.line
        measures.append(item)
    return {
        "format": FORMAT,
        "title": roadmap.title,
        "preamble": roadmap.preamble,
        "horizon": {"start": roadmap.horizon_start, "end": roadmap.horizon_end},
        "source": {"file": source_name, "sha256": sha256},
        "roles": [{"id": r.id, "kind": r.kind, "kk": list(r.kk), "ru": r.ru, "en": r.en}
                  for r in roles],
        "measures": measures,
    }


def dump_yaml(data: dict) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def roadmap_from_yaml(text: str, *, source: str) -> tuple[Roadmap, tuple[Role, ...]]:
    data = parse_yaml(text, source=source)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"not an esgtrack roadmap YAML (expected format: {FORMAT})",
                         file=source, field="format", value=(data or {}).get("format")
                         if isinstance(data, dict) else None)
    reader = _Reader(source)
    horizon = reader.get(data, "horizon", dict)
    start, end = reader.get(horizon, "start", int, "horizon"), reader.get(horizon, "end", int, "horizon")
    roles = tuple(reader.role(r, i) for i, r in enumerate(reader.get(data, "roles", list)))
    items = reader.get(data, "measures", list)
    if not items:
        raise InputError("the roadmap has no measures", file=source, field="measures")
    measures = tuple(reader.measure(item, i, (start, end)) for i, item in enumerate(items))
    seen: set[str] = set()
    for i, m in enumerate(measures):
        if m.id in seen:
            raise InputError("duplicate measure id", file=source, field=f"measures[{i}].id", value=m.id)
        seen.add(m.id)
    roadmap = Roadmap(str(data.get("title", "")), start, end, measures, str(data.get("preamble", "")))
    return roadmap, roles


_T = TypeVar("_T")


class _Reader:
    """Typed access to YAML fields; every error names the field's path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def get(self, data: dict, key: str, kind: type[_T], path: str = "", default: _T | EllipsisType = ..., ) -> _T:
        where = f"{path}.{key}" if path else key
        if not isinstance(data, dict):
            raise InputError("expected a mapping", file=self.source, field=path or "<root>")
        if key not in data or data[key] is None:
            if default is not ...:
                return default
            raise InputError("required field is missing", file=self.source, field=where)
        value = data[key]
        if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
            raise InputError(f"expected {kind.__name__}", file=self.source, field=where, value=value)
        return value

    def role(self, item: dict, index: int) -> Role:
        path = f"roles[{index}]"
        kk = self.get(item, "kk", list, path)
        return Role(self.get(item, "id", str, path), self.get(item, "kind", str, path, "unit"),
                    tuple(str(k) for k in kk), str(item.get("ru", "")), str(item.get("en", "")))

    def measure(self, item: dict, index: int, horizon: tuple[int, int]) -> Measure:
        path = f"measures[{index}]"
        mid = self.get(item, "id", str, path)
        path = f"measures[{index}] ({mid})"
        title = self.get(item, "title", str, path).strip()
        if not title:
            raise InputError("a measure needs a title", file=self.source, field=f"{path}.title")
        try:
            aspect = Aspect(self.get(item, "aspect", str, path))
        except ValueError:
            raise InputError("aspect must be E, S or G", file=self.source, field=f"{path}.aspect",
                             value=item.get("aspect")) from None
        deadline = self.get(item, "deadline_text", str, path)
        recurrence = self._recurrence(item.get("recurrence"), deadline, horizon, path)
        target = item.get("target")
        due = self.get(item, "due", dict, path, {})
        return Measure(
            id=mid, aspect=aspect, number=self.get(item, "number", int, path),
            topic=str(item.get("topic", "")), title=title, deadline_text=deadline,
            recurrence=recurrence, completion_form=self.get(item, "completion_form", str, path),
            executors=tuple(self.get(item, "executors", list, path, [])),
            units=tuple(self.get(item, "units", list, path, [])),
            external_dependency=bool(item.get("external_dependency", False)),
            external_party=item.get("external_party"),
            target=Target(**{k: target[k] for k in ("metric", "value", "unit", "year")},
                          direction=target.get("direction", "at_least")) if target else None,
            line=int(item.get("line", 0)),
            title_ru=str(item.get("title_ru", "")), title_en=str(item.get("title_en", "")),
            topic_ru=str(item.get("topic_ru", "")), topic_en=str(item.get("topic_en", "")),
            completion_form_ru=str(item.get("completion_form_ru", "")),
            completion_form_en=str(item.get("completion_form_en", "")),
            executor_roles=tuple(item.get("executor_roles", [])),
            unit_roles=tuple(item.get("unit_roles", [])),
            due=self._due(due, f"{path}.due"),
        )

    def _recurrence(self, value: Any, deadline: str, horizon: tuple[int, int], path: str) -> Recurrence:
        if value is None:
            return parse_deadline(deadline, horizon, source=self.source)
        try:
            kind = RecurrenceKind(value.get("kind"))
        except (ValueError, AttributeError):
            raise InputError("recurrence.kind must be annual, once, by or as_needed",
                             file=self.source, field=f"{path}.recurrence.kind",
                             value=value.get("kind") if isinstance(value, dict) else value) from None
        start, end = value.get("start_year"), value.get("end_year")
        if kind is not RecurrenceKind.AS_NEEDED and not (
            isinstance(start, int) and isinstance(end, int) and start <= end
        ):
            raise InputError("start_year and end_year must be years, start <= end",
                             file=self.source, field=f"{path}.recurrence", value=value)
        return Recurrence(kind, start, end)

    def _due(self, due: dict, path: str) -> DueRule:
        if not due:
            return DueRule()
        rule = DueRule(int(due.get("month", 12)), int(due.get("day", 31)), int(due.get("year_offset", 0)))
        if not (1 <= rule.month <= 12 and 1 <= rule.day <= 31 and 0 <= rule.year_offset <= 1):
            raise InputError("due needs month 1-12, day 1-31, year_offset 0 or 1",
                             file=self.source, field=path, value=due)
        return rule
