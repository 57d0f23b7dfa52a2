"""The portal's guards: security headers, CSRF tokens, rate limits, safe redirects and upload
checks. Plain functions and one middleware; the routes call them."""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import HTTPException, Request
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import Response

# No inline script or style anywhere: every asset is a file the package ships (no CDN).
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


class Headers(BaseHTTPMiddleware):
    """Security headers on every answer; pages are never cached (they carry personal data)."""

    def __init__(self, app: object, *, https: bool) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.https = https

    async def dispatch(self, request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        h = response.headers
        h["Content-Security-Policy"] = CSP
        h["X-Content-Type-Options"] = "nosniff"
        h["X-Frame-Options"] = "DENY"
        h["Referrer-Policy"] = "no-referrer"  # links carry tokens: never hand them to another site
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if not request.url.path.startswith("/static/"):
            h["Cache-Control"] = "no-store"
        if self.https:
            h["Strict-Transport-Security"] = "max-age=31536000"
        return response


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use); every form carries it."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def check_csrf(request: Request, sent: str | None) -> None:
    expected = request.session.get("csrf")
    if not expected or not sent or not secrets.compare_digest(str(expected), sent):
        raise HTTPException(status_code=403, detail="csrf")


class RateLimit:
    """At most `limit` requests per `window` seconds per key (a client address and a kind of
    request), in this process: a sliding window of request times."""

    def __init__(self, limit: int, window: float = 60.0) -> None:
        self.limit, self.window = limit, window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] > self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def safe_next(target: str | None, default: str = "/") -> str:
    """A redirect target only within this site (no scheme, no host, no //evil.example)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


# --- uploads ------------------------------------------------------------------------------

ALLOWED = {  # extension → what the first bytes must be (None: text, checked as UTF-8)
    ".pdf": (b"%PDF",), ".png": (b"\x89PNG",), ".jpg": (b"\xff\xd8\xff",), ".jpeg": (b"\xff\xd8\xff",),
    ".docx": (b"PK\x03\x04",), ".xlsx": (b"PK\x03\x04",), ".pptx": (b"PK\x03\x04",), ".odt": (b"PK\x03\x04",),
    ".ods": (b"PK\x03\x04",), ".zip": (b"PK\x03\x04",), ".doc": (b"\xd0\xcf\x11\xe0",),
    ".xls": (b"\xd0\xcf\x11\xe0",), ".txt": None, ".csv": None,
}
_UNSAFE = re.compile(r"[^\w.\- ()]+", re.UNICODE)


def safe_name(name: str) -> str:
    """A file name as it is kept: no directories (no traversal), no control or shell
    characters, at most 120 characters, never hidden."""
    base = Path(name.replace("\\", "/")).name
    cleaned = _UNSAFE.sub("_", base).strip(" .")
    return (cleaned or "file")[-120:]


def type_problem(name: str, head: bytes) -> str | None:
    """Why a file of this name, starting with these bytes, is refused (None: accepted)."""
    ext = Path(name).suffix.lower()
    if ext not in ALLOWED:
        return f"{ext or 'a file without an extension'} is not accepted: send {', '.join(sorted(ALLOWED))}"
    magic = ALLOWED[ext]
    if magic is None:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
                return f"{name} is not UTF-8 text"
        return None
    if not any(head.startswith(m) for m in magic):
        return f"{name} is not a {ext[1:].upper()} file"
    return None
