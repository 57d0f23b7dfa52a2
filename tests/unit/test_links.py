"""Signed links (models/core/links.py): they open for their person, purpose and time only."""

import base64
import datetime as dt
import json

import pytest

from models.core import links

KEY = b"k" * 64
NOW = dt.datetime(2026, 11, 16, 4, 0, tzinfo=dt.UTC)


def token(**kw):
    args = {"org": "KT", "person": "cao", "purpose": "my", "now": NOW, "valid": dt.timedelta(days=30), "key": KEY}
    return links.issue(**(args | kw))


def reason(tok, *, key=KEY, purpose="my", now=NOW):
    with pytest.raises(links.LinkError) as caught:
        links.read(tok, key, purpose=purpose, now=now)
    return caught.value.reason


def test_a_link_opens_for_its_person_and_organisation_until_it_expires():
    link = links.read(token(), KEY, purpose="my", now=NOW + dt.timedelta(days=29, hours=23))
    assert (link.org, link.person, link.purpose) == ("KT", "cao", "my")
    assert link.issued == NOW and link.expires == NOW + dt.timedelta(days=30)
    assert reason(token(), now=NOW + dt.timedelta(days=30)) == "expired"


def test_changing_any_claim_or_the_key_is_a_forgery():
    body, mac = token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    for name, value in (("o", "XX"), ("p", "ceo"), ("e", claims["e"] + 86400 * 365), ("u", "cal")):
        forged = base64.urlsafe_b64encode(json.dumps({**claims, name: value}).encode()).rstrip(b"=").decode()
        assert reason(f"{forged}.{mac}") == "forged", name
    assert reason(token(), key=b"another key" * 4) == "forged"


def test_a_link_is_single_purpose_and_garbage_is_malformed():
    assert reason(token(purpose="cal")) == "purpose"
    assert links.read(token(purpose="cal"), KEY, purpose="cal", now=NOW).purpose == "cal"
    for junk in ("", "abc", "abc.", ".abc", "not base64!.x"):
        assert reason(junk) in {"malformed", "forged"}


def test_urls_name_the_page_the_purpose_opens():
    assert links.url("https://esg.example.kz/", "T", "my") == "https://esg.example.kz/o/T"
    assert links.url("https://esg.example.kz", "T", "cal") == "https://esg.example.kz/cal/T.ics"
    with pytest.raises(ValueError):
        token(purpose="admin")
