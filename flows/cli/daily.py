"""CLI: run the daily flow once, serve the deployments, and the demo.

Commands import what they run inside themselves, on purpose: `esgtrack --help` and each
command load only their own libraries (matplotlib and reportlab for reports, Prefect for
flows, apprise for delivery), not every library of every command."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from config.settings import get_settings
from flows.cli.app import AsOfOpt, FormatOpt, OrgOpt, app, as_of_date, db, now
from flows.cli.output import Format, console, emit, err_console
from flows.usecases.daily import run_daily_pass

run_app = typer.Typer(help="Run a flow once, now.", no_args_is_help=True)
app.add_typer(run_app, name="run")


@run_app.command("daily")
def run_daily(
    as_of: AsOfOpt = None,
    org: OrgOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan and print; send nothing, write nothing.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, help="Organisations per batch.")] = 200,
    spread: Annotated[bool, typer.Option("--spread", help="Run each batch as a run of the batch "
                                         "deployment, on whatever serves it (esgtrack serve, workers).")] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Run the daily-deadlines flow once (as of a date): remind, escalate, deliver, publish."""
    day = as_of_date(as_of)
    if dry_run:
        _dry_run(day, org, fmt)
        return
    with console.status("starting Prefect and running daily-deadlines …"):
        summary = run_daily_pass(day, org, batch_size=batch_size, spread=spread, now=now())
    if fmt is not Format.table:
        emit([summary], fmt=fmt, columns=list(summary), json_data=summary)
        return
    print_summary(summary)


def _dry_run(day: dt.date, org: str | None, fmt: Format) -> None:
    from flows.usecases.planning import dry_run

    result = dry_run(db(), as_of=day, org=org, settings=get_settings(), now=now())
    rows = [{"org": i.org, "measure": i.measure, "period": i.period, "step": i.step,
             "due": i.due, "days": i.days, "recipient": i.recipient} for i in result.items]
    emit(rows, fmt=fmt, columns=["org", "measure", "period", "step", "due", "days", "recipient"],
         title=f"Would send as of {day} (dry run: nothing sent, nothing written)",
         empty=f"nothing to send as of {day}")
    for warning in result.warnings:
        err_console.print(f"[yellow]warning:[/yellow] {warning}")


def print_summary(summary: dict) -> None:
    head = (f"[bold]daily-deadlines[/bold] as of {summary['as_of']}: "
            f"{summary['organisations']} organisation(s)")
    if "batch_runs" in summary:
        states = ", ".join(r["state"] for r in summary["batch_runs"])
        console.print(f"{head} in {summary['batches']} batch run(s): {states} ({summary['seconds']} s); "
                      "each batch run's log in the Prefect UI has its counts")
        return
    from flows.daily import summary_text

    console.print(f"{head}, {summary['alerts']} target alert(s) ({summary['seconds']} s): "
                  f"{summary_text(summary['summary'])}")
    for warning in sorted(set(summary.get("warnings", []))):
        err_console.print(f"[yellow]warning:[/yellow] {warning}")


@app.command("serve")
def serve_cmd(
    daily_cron: Annotated[str, typer.Option(help="Cron (Asia/Almaty) of the daily flow.")] = "0 9 * * 1-5",
    retry_cron: Annotated[str, typer.Option(help="Cron (Asia/Almaty) of the outbox retry.")] = "30 * * * *",
    batches_only: Annotated[bool, typer.Option("--batches-only", help="Serve only the batch "
                                               "deployment: run this on helper machines.")] = False,
    spread: Annotated[bool, typer.Option("--spread", help="Scheduled daily runs spread their batches "
                                         "over whatever serves the batch deployment.")] = False,
) -> None:
    """Serve the deployments (daily flow on working days, outbox retry hourly) until stopped."""
    db()
    from flows import deploy

    if batches_only:
        deploy.serve_batches()
    else:
        deploy.serve_all(daily_cron, retry_cron, spread)


@app.command("demo")
def demo_cmd(
    as_of: AsOfOpt = None,
    home: Annotated[Path | None, typer.Option(help="Data directory of the demo (wiped first); "
                                                   "default: DATA_DIR/demo.")] = None,
) -> None:
    """Run the main job on embedded defaults: the shipped roadmap, the example directory, a
    short history, and the daily flow on a morning with reminders and every escalation level."""
    from flows.usecases.demo import DEMO_AS_OF, run_demo

    day = as_of_date(as_of) if as_of else DEMO_AS_OF
    home = home or get_settings().home / "demo"
    with console.status("importing the roadmap, starting Prefect, running daily-deadlines …"):
        result = run_demo(home=home, as_of=day, now=now())
    m = result["loaded"].roadmap.measures
    console.rule("[bold]esgtrack demo")
    console.print(f"Imported {len(m)} measures (E {sum(x.aspect == 'E' for x in m)}, "
                  f"S {sum(x.aspect == 'S' for x in m)}, G {sum(x.aspect == 'G' for x in m)}) and "
                  f"{result['report'].occurrences.get('added', 0)} occurrences for KT.")
    console.print("Recorded before the morning of the run:")
    for line in result["history"]:
        console.print(f"  {line}")
    print_summary(result["summary"])
    emit(result["sent"], fmt=Format.table, columns=["person", "lang", "channel", "status", "told about"],
         title=f"What was sent to whom, as of {day}")
    journal = get_settings().journal_path
    console.print(f"""
Where to look:
  messages (JSON lines)   {journal}
  the outbox              ESGTRACK_HOME={home} esgtrack outbox
  overdue and upcoming    ESGTRACK_HOME={home} esgtrack upcoming --as-of {day} --days 60
  the completion ledger   ESGTRACK_HOME={home} esgtrack log   (and: esgtrack verify)
  its signed checkpoint   {home / "checkpoints"}   (ESGTRACK_HOME={home} esgtrack verify --checkpoint FILE)
  the Prefect UI          start `prefect server start`, export PREFECT_API_URL=http://127.0.0.1:4200/api,
                          then `esgtrack demo` again: the run and its artifacts appear under Runs.""")
    web = result["portal"]
    console.print(f"""
The web portal: start it with `ESGTRACK_HOME={home} esgtrack web`, then open
  an officer's link ({web["officer"]}, valid {web["days"]} days)
    {web["link"]}
  the ESG office and the auditor sign in at {web["login"]}
    office / {web["office"]}      auditor / {web["auditor"]}""", soft_wrap=True)
