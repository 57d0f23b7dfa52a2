"""Masking: URLs and secrets appear only masked in logs, errors and exports.

apprise's url(privacy=True) hides passwords and tokens, but leaves custom +Header= values
(and :token template values) readable; those, and secret-looking query values, are masked
here too. redact() removes a URL's secrets from free text such as an error message.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import apprise

SECRET_KEYS = {"pass", "password", "pwd", "token", "secret", "key", "apikey", "api_key", "sig",
               "signature", "auth", "access_token", "webhook", "code"}
# apprise's defaults, left out of masked targets so that they stay readable
NOISE = {"overflow", "retry", "wait", "optional", "format", "image", "wrap", "pa", "method",
         "rto", "cto", "verify", "template"}


def query_pairs(query: str) -> list[tuple[str, str]]:
    # A literal '+' starts an apprise header name: do not let parse_qsl turn it into a space.
    return parse_qsl(query.replace("+", "%2B"), keep_blank_values=True)


@lru_cache(maxsize=256)
def mask_url(url: str) -> str:
    """apprise's privacy form of a URL, plus what apprise leaves readable (custom +Header=
    and :token values, secret-looking query values); apprise's noisy defaults dropped."""
    if url.startswith("journal://"):
        return url  # a local file: nothing secret
    try:
        service = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    except Exception:
        service = None
    text = service.url(privacy=True) if service else _mask_by_hand(url)
    return _mask_query(text)


def _mask_by_hand(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme or '?'}://{host}/****" if host else f"{parts.scheme or '?'}://****"


def _mask_query(url: str) -> str:
    parts = urlsplit(url)
    query = []
    for key, value in query_pairs(parts.query):
        if key.lower() in NOISE:
            continue
        secret = key[:1] in "+:" or key.lower() in SECRET_KEYS
        query.append((key, "****" if secret and value else value))
    return urlunsplit(parts._replace(query=urlencode(query, safe="@:/*+,")))


def secrets_of(url: str) -> set[str]:
    """Substrings of a URL that must never appear in a log, an error or an export."""
    parts = urlsplit(url)
    found = {url}
    if parts.password:
        found |= {parts.password, quote(parts.password, safe="")}
    for key, value in query_pairs(parts.query):
        if value and (key[:1] in "+:" or key.lower() in SECRET_KEYS):
            found.add(value)
    if parts.scheme not in ("mailto", "mailtos", "journal"):
        # workflow ids, webhook tokens: long path segments with digits in them
        found |= {seg for seg in parts.path.split("/") if len(seg) >= 8 and any(c.isdigit() for c in seg)}
    return {s for s in found if len(s) >= 4}


def redact(text: str, secrets: set[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "****")
    return text
