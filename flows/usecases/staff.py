"""Staff accounts of the portal (esg_office, auditor, admin): adding them from the CLI with an
argon2id password hash, signing in with throttling, single sign-on matched by email."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.core import ledger as L
from models.core.errors import InputError
from models.store import ledger as ledger_store
from models.store import portal
from models.store.db import session_scope
from models.store.measures import org_codes
from models.store.tables import StaffUser

if TYPE_CHECKING:
    from argon2 import PasswordHasher

ROLES = ("esg_office", "auditor", "admin")
MIN_PASSWORD = 12
WINDOW = dt.timedelta(minutes=15)
PER_USER = 5       # failed sign-ins for one user name within WINDOW before it is throttled
PER_CLIENT = 20    # failed sign-ins from one address within WINDOW


class SignInError(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason  # invalid | throttled
        super().__init__(reason)


@dataclass(frozen=True)
class Staff:
    id: int
    org: str
    username: str
    name: str
    role: str

    @property
    def actor(self) -> str:
        """How the ledger names them."""
        return f"{self.name} ({self.username}, {self.role})"


def _staff(user: StaffUser) -> Staff:
    assert user.id is not None
    return Staff(user.id, user.org, user.username, user.name or user.username, user.role)


def _hasher() -> PasswordHasher:  # argon2-cffi is imported only where passwords are handled
    from argon2 import PasswordHasher

    return PasswordHasher()


def add_user(engine: Engine, *, org: str, username: str, name: str, role: str, password: str | None,
             email: str | None, now: dt.datetime, by: str = "command line") -> Staff:
    """A new account of an organisation (one whose roadmap is imported); the ledger keeps who
    added it, with which role."""
    username = username.strip().lower()
    if not username or any(c.isspace() for c in username):
        raise InputError("a user name is one word", field="USERNAME", value=username)
    if role not in ROLES:
        raise InputError(f"role must be one of {', '.join(ROLES)}", field="--role", value=role)
    if password is None and not email:
        raise InputError("give a password, or an --email for single sign-on", field="--password")
    if password is not None and len(password) < MIN_PASSWORD:
        raise InputError(f"the password must have at least {MIN_PASSWORD} characters", field="--password")
    with session_scope(engine) as session:
        if portal.user_named(session, username=username):
            raise InputError("a user of this name exists", field="USERNAME", value=username)
        if email and portal.users_by_email(session, email=email):
            raise InputError("an account with this email exists (single sign-on matches on it)", field="--email",
                             value=email)
        org_codes(session, org=org)
        user = StaffUser(org=org, username=username, name=name.strip() or username, role=role,
                         email=(email or "").strip().lower() or None, created_at=now,
                         password_hash=_hasher().hash(password) if password is not None else None)
        session.add(user)
        session.flush()
        _record(session, user, "added", by=by, now=now)
        return _staff(user)


def _record(session: Session, user: StaffUser, action: str, *, by: str, now: dt.datetime) -> None:
    ledger_store.append(session, org=user.org, event=L.STAFF_ACCOUNT, actor=by, at=now,
                        data={"username": user.username, "name": user.name, "role": user.role,
                              "email": user.email, "action": action})


def list_users(engine: Engine, *, org: str | None = None) -> list[StaffUser]:
    with session_scope(engine) as session:
        return portal.users(session, org=org)


def set_active(engine: Engine, *, username: str, active: bool, now: dt.datetime, by: str = "command line",
               org: str | None = None) -> None:
    """Disable or enable an account (of `org` when given: another organisation's is not found)."""
    with session_scope(engine) as session:
        user = portal.user_named(session, username=username)
        if user is None or (org is not None and user.org != org):
            raise InputError("no such user", field="USERNAME", value=username)
        if user.active != active:
            user.active = active
            session.add(user)
            _record(session, user, "enabled" if active else "disabled", by=by, now=now)


def sign_in(engine: Engine, *, username: str, password: str, client: str, now: dt.datetime) -> Staff:
    """The account, when the password is right and neither the name nor the address has failed
    too often lately; every failure is counted (a throttled attempt too)."""
    from argon2.exceptions import VerificationError

    name = username.strip().lower()
    since = now - WINDOW
    with session_scope(engine) as session:
        throttled = (portal.failures_since(session, key=f"user:{name}", since=since) >= PER_USER
                     or portal.failures_since(session, key=f"client:{client}", since=since) >= PER_CLIENT)
        user = None if throttled else portal.user_named(session, username=name)
        ok = False
        if user is not None and user.active and user.password_hash:
            try:
                ok = _hasher().verify(user.password_hash, password)
            except VerificationError:
                ok = False
        if ok and user is not None:
            return _staff(user)
        if not throttled:  # a refused attempt does not lengthen the wait: the window ends when it says
            portal.add_failure(session, key=f"user:{name}", at=now)
            portal.add_failure(session, key=f"client:{client}", at=now)
    raise SignInError("throttled" if throttled else "invalid")


def by_id(engine: Engine, user_id: int) -> Staff | None:
    """An active account (a disabled one's sessions end at their next request)."""
    with session_scope(engine) as session:
        user = session.get(StaffUser, user_id)
        return _staff(user) if user is not None and user.active else None


def by_email(engine: Engine, email: str) -> Staff | None:
    """The one active account with this email (None when there is none, or more than one:
    single sign-on never guesses between organisations)."""
    with session_scope(engine) as session:
        found = [u for u in portal.users_by_email(session, email=email) if u.active]
        return _staff(found[0]) if len(found) == 1 else None
