"""Staff pages: signing in and out (local accounts, or single sign-on), and the ESG office's
review queue (accept or return an officer's submission). Every decision is the signed-in
person's, named in the ledger."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from flows.usecases import review, staff
from flows.web import security
from flows.web.pages import limited, page, portal, posted_form
from models.core.errors import InputError

router = APIRouter()


def signed_in(request: Request) -> staff.Staff:
    """The staff member of this session (401: sign in first). An account disabled since, or a
    session of another installation's key, ends here."""
    data = request.session.get("staff")
    if not data:
        raise HTTPException(status_code=401)
    user = staff.by_id(portal(request).engine, int(data["id"]))
    if user is None or user.org != data["org"] or user.role != data["role"]:
        request.session.clear()
        raise HTTPException(status_code=401)
    return user


def role(*allowed: str) -> Callable[[Request], staff.Staff]:
    """A dependency: the signed-in staff member, if their role is one of these (else 403)."""
    def check(request: Request) -> staff.Staff:
        user = signed_in(request)
        if user.role not in allowed:
            raise HTTPException(status_code=403, detail=f"this page is for {' or '.join(allowed)}")
        return user
    return check


OFFICE = role("esg_office")
READERS = role("esg_office", "auditor", "admin")
Office = Annotated[staff.Staff, Depends(OFFICE)]


def start_session(request: Request, user: staff.Staff) -> None:
    """A fresh session (no fixation): the old one, with any officer's link, is dropped."""
    lang = request.session.get("lang")
    request.session.clear()
    request.session.update(staff={"id": user.id, "org": user.org, "role": user.role, "name": user.name,
                                  "username": user.username},
                           lang=lang or "en")


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return page(request, "login.html", next=security.safe_next(next, "/dashboard"), error=None, username="",
                oidc=bool(portal(request).settings.oidc_issuer))


@router.post("/login")
async def login(request: Request) -> Response:
    limited(request, "login")
    form = await request.form()
    security.check_csrf(request, str(form.get("csrf") or ""))
    p = portal(request)
    username, target = str(form.get("username") or ""), security.safe_next(str(form.get("next") or ""), "/dashboard")
    try:
        user = staff.sign_in(p.engine, username=username, password=str(form.get("password") or ""),
                             client=security.client_of(request), now=p.now())
    except staff.SignInError as exc:
        error = ("Too many failed attempts: wait 15 minutes and try again." if exc.reason == "throttled"
                 else "Wrong user name or password.")
        return page(request, "login.html", 429 if exc.reason == "throttled" else 401, next=target, error=error,
                    username=username, oidc=bool(p.settings.oidc_issuer), here="/login")
    start_session(request, user)
    if user.role == "auditor" and target == "/dashboard":
        target = "/ledger"
    return RedirectResponse(target, status_code=303)


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await request.form()
    security.check_csrf(request, str(form.get("csrf") or ""))
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/review")
def review_queue(request: Request, user: Office, done: str | None = None) -> Response:
    notice = {"accepted": "Accepted: recorded in the ledger; reminders for it stop.",
              "returned": "Returned: the officer is told with the next delivery pass."}.get(done or "")
    return _queue_page(request, user, notice=notice)


@router.post("/review/{submission_id}/accept")
async def accept(request: Request, submission_id: int, user: Office) -> Response:
    await posted_form(request)
    p = portal(request)
    try:
        review.accept(p.engine, p.settings, org=user.org, submission_id=submission_id, actor=user.actor, now=p.now())
    except InputError as exc:
        return _queue_error(request, user, exc)
    return RedirectResponse("/review?done=accepted", status_code=303)


@router.post("/review/{submission_id}/return")
async def give_back(request: Request, submission_id: int, user: Office) -> Response:
    form = await posted_form(request)
    p = portal(request)
    try:
        review.give_back(p.engine, p.settings, p.directory(), org=user.org, submission_id=submission_id,
                         actor=user.actor, reason=str(form.get("reason") or ""), now=p.now())
    except InputError as exc:
        return _queue_error(request, user, exc)
    return RedirectResponse("/review?done=returned", status_code=303)


def _queue_error(request: Request, user: staff.Staff, exc: InputError) -> Response:
    return _queue_page(request, user, status=400, error=exc.message)


def _queue_page(request: Request, user: staff.Staff, *, status: int = 200, notice: str | None = None,
                error: str | None = None) -> Response:
    p = portal(request)
    pending = review.queue(p.engine, org=user.org, lang=request.session.get("lang") or "en")
    names = {person.id: person.name for person in p.directory().people.values()}
    return page(request, "review.html", status, pending=pending, names=names, notice=notice, error=error,
                here="/review")
