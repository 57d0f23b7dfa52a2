"""The people directory: who holds which role, how to reach them, and in which language.

Read from YAML (config/directory.example.yaml shows the format). Pure: plain values, no I/O
beyond reading the file; every error names the file, the line and the field.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, overload

import yaml

from models.core.errors import InputError
from models.core.yamltext import SafeLoader

LANGUAGES = ("kk", "ru", "en")
TEAMS_SCHEMES = ("workflows://", "workflow://", "https://")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PERSON_KEYS = {"id", "name", "names", "email", "teams", "apprise", "language", "deputy", "fallback"}
ROLE_KEYS = {"holder", "superior"}
SECTIONS = {"people", "roles", "fallback"}
# The routes a fallback order names: "channels" is all of the person's own channels at once;
# "deputy" the deputy's own channels; "journal" the local journal (always there).
ROUTES = ("channels", "email", "teams", "apprise", "deputy", "journal")
DEFAULT_FALLBACK = ("channels", "deputy", "journal")


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    email: str | None
    teams: str | None
    apprise: tuple[str, ...]
    language: str  # kk | ru | en
    deputy: str | None = None
    fallback: tuple[str, ...] | None = None  # this person's fallback order; None: the directory's
    names: tuple[tuple[str, str], ...] = ()  # (language, name): a list's or a post's name in ru / en

    @property
    def has_channel(self) -> bool:
        return bool(self.email or self.teams or self.apprise)

    def name_in(self, lang: str) -> str:
        """The name a reader of this language sees: `names` when given (a distribution list's,
        a post's), else `name` (a person's own name is the same in every language)."""
        return dict(self.names).get(lang) or self.name


@dataclass(frozen=True)
class RoleEntry:
    id: str
    holder: str | None    # a person id
    superior: str | None  # a role id


@dataclass(frozen=True)
class Directory:
    people: dict[str, Person]
    roles: dict[str, RoleEntry]
    fallback: tuple[str, ...] = DEFAULT_FALLBACK  # the default fallback order

    def order_of(self, person: Person) -> tuple[str, ...]:
        """The routes a message to this person takes, in turn, while they fail."""
        return person.fallback or self.fallback

    def holder(self, role_id: str) -> Person | None:
        """The person holding a role; None if the role is unknown or vacant."""
        role = self.roles.get(role_id)
        return self.people.get(role.holder) if role and role.holder else None

    def superior_of(self, role_id: str) -> str | None:
        role = self.roles.get(role_id)
        return role.superior if role else None

    def person(self, person_id: str) -> Person:
        """The person with this id; KeyError if there is none."""
        return self.people[person_id]

    def roles_of(self, person_id: str) -> list[str]:
        return [r.id for r in self.roles.values() if r.holder == person_id]


@dataclass(frozen=True)
class DirectoryCheck:
    """What `esgtrack directory check` reports."""

    unheld_roles: tuple[str, ...]     # needed by a measure or the policy, held by nobody
    no_channel: tuple[str, ...]       # people with no email, Teams or apprise URL
    email_without_smtp: tuple[str, ...]  # people reachable only by email while SMTP is unset
    journal_only: tuple[str, ...] = ()   # people whose own messages can only reach the journal
    real_channels: bool = False       # SMTP is set or someone has Teams/apprise (not demo mode)

    @property
    def ok(self) -> bool:
        """Journal-only people fail the check only where real channels exist: an installation
        running on the journal alone (the demo) is consistent, if not delivering."""
        return not (self.unheld_roles or self.no_channel or (self.real_channels and self.journal_only))


def check_directory(directory: Directory, *, required_roles: Iterable[str],
                    smtp_configured: bool) -> DirectoryCheck:
    """Roles nobody holds, and people nobody can reach except through the journal."""
    people = directory.people.values()
    unheld = sorted({r for r in required_roles if directory.holder(r) is None})
    no_channel = sorted(p.id for p in people if not p.has_channel)
    email_only = sorted(p.id for p in people
                        if p.email and not (p.teams or p.apprise) and not smtp_configured)
    journal_only = sorted(p.id for p in people
                          if not ((p.email and smtp_configured) or p.teams or p.apprise))
    real = smtp_configured or any(p.teams or p.apprise for p in people)
    return DirectoryCheck(tuple(unheld), tuple(no_channel), tuple(email_only), tuple(journal_only), real)


# --- reading ------------------------------------------------------------------------------


def load_directory(path: str | Path) -> Directory:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError(f"cannot read the directory: {exc.strerror}", file=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise InputError("not UTF-8 text", file=str(path), value=f"byte {exc.start}") from exc
    return parse_directory(text, source=str(path))


def parse_directory(text: str, *, source: str) -> Directory:
    """A Directory from YAML text; InputError names the file, line and field of a mistake."""
    data, lines = _load_yaml(text, source)
    reader = _Reader(source, lines)
    if not isinstance(data, dict):
        raise reader.error("expected a mapping with people: and roles:", "<root>", data)
    unknown = set(data) - SECTIONS
    if unknown:
        raise reader.error("unknown section", sorted(unknown)[0], None, data)
    people_raw = data.get("people")
    if not isinstance(people_raw, list) or not people_raw:
        raise reader.error("expected a non-empty list of people", "people", people_raw, data)
    people: dict[str, Person] = {}
    for index, item in enumerate(people_raw):
        person = reader.person(item, f"people[{index}]")
        if person.id in people:
            raise reader.error("duplicate person id", f"people[{index}].id", person.id, item)
        people[person.id] = person
    for index, person in enumerate(people.values()):
        if person.deputy is not None and (person.deputy not in people or person.deputy == person.id):
            raise reader.error("deputy must be the id of another person", f"people[{index}].deputy",
                               person.deputy, people_raw[index])
    roles = reader.roles(data.get("roles"), people, data)
    default = reader.order(data, "fallback", "fallback") if "fallback" in data else DEFAULT_FALLBACK
    return Directory(people=people, roles=roles, fallback=default)


def _load_yaml(text: str, source: str) -> tuple[object, dict[int, int]]:
    """Parse YAML, remembering the line where each mapping starts (for error messages)."""
    lines: dict[int, int] = {}

    class Loader(SafeLoader):
        pass

    def mapping(loader: SafeLoader, node: yaml.MappingNode) -> dict[Hashable, Any]:
        value = loader.construct_mapping(node, deep=True)
        lines[id(value)] = node.start_mark.line + 1
        return value

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    try:
        return yaml.load(text, Loader=Loader), lines
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(f"not valid YAML: {getattr(exc, 'problem', exc)}", file=source,
                         line=mark.line + 1 if mark else None) from exc


class _Reader:
    """Typed access to the directory's fields; every error names the field's path."""

    def __init__(self, source: str, lines: dict[int, int]) -> None:
        self.source, self.lines = source, lines

    def error(self, message: str, field: str, value: object, where: object = None) -> InputError:
        return InputError(message, file=self.source, line=self.lines.get(id(where)),
                          field=field, value=value)

    def person(self, item: object, path: str) -> Person:
        if not isinstance(item, dict):
            raise self.error("expected a mapping (id, name, email, ...)", path, item)
        for key in item:
            if key not in PERSON_KEYS:
                raise self.error(f"unknown field (known: {', '.join(sorted(PERSON_KEYS))})",
                                 f"{path}.{key}", None, item)
        pid = self.text(item, "id", path, required=True)
        if not _ID.match(pid):
            raise self.error("ids are letters, digits, '_', '-', '.', '@'", f"{path}.id", pid, item)
        email = self.text(item, "email", path)
        if email is not None and not _EMAIL.match(email):
            raise self.error("not an email address", f"{path}.email", email, item)
        teams = self.text(item, "teams", path)
        if teams is not None and not teams.startswith(TEAMS_SCHEMES):
            raise self.error("expected a workflows:// URL (or the workflow's https:// URL)",
                             f"{path}.teams", "<hidden>", item)
        language = self.text(item, "language", path) or "kk"
        if language not in LANGUAGES:
            raise self.error("language must be kk, ru or en", f"{path}.language", language, item)
        deputy = self.text(item, "deputy", path)
        order = self.order(item, "fallback", f"{path}.fallback") if "fallback" in item else None
        if order and "deputy" in order and deputy is None:
            raise self.error("the fallback order names deputy, but there is no deputy:",
                             f"{path}.fallback[{order.index('deputy')}]", "deputy", item)
        return Person(id=pid, name=self.text(item, "name", path, required=True), email=email,
                      teams=teams, apprise=self.urls(item, path), language=language,
                      deputy=deputy, fallback=order, names=self.names(item, path))

    def names(self, item: dict, path: str) -> tuple[tuple[str, str], ...]:
        raw = item.get("names")
        if raw is None:
            return ()
        if not isinstance(raw, dict):
            raise self.error("expected a mapping of language to name, e.g. {ru: …, en: …}", f"{path}.names", raw, item)
        for lang, text in raw.items():
            if lang not in LANGUAGES:
                raise self.error("language must be kk, ru or en", f"{path}.names.{lang}", lang, item)
            if not isinstance(text, str) or not text.strip():
                raise self.error("expected a name", f"{path}.names.{lang}", text, item)
        return tuple((str(lang), " ".join(str(text).split())) for lang, text in raw.items())

    def order(self, item: dict, key: str, path: str) -> tuple[str, ...]:
        """A fallback order: a non-empty list of route names, each once."""
        value = item.get(key)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            raise self.error(f"expected a list of routes ({', '.join(ROUTES)})", path, value, item)
        for index, route in enumerate(value):
            if route not in ROUTES:
                raise self.error(f"unknown channel in the fallback order (known: {', '.join(ROUTES)})",
                                 f"{path}[{index}]", route, item)
            if route in value[:index]:
                raise self.error("named twice in the fallback order", f"{path}[{index}]", route, item)
        return tuple(value)

    @overload
    def text(self, item: dict, key: str, path: str, *, required: Literal[True]) -> str: ...
    @overload
    def text(self, item: dict, key: str, path: str, *, required: bool = False) -> str | None: ...

    def text(self, item: dict, key: str, path: str, *, required: bool = False) -> str | None:
        value = item.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise self.error("required field is missing", f"{path}.{key}", None, item)
            return None
        if not isinstance(value, str):
            raise self.error("expected text", f"{path}.{key}", value, item)
        return value.strip()

    def urls(self, item: dict, path: str) -> tuple[str, ...]:
        value = item.get("apprise") or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self.error("expected a list of apprise URLs", f"{path}.apprise", None, item)
        for index, url in enumerate(value):
            if not isinstance(url, str) or "://" not in url:
                # Never echo the value: an apprise URL usually carries a secret.
                raise self.error("expected an apprise URL (scheme://...)",
                                 f"{path}.apprise[{index}]", None, item)
        return tuple(u.strip() for u in value)

    def roles(self, raw: object, people: dict[str, Person], root: object) -> dict[str, RoleEntry]:
        if not isinstance(raw, dict) or not raw:
            raise self.error("expected a mapping of role id → {holder, superior}", "roles", None, root)
        roles: dict[str, RoleEntry] = {}
        for rid, entry in raw.items():
            path = f"roles.{rid}"
            if not isinstance(rid, str) or not _ID.match(rid):
                raise self.error("role ids are letters, digits, '_', '-', '.'", path, rid, raw)
            entry = {} if entry is None else entry
            if not isinstance(entry, dict):
                raise self.error("expected {holder: PERSON, superior: ROLE}", path, entry, raw)
            for key in entry:
                if key not in ROLE_KEYS:
                    raise self.error("unknown field (known: holder, superior)", f"{path}.{key}", None, entry)
            holder, superior = self.text(entry, "holder", path), self.text(entry, "superior", path)
            if holder is not None and holder not in people:
                raise self.error("holder is not a person in people:", f"{path}.holder", holder, entry)
            roles[rid] = RoleEntry(id=rid, holder=holder, superior=superior)
        for rid, role in roles.items():
            if role.superior is not None and role.superior not in roles:
                raise self.error("superior is not a role in roles:", f"roles.{rid}.superior",
                                 role.superior, raw.get(rid))
        self._no_cycles(roles, raw)
        return roles

    def _no_cycles(self, roles: dict[str, RoleEntry], raw: dict[str, object]) -> None:
        for rid in roles:
            seen, current = [rid], roles[rid].superior
            while current is not None:
                if current in seen:
                    raise self.error("superiors form a loop", f"roles.{rid}.superior",
                                     " → ".join([*seen, current]), raw.get(rid))
                seen.append(current)
                current = roles[current].superior
