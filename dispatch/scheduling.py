"""Timed work with APScheduler 3.x, its jobs kept in the outbox database so they survive a restart.

Two kinds of job exist: ``repeat`` (every ``repeat_every`` until the alert expires, a new
broadcast round on that channel) and ``expire`` (at the alert's latest ``expires``: stop it and
withdraw it where the channel can). A job only writes rows into the outbox; the delivery
workers do the sending, so a crash between the two loses nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger("tocsin.dispatch.scheduling")


class JobTarget(Protocol):
    """What the scheduled jobs call back into (the running service)."""

    def run_repeat(self, alert_id: int, channel: str) -> None: ...

    def run_expire(self, alert_id: int) -> None: ...


_TARGETS: dict[str, JobTarget] = {}
_TARGETS_LOCK = threading.Lock()


def run_job(target_key: str, kind: str, alert_id: int, channel: str | None = None) -> None:
    """The one job function APScheduler stores (by reference) for every job."""
    with _TARGETS_LOCK:
        target = _TARGETS.get(target_key)
    if target is None:
        log.warning("no service for %s; job %s/%s skipped", target_key, kind, alert_id)
        return
    if kind == "repeat" and channel is not None:
        target.run_repeat(alert_id, channel)
    elif kind == "expire":
        target.run_expire(alert_id)


def repeat_job_id(alert_id: int, channel: str) -> str:
    return f"repeat:{alert_id}:{channel}"


def expire_job_id(alert_id: int) -> str:
    return f"expire:{alert_id}"


class Scheduling:
    """APScheduler in the background, with its job table in the outbox database."""

    def __init__(self, database_url: str, target_key: str, target: JobTarget) -> None:
        self.target_key = target_key
        self.target = target
        self.scheduler = BackgroundScheduler(
            jobstores={
                "default": SQLAlchemyJobStore(
                    url=database_url,
                    tablename="schedule_jobs",
                    engine_options={"connect_args": {"timeout": 30}},
                )
            },
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )

    def start(self) -> None:
        with _TARGETS_LOCK:
            _TARGETS[self.target_key] = self.target
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        with _TARGETS_LOCK:
            _TARGETS.pop(self.target_key, None)

    def schedule_repeat(
        self, alert_id: int, channel: str, every: timedelta, until: datetime, now: datetime
    ) -> bool:
        first = now + every
        if first >= until:
            return False
        self.scheduler.add_job(
            run_job,
            "interval",
            args=[self.target_key, "repeat", alert_id, channel],
            id=repeat_job_id(alert_id, channel),
            seconds=every.total_seconds(),
            start_date=first,
            end_date=until,
            replace_existing=True,
        )
        return True

    def schedule_expire(self, alert_id: int, at: datetime) -> None:
        self.scheduler.add_job(
            run_job,
            "date",
            args=[self.target_key, "expire", alert_id],
            id=expire_job_id(alert_id),
            run_date=at,
            replace_existing=True,
        )

    def cancel_jobs(self, alert_id: int, channels: list[str]) -> int:
        """Remove an alert's repeat and expiry jobs; returns how many existed."""
        removed = 0
        for job_id in [*(repeat_job_id(alert_id, c) for c in channels), expire_job_id(alert_id)]:
            try:
                self.scheduler.remove_job(job_id)
                removed += 1
            except JobLookupError:
                continue
        return removed

    def jobs(self) -> list[tuple[str, datetime | None]]:
        return [(job.id, job.next_run_time) for job in self.scheduler.get_jobs()]


NowFn = Callable[[], datetime]
