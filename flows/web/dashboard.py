"""The ESG office's dashboard (progress per aspect, overdue items by escalation level, targets,
the outbox's health, directory problems, the review queue, the Prefect UI), and the pages of
one measure and one occurrence with their ledger history. Every page reads the signed-in
person's organisation only, as of the portal's clock."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from flows.reports.labels import form_in, metric_name, party_name, words
from flows.reports.status import StatusReport, localized, percent_text, target_rows
from flows.usecases import dashboard as board
from flows.usecases import reports, review, staff
from flows.web.office import READERS, role
from flows.web.pages import limited, page, portal
from models.core.errors import NotFound
from models.core.progress import TOTAL
from models.core.schedule import local_date
from models.core.targets import TargetView

router = APIRouter()
OfficeOrAdmin = Annotated[staff.Staff, Depends(role("esg_office", "admin"))]
Reader = Annotated[staff.Staff, Depends(READERS)]


def _lang(request: Request) -> str:
    return str(request.session.get("lang") or "en")


@router.get("/dashboard")
def dashboard(request: Request, user: OfficeOrAdmin) -> Response:
    limited(request, "page")
    p, lang = portal(request), _lang(request)
    as_of = local_date(p.now())
    try:
        report = reports.status(p.engine, org=user.org, as_of=as_of, by="aspect", lang=lang)
    except NotFound:
        report = None  # no roadmap imported for the organisation yet: the rest still tells something
    return page(request, "dashboard.html", org=user.org, as_of=as_of, **_progress(report),
                targets=_targets(report, lang) if report else [],
                levels=board.overdue_by_level(p.engine, org=user.org, as_of=as_of, policy=p.policy(), lang=lang),
                outbox=board.outbox_health(p.engine, org=user.org),
                problems=board.directory_problems(p.engine, p.settings, org=user.org),
                awaiting=len(review.queue(p.engine, org=user.org, lang=lang)),
                prefect_url=board.prefect_ui_url(p.settings))


def _progress(report: StatusReport | None) -> dict[str, Any]:
    rows = report.rows if report else []
    return {"aspects": [r for r in rows if r.group != TOTAL],
            "total": next((r for r in rows if r.group == TOTAL), None),
            "percent": percent_text, "imported": report is not None}


def _targets(report: StatusReport, lang: str) -> list[dict[str, Any]]:
    """target_rows' text per target, with its id, share of the way to the target and chart."""
    w = words(lang)
    return [{**row, "metric": metric_name(row["metric"], w), "id": view.target_id,
             "share": board.target_share(view), "readings": len(view.readings)}
            for view, row in zip(report.targets, target_rows(report, lang), strict=True)]


@router.get("/dashboard/targets/{target_id}.png")
def target_chart(request: Request, target_id: int, user: OfficeOrAdmin) -> Response:
    """A target's readings against its trajectory (the Board report's chart), as PNG."""
    from flows.reports import charts

    limited(request, "page")
    p = portal(request)
    as_of = local_date(p.now())
    try:
        view = _target(reports.targets(p.engine, org=user.org, as_of=as_of), target_id)
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=exc.message) from exc
    png = charts.target_chart(view, words(_lang(request)), board.chart_first_year(view, as_of))
    return Response(png, media_type="image/png")


def _target(views: list[TargetView], target_id: int) -> TargetView:
    found = next((v for v in views if v.target_id == target_id), None)
    if found is None:
        raise HTTPException(status_code=404, detail="no such target")
    return found


@router.get("/measures/{code}")
def measure(request: Request, code: str, user: Reader) -> Response:
    limited(request, "page")
    lang = _lang(request)
    try:
        detail = board.measure_detail(portal(request).engine, org=user.org, code=code, lang=lang)
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=exc.message) from exc
    m = detail.measure
    return page(request, "measure.html", d=detail, m=m, title=localized(m, "title", lang),
                topic=localized(m, "topic", lang), form=form_in(m, lang),
                external=party_name(m.external_party or "", lang) if m.external_dependency else "")


@router.get("/occurrences/{occurrence_id}")
def occurrence(request: Request, occurrence_id: int, user: Reader) -> Response:
    limited(request, "page")
    lang = _lang(request)
    try:
        detail = board.occurrence_detail(portal(request).engine, org=user.org, occurrence_id=occurrence_id)
    except NotFound as exc:
        raise HTTPException(status_code=404, detail=exc.message) from exc
    as_of = local_date(portal(request).now())
    return page(request, "occurrence.html", d=detail, o=detail.occurrence, m=detail.measure,
                title=localized(detail.measure, "title", lang), form=form_in(detail.measure, lang),
                days=(as_of - detail.occurrence.due).days)
