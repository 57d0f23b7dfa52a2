"""Organisations, measures and roles: queries and writes. Functions add and flush; the
caller's session_scope commits, so a use case lands whole or not at all."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.core.errors import InputError, NotFound
from models.core.normalised import LoadedRoadmap
from models.core.roadmap import (
    Aspect,
    DueRule,
    Measure,
    Recurrence,
    RecurrenceKind,
    Target,
    is_untranslated,
    untranslated,
)
from models.store.db import among
from models.store.tables import MeasureRow, Organisation, RoadmapEdition, RoleRow, stored_id


@dataclass
class ImportReport:
    org: str
    edition_id: int | None = None
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    renumbered: list[tuple[str, str]] = field(default_factory=list)
    retitled: list[str] = field(default_factory=list)
    deadlines: list[tuple[str, str, str]] = field(default_factory=list)  # id, old, new
    other_changes: list[str] = field(default_factory=list)
    occurrences: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    targets: list[dict[str, Any]] = field(default_factory=list)  # created or changed: {target_id, definition}

    def as_dict(self) -> dict[str, Any]:
        return {
            "org": self.org, "edition_id": self.edition_id, "added": self.added,
            "removed": self.removed, "renumbered": [list(p) for p in self.renumbered],
            "retitled": self.retitled,
            "deadlines": [{"id": i, "old": o, "new": n} for i, o, n in self.deadlines],
            "other_changes": self.other_changes, "occurrences": self.occurrences,
            "warnings": self.warnings,
        }

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.renumbered or self.retitled
                    or self.deadlines or self.other_changes)


# --- organisations ----------------------------------------------------------------------


def ensure_org(session: Session, *, code: str, now: dt.datetime, name: str = "") -> Organisation:
    org = session.get(Organisation, code)
    if org is None:
        org = Organisation(code=code, name=name or code, created_at=now)
        session.add(org)
        session.flush()
    return org


def org_codes(session: Session, *, org: str | None = None) -> list[str]:
    """The organisations a command covers: the one named, or all."""
    if org:
        if session.get(Organisation, org) is None:
            raise NotFound(f"no organisation {org!r}; import its roadmap first", field="--org")
        return [org]
    return list(session.exec(select(Organisation.code).order_by(Organisation.code)))


# --- measures ----------------------------------------------------------------------------


def measure_from_row(row: MeasureRow) -> Measure:
    target = row.target
    return Measure(
        id=row.code, aspect=Aspect(row.aspect), number=row.number, topic=row.topic,
        title=row.title, deadline_text=row.deadline_text,
        recurrence=Recurrence(RecurrenceKind(row.kind), row.start_year, row.end_year),
        completion_form=row.completion_form, completion_form_ru=row.completion_form_ru,
        completion_form_en=row.completion_form_en, executors=tuple(row.executors),
        units=tuple(row.units), external_dependency=row.external_dependency,
        external_party=row.external_party,
        target=Target(**target) if target else None,
        title_ru=row.title_ru, title_en=row.title_en, topic_ru=row.topic_ru,
        topic_en=row.topic_en, executor_roles=tuple(row.executor_roles),
        unit_roles=tuple(row.unit_roles),
        due=DueRule(row.due_month, row.due_day, row.due_year_offset),
    )


def _row_values(m: Measure, position: int) -> dict[str, Any]:
    return {
        "code": m.id, "aspect": m.aspect.value, "number": m.number, "position": position, "topic": m.topic,
        "topic_ru": m.topic_ru, "topic_en": m.topic_en, "title": m.title, "title_ru": m.title_ru,
        "title_en": m.title_en, "deadline_text": m.deadline_text, "kind": m.recurrence.kind.value,
        "start_year": m.recurrence.start_year, "end_year": m.recurrence.end_year,
        "rrule": m.recurrence.rrule(1, 1), "due_month": m.due.month, "due_day": m.due.day,
        "due_year_offset": m.due.year_offset, "completion_form": m.completion_form,
        "completion_form_ru": m.completion_form_ru, "completion_form_en": m.completion_form_en,
        "completion_kind": m.completion_kind.value, "executors": list(m.executors),
        "units": list(m.units), "executor_roles": list(m.executor_roles),
        "unit_roles": list(m.unit_roles), "external_dependency": m.external_dependency,
        "external_party": m.external_party, "target": m.target.as_dict() if m.target else None,
        "active": True,
    }


def measures(session: Session, *, org: str, include_inactive: bool = False) -> list[MeasureRow]:
    query = select(MeasureRow).where(MeasureRow.org == org)
    if not include_inactive:
        query = query.where(MeasureRow.active)
    return list(session.exec(query.order_by(col(MeasureRow.position))))


def get_measure(session: Session, *, org: str, code: str) -> MeasureRow:
    row = session.exec(
        select(MeasureRow).where(MeasureRow.org == org, MeasureRow.code == code.upper())
    ).first()
    if row is None or not row.active:
        raise NotFound(f"no measure {code!r} in organisation {org!r}", field="MEASURE", value=code)
    return row


def check_measure_named(session: Session, *, org: str | None, code: str | None, field: str = "--measure") -> None:
    """A filter's measure must be one the organisation (or any, when none is named) has or had:
    NotFound (exit 2) instead of an empty answer that looks like "nothing happened"."""
    if not code:
        return
    query = select(MeasureRow.code).where(MeasureRow.code == code.upper())
    if org:
        query = query.where(MeasureRow.org == org)
    if session.exec(query.limit(1)).first() is None:
        raise NotFound(f"no measure {code!r}" + (f" in organisation {org!r}" if org else "")
                       + " (`esgtrack measures` lists them)", field=field, value=code)


def _translations(m: Measure, row: MeasureRow | None) -> dict[str, str]:
    """A measure's Russian and English title and topic: the roadmap's; else those stored for the
    same Kazakh text (`esgtrack roadmap translate`); else a visible placeholder, the Kazakh text
    marked as not translated."""
    out = {}
    for name in ("title", "topic"):
        kazakh = getattr(m, name)
        for lang in ("ru", "en"):
            given = getattr(m, f"{name}_{lang}")
            kept = getattr(row, f"{name}_{lang}") if row is not None and getattr(row, name) == kazakh else ""
            out[f"{name}_{lang}"] = given or (kept if not is_untranslated(kept) else "") \
                or untranslated(lang, kazakh)
    return out


def untranslated_codes(rows: Iterable[MeasureRow]) -> list[str]:
    """The measures whose Russian or English title is still a placeholder."""
    return [r.code for r in rows if r.active and (is_untranslated(r.title_ru) or is_untranslated(r.title_en))]


def translate(session: Session, *, org: str, code: str, title_ru: str | None, title_en: str | None) -> MeasureRow:
    """Set a measure's Russian and/or English title (kept by later imports while its Kazakh title
    is the same)."""
    row = get_measure(session, org=org, code=code)
    for lang, text in (("ru", title_ru), ("en", title_en)):
        if text is None:
            continue
        text = " ".join(text.split())
        if not text or is_untranslated(text):
            raise InputError("a translation is a non-empty text, not a placeholder", field=f"--{lang}", value=text)
        setattr(row, f"title_{lang}", text)
    session.add(row)
    return row


def _norm_title(text: str) -> str:
    return " ".join(text.split()).casefold()


def _match(existing: list[MeasureRow], incoming: list[Measure]) -> dict[str, MeasureRow]:
    """Pair incoming measures with stored ones: same aspect and Kazakh title first (a
    renumbered measure keeps its history), then the same id (a retitled measure)."""
    matched: dict[str, MeasureRow] = {}
    free = {row.id: row for row in existing}
    by_title = {(row.aspect, _norm_title(row.title)): row for row in existing}
    for m in incoming:
        row = by_title.get((m.aspect.value, _norm_title(m.title)))
        if row is not None and row.id in free:
            matched[m.id] = free.pop(row.id)
    by_code = {row.code: row for row in free.values() if row.active}
    for m in incoming:
        if m.id not in matched and m.id in by_code and by_code[m.id].id in free:
            matched[m.id] = free.pop(by_code[m.id].id)
    return matched


def import_measures(session: Session, *, org: str, loaded: LoadedRoadmap, now: dt.datetime
                    ) -> ImportReport:
    """Create or update an organisation's measures, roles, edition and occurrences from a
    roadmap, in place: never duplicating, never touching a recorded completion. `now` stamps
    the edition. The import use case (flows/usecases/roadmap.py) then expands the occurrences
    (models.store.occurrences) and seeds the targets the document states (models.store.targets)."""
    ensure_org(session, code=org, now=now)
    report = ImportReport(org=org, warnings=list(loaded.roadmap.warnings))
    existing = measures(session, org=org, include_inactive=True)
    incoming = list(loaded.roadmap.measures)
    matched = _match(existing, incoming)
    original = {row.id: row.code for row in existing}
    # Park every stored code first: renumbering may swap codes (E5 ↔ E6) under a unique key.
    for row in existing:
        row.code = f"~{row.id}"
        session.add(row)
    session.flush()
    written: list[MeasureRow] = []
    for position, m in enumerate(incoming):
        matched_row = matched.get(m.id)
        values = {**_row_values(m, position), **_translations(m, matched_row)}
        if matched_row is None:
            matched_row = MeasureRow(org=org, **values)
            report.added.append(m.id)
        else:
            _note_changes(report, matched_row, original[matched_row.id], m)
            for key, value in values.items():
                setattr(matched_row, key, value)
        session.add(matched_row)
        written.append(matched_row)
    kept = {row.id for row in matched.values()}
    incoming_ids = {m.id for m in incoming}
    for row in existing:
        if row.id not in kept:
            if row.active:
                report.removed.append(original[row.id])
            row.active = False
            # A removed measure keeps its code unless a new measure now carries it.
            if original[row.id] not in incoming_ids:
                row.code = original[row.id]
            session.add(row)
    session.flush()
    missing = untranslated_codes(written)
    if missing:
        report.warnings.append(f"no Russian or English title for {', '.join(missing)}: Russian and English readers "
                               "see the Kazakh title marked \"[not translated]\" until `esgtrack roadmap translate`")
    _store_roles(session, org=org, loaded=loaded)
    edition = RoadmapEdition(
        org=org, title=loaded.roadmap.title, source_name=loaded.source_name,
        sha256=loaded.sha256, horizon_start=loaded.roadmap.horizon_start,
        horizon_end=loaded.roadmap.horizon_end, measure_count=len(incoming),
        changes={k: v for k, v in report.as_dict().items() if k not in {"occurrences", "warnings"}},
        imported_at=now,
    )
    session.add(edition)
    session.flush()
    report.edition_id = edition.id
    return report


def _store_roles(session: Session, *, org: str, loaded: LoadedRoadmap) -> None:
    """Upsert the roles the roadmap names, with their kk / ru / en names."""
    known = {r.id: r for r in loaded.roles}
    wanted: dict[str, tuple[str, str]] = {}  # role id → (kind, Kazakh name as in the document)
    for m in loaded.roadmap.measures:
        for names, ids, kind in ((m.executors, m.executor_roles, "executor"), (m.units, m.unit_roles, "unit")):
            for name, rid in zip(names, ids, strict=False):
                wanted.setdefault(rid, (kind, name))
    for rid, role in known.items():
        wanted.setdefault(rid, (role.kind, role.kk[0] if role.kk else rid))
    for rid, (kind, name) in wanted.items():
        known_role = known.get(rid)
        row = session.get(RoleRow, (org, rid)) or RoleRow(org=org, id=rid)
        row.kind = known_role.kind if known_role else kind
        row.name_kk = known_role.kk[0] if known_role and known_role.kk else name
        row.name_ru, row.name_en = (known_role.ru, known_role.en) if known_role else ("", "")
        session.add(row)
    session.flush()


def role_names(session: Session, *, org: str) -> dict[str, dict[str, str]]:
    """role id → {"kk": ..., "ru": ..., "en": ...}, falling back to Kazakh."""
    return role_names_of(session, orgs=[org]).get(org, {})


def role_names_of(session: Session, *, orgs: list[str]) -> dict[str, dict[str, dict[str, str]]]:
    """role_names for several organisations in one query: org → role id → names."""
    result: dict[str, dict[str, dict[str, str]]] = {org: {} for org in orgs}
    for r in session.exec(select(RoleRow).where(among(session, col(RoleRow.org), orgs))):
        result[r.org][r.id] = {"kk": r.name_kk, "ru": r.name_ru or r.name_kk, "en": r.name_en or r.name_kk}
    return result


def measures_by_id(session: Session, *, ids: Iterable[int]) -> dict[int, MeasureRow]:
    wanted = set(ids)
    if not wanted:
        return {}
    return {stored_id(m): m for m in session.exec(select(MeasureRow).where(col(MeasureRow.id).in_(wanted)))}


def roles_in_use(session: Session, *, org: str | None = None) -> set[str]:
    """Role ids the active measures name as executors or units (of one organisation, or all)."""
    query = sa.select(col(MeasureRow.executor_roles), col(MeasureRow.unit_roles)).where(col(MeasureRow.active))
    if org:
        query = query.where(col(MeasureRow.org) == org)
    roles: set[str] = set()
    for executors, units in session.execute(query):
        roles |= set(executors or []) | set(units or [])
    return roles


def latest_edition(session: Session, *, org: str) -> int | None:
    return session.execute(sa.select(sa.func.max(RoadmapEdition.id)).where(col(RoadmapEdition.org) == org)).scalar()


def _note_changes(report: ImportReport, row: MeasureRow, old_code: str, m: Measure) -> None:
    if old_code != m.id:
        report.renumbered.append((old_code, m.id))
    if _norm_title(row.title) != _norm_title(m.title):
        report.retitled.append(m.id)
    old = Recurrence(RecurrenceKind(row.kind), row.start_year, row.end_year)
    if old != m.recurrence or row.deadline_text != m.deadline_text:
        report.deadlines.append((m.id, row.deadline_text, m.deadline_text))
    if not row.active:
        report.other_changes.append(f"{m.id}: restored")
    if row.completion_form != m.completion_form:
        report.other_changes.append(f"{m.id}: completion form changed")
    if list(row.executors) != list(m.executors) or list(row.units) != list(m.units):
        report.other_changes.append(f"{m.id}: responsible executors or units changed")
