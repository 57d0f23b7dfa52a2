"""The administrator's page: the organisation's staff accounts (disable, enable) and revoking
an officer's links. Accounts are created from the CLI (esgtrack users add), where the password
is typed, never through a web form."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from flows.usecases import portal as officers
from flows.usecases import staff
from flows.web.office import role
from flows.web.pages import page, portal, posted_form
from models.core.errors import InputError

router = APIRouter()
Admin = Annotated[staff.Staff, Depends(role("admin", "esg_office"))]  # the ESG office may do everything


def _page(request: Request, user: staff.Staff, *, status: int = 200, notice: str | None = None,
          error: str | None = None) -> Response:
    accounts = staff.list_users(portal(request).engine, org=user.org)
    people = sorted(portal(request).directory().people.values(), key=lambda p: p.id)
    return page(request, "admin.html", status, accounts=accounts, people=people, notice=notice, error=error)


@router.get("/admin")
def admin_page(request: Request, user: Admin, done: str | None = None) -> Response:
    notice = {"revoked": "Revoked: the person's links issued until now no longer open.",
              "saved": "Saved."}.get(done or "")
    return _page(request, user, notice=notice)


@router.post("/admin/users/{username}/{action}")
async def set_active(request: Request, username: str, action: str, user: Admin) -> Response:
    await posted_form(request)
    p = portal(request)
    accounts = {a.username: a for a in staff.list_users(p.engine, org=user.org)}
    if action not in ("disable", "enable") or username not in accounts:  # another organisation's: not found
        return _page(request, user, status=404, error="no such account in your organisation")
    if username == user.username:
        return _page(request, user, status=400, error="you cannot disable your own account")
    staff.set_active(p.engine, username=username, active=action == "enable", now=p.now(), by=user.actor,
                     org=user.org)
    return RedirectResponse("/admin?done=saved", status_code=303)


@router.post("/admin/links/revoke")
async def revoke(request: Request, user: Admin) -> Response:
    form = await posted_form(request)
    p = portal(request)
    person = str(form.get("person") or "")
    if person not in p.directory().people:
        return _page(request, user, status=400, error=f"no such person in the directory: {person!r}")
    try:
        officers.revoke_links(p.engine, org=user.org, person=person, by=user.actor,
                              reason=str(form.get("reason") or ""), now=p.now())
    except InputError as exc:
        return _page(request, user, status=400, error=exc.message)
    return RedirectResponse("/admin?done=revoked", status_code=303)
