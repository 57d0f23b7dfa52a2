"""What every page of the portal shares: the Portal (database, settings, clock, rate limits), the
words of each language, rendering a page with its CSRF token, and the rate-limit check."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine
from starlette.datastructures import FormData

from config.settings import Settings
from flows.web import security
from models.core.directory import Directory, load_directory
from models.core.policy import Policy, load_policy

HERE = Path(__file__).resolve().parent
LANGS = ("kk", "ru", "en")
SESSION_HOURS = 8


@lru_cache(maxsize=1)
def _words() -> dict[str, dict[str, str]]:
    return yaml.safe_load((HERE / "words.yaml").read_text(encoding="utf-8"))


def words(lang: str) -> dict[str, str]:
    return _words()[lang if lang in LANGS else "en"]


@dataclass
class Portal:
    """What every route needs: the database, the settings, the clock (a parameter: tests fix
    it), and the rate limits."""

    engine: Engine
    settings: Settings
    clock: Callable[[], dt.datetime]
    limits: dict[str, security.RateLimit]

    def now(self) -> dt.datetime:
        return self.clock()

    def directory(self) -> Directory:
        """The directory the settings name, read again only when its file changes (a page asks
        for it several times; `esgtrack directory load` replaces it while the portal runs)."""
        return _current(self.settings.resolved_directory, load_directory)

    def policy(self) -> Policy:
        return _current(self.settings.resolved_policy, load_policy)


T = TypeVar("T")


def _current(path: Path, load: Callable[[Path], T]) -> T:
    try:
        stat = path.stat()
    except OSError:
        return load(path)  # its own clear error
    return _read(path, stat.st_mtime_ns, stat.st_size, load)


@lru_cache(maxsize=8)
def _read(path: Path, _mtime_ns: int, _size: int, load: Callable[[Path], Any]) -> Any:
    return load(path)


def portal(request: Request) -> Portal:
    found: Portal = request.app.state.portal
    return found


templates = Jinja2Templates(directory=str(HERE / "templates"))


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page in the reader's language with the session's CSRF token."""
    lang = request.session.get("lang") or "en"
    context.update(request=request, lang=lang, w=words(lang), csrf=security.csrf_token(request),
                   staff=request.session.get("staff"), langs=LANGS)
    return templates.TemplateResponse(request, name, context, status_code=status)


def limited(request: Request, kind: str) -> None:
    """Refuse with 429 when this client has made too many requests of this kind lately."""
    limit = portal(request).limits.get(kind)
    if limit is not None and not limit.hit(f"{kind}:{security.client_of(request)}"):
        raise HTTPException(status_code=429, detail="too many requests")


async def posted_form(request: Request) -> FormData:
    """A form post's fields, once its rate limit and CSRF token have been checked (429 / 403)."""
    limited(request, "post")
    form = await request.form()
    security.check_csrf(request, str(form.get("csrf") or ""))
    return form


def default_limits() -> dict[str, security.RateLimit]:
    # calendar feeds: Outlook's servers fetch every subscriber's from a few addresses
    return {"link": security.RateLimit(30), "cal": security.RateLimit(600), "login": security.RateLimit(20),
            "post": security.RateLimit(60), "page": security.RateLimit(600)}
