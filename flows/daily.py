"""Flow `daily-deadlines`: refresh occurrences, claim the day's steps, deliver, publish.

Pure steps are plain calls; only I/O steps are tasks, one per batch of organisations (never
one per measure or occurrence: a task run costs ~60 ms).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

import pendulum
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from config.settings import get_settings
from flows import artifacts
from flows.alerts import send_flow_failure
from flows.usecases import checkpoints, database
from flows.usecases.planning import (
    all_orgs,
    batches,
    load_directory_for,
    load_policy_for,
    plan_batch,
)
from models.core.errors import InputError
from models.core.roadmap import ROADMAP_TZ
from notifications.outbox import deliver_pending, summary_line

if TYPE_CHECKING:
    from prefect import Flow
    from prefect.client.schemas.objects import FlowRun, State


@task(name="list-organisations", cache_policy=NO_CACHE)
def list_organisations(org: str | None) -> list[str]:
    return all_orgs(database.engine(), org)


@task(name="plan-and-claim", cache_policy=NO_CACHE)
def plan_and_claim(orgs: list[str], as_of: dt.date, working_days_only: bool, now: dt.datetime) -> dict[str, Any]:
    """Refresh, then claim the target alerts and the day's steps for a batch of organisations,
    in one commit. Delivery fans the steps out to their recipients."""
    settings = get_settings()
    result = plan_batch(database.engine(), orgs=orgs, as_of=as_of, settings=settings,
                        directory=load_directory_for(settings), policy=load_policy_for(settings),
                        working_days_only=working_days_only, now=now)
    return result.as_dict()


@task(name="deliver-outbox", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30])
def deliver_outbox(as_of: dt.date | None = None, orgs: list[str] | None = None,
                   now: dt.datetime | None = None) -> dict[str, Any]:
    """Send what is claimed and due by `now` (default: the clock) of these organisations, or
    all; a failure of one message never stops the others. Messages count days as of the run's
    date (default now's date in Almaty)."""

    settings = get_settings()
    report = deliver_pending(database.engine(), directory=load_directory_for(settings), settings=settings,
                             now=now or _clock(), as_of=as_of, orgs=orgs,
                             policy=load_policy_for(settings))
    return report.as_dict()


@task(name="sign-checkpoints", cache_policy=NO_CACHE)
def sign_checkpoints(orgs: list[str], now: dt.datetime | None = None) -> dict[str, Any]:
    """A signed checkpoint of each organisation's ledger that grew since its last one (when
    this installation has a signing key: `esgtrack keys init`)."""
    settings = get_settings()
    if not checkpoints.has_key(settings):
        return {"signed": 0, "warnings": ["no signing key, so no checkpoint was signed: run `esgtrack keys init`"]}
    signed, refused = checkpoints.checkpoint_grown(database.engine(), settings, orgs=orgs, now=now or _clock())
    return {"signed": len(signed), "warnings": refused}


@task(name="publish-artifacts", cache_policy=NO_CACHE)
def publish(orgs: list[str], as_of: dt.date) -> None:
    settings = get_settings()
    artifacts.publish_all(database.engine(), orgs=orgs, as_of=as_of, policy=load_policy_for(settings))


def _clock() -> dt.datetime:
    """The flows are the shell: the one place they read the clock (callers may pass `now`)."""
    return dt.datetime.now(dt.UTC)


def scheduled_date() -> dt.date:
    """The Almaty date of the run's scheduled time (the moment the schedule meant)."""
    when = flow_run.scheduled_start_time or pendulum.now("UTC")
    return pendulum.instance(when).in_timezone(ROADMAP_TZ).date()


def alert_esg_office(flow: Flow[..., Any], flow_run: FlowRun, state: State) -> None:
    """A failed run tells the ESG office through the same channels as everything else. (Prefect
    passes the flow, its run and the state positionally; the names are those of its hooks.)"""
    failed_at = state.timestamp or _clock()
    send_flow_failure(flow_name=flow.name, run_id=str(flow_run.id), run_name=flow_run.name,
                      message=str(state.message or state.name),
                      today=pendulum.instance(failed_at).in_timezone(ROADMAP_TZ).date())


BATCH_DEPLOYMENT = "daily-deadlines-batch/esgtrack-batch"


@flow(name="daily-deadlines", log_prints=True, on_failure=[alert_esg_office],
      description="Each working morning in Almaty: remind before deadlines, escalate after them.")
def daily_deadlines(as_of: dt.date | None = None, org: str | None = None,
                    batch_size: int = 200, spread: bool = False, now: dt.datetime | None = None
                    ) -> dict[str, Any]:
    """Refresh occurrences, claim the day's reminders and escalations, deliver, publish.
    Organisations go in batches (memory stays flat however many there are); with spread,
    each batch is a run of the batch deployment, picked up by any worker of its pool.
    `as_of` defaults to the scheduled date; `now` (when claims are made and messages sent),
    when not given, is the clock at each step."""
    logger = get_run_logger()
    explicit = as_of is not None
    as_of = as_of or scheduled_date()
    orgs = list_organisations(org)
    totals: dict[str, Any] = {"as_of": as_of.isoformat(), "organisations": len(orgs), "claimed": 0,
                    "alerts": 0, "warnings": [], "batches": 0}
    if spread:
        totals["batch_runs"] = run_batches_elsewhere(orgs, as_of, batch_size, not explicit, now)
        totals["batches"] = len(totals["batch_runs"])
        totals["claimed"] = totals["alerts"] = None  # counted and logged by each batch run
    else:
        for batch in batches(orgs, batch_size):
            _add(totals, plan_and_claim(batch, as_of, working_days_only=not explicit,
                                        now=now or _clock()))
        totals["delivery"] = deliver_outbox(as_of, orgs if org else None, now)
        totals["warnings"] += totals["delivery"]["fanout"]["warnings"]
        totals["summary"] = run_summary(totals)
    signed = sign_checkpoints(orgs, now)
    totals["checkpoints"] = signed["signed"]
    totals["warnings"] += signed["warnings"]
    for warning in sorted(set(totals["warnings"])):
        logger.warning(warning)
    publish(orgs, as_of)
    logger.info("as of %s: %s organisation(s) in %s batch(es), %s step(s) newly claimed, "
                "%s target alert(s)", as_of, len(orgs), totals["batches"], totals["claimed"],
                totals["alerts"])
    if "summary" in totals:
        logger.info("%s", summary_text(totals["summary"]))
    return totals


def run_summary(part: dict[str, Any]) -> dict[str, int]:
    """The run's counts, each defined once (README, The outbox):
    steps_claimed: steps this pass newly claimed; steps_expanded / steps_closed: steps the
    delivery turned into messages / found closed meanwhile (this pass's and any an earlier run
    left); messages: one per recipient of an expanded step; rows_made: their outbox rows (one
    per channel) plus target alert rows; then the delivery's rows, which add up:
    claimed = sent + failed + dead + unknown + cancelled (see DeliveryReport)."""
    fanout = part["delivery"]["fanout"]
    return {"steps_claimed": part["claimed"], "steps_expanded": fanout["notices"],
            "steps_closed": fanout["cancelled"], "messages": fanout["messages"],
            "rows_made": fanout["rows"] + part["alerts"], **part["delivery"]["summary"]}


def summary_text(summary: dict[str, int]) -> str:
    return (f"{summary['steps_claimed']} step(s) newly claimed; {summary['steps_expanded']} expanded into "
            f"{summary['messages']} message(s), {summary['steps_closed']} closed meanwhile; "
            f"{summary['rows_made']} row(s) made (with target alerts); {summary_line(summary)}")


def _add(totals: dict[str, Any], part: dict[str, Any]) -> None:
    totals["claimed"] += part["claimed"]
    totals["alerts"] += part["alerts"]
    totals["warnings"] += part["warnings"]
    totals["batches"] += 1


@flow(name="daily-deadlines-batch", log_prints=True,
      description="One batch of organisations of the daily flow: plan, claim, deliver.")
def daily_batch(orgs: list[str], as_of: dt.date, working_days_only: bool = False,
                now: dt.datetime | None = None) -> dict[str, Any]:
    logger = get_run_logger()
    part = plan_and_claim(orgs, as_of, working_days_only=working_days_only, now=now or _clock())
    part["delivery"] = deliver_outbox(as_of, orgs, now)
    part["summary"] = run_summary(part)
    for warning in sorted(set(part["warnings"] + part["delivery"]["fanout"]["warnings"])):
        logger.warning(warning)
    logger.info("%s organisation(s): %s", len(orgs), summary_text(part["summary"]))
    return part


def run_batches_elsewhere(orgs: list[str], as_of: dt.date, batch_size: int,
                          working_days_only: bool, now: dt.datetime | None,
                          poll_seconds: float = 1.0,
                          wait_seconds: float = 6 * 3600) -> list[dict[str, Any]]:
    """Start one run of the batch deployment per batch, all at once, and wait for them.
    Raises if any batch run did not complete in time (the parent run fails and alerts)."""
    import time

    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    try:
        # called from this synchronous flow, run_deployment runs its synchronous implementation:
        # a FlowRun, not the coroutine its async_dispatch typing allows for
        started = [cast("FlowRun", run_deployment(BATCH_DEPLOYMENT, timeout=0, parameters={
            "orgs": batch, "as_of": as_of.isoformat(), "working_days_only": working_days_only,
            "now": now.isoformat() if now else None}))
            for batch in batches(orgs, batch_size)]
    except ObjectNotFound:
        raise InputError(f"the deployment {BATCH_DEPLOYMENT} does not exist: start `esgtrack serve` "
                         "(or `esgtrack serve --batches-only`) against the Prefect server named by "
                         "PREFECT_API_URL", field="--spread") from None
    pending = {run.id for run in started}
    states: dict[UUID, str] = {}
    deadline = time.monotonic() + wait_seconds
    with get_client(sync_client=True) as client:
        while pending and time.monotonic() < deadline:
            for run_id in list(pending):
                run = client.read_flow_run(run_id)
                if run.state and run.state.is_final():
                    states[run_id] = run.state.type.value
                    pending.discard(run_id)
            if pending:
                time.sleep(poll_seconds)
    failed = [str(run_id) for run_id, state in states.items() if state != "COMPLETED"]
    if failed or pending:
        raise RuntimeError(f"{len(failed)} batch run(s) failed, {len(pending)} still not finished "
                           f"after {wait_seconds:.0f} s: {', '.join(failed + [str(p) for p in pending])}")
    return [{"flow_run_id": str(run.id), "organisations": len(run.parameters["orgs"]),
             "state": states[run.id]} for run in started]


@flow(name="outbox-retry", log_prints=True, description="Retry messages whose delivery failed.")
def outbox_retry() -> dict[str, Any]:
    return deliver_outbox()

