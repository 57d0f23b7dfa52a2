"""The one notification adapter: routes per person, apprise sends, masking, the journal.

Channels: email (ESGTRACK_SMTP_URL plus the person's address as to=), teams (the person's
workflows:// URL, posting the message's Adaptive Card), apprise (the person's extra URLs) and
journal (JSON lines in the data directory: the embedded default). One apprise.Apprise object
per message (one object waits ~5.5 s between messages to the same service); results become
an Outcome; URLs are only ever shown masked (notifications/masking.py).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import apprise
from apprise.decorators import notify as apprise_notify

from models.core.directory import Directory, Person
from models.core.errors import InputError
from notifications.masking import mask_url, query_pairs, redact, secrets_of
from notifications.messages import Message

if TYPE_CHECKING:
    from config.settings import Settings

# apprise's own log lines may carry a URL: esgtrack reports masked outcomes instead.
logging.getLogger("apprise").addHandler(logging.NullHandler())
logging.getLogger("apprise").propagate = False

EMAIL, TEAMS, JOURNAL, APPRISE = "email", "teams", "journal", "apprise"
TEAMS_TEMPLATE_LIMIT = 34_000  # apprise's workflows plugin refuses templates over 35 KB


class Outcome(StrEnum):
    SENT = "sent"          # the service accepted it
    FAILED = "failed"      # refused or unreachable: safe to try again
    TIMEOUT = "timeout"    # no answer in time: it may have arrived (the outbox says "unknown")
    INVALID = "invalid"    # the route itself is wrong (bad URL, person gone): retrying won't help


@dataclass(frozen=True)
class Target:
    channel: str   # email | teams | journal | apprise | apprise-2 ...
    url: str       # secret: never logged or stored
    masked: str


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    error: str | None = None
    seconds: float = 0.0


# --- routes --------------------------------------------------------------------------------


def smtp_base(settings: Settings) -> str | None:
    """ESGTRACK_SMTP_URL checked: a mailto:// or mailtos:// URL without to=."""
    if settings.smtp_url is None:
        return None
    url = settings.smtp_url.get_secret_value().strip()
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("mailto", "mailtos"):
        raise InputError("expected a mailto:// or mailtos:// URL", field="ESGTRACK_SMTP_URL",
                         value=mask_url(url))
    if any(k.lower() == "to" for k, _ in query_pairs(parts.query)):
        raise InputError("leave out to=: each person's address is added per message",
                         field="ESGTRACK_SMTP_URL", value=mask_url(url))
    return url


def check_settings(settings: Settings) -> None:
    """The delivery settings, checked before anything is claimed (InputError → exit 2)."""
    smtp_base(settings)
    ca_file = getattr(settings, "ca_file", None)
    if ca_file is not None and not Path(ca_file).is_file():
        raise InputError("no such file", field="ESGTRACK_CA_FILE", value=str(ca_file))


def channels_for(person: Person, settings: Settings) -> list[str]:
    """The channels a person gets: email (if they have an address and SMTP is set), teams,
    their extra apprise URLs, or else the journal."""
    channels = []
    if person.email and smtp_base(settings):
        channels.append(EMAIL)
    if person.teams:
        channels.append(TEAMS)
    channels += [APPRISE if i == 0 else f"{APPRISE}-{i + 1}" for i in range(len(person.apprise))]
    return channels or [JOURNAL]


def own_channels(person: Person, settings: Settings) -> list[str]:
    """The person's real channels (channels_for without the journal stand-in)."""
    return [c for c in channels_for(person, settings) if c != JOURNAL]


@dataclass(frozen=True)
class Route:
    """One step of a fallback order, resolved: who gets the message and over which channels."""

    name: str             # a route of models.core.directory.ROUTES
    recipient: str        # the person, or their deputy
    channels: tuple[str, ...]


def resolve(route: str, person: Person, directory: Directory, settings: Settings) -> Route:
    """What one route of a person's fallback order means now (no channels: it is skipped)."""
    if route == "deputy":
        deputy = directory.people.get(person.deputy) if person.deputy else None
        if deputy is None:
            return Route(route, person.id, ())
        return Route(route, deputy.id, tuple(own_channels(deputy, settings)))
    own = own_channels(person, settings)
    picked = {"channels": own, "email": [c for c in own if c == EMAIL],
              "teams": [c for c in own if c == TEAMS], "journal": [JOURNAL],
              "apprise": [c for c in own if c.startswith(APPRISE)]}[route]
    return Route(route, person.id, tuple(picked))


def first_route(person: Person, directory: Directory, settings: Settings) -> Route:
    """Where a message to this person goes first: the first route of their order that has a
    channel; the journal if none has (a message is never without a row)."""
    return next_route(person, directory, settings, tried=set()) or Route(JOURNAL, person.id, (JOURNAL,))


def next_route(person: Person, directory: Directory, settings: Settings,
               tried: set[tuple[str, str]]) -> Route | None:
    """The next route of the person's order with a (recipient, channel) not tried yet for this
    message, narrowed to the untried channels; None when the order is exhausted."""
    for name in directory.order_of(person):
        route = resolve(name, person, directory, settings)
        fresh = tuple(c for c in route.channels if (route.recipient, c) not in tried)
        if fresh:
            return Route(name, route.recipient, fresh)
    return None


def target_for(person: Person, channel: str, settings: Settings) -> Target:
    """The URL of one channel of one person (rebuilt at send time: the outbox stores only the
    masked form). InputError if the person no longer has that channel."""
    if channel == EMAIL:
        base = smtp_base(settings)
        if not (base and person.email):
            raise InputError(f"{person.id} has no email route any more", field="channel", value=channel)
        # mask_url is cached: mask the relay once, then add the (non-secret) address
        return Target(channel, _with_params(base, {"to": person.email}),
                      _with_params(mask_url(base), {"to": person.email}))
    if channel == TEAMS:
        if not person.teams:
            raise InputError(f"{person.id} has no Teams URL any more", field="channel", value=channel)
        url = person.teams
    elif channel == JOURNAL:
        url = journal_url(settings.journal_path)
    elif channel.startswith(APPRISE):
        index = int(channel.partition("-")[2] or 1) - 1
        if index >= len(person.apprise):
            raise InputError(f"{person.id} has no apprise URL #{index + 1} any more",
                             field="channel", value=channel)
        url = person.apprise[index]
    else:
        raise InputError("unknown channel", field="channel", value=channel)
    return Target(channel=channel, url=url, masked=mask_url(url))


def journal_url(path: Path) -> str:
    return "journal://local" + quote(str(Path(path).resolve()))


def _with_params(url: str, params: dict[str, str], *, keep: bool = False) -> str:
    """Append query parameters to a URL without re-encoding what is there (apprise reads
    '+Header=' keys literally); keep=True leaves parameters already present alone."""
    parts = urlsplit(url)
    present = {k.lower() for k, _ in query_pairs(parts.query)}
    extra = urlencode([(k, v) for k, v in params.items() if not (keep and k.lower() in present)],
                      safe="@:/,")
    query = "&".join(q for q in (parts.query, extra) if q)
    return urlunsplit(parts._replace(query=query))


# --- sending ------------------------------------------------------------------------------


def send(message: Message, target: Target, *, timeout: float) -> SendResult:
    """Send one message over one route with a fresh Apprise object; never raises."""
    started = time.monotonic()
    card_file = None
    try:
        url, body, body_format = _prepare(message, target, timeout)
        if target.channel == TEAMS:
            card_file = _card_file(message)
            url = _with_params(url, {"template": card_file, "image": "no"})
        result = _notify(url, message.subject, body, body_format, timeout)
    except Exception as exc:
        result = SendResult(Outcome.FAILED, f"{type(exc).__name__}: {exc}")
    finally:
        if card_file:
            Path(card_file).unlink(missing_ok=True)
    error = redact(result.error, secrets_of(target.url)) if result.error else None
    return SendResult(result.outcome, error, round(time.monotonic() - started, 3))


def _prepare(message: Message, target: Target, timeout: float) -> tuple[str, str, str]:
    # Socket timeouts above the call's own: a slow answer ends as TIMEOUT (unknown: maybe
    # delivered), not as a failure that would be resent. Connection refusals still fail fast.
    slow = f"{timeout + 5:g}"
    if target.channel == EMAIL:
        return _with_params(target.url, {"cto": slow}, keep=True), message.html, apprise.NotifyFormat.HTML
    if target.channel == JOURNAL:
        meta = {"recipient": message.recipient, "lang": message.language, "kind": message.kind,
                "measures": ",".join(message.measures), "channel": target.channel}
        return _with_params(target.url, meta), message.text, apprise.NotifyFormat.TEXT
    url = _with_params(target.url, {"rto": slow}, keep=True)
    return url, message.text, apprise.NotifyFormat.TEXT


def _notify(url: str, title: str, body: str, body_format: str, timeout: float) -> SendResult:
    sender = apprise.Apprise()
    if not sender.add(url):
        return SendResult(Outcome.INVALID, "apprise cannot use this URL")
    result = sender.notify(body=body, title=title, body_format=body_format, timeout=timeout)
    status = result.status
    if status == apprise.AppriseResultStatus.SUCCESS:
        return SendResult(Outcome.SENT)
    if status == apprise.AppriseResultStatus.TIMEOUT:
        return SendResult(Outcome.TIMEOUT, f"no answer within {timeout:g} s; it may have arrived")
    return SendResult(Outcome.FAILED, _why(result))


def _why(result: apprise.AppriseResult) -> str:
    lines = []
    for entry in result.logs():
        text = str(entry.message)
        if entry.level in ("WARNING", "ERROR", "CRITICAL"):
            lines.append(" ".join(text.split())[:300])
    reason = "; ".join(dict.fromkeys(lines)) or result.status.name.lower()
    return reason[:1000]


def _card_file(message: Message) -> str:
    """The Teams payload as a file: apprise's workflows plugin posts a template file as is."""
    payload = {"type": "message", "attachments": [{
        "contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
        "content": fit_card(message.card)}]}
    fd, path = tempfile.mkstemp(prefix="esgtrack-card-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, ensure_ascii=False)
    return path


def fit_card(card: dict, limit: int = TEAMS_TEMPLATE_LIMIT) -> dict:
    """Drop item containers from the end until the card fits the plugin's size limit."""
    body = list(card["body"])
    dropped = 0
    while len(json.dumps({**card, "body": body}, ensure_ascii=False).encode()) > limit:
        index = max((i for i, b in enumerate(body) if b.get("type") == "Container"), default=None)
        if index is None:
            break
        body.pop(index)
        dropped += 1
    if dropped:
        body.insert(-1, {"type": "TextBlock", "text": f"+{dropped} …", "wrap": True, "isSubtle": True})
    return {**card, "body": body}


# --- trust store ----------------------------------------------------------------------------


@contextmanager
def trust_store(ca_file: Path | None) -> Iterator[None]:
    """Verify TLS (SMTP relay, Teams) against ca_file instead of the system bundle while
    delivering. A small PEM also saves loading the whole bundle on every SMTP connection."""
    if ca_file is None:
        yield
        return
    names = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update({name: str(ca_file) for name in names})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# --- the journal ---------------------------------------------------------------------------

_journal_lock = threading.Lock()


@apprise_notify(on="journal", name="esgtrack journal")
def _journal(body: str, title: str, notify_type: str, meta: dict[str, Any], *args: Any, **kwargs: Any) -> bool:
    """journal://local/PATH?recipient=..: one JSON object per message, appended to PATH."""
    query = meta.get("qsd") or {}
    path = Path(meta.get("fullpath") or "")
    record = {
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "recipient": query.get("recipient"), "channel": query.get("channel", JOURNAL),
        "language": query.get("lang"), "kind": query.get("kind"),
        "measures": [m for m in (query.get("measures") or "").split(",") if m],
        "subject": title, "body": body,
    }
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _journal_lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(line)
    return True
