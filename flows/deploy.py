"""Deployments of the sweep flows, served with Almaty-time schedules.

The daily flow runs at 09:00 on working days; the outbox retry hourly. Each deployment allows
one run at a time (a second one waits); the unique claim rows in the app database are what
stop double sends even if two runs overlap anyway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from flows.prefect_env import quiet

quiet()

from prefect import serve  # noqa: E402
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy  # noqa: E402
from prefect.schedules import Cron  # noqa: E402

from flows.daily import daily_batch, daily_deadlines, outbox_retry  # noqa: E402

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

TZ = "Asia/Almaty"
DAILY_CRON = "0 9 * * 1-5"
RETRY_CRON = "30 * * * *"
RUNS_PER_PROCESS = 4  # batch runs one serving process takes at a time (more machines, more runs)


def one_at_a_time() -> ConcurrencyLimitConfig:
    return ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE)


def deployments(daily_cron: str = DAILY_CRON, retry_cron: str = RETRY_CRON,
                spread: bool = False) -> list[RunnerDeployment]:
    # to_deployment returns a coroutine only when called from async code, which this is not
    return cast("list[RunnerDeployment]", [
        daily_deadlines.to_deployment(
            name="esgtrack-daily", schedules=[Cron(daily_cron, timezone=TZ)],
            parameters={"spread": spread},
            concurrency_limit=one_at_a_time(), tags=["esgtrack"],
            description="Reminders before deadlines, escalations after them, every working morning.",
        ),
        daily_batch.to_deployment(
            name="esgtrack-batch", tags=["esgtrack"],
            description="One batch of organisations; started by daily-deadlines with spread=True.",
        ),
        outbox_retry.to_deployment(
            name="esgtrack-outbox-retry", schedules=[Cron(retry_cron, timezone=TZ)],
            concurrency_limit=one_at_a_time(), tags=["esgtrack"],
            description="Retry deliveries that failed.",
        ),
    ])


def serve_all(daily_cron: str = DAILY_CRON, retry_cron: str = RETRY_CRON, spread: bool = False) -> None:
    # pause_on_shutdown=False keeps the schedules active while the server is down, so runs
    # missed meanwhile show up as Late in the UI instead of vanishing.
    serve(*deployments(daily_cron, retry_cron, spread), pause_on_shutdown=False, limit=RUNS_PER_PROCESS + 1)


def serve_batches() -> None:
    """Serve only the batch deployment: what a helper machine runs to take batches."""
    serve(cast("RunnerDeployment", daily_batch.to_deployment(name="esgtrack-batch", tags=["esgtrack"])),
          pause_on_shutdown=False, limit=RUNS_PER_PROCESS)  # sync code: to_deployment made no coroutine
