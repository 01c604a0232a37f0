"""Several modems as one sender: spread messages, respect each modem's rate, survive unplugging.

Each :class:`~gateways.sms.modem_link.ModemLink` gets a worker thread. A message (the PDUs of
one SMS, all its concatenated segments) goes to the first idle, registered modem whose
minimum interval has passed; all its segments go through that one modem, because a phone
joins segments only from the same sender. A modem that vanishes or cannot send (no SIM, no
network) is taken out and reopened every ``reopen_interval``; its message goes to another.

Nothing is lost: every submitted message ends in a :class:`PoolResult`. A send whose outcome
is unknown (the modem vanished after the PDU was written, before ``+CMGS``) is resent elsewhere
and counted in ``possible_duplicates``, as are segments resent after their modem vanished
mid-message; with ``resend_unknown=False`` the pool reports it as ``UNKNOWN`` instead.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import StrEnum

from gateways.sms.cms_errors import ErrorClass, ErrorInfo
from gateways.sms.modem_link import (
    DeliveryReport,
    ModemLink,
    ModemLinkError,
    PduToSend,
    SendOutcome,
    SendResult,
)

log = logging.getLogger(__name__)


class PoolOutcome(StrEnum):
    SENT = "sent"  # every segment taken by the network (references in the result)
    FAILED = "failed"  # permanent: this recipient cannot be reached this way; not retried
    RETRY_LATER = "retry_later"  # temporary errors persisted, or no modem could take it in time
    UNKNOWN = "unknown"  # only with resend_unknown=False: it may have been sent


@dataclass(frozen=True, slots=True)
class PoolSettings:
    """Times in seconds."""

    min_interval: float = 0.0  # per modem, between two PDUs written
    reopen_interval: float = 5.0  # how often a modem taken out is tried again
    wait_timeout: float = 120.0  # how long a message may wait for a modem before RETRY_LATER
    temporary_retries: int = 2  # retries after a temporary error, per message
    retry_delay: float = 2.0  # before such a retry
    max_attempts: int = 8  # sends of one message's segments, all modems together
    resend_unknown: bool = True  # resend unknown-outcome sends on another modem (and count them)
    idle_poll: float = 0.1  # how often an idle modem is read (reports, vanishing)


@dataclass(frozen=True, slots=True)
class PoolResult:
    outcome: PoolOutcome
    modem: str | None  # the modem that sent it (or last tried)
    message_references: tuple[int | None, ...]  # one per segment sent by that modem
    reason: str
    error: ErrorInfo | None = None
    attempts: tuple[SendResult, ...] = ()
    possible_duplicates: int = 0  # PDUs that may have reached the recipient more than once
    label: str = ""

    @property
    def retryable(self) -> bool:
        return self.outcome in (PoolOutcome.RETRY_LATER, PoolOutcome.UNKNOWN)


class ModemHealth(StrEnum):
    OPENING = "opening"
    READY = "ready"
    BUSY = "busy"
    NO_NETWORK = "no network"
    DOWN = "down"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class ModemStatus:
    name: str
    address: str
    health: ModemHealth
    reason: str
    sent: int
    failed: int
    unknown: int
    signal_dbm: int | None


@dataclass(slots=True)
class _Job:
    pdus: tuple[PduToSend, ...]
    future: Future[PoolResult]
    created: float
    label: str
    not_before: float = 0.0
    attempts: list[SendResult] = field(default_factory=list)
    temporary_failures: int = 0
    possible_duplicates: int = 0
    claimed: bool = False  # a modem took it: cancelling the future no longer stops it


@dataclass(slots=True)
class _Worker:
    link: ModemLink
    health: ModemHealth = ModemHealth.OPENING
    reason: str = ""
    next_open: float = float("-inf")
    next_check: float = float("-inf")
    sent: int = 0
    failed: int = 0
    unknown: int = 0
    thread: threading.Thread | None = None


class ModemPool:
    """Modems behind one thread-safe ``submit``/``send``."""

    def __init__(
        self,
        links: Sequence[ModemLink],
        settings: PoolSettings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_report: Callable[[DeliveryReport], None] | None = None,
    ) -> None:
        if not links:
            raise ValueError("a modem pool needs at least one modem")
        names = [link.name for link in links]
        if len(set(names)) != len(names):
            raise ValueError(f"modem names must differ: {', '.join(names)}")
        self.settings = settings or PoolSettings()
        self.clock = clock
        self.on_report = on_report
        self._cond = threading.Condition()
        self._jobs: list[_Job] = []
        self._reports: list[DeliveryReport] = []
        self._stopping = False
        self._workers = [_Worker(link) for link in links]
        for link in links:
            link.min_interval = max(link.min_interval, self.settings.min_interval)
            link.on_report = self._collect_report

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> ModemPool:
        """Start a worker per modem; each opens its modem (see :meth:`wait_ready`)."""
        for worker in self._workers:
            if worker.thread is None:
                worker.thread = threading.Thread(
                    target=self._work, args=(worker,), name=f"modem-{worker.link.name}", daemon=True
                )
                worker.thread.start()
        return self

    def wait_ready(self, timeout: float, count: int = 1) -> int:
        """Wait until ``count`` modems are ready, or every modem has been tried once, or
        ``timeout``; returns how many are ready."""
        end = self.clock() + timeout
        with self._cond:
            while True:
                ready = sum(
                    w.health in (ModemHealth.READY, ModemHealth.BUSY) for w in self._workers
                )
                tried = all(w.health is not ModemHealth.OPENING for w in self._workers)
                left = end - self.clock()
                if ready >= count or tried or left <= 0:
                    return ready
                self._cond.wait(min(left, 0.1))

    def close(self, timeout: float = 10.0) -> None:
        """Stop the workers, close the modems; messages still waiting end as RETRY_LATER."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for worker in self._workers:
            worker.link.cancel.set()
        for worker in self._workers:
            if worker.thread is not None:
                worker.thread.join(timeout)
        with self._cond:
            jobs, self._jobs = self._jobs, []
        for job in jobs:
            self._resolve(job, PoolOutcome.RETRY_LATER, None, (), "the modem pool was closed")

    def __enter__(self) -> ModemPool:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- sending -----------------------------------------------------------------------------

    def submit(self, pdus: Sequence[PduToSend], *, label: str = "") -> Future[PoolResult]:
        """Queue one message (its segments in order); the future always gets a result.
        Cancelling the future before a modem takes the message keeps it from being sent."""
        if not pdus:
            raise ValueError("a message needs at least one PDU")
        future: Future[PoolResult] = Future()
        job = _Job(tuple(pdus), future, self.clock(), label)
        with self._cond:
            if self._stopping:
                self._resolve(job, PoolOutcome.RETRY_LATER, None, (), "the modem pool is closed")
                return future
            self._jobs.append(job)
            self._cond.notify_all()
        return future

    def send(
        self, pdus: Sequence[PduToSend], *, label: str = "", timeout: float | None = None
    ) -> PoolResult:
        """Send one message and wait for its result (``timeout``: raise TimeoutError after
        that many seconds; the message stays queued and still gets its result)."""
        return self.submit(pdus, label=label).result(timeout)

    def status(self) -> list[ModemStatus]:
        with self._cond:
            return [
                ModemStatus(
                    w.link.name,
                    w.link.transport.name,
                    w.health,
                    w.reason,
                    w.sent,
                    w.failed,
                    w.unknown,
                    w.link.signal.dbm if w.link.signal else None,
                )
                for w in self._workers
            ]

    def delivery_reports(self) -> list[DeliveryReport]:
        """Status reports received since the last call, from every modem."""
        with self._cond:
            reports, self._reports = self._reports, []
        return reports

    def _collect_report(self, report: DeliveryReport) -> None:
        with self._cond:
            self._reports.append(report)
        if self.on_report is not None:
            self.on_report(report)

    # --- the workers -------------------------------------------------------------------------

    def _work(self, worker: _Worker) -> None:
        link = worker.link
        try:
            while True:
                with self._cond:
                    if self._stopping:
                        return
                self._expire_jobs()
                now = self.clock()
                if not link.is_ready:
                    if worker.health not in (ModemHealth.DOWN, ModemHealth.OPENING):
                        reason = link.lost_reason or worker.reason or "link lost"
                        log.warning("modem %s taken out: %s", link.name, reason)
                        self._set(worker, ModemHealth.DOWN, reason)
                    if now >= worker.next_open:
                        self._open(worker)
                    else:
                        self._pause(min(worker.next_open - now, 0.5))
                    continue
                if not link.registered:
                    self._no_network(worker)
                    continue
                if now < link.next_send_at:
                    link.poll(min(link.next_send_at - now, self.settings.idle_poll))
                    continue
                job = self._take()
                if job is None:
                    link.poll(0.0)
                    continue
                self._set(worker, ModemHealth.BUSY, "")
                try:
                    self._run(worker, job)
                except Exception as exc:  # never lose the message to a bug
                    log.exception("modem %s: unexpected error while sending", link.name)
                    job.possible_duplicates += 1
                    link.close()
                    self._set(worker, ModemHealth.DOWN, f"internal error: {exc!r}")
                    self._requeue(job, front=True)
                if link.is_ready and worker.health is ModemHealth.BUSY:
                    self._set(worker, ModemHealth.READY, "")
        finally:
            link.close()
            self._set(worker, ModemHealth.CLOSED, "pool closed")

    def _open(self, worker: _Worker) -> None:
        link = worker.link
        self._set(worker, ModemHealth.OPENING, worker.reason)
        try:
            ready = link.open()
        except ModemLinkError as exc:
            worker.next_open = self.clock() + self.settings.reopen_interval
            if worker.reason != str(exc):
                log.warning("%s; trying again every %g s", exc, self.settings.reopen_interval)
            self._set(worker, ModemHealth.DOWN, str(exc))
            return
        log.info(
            "modem %s (%s) ready: %s, signal %s",
            link.name,
            link.transport.name,
            ready.registration.describe(),
            ready.signal.describe() if ready.signal else "unknown",
        )
        worker.next_check = self.clock() + self.settings.reopen_interval
        self._set(worker, ModemHealth.READY, "")

    def _no_network(self, worker: _Worker) -> None:
        link = worker.link
        registration = link.registration
        reason = (
            f"modem {link.name}: no network ({registration.describe() if registration else '?'})"
        )
        if worker.health is not ModemHealth.NO_NETWORK:
            log.warning("%s", reason)
        self._set(worker, ModemHealth.NO_NETWORK, reason)
        now = self.clock()
        if now >= worker.next_check:
            worker.next_check = now + self.settings.reopen_interval
            try:
                link.check()
            except ModemLinkError as exc:
                link.close()
                worker.next_open = now + self.settings.reopen_interval
                self._set(worker, ModemHealth.DOWN, str(exc))
                return
        else:
            link.poll(min(worker.next_check - now, 0.2))
        if link.is_ready and link.registered:
            self._set(worker, ModemHealth.READY, "")

    def _run(self, worker: _Worker, job: _Job) -> None:
        link = worker.link
        references: list[int | None] = []
        index = 0
        while index < len(job.pdus):
            if len(job.attempts) >= self.settings.max_attempts:
                self._resolve_job(
                    job,
                    PoolOutcome.RETRY_LATER,
                    link.name,
                    references,
                    f"gave up after {len(job.attempts)} attempts; last: {job.attempts[-1].reason}",
                )
                return
            try:
                result = link.send(job.pdus[index])
            except ModemLinkError as exc:  # not ready any more: nothing was written
                job.possible_duplicates += len(references)
                self._take_down(worker, str(exc))
                self._requeue(job, front=True)
                return
            job.attempts.append(result)
            if result.outcome is SendOutcome.SENT:
                worker.sent += 1
                references.append(result.message_reference)
                index += 1
                continue
            if result.outcome is SendOutcome.UNKNOWN:
                worker.unknown += 1
                link.close()  # the dialogue is not to be trusted any more
                self._take_down(worker, result.reason)
                if not self.settings.resend_unknown:
                    self._resolve_job(
                        job, PoolOutcome.UNKNOWN, link.name, references, result.reason
                    )
                    return
                job.possible_duplicates += 1 + len(references)
                log.warning("%s; resending on another modem (possible duplicate)", result.reason)
                self._requeue(job, front=True)
                return
            worker.failed += 1
            error = result.error
            assert error is not None
            if error.error_class is ErrorClass.PERMANENT:
                self._resolve_job(
                    job, PoolOutcome.FAILED, link.name, references, result.reason, error
                )
                return
            if error.error_class is ErrorClass.MODEM:
                job.possible_duplicates += len(references)
                link.close()
                self._take_down(worker, result.reason)
                self._requeue(job, front=True)
                return
            job.temporary_failures += 1
            if job.temporary_failures > self.settings.temporary_retries:
                self._resolve_job(
                    job, PoolOutcome.RETRY_LATER, link.name, references, result.reason, error
                )
                return
            if references:  # mid-message: the rest must come from this modem; wait here
                end = self.clock() + self.settings.retry_delay
                while link.is_ready and self.clock() < end:
                    link.poll(min(end - self.clock(), 0.2))
                if not link.is_ready:
                    job.possible_duplicates += len(references)
                    self._take_down(worker, "the modem vanished while waiting to retry")
                    self._requeue(job, front=True)
                    return
                continue
            job.not_before = self.clock() + self.settings.retry_delay
            self._requeue(job, front=True)
            return
        self._resolve_job(
            job, PoolOutcome.SENT, link.name, references, f"sent by modem {link.name}"
        )

    # --- helpers -----------------------------------------------------------------------------

    def _take(self) -> _Job | None:
        with self._cond:
            job = self._first_due()
            if job is None and not self._stopping:
                waits = [j.not_before - self.clock() for j in self._jobs]
                self._cond.wait(max(0.0, min([self.settings.idle_poll, *waits])))
                job = self._first_due()
            return job

    def _first_due(self) -> _Job | None:
        """The oldest message due now, claimed: from here on it can no longer be cancelled.
        Messages whose future was cancelled before a modem took them are dropped unsent."""
        now = self.clock()
        for job in list(self._jobs):
            if job.future.cancelled():
                self._jobs.remove(job)
            elif job.not_before <= now:
                self._jobs.remove(job)
                if job.claimed or job.future.set_running_or_notify_cancel():
                    job.claimed = True
                    return job
        return None

    def _requeue(self, job: _Job, *, front: bool) -> None:
        with self._cond:
            if front:
                self._jobs.insert(0, job)
            else:
                self._jobs.append(job)
            self._cond.notify_all()

    def _expire_jobs(self) -> None:
        now = self.clock()
        with self._cond:
            expired = [j for j in self._jobs if now - j.created >= self.settings.wait_timeout]
            if not expired:
                return
            self._jobs = [j for j in self._jobs if j not in expired]
            states = "; ".join(
                f"{w.link.name}: {w.health.value} {w.reason}".strip() for w in self._workers
            )
        for job in expired:
            self._resolve_job(
                job,
                PoolOutcome.RETRY_LATER,
                job.attempts[-1].modem if job.attempts else None,
                [],
                f"no modem could take the message within "
                f"{self.settings.wait_timeout:g} s ({states})",
            )

    def _pause(self, seconds: float) -> None:
        with self._cond:
            if not self._stopping:
                self._cond.wait(max(0.0, seconds))

    def _take_down(self, worker: _Worker, reason: str) -> None:
        log.warning(
            "modem %s taken out: %s; reopened in %g s",
            worker.link.name,
            reason,
            self.settings.reopen_interval,
        )
        worker.link.close()
        worker.next_open = self.clock() + self.settings.reopen_interval
        self._set(worker, ModemHealth.DOWN, reason)

    def _set(self, worker: _Worker, health: ModemHealth, reason: str) -> None:
        with self._cond:
            worker.health = health
            worker.reason = reason
            self._cond.notify_all()

    def _resolve_job(
        self,
        job: _Job,
        outcome: PoolOutcome,
        modem: str | None,
        references: Sequence[int | None],
        reason: str,
        error: ErrorInfo | None = None,
    ) -> None:
        self._resolve(job, outcome, modem, tuple(references), reason, error)

    def _resolve(
        self,
        job: _Job,
        outcome: PoolOutcome,
        modem: str | None,
        references: tuple[int | None, ...],
        reason: str,
        error: ErrorInfo | None = None,
    ) -> None:
        if job.future.done():
            return
        job.future.set_result(
            PoolResult(
                outcome,
                modem,
                references,
                reason,
                error,
                tuple(job.attempts),
                job.possible_duplicates,
                job.label,
            )
        )
