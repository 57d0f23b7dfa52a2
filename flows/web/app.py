"""The portal as one FastAPI application (esgtrack web): server-rendered Jinja2 pages, static
files shipped in the package, signed-cookie sessions. Routes live in officer.py (signed links),
office.py (sign-in, review), sso.py, dashboard.py, auditor.py and admin.py and call use cases;
pages.py holds what they share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from config.settings import Settings, get_settings, signing_key
from flows.web import admin, auditor, dashboard, office, officer, security, sso
from flows.web.pages import HERE, LANGS, SESSION_HOURS, Portal, default_limits, page


def create_app(*, engine: Engine | None = None, settings: Settings | None = None,
               clock: Callable[[], dt.datetime] | None = None,
               limits: dict[str, security.RateLimit] | None = None) -> FastAPI:
    """The portal against this database (default: the configured one, migrated)."""
    from flows.usecases import database

    settings = settings or get_settings()
    engine = engine or database.engine()
    app = FastAPI(title="esgtrack portal", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.portal = Portal(engine, settings, clock or (lambda: dt.datetime.now(dt.UTC)),
                              default_limits() if limits is None else limits)
    https = (settings.base_url or "").startswith("https://")
    app.add_middleware(security.BodyLimit, limit=64 * 1024,
                       uploads=officer.MAX_FILES * int(settings.upload_max_mb * 1024 * 1024) + 1024 * 1024)
    app.add_middleware(security.Headers, https=https)  # outside BodyLimit: its early 413 has them too
    app.add_middleware(SessionMiddleware, secret_key=signing_key(settings).decode(), session_cookie="esgtrack",
                       max_age=SESSION_HOURS * 3600, same_site="lax", https_only=https)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for module in (officer, office, auditor, sso, dashboard, admin):
        app.include_router(module.router)

    @app.exception_handler(StarletteHTTPException)  # FastAPI's HTTPException and routing's 404 / 405
    async def _error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 401:
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        return page(request, "error.html", exc.status_code, code=exc.status_code, detail=str(exc.detail))

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        if request.session.get("officer"):
            return RedirectResponse("/me", status_code=303)
        role = (request.session.get("staff") or {}).get("role")
        target = {None: "/login", "auditor": "/ledger"}.get(role, "/dashboard")
        return RedirectResponse(target, status_code=303)

    @app.get("/lang/{lang}", include_in_schema=False)
    def choose_language(request: Request, lang: str, next: str | None = None) -> Response:
        if lang in LANGS:
            request.session["lang"] = lang
        return RedirectResponse(security.safe_next(next), status_code=303)

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
