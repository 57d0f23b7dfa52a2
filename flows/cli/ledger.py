"""CLI: the completion ledger — complete, reopen, reschedule, waive; verify, log, evidence-pack.

Commands import what they run inside themselves, on purpose: `esgtrack --help` and each
command load only their own libraries (matplotlib and reportlab for reports, Prefect for
flows, apprise for delivery), not every library of every command."""

from __future__ import annotations

import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pendulum
import typer

from config.settings import get_settings
from flows.cli.app import FormatOpt, OrgOpt, app, db, now, org_or_default, out_file, parse_date
from flows.cli.output import Format, console, emit, err_console, to_json
from flows.usecases import audit as auditing
from flows.usecases import occurrences as events
from models.core.errors import CheckFailed, InputError
from models.core.evidence_rules import Evidence
from models.core.ledger import EVENTS, VerifyResult
from models.core.roadmap import ROADMAP_TZ
from models.core.schedule import OccurrenceKind, local_date
from models.core.sheets import csv_bytes, write_xlsx
from models.store import audit
from models.store import ledger as ledger_store
from models.store.occurrences import OccurrenceRef

MeasureArg = Annotated[str, typer.Argument(help="The measure's id, e.g. E6.")]
PeriodOpt = Annotated[int | None, typer.Option("--period", help="The occurrence's year, e.g. 2025.")]
ByOpt = Annotated[str, typer.Option("--by", help="Who records it: recorded in the ledger as the actor.")]
ReasonOpt = Annotated[str, typer.Option("--reason", help="Why (recorded in the ledger).")]
ApprovedOpt = Annotated[str, typer.Option("--approved-by", help="Who approved it (recorded in the ledger).")]
KindOpt = Annotated[str | None, typer.Option(
    "--kind", help="due, progress or opened: when a year has more than one occurrence.")]
OccurrenceOpt = Annotated[int | None, typer.Option(
    "--occurrence", help="An occurrence id instead of --period (see `esgtrack occurrences --format csv`).")]
WriteOrgOpt = Annotated[str | None, typer.Option("--org", help="Organisation code (default: ESGTRACK_ORG).")]


def _ref(org: str | None, measure: str, period: int | None, kind: str | None,
         occurrence: int | None) -> OccurrenceRef:
    if kind and kind not in tuple(OccurrenceKind):
        raise InputError("kind must be due, progress or opened", field="--kind", value=kind)
    return OccurrenceRef(org=org_or_default(org), measure=measure, period=period,
                                kind=kind, occurrence_id=occurrence)


def _done(verb: str, rec: events.Recorded, extra: str = "") -> None:
    occ, m, entry = rec.occurrence, rec.measure, rec.entry
    console.print(f"{verb} {m.code} {occ.period} (occurrence {occ.id}){extra}; "
                  f"ledger entry {entry.org}#{entry.seq} {entry.hash}", highlight=False, soft_wrap=True)


@app.command("complete")
def complete_cmd(
    measure: MeasureArg,
    by: ByOpt,
    period: PeriodOpt = None,
    evidence_ref: Annotated[str | None, typer.Option(
        "--evidence-ref", help="The order's, decision's, protocol's, contract's or certificate's number.")] = None,
    evidence_date: Annotated[str | None, typer.Option(
        "--evidence-date", help="The document's date, YYYY-MM-DD.")] = None,
    valid_until: Annotated[str | None, typer.Option(
        "--valid-until", help="A certificate's last valid day, YYYY-MM-DD.")] = None,
    file: Annotated[list[Path] | None, typer.Option(
        "--file", help="An evidence file (repeatable): hashed and copied into the evidence store.")] = None,
    url: Annotated[list[str] | None, typer.Option(
        "--url", help="A link to the evidence (repeatable), e.g. the published report.")] = None,
    note: Annotated[str | None, typer.Option("--note", help="A free-text note.")] = None,
    completed_on: Annotated[str | None, typer.Option(
        "--completed-on", help="The day it was done, YYYY-MM-DD, when recorded later (not in the future): "
                               "judged late or on time by that day. Default: today.")] = None,
    kind: KindOpt = None,
    occurrence: OccurrenceOpt = None,
    org: WriteOrgOpt = None,
) -> None:
    """Record that an occurrence is done, with the evidence its completion form asks for
    (order/decision/protocol/contract: number and date; certificate: number and validity;
    report/annual report/document/software: a file or a link). Stops its reminders."""
    evidence = Evidence(
        ref=evidence_ref, date=parse_date(evidence_date, "--evidence-date") if evidence_date else None,
        valid_until=parse_date(valid_until, "--valid-until") if valid_until else None,
        urls=tuple(url or ()), note=note)
    ref = _ref(org, measure, period, kind, occurrence)
    rec = events.record_completion(db(), ref=ref, actor=by, evidence=evidence, files=list(file or []),
                                   store_root=get_settings().evidence_dir, now=now(),
                                   completed_on=parse_date(completed_on, "--completed-on") if completed_on else None)
    occ = rec.occurrence
    assert occ.completed_at is not None  # the completion has just set it
    when = (f", late by {(local_date(occ.completed_at) - local_date(occ.due_at)).days} day(s)"
            if occ.late else ", on time")
    _done("completed", rec, when)


@app.command("reopen")
def reopen_cmd(measure: MeasureArg, by: ByOpt, reason: ReasonOpt, period: PeriodOpt = None,
               kind: KindOpt = None, occurrence: OccurrenceOpt = None, org: WriteOrgOpt = None) -> None:
    """Reopen a done or waived occurrence (reminders and escalations resume)."""
    rec = events.reopen_occurrence(db(), ref=_ref(org, measure, period, kind, occurrence), actor=by,
                                  reason=reason, now=now())
    _done("reopened", rec)


@app.command("reschedule")
def reschedule_cmd(
    measure: MeasureArg, by: ByOpt, reason: ReasonOpt, approved_by: ApprovedOpt,
    to: Annotated[str, typer.Option("--to", help="The new due date, YYYY-MM-DD (end of that day, Almaty).")],
    period: PeriodOpt = None, kind: KindOpt = None, occurrence: OccurrenceOpt = None,
    org: WriteOrgOpt = None,
    backdate: Annotated[str | None, typer.Option(
        "--backdate", help="Why a date already past is set (recorded in the ledger); needed for one.")] = None,
) -> None:
    """Move an open occurrence's deadline, with the reason and who approved it (the roadmap's
    deadlines carry an asterisk: they can move). Re-imports keep the new date."""
    day = parse_date(to, "--to")
    rec = events.reschedule_occurrence(db(), ref=_ref(org, measure, period, kind, occurrence),
                                      actor=by, to=day, reason=reason, approved_by=approved_by, now=now(),
                                      backdate=backdate)
    _done("rescheduled", rec, f" to {day}")


@app.command("waive")
def waive_cmd(
    measure: MeasureArg, by: ByOpt, reason: ReasonOpt, approved_by: ApprovedOpt,
    not_applicable: Annotated[bool, typer.Option(
        "--not-applicable", help="Record it as not applicable this period rather than waived.")] = False,
    period: PeriodOpt = None, kind: KindOpt = None, occurrence: OccurrenceOpt = None,
    org: WriteOrgOpt = None,
) -> None:
    """Close an open occurrence without completing it: waived, or not applicable."""
    rec = events.waive_occurrence(db(), ref=_ref(org, measure, period, kind, occurrence), actor=by,
                                 reason=reason, approved_by=approved_by, now=now(),
                                 not_applicable=not_applicable)
    _done("not applicable:" if not_applicable else "waived", rec)


# --- verify ------------------------------------------------------------------------------


def _check_head(head: str | None) -> str | None:
    if head is not None and not re.fullmatch(r"[0-9a-fA-F]{64}", head.strip()):
        raise InputError("expected a full SHA-256 head hash (64 hex digits)", field="--head", value=head)
    return head.strip().lower() if head else None


@app.command("verify")
def verify_cmd(
    org: OrgOpt = None,
    head: Annotated[str | None, typer.Option(
        "--head", help="A head hash handed out earlier: it must still be in the chain (the ledger only grew).")] = None,
    pack: Annotated[Path | None, typer.Option(
        "--pack", help="Verify an evidence pack (ZIP) offline instead of the database.")] = None,
    checkpoint: Annotated[Path | None, typer.Option(
        "--checkpoint", help="A signed checkpoint handed out earlier: prove the ledger extends it.")] = None,
    key: Annotated[str | None, typer.Option(
        "--key", help="A verifier key (or a file holding one): the checkpoint must be signed with it "
                      "(default: this installation's, `esgtrack keys show`); with --pack, the pack must be "
                      "sealed with it.")] = None,
    tsa_cert: Annotated[Path | None, typer.Option(
        "--tsa-cert", help="The TSA's certificate or its CA's (PEM): the checkpoint's (or the pack's) RFC 3161 "
                           "token must verify with it (default with --checkpoint: ESGTRACK_TSA_CERT).")] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Re-compute the ledger's hash chains and the evidence files' hashes: exit 0 and the
    head hash when intact, exit 1 naming the first bad entry. With --checkpoint: exit 0 when
    the checkpoint's signature verifies and today's ledger is a consistent extension of it
    (and its timestamp token, NAME.tsr beside it, verifies with the TSA's certificate)."""
    anchor = _check_head(head)
    if tsa_cert is not None and checkpoint is None and pack is None:
        raise InputError("--tsa-cert checks the trusted time of a --checkpoint or a --pack", field="--tsa-cert")
    if checkpoint is not None:
        if pack is not None or head is not None:
            raise InputError("--checkpoint proves the database's ledger on its own: leave out --pack and --head",
                             field="--checkpoint")
        _verify_checkpoint(checkpoint, key, tsa_cert, fmt)
    if pack is not None:
        if tsa_cert is not None and key is None:
            raise InputError("the trusted time of a pack is its sealed checkpoint's: give --key too",
                             field="--tsa-cert")
        _verify_pack(pack, anchor, fmt, _verifier_key(key) if key is not None else None,
                     _tsa_certificates(tsa_cert) if tsa_cert is not None else None)
        return
    settings = get_settings()
    results = auditing.verify(db(), org=org, store_root=settings.evidence_dir, anchor=anchor)
    _report(results, anchor, fmt)


def _verify_checkpoint(path: Path, key: str | None, tsa_cert: Path | None, fmt: Format) -> None:
    from flows.usecases import checkpoints
    from models.core.notes import NoteError

    try:
        note = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the checkpoint: {exc}", field="--checkpoint", value=str(path)) from None
    settings = get_settings()
    verifier = checkpoints.verifier(settings) if key is None else _verifier_text(key)
    _verifier_key(verifier)
    trusted = checkpoints.trusted_tsa(settings, tsa_cert) if tsa_cert or settings.tsa_cert else None
    token_file = checkpoints.token_path(path)
    if trusted is not None and not token_file.is_file() and (tsa_cert or settings.resolved_tsa_mode == "required"):
        raise CheckFailed(f"checkpoint {path.name} has no trusted time: no timestamp token {token_file.name} "
                          "beside it")
    try:
        proven = checkpoints.check(db(), note=note, verifier_key=verifier)
    except NoteError as exc:
        raise CheckFailed(f"checkpoint {path.name}: {exc}") from None
    stamp = checkpoints.check_token(token_file.read_bytes(), note, trusted) \
        if trusted is not None and token_file.is_file() else None
    proven["trusted_time"] = stamp.describe() if stamp else None
    if fmt is not Format.table:
        emit([proven], fmt=fmt, columns=list(proven), json_data=proven)
        sys.exit(0)
    console.print(f"{proven['org']}: the ledger ({proven['size']} entries, root {proven['root_hash']}) extends "
                  f"the checkpoint of {proven['checkpoint_time']} ({proven['checkpoint_size']} entries): "
                  "consistency proven", highlight=False, soft_wrap=True)
    if stamp is not None:
        console.print(f"trusted time: the checkpoint existed at {stamp.describe()} (RFC 3161 token "
                      f"{token_file.name})", highlight=False, soft_wrap=True)
    elif token_file.is_file():
        err_console.print(f"note: {token_file.name} (trusted time) was not checked: give --tsa-cert",
                          highlight=False, soft_wrap=True)
    sys.exit(0)


def _tsa_certificates(path: Path) -> list[Any]:
    from flows.usecases import checkpoints

    return checkpoints.trusted_tsa(get_settings(), path)


def _verifier_text(key: str) -> str:
    """--key: a verifier key, or a file holding one."""
    return Path(key).read_text(encoding="utf-8").strip() if Path(key).is_file() else key


def _verifier_key(key: str) -> tuple[str, bytes]:
    from models.core.notes import NoteError, parse_verifier_key

    try:
        return parse_verifier_key(_verifier_text(key))
    except NoteError as exc:
        raise InputError(str(exc), field="--key", value=key) from None


def _result_dict(r: VerifyResult) -> dict[str, Any]:
    return {"org": r.org, "ok": r.ok, "entries": r.count, "head": r.head if r.ok else None,
            "head_seq": r.head_seq if r.ok else None, "first_bad": r.first_bad, "reason": r.reason,
            "anchor_seq": r.anchor_seq}


def _report(results: list[VerifyResult], anchor: str | None, fmt: Format) -> None:
    if fmt is not Format.table:
        emit([_result_dict(r) for r in results], fmt=fmt, columns=list(_result_dict(VerifyResult())))
    anchor_lost = bool(anchor) and not any(r.anchor_seq is not None for r in results)
    for r in results if fmt is Format.table else []:
        if r.ok and anchor_lost:  # consistent in itself, but not the chain the auditor saw
            console.print(f"[red]{r.org}: NOT INTACT[/red]: the chain's {r.count} entries are consistent, but "
                          f"head {anchor} is not among them", highlight=False, soft_wrap=True)
        elif r.ok:
            console.print(f"{r.org}: intact, {r.count} entries, head {r.head}", highlight=False,
                          soft_wrap=True)
        else:
            console.print(f"[red]{r.org}: BROKEN at entry {r.first_bad}[/red]: {r.reason}",
                          highlight=False, soft_wrap=True)
    if fmt is Format.table and not results:
        console.print("no ledger entries yet")
    bad = [r for r in results if not r.ok]
    if bad:
        raise CheckFailed("; ".join(f"ledger of {r.org}: entry {r.first_bad}: {r.reason}" for r in bad))
    if anchor:
        _report_anchor(results, anchor, fmt)


def _report_anchor(results: list[VerifyResult], anchor: str, fmt: Format) -> None:
    found = [r for r in results if r.anchor_seq is not None]
    if not found:
        raise CheckFailed(f"head {anchor} is not in the ledger: the chain it ended was rewritten "
                          "or cut short (or it belongs to another database)")
    r = found[0]
    assert r.anchor_seq is not None  # found holds only the results that have one
    if fmt is Format.table:
        console.print(f"{r.org}: head {anchor} is entry {r.anchor_seq}; "
                      f"{r.head_seq - r.anchor_seq} entries came after it", highlight=False, soft_wrap=True)


def _verify_pack(pack: Path, anchor: str | None, fmt: Format, key: tuple[str, bytes] | None,
                 tsa: list[Any] | None) -> None:
    from models.evidence.verify import verify_pack

    if not pack.is_file():
        raise InputError("no such file", field="--pack", value=str(pack))
    r = verify_pack(pack, anchor=anchor, key=key, tsa=tsa)
    if fmt is not Format.table:
        sys.stdout.write(to_json(r.__dict__) + "\n")
    elif r.ok:
        console.print(f"{pack.name}: intact — {r.org} period {r.period}, {r.entries} entries, "
                      f"{r.files} evidence file(s), head {r.head}"
                      + (f"; sealed by {key[0]}" if r.signed and key else ""), highlight=False, soft_wrap=True)
        if r.trusted_time:
            console.print(f"trusted time: its checkpoint existed at {r.trusted_time}", highlight=False,
                          soft_wrap=True)
        if anchor:
            assert r.anchor_seq is not None  # a pack whose chain lacks the anchor fails (not ok)
            console.print(f"head {anchor} is entry {r.anchor_seq}; "
                          f"{r.head_seq - r.anchor_seq} entries came after it", highlight=False, soft_wrap=True)
    else:
        for problem in r.problems:
            err_console.print(f"[red]problem:[/red] {problem}", highlight=False)
    if not r.ok:
        at = f"entry {r.first_bad}: " if r.first_bad else ""
        raise CheckFailed(f"pack {pack.name}: {at}{r.problems[0]}")


# --- log and evidence pack ---------------------------------------------------------------


class LogFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


TABLE_COLUMNS = ["org", "seq", "when", "event", "actor", "measure", "period", "summary", "hash"]


@app.command("log")
def log_cmd(
    org: OrgOpt = None,
    period: Annotated[int | None, typer.Option("--period", help="Only entries about this year.")] = None,
    aspect: Annotated[str | None, typer.Option("--aspect", help="Only E, S or G measures.")] = None,
    measure: Annotated[str | None, typer.Option("--measure", help="Only this measure, e.g. E6.")] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="Only entries recorded by this actor.")] = None,
    event: Annotated[str | None, typer.Option("--event", help=f"Only this event: {', '.join(EVENTS)}.")] = None,
    fmt: Annotated[LogFormat, typer.Option(
        "--format", "-f", help="Output format (xlsx needs --out).")] = LogFormat.table,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Write to this file (CSV: UTF-8 with BOM, Excel dialect).", callback=out_file)] = None,
) -> None:
    """The completion log: who recorded what, when, with which evidence, and each entry's hash."""
    if event and event not in EVENTS:
        raise InputError(f"event must be one of {', '.join(EVENTS)}", field="--event", value=event)
    if aspect and aspect.upper() not in ("E", "S", "G"):
        raise InputError("aspect must be E, S or G", field="--aspect", value=aspect)
    if fmt is LogFormat.xlsx and out is None:
        raise InputError("--format xlsx writes a file: give --out FILE.xlsx", field="--out")
    if fmt is LogFormat.table and out is not None:
        raise InputError("--out needs --format csv, json or xlsx", field="--out")
    where = ledger_store.LogFilter(org=org, period=period, aspect=aspect, measure=measure,
                                   actor=actor, event=event)
    rows = auditing.log(db(), where=where)
    _write_log(rows, fmt, out)


def _when(at: str) -> str:
    """An entry's time for people: Almaty local, to the minute."""
    parsed = pendulum.parse(at)
    # entries hold their time as an ISO date-time (iso_utc), which parses to a DateTime
    assert isinstance(parsed, pendulum.DateTime), f"not a date-time: {at!r}"
    return parsed.in_timezone(ROADMAP_TZ).format("YYYY-MM-DD HH:mm")


def _write_log(rows: list[dict[str, Any]], fmt: LogFormat, out: Path | None) -> None:
    if fmt is LogFormat.xlsx:
        if out is None:  # as log_cmd says before reading the log
            raise InputError("--format xlsx writes a file: give --out FILE.xlsx", field="--out")
        from flows.reports.ledger_export import xlsx_sheet

        write_xlsx(out, {"ledger": xlsx_sheet(rows)})
    elif fmt is LogFormat.csv:
        data = csv_bytes(rows, audit.LOG_COLUMNS)
        if out is None:
            sys.stdout.write(data.decode("utf-8-sig"))
            return
        out.write_bytes(data)
    elif fmt is LogFormat.json:
        emit(rows, fmt=Format.json, columns=audit.LOG_COLUMNS, out=out)
        return
    else:
        shown = [{**r, "when": _when(r["at"]), "hash": r["hash"][:12]} for r in rows]
        emit(shown, fmt=Format.table, columns=TABLE_COLUMNS, title="Ledger",
             empty="no ledger entries match", out=out)
        return
    err_console.print(f"wrote {out}: {len(rows)} entries")


@app.command("evidence-pack")
def evidence_pack_cmd(
    period: Annotated[int, typer.Option("--period", help="The year the pack covers.")],
    out: Annotated[Path, typer.Option("--out", help="The ZIP file to write.", callback=out_file)],
    org: WriteOrgOpt = None,
) -> None:
    """Write an auditor's evidence pack (ZIP) for one organisation and year: manifest (JSON,
    CSV), evidence files, notifications sent, roadmap edition, and the whole chain so that
    `esgtrack verify --pack` checks it offline."""
    code = org_or_default(org)
    manifest, verified, seal = auditing.write_evidence_pack(db(), get_settings(), org=code, period=period, out=out,
                                                            now=now(), generated_by=f"esgtrack {_version()}")
    if seal is None:
        err_console.print("[yellow]warning:[/yellow] no signing key, so the pack is not sealed: run "
                          "`esgtrack keys init`, then write it again")
    elif seal.warning:
        err_console.print(f"[yellow]warning:[/yellow] {seal.warning}", highlight=False, soft_wrap=True)
    elif seal.stamp:
        err_console.print(f"trusted time: {seal.stamp.describe()}", highlight=False, soft_wrap=True)
    console.print(f"wrote {out}: {code} {period}, {len(manifest['occurrences'])} occurrences, "
                  f"{len(manifest['completions'])} completions, {len(manifest['evidence'])} evidence "
                  f"file(s), {len(manifest['notifications'])} notifications; chain head "
                  f"{verified.head} (entry {verified.head_seq})", highlight=False, soft_wrap=True)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("esgtrack")
    except PackageNotFoundError:
        return "dev"
