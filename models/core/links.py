"""Signed links for officers (pure): who it is for, in which organisation, for what, until when.

A link is `base64url(claims).base64url(HMAC-SHA256(key, purpose-bound claims))`. It opens one
thing (its purpose: "my" obligations page, or the "cal"endar feed), for one person of one
organisation, until it expires; the ESG office revokes every link of a person issued before a
moment (models/store/portal.py). Nothing secret is inside: the claims are readable, not forgeable.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass

PURPOSES = ("my", "cal")


class LinkError(Exception):
    """A link that does not open: forged, malformed, expired, or for something else."""

    def __init__(self, reason: str) -> None:
        self.reason = reason  # forged | malformed | expired | purpose
        super().__init__(reason)


@dataclass(frozen=True)
class Link:
    org: str
    person: str
    purpose: str
    issued: dt.datetime
    expires: dt.datetime


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, body: str) -> str:
    return _b64(hmac.new(key, b"esgtrack-link:" + body.encode("ascii"), hashlib.sha256).digest())


def sign(link: Link, key: bytes) -> str:
    if link.purpose not in PURPOSES:
        raise ValueError(f"unknown link purpose {link.purpose!r}")
    claims = {"o": link.org, "p": link.person, "u": link.purpose,
              "i": int(link.issued.timestamp()), "e": int(link.expires.timestamp())}
    body = _b64(json.dumps(claims, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
    return f"{body}.{_mac(key, body)}"


def issue(*, org: str, person: str, purpose: str, now: dt.datetime, valid: dt.timedelta, key: bytes) -> str:
    return sign(Link(org, person, purpose, now, now + valid), key)


def url(base: str, token: str, purpose: str) -> str:
    """Where a link's token is opened: the obligations page, or the calendar feed (.ics)."""
    path = f"/cal/{token}.ics" if purpose == "cal" else f"/o/{token}"
    return base.rstrip("/") + path


def read(token: str, key: bytes, *, purpose: str, now: dt.datetime) -> Link:
    """The link's claims when the signature holds, the purpose is this one and it has not
    expired; else LinkError saying which."""
    body, _, mac = token.partition(".")
    if not body or not mac:
        raise LinkError("malformed")
    if not hmac.compare_digest(mac, _mac(key, body)):
        raise LinkError("forged")
    try:
        claims = json.loads(_unb64(body))
        link = Link(str(claims["o"]), str(claims["p"]), str(claims["u"]),
                    dt.datetime.fromtimestamp(int(claims["i"]), dt.UTC),
                    dt.datetime.fromtimestamp(int(claims["e"]), dt.UTC))
    except (ValueError, KeyError, TypeError) as exc:
        raise LinkError("malformed") from exc
    if link.purpose != purpose:
        raise LinkError("purpose")
    if now >= link.expires:
        raise LinkError("expired")
    return link
