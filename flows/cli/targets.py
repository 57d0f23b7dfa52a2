"""CLI: numeric targets — set them, record readings, list them.

Commands import what they run inside themselves, on purpose: `esgtrack --help` and each
command load only their own libraries (matplotlib and reportlab for reports, Prefect for
flows, apprise for delivery), not every library of every command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from config.settings import get_settings
from flows.cli.app import AsOfOpt, FormatOpt, LangOpt, OrgOpt, app, as_of_date, db, now, org_or_default
from flows.cli.output import Format, Lang, console, emit
from models.core.errors import InputError
from models.store import targets as trepo

target_app = typer.Typer(help="Numeric targets: set them, record readings, list them.", no_args_is_help=True)
app.add_typer(target_app, name="target")

MeasureArg = Annotated[str, typer.Argument(help="The measure's id, e.g. G5.")]
MetricOpt = Annotated[str | None, typer.Option(
    "--metric", help="The target's metric (needed when a measure has several).")]


def _milestones(values: list[str] | None) -> tuple[tuple[int, float], ...] | None:
    if not values:
        return None
    parsed = []
    for text in values:
        year, _, value = text.partition("=")
        try:
            parsed.append((int(year), float(value)))
        except ValueError:
            raise InputError("expected YEAR=VALUE, e.g. 2028=25", field="--milestone", value=text) from None
    return tuple(parsed)


@target_app.command("set")
def target_set(
    measure: MeasureArg,
    metric: MetricOpt = None,
    unit: Annotated[str | None, typer.Option(help="Unit, e.g. %, t, tCO2e.")] = None,
    direction: Annotated[str | None, typer.Option(help="at_least or at_most.")] = None,
    baseline_year: Annotated[int | None, typer.Option(help="Year of the baseline value.")] = None,
    baseline_value: Annotated[float | None, typer.Option(help="The baseline value.")] = None,
    target_year: Annotated[int | None, typer.Option(help="Year by which the target is to be met.")] = None,
    target_value: Annotated[float | None, typer.Option(help="The target value.")] = None,
    milestone: Annotated[list[str] | None, typer.Option(
        help="A stated milestone YEAR=VALUE (repeatable; replaces the stored ones).")] = None,
    by: Annotated[str, typer.Option("--by", help="Who sets it (recorded in the ledger).")] = "",
    reason: Annotated[str, typer.Option("--reason", help="Why (recorded in the ledger).")] = "",
    approved_by: Annotated[str | None, typer.Option(
        "--approved-by", help="Who approved changing what the roadmap states (unit, direction, target "
                              "year or value).")] = None,
    decision: Annotated[str | None, typer.Option(
        "--decision", help="The Board decision's reference for such a change, e.g. 'protocol 12 of 2026-03-05'.")]
        = None,
    org: OrgOpt = None,
) -> None:
    """Set a target the document does not state (e.g. E4's), or a baseline and milestones; a
    ledger event. Changing what the roadmap states needs --approved-by and --decision."""
    from flows.usecases.targets import set_target

    given = trepo.TargetInput(metric, unit, direction, baseline_year, baseline_value, target_year,
                              target_value, _milestones(milestone))
    row = set_target(db(), org=org_or_default(org), code=measure, given=given, actor=by, reason=reason,
                     approved_by=approved_by, decision=decision, now=now())
    sign = "≥" if row.direction == "at_least" else "≤"
    base = f", baseline {row.baseline_value:g}{row.unit} in {row.baseline_year}" if row.baseline_year else ""
    console.print(f"{measure.upper()} {row.metric}: {sign} {row.target_value:g}{row.unit} by "
                  f"{row.target_year}{base} ({row.source})")


@target_app.command("record")
def target_record(
    measure: MeasureArg,
    year: Annotated[int, typer.Option("--year", help="The year the value is for.")],
    value: Annotated[float, typer.Option("--value", help="The measured value.")],
    by: Annotated[str, typer.Option("--by", help="Who records it (written to the ledger).")],
    metric: MetricOpt = None,
    evidence_ref: Annotated[str | None, typer.Option(
        "--evidence-ref", help="Reference of the source document.")] = None,
    file: Annotated[Path | None, typer.Option(
        "--file", help="The source document, kept in the evidence store.")] = None,
    org: OrgOpt = None,
) -> None:
    """Record a target's value for a year (a ledger event); judged against its trajectory."""
    from flows.usecases.targets import record_reading

    done = record_reading(db(), settings=get_settings(), org=org_or_default(org), code=measure,
                          metric=metric, year=year, value=value, actor=by, evidence_ref=evidence_ref,
                          file=file, now=now())
    console.print(f"recorded {measure.upper()} {done.target.metric} {year} = {value:g}{done.target.unit} "
                  f"(ledger entry {done.ledger_seq}, {done.ledger_hash[:12]}…)")


@target_app.command("list")
def target_list(org: OrgOpt = None, as_of: AsOfOpt = None, fmt: FormatOpt = Format.table,
                lang: LangOpt = Lang.kk) -> None:
    """List targets with their latest reading and whether they are on track."""
    from flows.reports.status import target_rows
    from flows.usecases import reports

    day = as_of_date(as_of)
    views = reports.targets(db(), org=org, as_of=day)
    if fmt is Format.json:
        emit([], fmt=fmt, columns=[], json_data=[v.as_dict() for v in views])
        return
    from flows.cli.report import shown_targets
    from flows.cli.words import headers
    from flows.reports.labels import words
    from flows.reports.status import StatusReport

    rows = target_rows(StatusReport(day, "aspect", lang.value, None, targets=views), lang.value)
    columns = ["org", "measure", "metric", "target", "baseline", "latest", "expected", "status"]
    w = words(lang.value)
    emit(shown_targets(rows, lang.value), fmt=fmt, columns=columns, headers=headers(lang.value, columns),
         title=f"{w['targets']} — {w['as_of'].lower()} {day}",
         empty="no targets: import the roadmap, or `esgtrack target set`")
