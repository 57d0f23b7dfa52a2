"""Officers' pages, opened by a signed link: "my obligations", submitting a completion with its
evidence, asking for a new deadline, and the calendar subscription."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from flows.usecases import portal as officers
from flows.web import security
from flows.web.pages import limited, page, portal, posted_form
from models.core import links
from models.core.errors import InputError
from models.core.evidence_rules import Evidence
from models.core.schedule import local_date

router = APIRouter()
LINK_STATUS = {"expired": 410, "revoked": 403, "forged": 403, "malformed": 400, "purpose": 403, "unknown": 403}
# The CLI's option names (in the use cases' errors) → the form's fields
FIELDS = {"--evidence-ref": "ref", "--evidence-date": "date", "--valid-until": "valid_until", "--file": "files",
          "--url": "url", "--note": "note", "--file or --url": "files", "to": "to", "reason": "reason"}


def _link_refused(request: Request, reason: str) -> Response:
    """Why a link does not open. The language links go to /link/REASON, never back to the
    token's address."""
    key = {"expired": "link_expired", "revoked": "link_revoked"}.get(reason, "link_forged")
    return page(request, "link_error.html", LINK_STATUS.get(reason, 403), message_key=key, reason=reason,
                here=f"/link/{reason}")


@router.get("/link/{reason}")
def link_refused(request: Request, reason: str) -> Response:
    if reason not in LINK_STATUS:
        raise HTTPException(status_code=404, detail="no such page")
    return _link_refused(request, reason)


@router.get("/o/{token}")
def open_link(request: Request, token: str) -> Response:
    """A reminder's link: checked, then traded for a session (the token leaves the address bar)."""

    limited(request, "link")
    p = portal(request)
    try:
        link, person = officers.open_link(p.engine, p.settings, p.directory(), token=token, purpose="my", now=p.now())
    except links.LinkError as exc:
        return _link_refused(request, exc.reason)
    lang = request.session.get("lang") if request.session.get("officer", {}).get("p") == person.id else None
    request.session.clear()
    request.session.update(officer={"o": link.org, "p": link.person, "i": link.issued.timestamp(),
                                    "e": link.expires.timestamp()}, lang=lang or person.language)
    return RedirectResponse("/me", status_code=303)


def officer_of(request: Request) -> tuple[links.Link, Any]:
    """The officer of this session, if the link that opened it still holds (not expired, not
    revoked since, the person still in the directory); else 403."""
    claims = request.session.get("officer")
    if not claims:
        raise HTTPException(status_code=403, detail="open the link in your latest reminder")
    p = portal(request)
    link = links.Link(claims["o"], claims["p"], "my", dt.datetime.fromtimestamp(claims["i"], dt.UTC),
                      dt.datetime.fromtimestamp(claims["e"], dt.UTC))
    try:
        if p.now() >= link.expires:
            raise links.LinkError("expired")
        officers.check_not_revoked(p.engine, link)
    except links.LinkError as exc:
        request.session.clear()
        raise HTTPException(status_code=LINK_STATUS[exc.reason], detail=f"link {exc.reason}") from exc
    person = p.directory().people.get(link.person)
    if person is None:
        raise HTTPException(status_code=403, detail="link unknown")
    return link, person


def _my_page(request: Request, *, status: int = 200, errors: dict[int, dict[str, str]] | None = None,
             form: dict[int, dict[str, str]] | None = None, notice: str | None = None) -> Response:
    link, person = officer_of(request)
    p = portal(request)
    lang = request.session.get("lang") or person.language
    items = officers.my_items(p.engine, org=link.org, person=person.id, directory=p.directory(), policy=p.policy(),
                              lang=lang, as_of=local_date(p.now()))
    calendar = officers.link_url(p.settings, p.policy(), org=link.org, person=person.id, now=p.now(), purpose="cal")
    shown = {i.occurrence_id for i in items}
    elsewhere = [text for occ, errs in (errors or {}).items() if occ not in shown for text in errs.values()]
    return page(request, "my.html", status, person=person, person_name=person.name_in(lang), items=items,
                org=link.org, errors=errors or {}, form=form or {}, notice=notice, elsewhere=elsewhere, here="/me",
                webcal=calendar.replace("https://", "webcal://").replace("http://", "webcal://"), calendar=calendar)


@router.get("/me")
def my_obligations(request: Request, done: str | None = None) -> Response:
    notice = {"submitted": "thanks_submitted", "reschedule": "thanks_reschedule"}.get(done or "")
    return _my_page(request, notice=notice)


async def _save_uploads(request: Request, uploads: list[UploadFile], folder: Path) -> list[Path]:
    """The uploaded files in a private folder under safe names, each checked for size and type
    while it is read; a problem is an InputError on the files field."""
    limit = int(portal(request).settings.upload_max_mb * 1024 * 1024)
    saved: list[Path] = []
    for upload in uploads:
        if not upload.filename:
            continue
        name = security.safe_name(upload.filename)
        target = folder / f"{len(saved)}" / name
        target.parent.mkdir()
        size, head = 0, b""
        with target.open("wb") as out:
            while chunk := await upload.read(1024 * 1024):
                if not head:
                    head = chunk[:512]
                size += len(chunk)
                if size > limit:
                    raise InputError(f"{name} is larger than {portal(request).settings.upload_max_mb:g} MB",
                                     field="--file")
                out.write(chunk)
        if size == 0:
            raise InputError(f"{name} is empty", field="--file")
        problem = security.type_problem(name, head)
        if problem:
            raise InputError(problem, field="--file")
        saved.append(target)
    return saved


def _field_error(exc: InputError) -> dict[str, str]:
    field = FIELDS.get(exc.field or "")
    if field is None:
        field = next((f for opt, f in FIELDS.items() if exc.field and exc.field.startswith(opt)), "form")
    return {field: exc.message}


MAX_FILES = 20


@router.post("/me/{occurrence_id}/complete")
async def submit(request: Request, occurrence_id: int) -> Response:

    limited(request, "post")
    p = portal(request)
    link, person = officer_of(request)  # before the body is read: no session, no upload
    async with request.form(max_files=MAX_FILES) as form:  # closes (and deletes) the spooled uploads
        security.check_csrf(request, str(form.get("csrf") or ""))
        values = {k: str(form.get(k) or "").strip() for k in ("ref", "date", "valid_until", "url", "note")}
        uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
        try:
            evidence = Evidence(ref=values["ref"] or None, date=_date(values["date"], "--evidence-date"),
                                valid_until=_date(values["valid_until"], "--valid-until"),
                                urls=tuple(u for u in values["url"].split() if u), note=values["note"] or None)
            with tempfile.TemporaryDirectory(prefix="esgtrack-upload-") as folder:
                files = await _save_uploads(request, uploads, Path(folder))
                officers.submit_completion(p.engine, p.settings, org=link.org, person=person,
                                           occurrence_id=occurrence_id, evidence=evidence, files=files,
                                           directory=p.directory(), policy=p.policy(), now=p.now())
        except InputError as exc:
            return _my_page(request, status=400, errors={occurrence_id: _field_error(exc)},
                            form={occurrence_id: values})
    return RedirectResponse("/me?done=submitted", status_code=303)


@router.post("/me/{occurrence_id}/reschedule")
async def ask_reschedule(request: Request, occurrence_id: int) -> Response:

    form = await posted_form(request)
    link, person = officer_of(request)
    p = portal(request)
    values = {k: str(form.get(k) or "").strip() for k in ("to", "reason")}
    try:
        officers.request_reschedule(p.engine, org=link.org, person=person, occurrence_id=occurrence_id,
                                    to=_date(values["to"], "to"), reason=values["reason"], directory=p.directory(),
                                    policy=p.policy(), now=p.now())
    except InputError as exc:
        return _my_page(request, status=400, errors={occurrence_id: _field_error(exc)}, form={occurrence_id: values})
    return RedirectResponse("/me?done=reschedule", status_code=303)


@router.get("/cal/{token}.ics")
def calendar_feed(request: Request, token: str) -> Response:
    """A person's calendar subscription (webcal): their open obligations, refreshed by Outlook."""
    from flows.reports.calendar import build_calendar
    from flows.usecases import reports

    limited(request, "cal")
    p = portal(request)
    try:
        link, person = officers.open_link(p.engine, p.settings, p.directory(), token=token, purpose="cal",
                                          now=p.now())
    except links.LinkError as exc:
        return Response(f"calendar link {exc.reason}\n", status_code=LINK_STATUS.get(exc.reason, 403),
                        media_type="text/plain")
    roles, office = officers.responsible_roles(p.directory(), p.policy(), person.id)
    items = reports.calendar_items(p.engine, org=link.org, lang=person.language, roles=roles, external=office)
    body = build_calendar(items, lang=person.language, reminder_days=p.policy().reminder_days, now=p.now())
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": 'inline; filename="esgtrack.ics"'})


def _date(text: str, field: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise InputError("expected a date, YYYY-MM-DD", field=field, value=text) from exc

