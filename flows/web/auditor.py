"""Auditors' pages (read only, for every staff role): the completion log with its chain's
verification, one entry with its payload and evidence files, evidence downloads, the log's
exports (CSV, JSON, XLSX) and the evidence pack of a year. Everything is the signed-in
person's organisation's: another organisation's entry or file is not found (404)."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from flows.reports import ledger_export
from flows.usecases import audit, evidence_access, staff
from flows.web.office import READERS
from flows.web.pages import limited, page, portal, posted_form
from models.core.errors import CheckFailed, InputError
from models.core.ledger import EVENTS, VerifyResult
from models.core.schedule import local_date
from models.store.ledger import LogFilter

router = APIRouter()
Reader = Annotated[staff.Staff, Depends(READERS)]  # esg_office, auditor or admin: these pages only read
FILTERS = ("period", "aspect", "measure", "actor", "event")
ASPECTS = ("E", "S", "G")
YEAR = re.compile(r"[0-9]{4}")
SEQ = re.compile(r"[0-9]{1,18}")


def attachment(name: str) -> dict[str, str]:
    """A download's header: its name percent-encoded as UTF-8 (RFC 6266, RFC 8187)."""
    return {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name, safe='')}"}


def _params(request: Request) -> dict[str, str]:
    """The log's filters as given in the address (the form sends empty fields: left out)."""
    return {k: v for k in FILTERS if (v := request.query_params.get(k, "").strip())}


def _where(org: str, params: dict[str, str]) -> LogFilter:
    """The filters, checked as `esgtrack log` checks its options; the use case checks the measure."""
    period, aspect, event = params.get("period"), params.get("aspect"), params.get("event")
    if period is not None and not YEAR.fullmatch(period):
        raise InputError("the period is a year, e.g. 2025", field="period", value=period)
    if aspect is not None and aspect.upper() not in ASPECTS:
        raise InputError("the aspect is E, S or G", field="aspect", value=aspect)
    if event is not None and event not in EVENTS:
        raise InputError(f"the event is one of {', '.join(EVENTS)}", field="event", value=event)
    return LogFilter(org=org, period=int(period) if period else None, aspect=aspect.upper() if aspect else None,
                     measure=params.get("measure"), actor=params.get("actor"), event=event)


def _chain(request: Request, org: str) -> VerifyResult | None:
    """The organisation's chain, verified now (None: the organisation has no roadmap yet)."""
    p = portal(request)
    try:
        results = audit.verify(p.engine, org=org, store_root=p.settings.evidence_dir)
    except InputError:
        return None
    return results[0] if results else None


def _ledger_page(request: Request, user: staff.Staff, params: dict[str, str], *, rows: list[dict[str, Any]],
                 status: int = 200, error: str | None = None) -> Response:
    return page(request, "ledger.html", status, org=user.org, chain=_chain(request, user.org), rows=rows,
                params=params, query=urlencode(params), events=EVENTS, aspects=ASPECTS, error=error,
                year=local_date(portal(request).now()).year)


@router.get("/ledger")
def ledger(request: Request, user: Reader) -> Response:
    """The completion log, filtered, under its chain's verification."""
    limited(request, "page")
    params = _params(request)
    try:
        rows = audit.log(portal(request).engine, where=_where(user.org, params))
    except InputError as exc:
        return _ledger_page(request, user, params, rows=[], status=400, error=exc.message)
    return _ledger_page(request, user, params, rows=rows)


@router.get("/verify")
def verify(request: Request, user: Reader) -> Response:
    """The chain's verification on a page of its own, with what it checked."""
    limited(request, "page")
    return page(request, "verify.html", org=user.org, chain=_chain(request, user.org))


@router.get("/ledger/export.{fmt}")
def export(request: Request, fmt: str, user: Reader) -> Response:
    """The log, with the page's filters, as `esgtrack log --format csv|json|xlsx` writes it."""
    limited(request, "page")
    if fmt not in ledger_export.FORMATS:
        raise HTTPException(status_code=404, detail=f"the log is exported as {', '.join(ledger_export.FORMATS)}")
    p = portal(request)
    try:
        rows = audit.log(p.engine, where=_where(user.org, _params(request)))
    except InputError as exc:
        raise HTTPException(status_code=400, detail=exc.message) from exc
    name = f"ledger-{user.org}-{local_date(p.now()):%Y%m%d}.{fmt}"
    return Response(ledger_export.log_bytes(rows, fmt), media_type=ledger_export.FORMATS[fmt],
                    headers=attachment(name))


@router.post("/ledger/pack")
async def pack(request: Request, user: Reader) -> Response:
    """The evidence pack (ZIP) of the organisation's year, written to a private temporary
    folder, sent, then removed. A POST with the CSRF token: making a pack signs a checkpoint
    of the chain (and may ask the TSA for its time), which no other site may trigger."""
    form = await posted_form(request)
    period = str(form.get("period") or "").strip()
    if not YEAR.fullmatch(period):
        return _ledger_page(request, user, {}, rows=[], status=400,
                            error="the evidence pack's period is a year, e.g. 2025")
    p = portal(request)
    folder = Path(tempfile.mkdtemp(prefix="esgtrack-pack-"))
    out = folder / f"evidence-pack-{user.org}-{period}.zip"
    try:
        audit.write_evidence_pack(p.engine, p.settings, org=user.org, period=int(period), out=out, now=p.now(),
                                  generated_by=user.actor)
    except InputError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return _ledger_page(request, user, {}, rows=[], status=400, error=exc.message)
    except CheckFailed as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return _ledger_page(request, user, {}, rows=[], status=409, error=str(exc))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(out, media_type="application/zip", headers=attachment(out.name),
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


@router.get("/ledger/{seq}")
def entry(request: Request, seq: str, user: Reader) -> Response:
    """One entry: its columns, its hashed payload, its links and its evidence files."""
    limited(request, "page")
    found = audit.entry(portal(request).engine, org=user.org, seq=int(seq)) if SEQ.fullmatch(seq) else None
    if found is None:
        raise HTTPException(status_code=404, detail="no such ledger entry")
    payload = json.dumps(json.loads(found["payload"]), ensure_ascii=False, indent=2, sort_keys=True)
    files = (found["data"].get("evidence") or {}).get("files") or []
    return page(request, "entry.html", org=user.org, entry=found, payload=payload, files=files)


@router.get("/evidence/{sha256}")
def evidence(request: Request, sha256: str, user: Reader) -> Response:
    """An evidence file the organisation's ledger or submissions name, as recorded (410: the
    store no longer holds it unchanged)."""
    limited(request, "page")
    p = portal(request)
    found = evidence_access.evidence_file(p.engine, org=user.org, sha256=sha256, store_root=p.settings.evidence_dir)
    if found is None:
        raise HTTPException(status_code=404, detail="no such evidence file")
    if found.problem:
        raise HTTPException(status_code=410, detail=f"{found.problem}: it cannot be downloaded. The chain's "
                                                    "verification reports it too; tell the ESG office.")
    return FileResponse(found.path, media_type="application/octet-stream", headers=attachment(found.name))
