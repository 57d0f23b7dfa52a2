"""CLI: status, the Board report and calendar feeds.

Commands import what they run inside themselves, on purpose: `esgtrack --help` and each
command load only their own libraries (matplotlib and reportlab for reports, Prefect for
flows, apprise for delivery), not every library of every command."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from config.settings import get_settings
from flows.cli.app import AsOfOpt, FormatOpt, LangOpt, OrgOpt, app, as_of_date, db, now, out_file
from flows.cli.output import Format, Lang, console, emit, err_console
from models.core.directory import Directory
from models.core.errors import InputError
from models.core.policy import Policy
from models.core.progress import FIELDS
from models.store import targets as trepo


class By(StrEnum):
    aspect = "aspect"
    topic = "topic"
    executor = "executor"
    unit = "unit"


class ReportFormat(StrEnum):
    md = "md"
    html = "html"
    pdf = "pdf"


@app.command("status")
def status_cmd(
    as_of: AsOfOpt = None,
    by: Annotated[By, typer.Option("--by", help="Group by aspect, topic, executor or unit.")] = By.aspect,
    fmt: FormatOpt = Format.table,
    org: OrgOpt = None,
    lang: LangOpt = Lang.kk,
    period: Annotated[int | None, typer.Option(help="Only occurrences of this year.")] = None,
) -> None:
    """Where the roadmap stands: per group, due so far, done on time / late, open, overdue,
    waived, % complete; and each target's latest reading."""
    from flows.reports.status import status_rows, target_rows
    from flows.usecases import reports

    day = as_of_date(as_of)
    report = reports.status(db(), org=org, as_of=day, by=by.value, lang=lang.value, period=period)
    if fmt is Format.json:
        emit([], fmt=fmt, columns=[], json_data=report.as_dict())
        return
    from flows.cli.words import headers
    from flows.reports.labels import words

    w = words(lang.value)
    columns = ["org", "group", "label", *FIELDS, "percent_complete"]
    emit(status_rows(report), fmt=fmt, columns=columns if fmt is Format.csv else columns[:1] + columns[2:],
         title=w["title_status"].format(day=day, by=w[by.value]), empty=w["empty_imported"],
         headers={**headers(lang.value, columns), "label": w[by.value]})
    if fmt is Format.table and report.targets:
        target_columns = ["org", "measure", "metric", "target", "latest", "expected", "status"]
        emit(shown_targets(target_rows(report, lang.value), lang.value), fmt=fmt, title=w["targets"],
             columns=target_columns, headers=headers(lang.value, target_columns))


def shown_targets(rows: list[dict[str, str]], lang: str) -> list[dict[str, str]]:
    """Target rows for people: the metric's name and the judgement in the language."""
    from flows.reports.labels import metric_name, words

    w = words(lang)
    return [{**row, "metric": metric_name(row["metric"], w), "status": row["status_text"]} for row in rows]


@app.command("report")
def report_cmd(
    period: Annotated[int, typer.Option(
        "--period", help="The year the report covers: within the roadmap's horizon, begun by --as-of.")],
    out: Annotated[Path, typer.Option("--out", help="The file to write.", callback=out_file)],
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="md, html or pdf.")] = ReportFormat.html,
    lang: LangOpt = Lang.kk,
    org: OrgOpt = None,
    as_of: AsOfOpt = None,
) -> None:
    """Write the Board committee's report for a year: a cover with the roadmap edition and Board
    decision, progress per aspect and topic (done and waived apart), overdue measures and, apart,
    overdue interim check-ins, targets with charts, the period's reschedules and waivers, and
    completed items with their evidence."""
    from flows.usecases import reports
    from flows.usecases.planning import load_policy_for

    trepo.check_year(period, "--period")
    day = as_of_date(as_of)
    settings = get_settings()
    report = reports.board_report(db(), org=org, period=period, as_of=day, lang=lang.value,
                                  policy=load_policy_for(settings), directory=_directory_or_none())
    if fmt is ReportFormat.pdf:
        from flows.reports.pdf import render_pdf

        out.write_bytes(render_pdf(report))
    else:
        from flows.reports.render import render_html, render_markdown

        text = render_html(report) if fmt is ReportFormat.html else render_markdown(report, out)
        out.write_text(text, encoding="utf-8")
    console.print(f"wrote {out} ({fmt.value}, {lang.value}, {period}, as of {day})")


def _directory_or_none() -> Directory | None:
    """Owners' names come from the directory when it loads; the report does without them."""
    from flows.usecases.planning import load_directory_for

    try:
        return load_directory_for(get_settings())
    except (InputError, ImportError) as exc:
        err_console.print(f"[yellow]warning:[/yellow] directory not used: {exc}")
        return None


@app.command("calendar")
def calendar_cmd(
    out: Annotated[Path, typer.Option("--out", help="The .ics file to write.", callback=out_file)],
    person: Annotated[str | None, typer.Option(
        "--person",
        help="A person id in the directory: the occurrences of the roles they hold, in their language.")] = None,
    unit: Annotated[str | None, typer.Option(
        "--unit", help="A role id (executor or unit): its measures' occurrences.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every open occurrence.")] = False,
    lang: Annotated[Lang | None, typer.Option(
        "--lang", help="Language of titles (default: the person's, else kk).")] = None,
    org: OrgOpt = None,
) -> None:
    """Write an iCalendar (.ics) feed: one event per open occurrence on its due date, with
    alarms at the policy's reminder offsets; re-importing updates events (stable UIDs)."""
    from flows.reports.calendar import build_calendar
    from flows.usecases import reports
    from flows.usecases.planning import load_policy_for

    if sum([person is not None, unit is not None, all_]) != 1:
        raise InputError("choose exactly one of --person ID, --unit ID or --all", field="--person")
    settings = get_settings()
    policy = load_policy_for(settings)
    roles, external, language, name = None, False, (lang.value if lang else "kk"), None
    if person is not None:
        roles, external, language, name = _person_scope(person, policy, lang)
    items = reports.calendar_items(db(), org=org, lang=language, roles=roles, unit=unit, external=external)
    data = build_calendar(items, lang=language, reminder_days=policy.reminder_days,
                          now=now(), name=name)
    out.write_bytes(data)
    console.print(f"wrote {out}: {len(items)} events, {len(policy.reminder_days)} alarms each ({language})")


def _person_scope(person_id: str, policy: Policy, lang: Lang | None) -> tuple[set[str], bool, str, str]:
    from flows.reports.labels import words
    from flows.usecases.planning import load_directory_for

    directory = load_directory_for(get_settings())
    if person_id not in directory.people:
        raise InputError("no such person in the directory", field="--person", value=person_id)
    person = directory.person(person_id)
    roles = set(directory.roles_of(person_id))
    language = lang.value if lang else person.language
    name = f"{words(language)['calendar_name']} — {person.name_in(language)}"
    return roles, policy.esg_office in roles, language, name

