"""The portal's guards: security headers, CSRF tokens, rate limits, safe redirects and upload
checks. Plain functions and one middleware; the routes call them."""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import deque
from pathlib import Path

from fastapi import HTTPException, Request
from starlette.datastructures import MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No inline script or style anywhere: every asset is a file the package ships (no CDN).
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


class Headers:
    """Security headers on every answer; pages are never cached (they carry personal data). Plain
    ASGI (not BaseHTTPMiddleware): an error raised while a route reads its body reaches the
    route's exception handlers as it is."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app, self.https = app, https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                h = MutableHeaders(scope=message)
                h["Content-Security-Policy"] = CSP
                h["X-Content-Type-Options"] = "nosniff"
                h["X-Frame-Options"] = "DENY"
                h["Referrer-Policy"] = "no-referrer"  # links carry tokens: never hand them to another site
                h["Cross-Origin-Opener-Policy"] = "same-origin"
                h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
                if not static:
                    h["Cache-Control"] = "no-store"
                if self.https:
                    h["Strict-Transport-Security"] = "max-age=31536000"
            await send(message)

        await self.app(scope, receive, with_headers)


UPLOADS = re.compile(r"/me/\d+/complete")  # the one form that carries files


class BodyLimit:
    """Request bodies at most `limit` bytes (`uploads` on the evidence form): a declared larger
    one is refused at once (413), and the bytes that arrive are counted too, so a body sent in
    chunks without a Content-Length stops at the limit instead of filling the disk."""

    def __init__(self, app: ASGIApp, *, limit: int, uploads: int) -> None:
        self.app, self.limit, self.uploads = app, limit, uploads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self.uploads if UPLOADS.fullmatch(scope["path"]) else self.limit
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > limit:
            await PlainTextResponse("request too large\n", status_code=413)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:  # raised inside the route's form parsing: its handler answers 413
                raise HTTPException(status_code=413, detail="request too large")
            return message

        await self.app(scope, counted, send)


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
