"""CLI: the people directory (load, check, show) and the outbox (list, retry).

Commands import what they run inside themselves, on purpose: `esgtrack --help` and each
command load only their own libraries (matplotlib and reportlab for reports, Prefect for
flows, apprise for delivery), not every library of every command."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from config.settings import get_settings
from flows.cli.app import FormatOpt, OrgOpt, app, db, now
from flows.cli.output import Format, console, emit, err_console

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from notifications.outbox import DeliveryReport

T = TypeVar("T")

directory_app = typer.Typer(help="The people directory: who holds which role, and how to reach them.",
                            no_args_is_help=True)
outbox_app = typer.Typer(help="Messages claimed for delivery: list them (default) or retry now.",
                         invoke_without_command=True)
app.add_typer(directory_app, name="directory")
app.add_typer(outbox_app, name="outbox")


@directory_app.command("load")
def directory_load(
    path: Annotated[Path, typer.Argument(help="The directory YAML (see config/directory.example.yaml).")],
) -> None:
    """Validate a directory file and copy it into the data directory; later runs use it."""
    from flows.usecases.admin import load_into_home

    settings = get_settings()
    directory, target = load_into_home(path, settings)
    console.print(f"loaded {len(directory.people)} people and {len(directory.roles)} roles into {target}")
    if settings.directory is not None:
        err_console.print(f"[yellow]warning:[/yellow] ESGTRACK_DIRECTORY={settings.directory} is set "
                          "and takes precedence over the loaded copy")
    console.print("next: esgtrack directory check")


@directory_app.command("check")
def directory_check(org: OrgOpt = None, fmt: FormatOpt = Format.table) -> None:
    """List roles nobody holds, people without a channel and, when real channels are
    configured, people only the journal reaches; exit 1 if there are any.

    Roles needed: the database's measures' (else the shipped roadmap's) and the policy's.
    """
    from flows.usecases.admin import check

    result = check(_engine_if_any(), get_settings(), org=org)
    if fmt is not Format.table:
        emit([result], fmt=fmt, columns=list(result), json_data=result)
    else:
        _print_check(result)
    if not result["ok"]:
        sys.exit(1)


def _engine_if_any() -> Engine | None:
    settings = get_settings()
    if settings.database_url is None and not (settings.home / "esgtrack.db").exists():
        return None  # nothing imported yet: check against the shipped roadmap, create nothing
    return db()


def _print_check(result: dict[str, Any]) -> None:
    console.print(f"directory: {result['directory']}")
    console.print(f"{result['roles_required']} roles needed (from {result['roles_from']} and the policy)")
    rows = [{"problem": "role nobody holds", "id": r} for r in result["unheld_roles"]]
    rows += [{"problem": "no channel (journal only)", "id": p} for p in result["no_channel"]]
    if result["real_channels"]:
        rows += [{"problem": "journal only", "id": p,
                  "detail": "email, but ESGTRACK_SMTP_URL is unset" if p in result["email_without_smtp"] else ""}
                 for p in result["journal_only"] if p not in result["no_channel"]]
    rows += [{"problem": "unusable URL", "id": f"{b['person']} {b['channel']}", "detail": b["url"]}
             for b in result["invalid_urls"]]
    if rows:
        emit(rows, fmt=Format.table, columns=["problem", "id", "detail"], title="Directory problems")
    elif result["real_channels"]:
        console.print("[green]ok[/green]: every role has a holder, everyone has a channel")
    else:
        console.print("[green]ok[/green] (journal only): every role has a holder; no real channel is "
                      "configured (no ESGTRACK_SMTP_URL, no Teams or apprise URL), so every message goes "
                      "to the journal")
    if result["untranslated"]:
        err_console.print(f"[yellow]warning:[/yellow] {', '.join(result['untranslated'])}: no Russian or English "
                          f"title yet; {', '.join(result['readers'])} readers see the Kazakh title marked "
                          "as not translated (`esgtrack roadmap translate`)", highlight=False, soft_wrap=True)
    if result["email_without_smtp"] and not result["real_channels"]:
        err_console.print(f"[yellow]note:[/yellow] ESGTRACK_SMTP_URL is unset: "
                          f"{len(result['email_without_smtp'])} people reachable only by email "
                          "get their messages in the journal")


@directory_app.command("show")
def directory_show(fmt: FormatOpt = Format.table) -> None:
    """List the people of the directory in use: language, channels (masked), roles, deputy,
    fallback order."""
    from flows.usecases.admin import people_rows
    from models.core.directory import load_directory

    settings = get_settings()
    path = settings.resolved_directory
    rows = people_rows(load_directory(path), settings)
    emit(rows, fmt=fmt, columns=["id", "name", "language", "channels", "targets", "roles", "deputy", "fallback"]
         if fmt is not Format.table else ["id", "name", "language", "channels", "roles", "deputy", "fallback"],
         title=f"Directory {path}")


STATUS_HELP = "Only rows in this status: pending, sending, sent, failed, dead, unknown, cancelled."
COLUMNS = ["id", "org", "measure", "step", "recipient", "channel", "status", "attempts",
           "next_attempt_at", "sent_at", "masked_target", "last_error"]
FALLBACK_COLUMNS = ["message_key", "hop", "fallback_to", "fallback_reason"]


@outbox_app.callback()
def outbox_list(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option("--status", help=STATUS_HELP)] = None,
    org: OrgOpt = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many rows (oldest first).")] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """List the outbox: every message claimed, its status, attempts and masked target."""
    if ctx.invoked_subcommand is not None:
        return
    from flows.usecases import admin

    listing = admin.list_outbox(db(), status=status, org=org, limit=limit)
    rows, counts, waiting = listing.rows, listing.counts, listing.waiting
    emit(rows, fmt=fmt, columns=[*COLUMNS, "subject", "idem_key", *FALLBACK_COLUMNS] if fmt is Format.csv else COLUMNS,
         title="Outbox " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())),
         empty="the outbox is empty")
    if waiting and fmt is Format.table:
        err_console.print(f"{waiting} claimed step(s) not yet turned into messages: the next delivery "
                          "(the daily run, the hourly retry or `esgtrack outbox retry`) makes and sends them")


@outbox_app.command("retry")
def outbox_retry(
    unknown: Annotated[bool, typer.Option("--unknown", help="Also resend messages whose outcome is "
                                          "unknown (timed out): they may arrive twice.")] = False,
    dead: Annotated[bool, typer.Option("--dead", help="Also resend dead messages, with fresh attempts.")] = False,
    org: OrgOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Deliver now: failed messages (skipping their backoff) and anything due.

    Exits 1 if a message ended dead or unknown in this run, or if rows remain failed, or dead
    with no other route having delivered their message."""
    from flows.usecases import admin
    from models.core.directory import load_directory

    settings = get_settings()
    made_due, report = _with_progress(lambda progress: admin.retry(
        db(), directory=load_directory(settings.resolved_directory), settings=settings, now=now(),
        unknown=unknown, dead=dead, orgs=[org] if org else None, progress=progress))
    result = {"made_due": made_due, **report.as_dict()}
    if fmt is not Format.table:
        emit([result], fmt=fmt, columns=list(result), json_data=result)
    else:
        _print_retry(report)
    if admin.retry_failed(report):
        sys.exit(1)


def _print_retry(report: DeliveryReport) -> None:
    from notifications.outbox import summary_line

    fanout = report.fanout
    if fanout.get("notices") or fanout.get("cancelled"):
        console.print(f"{fanout['notices']} claimed step(s) made {fanout['messages']} message(s) to recipients"
                      + (f"; {fanout['cancelled']} closed meanwhile" if fanout["cancelled"] else ""))
    for warning in fanout.get("warnings", []):
        err_console.print(f"[yellow]warning:[/yellow] {warning}")
    head = "nothing due" if not report.claimed else f"{report.messages} message(s)"
    console.print(f"{head}: {summary_line(report.summary)} ({report.seconds} s)")
    if report.problems:
        emit(report.problems, fmt=Format.table, title="Dead or unknown",
             columns=["id", "measure", "recipient", "channel", "status", "attempts", "fallback_to",
                      "last_error"])


def _with_progress(run: Callable[[Callable[[int, int], None] | None], T]) -> T:
    """Run a delivery, with a progress bar on a terminal."""
    if not err_console.is_terminal:
        return run(None)
    from rich.progress import Progress

    with Progress(console=err_console, transient=True) as bar:
        task = bar.add_task("sending", total=None)
        return run(lambda done, total: bar.update(task, completed=done, total=total))
