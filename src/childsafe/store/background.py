"""One background writer thread behind a bounded queue: the shared machinery of the store and audit sinks.

Why it exists: the engine's sinks are called on the request path, so they must not wait for a database.
They queue small records instead, and one thread commits them in batches (one transaction for many
requests). Both the decision recorder (:class:`childsafe.store.StoreEventSink`) and the audit sink
(:class:`childsafe.audit.AuditSink`) need exactly this, with the same guarantees:

* **Bounded.** A writer that cannot keep up (a slow or unreachable database) must not let memory grow
  without limit. ``put`` waits briefly for room (``put_timeout_s``), then drops the item and counts it in
  ``dropped`` (and logs it). Nothing is ever lost without a counter saying so.
* **One bad item costs only itself.** When a batch write fails, the items are retried one at a time, so a
  record the database rejects does not take the rest of the batch with it. When single retries keep failing
  in a row (the database is down, not one record bad) the rest of the batch is counted as failed instead of
  being retried one by one against a dead connection.
* **No content in logs.** Failures are logged with the exception type and a count only: the items may
  carry a child's (redacted) words, and exception messages from drivers often quote the values.
* **flush/close.** ``flush(timeout)`` returns True once everything queued before it was handled (written or
  counted as failed), False on timeout. ``close(timeout)`` drains the queue and stops the thread; an item
  put after close is counted as dropped.
* **Replay with backoff.** A queue in memory cannot promise that an item is never lost (the database may stay
  locked longer than any retry, the process may die). A sink that must not lose some items keeps them
  somewhere durable too (the decision recorder's escalation journal) and passes a ``retry`` callable: the
  thread calls it at start, and after any failure or drop, with exponential backoff (``retry_backoff_s``),
  until it reports that nothing is left. It runs on this thread, so it never races the batch writes.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from time import monotonic, sleep
from typing import Generic, TypeVar, cast

T = TypeVar("T")

_log = logging.getLogger("childsafe.store")


class _Stop:
    __slots__ = ()


_STOP = _Stop()


class BackgroundWriter(Generic[T]):
    """Queues items and hands them in batches to ``write`` on one daemon thread (see the module docstring).

    ``write`` gets a non-empty list (at most ``batch_size`` items, in queue order) and either stores all of
    them or raises (its return value is ignored). ``what`` names the items in log lines ("decisions", "audit events").
    ``retry`` (optional) replays what earlier writes could not store and returns True when nothing is left.
    """

    def __init__(
        self,
        write: Callable[[list[T]], object],
        *,
        name: str,
        what: str = "items",
        batch_size: int = 200,
        max_queued: int = 100_000,
        put_timeout_s: float = 0.5,
        max_consecutive_failures: int = 8,
        logger: logging.Logger | None = None,
        retry: Callable[[], bool] | None = None,
        retry_backoff_s: tuple[float, float] = (0.5, 30.0),
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if max_queued < 1:
            raise ValueError(f"max_queued must be at least 1, got {max_queued}")
        self._write = write
        self._what = what
        self._batch_size = batch_size
        self._put_timeout = put_timeout_s
        self._max_consecutive_failures = max(1, max_consecutive_failures)
        self._log = logger or _log
        # SimpleQueue with the bound checked on qsize(): put() stays one C call on the request path (about 0.2 us
        # against 2-5 us for queue.Queue, which takes a lock and a condition per item). Concurrent producers can
        # overshoot the bound by at most one item each, which is all a memory bound needs.
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._max_queued = max_queued
        self._lock = threading.Lock()
        self._closed = False
        self._written = 0
        self._failed = 0
        self._dropped = 0
        self._retry = retry
        self._backoff_min, self._backoff_max = retry_backoff_s
        self._backoff = self._backoff_min
        self._retry_failures = 0
        # monotonic time of the next replay; None = nothing to replay. At start: replay what a crash left.
        self._retry_at: float | None = monotonic() if retry is not None else None
        self._retry_requested = False  # set by retry_soon, so a request made during a replay is not lost
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    # -- counters ------------------------------------------------------------------------------------------

    @property
    def written(self) -> int:
        """Items stored."""
        return self._written

    @property
    def failed(self) -> int:
        """Items the write rejected (logged, not retried again)."""
        return self._failed

    @property
    def dropped(self) -> int:
        """Items never attempted: the queue stayed full, or they came after close."""
        return self._dropped

    @property
    def pending(self) -> int:
        """Roughly how many items (and markers) are waiting."""
        return self._queue.qsize()

    @property
    def retry_failures(self) -> int:
        """Replays (``retry`` calls) that raised or left something behind."""
        return self._retry_failures

    def retry_soon(self) -> None:
        """Ask for a replay at the next backoff step (no-op without ``retry``)."""
        if self._retry is None:
            return
        self._retry_requested = True
        if self._retry_at is None:
            self._retry_at = monotonic() + self._backoff

    # -- producer side -------------------------------------------------------------------------------------

    def put(self, item: T) -> bool:
        """Queue one item; False when it was dropped (and counted) instead."""
        if self._closed:
            self._drop("the writer is closed")
            return False
        if self._queue.qsize() >= self._max_queued and not self._wait_for_room():
            self._drop(f"the queue stayed full for {self._put_timeout:g}s")
            return False
        self._queue.put(item)
        return True

    def _wait_for_room(self) -> bool:
        # only an overloaded writer gets here, so a short poll is simpler than a condition the writer must signal
        deadline = monotonic() + self._put_timeout
        while self._queue.qsize() >= self._max_queued:
            if monotonic() >= deadline or not self._thread.is_alive():
                return False
            sleep(0.001)
        return True

    def _drop(self, why: str) -> None:
        with self._lock:
            self._dropped += 1
            n = self._dropped
        self.retry_soon()
        if n == 1 or n % 1000 == 0:  # not once per item: an overloaded writer must not also flood the log
            self._log.error("dropped %s not written (%d so far): %s", self._what, n, why)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued before this call is handled; False on timeout."""
        if not self._thread.is_alive():
            return self._queue.empty()
        done = threading.Event()
        self._queue.put(done)  # markers are not held to the bound: one small object, and flush must not fail for room
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> bool:
        """Write what is queued and stop the thread; False when it did not finish within ``timeout``."""
        self._closed = True
        if not self._thread.is_alive():
            return True
        self._queue.put(_STOP)
        self._thread.join(timeout)
        if self._thread.is_alive():
            return False
        self._drain_after_stop()
        if self._retry_at is not None:
            self._replay()  # one last try, so a clean shutdown leaves nothing behind when the database is back
        return True

    def _drain_after_stop(self) -> None:
        # a put that raced with close can land behind the stop marker: count it rather than leave it unseen
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, threading.Event):
                item.set()
            elif not isinstance(item, _Stop):
                self._drop("it arrived while the writer was closing")

    # -- writer thread -------------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._replay_if_due()
            try:
                first = self._queue.get(timeout=self._until_retry())
            except queue.Empty:
                continue
            batch: list[object] = [first]
            while len(batch) < self._batch_size and not isinstance(batch[-1], threading.Event | _Stop):
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            items = cast(list[T], [x for x in batch if not isinstance(x, threading.Event | _Stop)])
            if items:
                self._write_batch(items)
            for marker in batch:
                if isinstance(marker, threading.Event):
                    marker.set()
            if isinstance(batch[-1], _Stop):
                return

    def _until_retry(self) -> float | None:
        """How long the thread may wait for the queue before a replay is due (None: no replay pending)."""
        at = self._retry_at
        return None if at is None else max(0.0, at - monotonic())

    def _replay_if_due(self) -> None:
        at = self._retry_at
        if at is not None and monotonic() >= at:
            self._replay()

    def _replay(self) -> None:
        assert self._retry is not None
        self._retry_requested = False
        try:
            done = self._retry()
        except Exception as exc:  # the database is still down; try again later
            self._log.error("replay of %s failed: %s", self._what, type(exc).__name__)
            done = False
        if done:
            self._backoff = self._backoff_min
            self._retry_at = None
            if self._retry_requested:  # a failure or drop came in while this replay ran
                self._retry_at = monotonic() + self._backoff
            return
        self._retry_failures += 1
        self._retry_at = monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, self._backoff_max)

    def _write_batch(self, items: Sequence[T]) -> None:
        try:
            self._write(list(items))
            self._written += len(items)
            return
        except Exception as exc:  # keep serving; retried one by one below
            self.retry_soon()
            if len(items) == 1:
                self._failed += 1
                self._log.error("could not write 1 of %s: %s", self._what, type(exc).__name__)
                return
            first_error = type(exc).__name__
        written = failed = in_a_row = 0
        for i, item in enumerate(items):
            try:
                self._write([item])
                written += 1
                in_a_row = 0
            except Exception:
                failed += 1
                in_a_row += 1
                if in_a_row >= self._max_consecutive_failures and written == 0:
                    failed += len(items) - i - 1  # the database is down, not one record bad: stop hammering it
                    break
        self._written += written
        self._failed += failed
        self._log.error(
            "could not write a batch of %d %s (%s); one by one: %d written, %d failed",
            len(items),
            self._what,
            first_error,
            written,
            failed,
        )


class QueuedSink(Generic[T]):
    """Base of the event sinks that write through one :class:`BackgroundWriter`: counters, flush and close."""

    _writer: BackgroundWriter[T]

    @property
    def written(self) -> int:
        return self._writer.written

    @property
    def failed(self) -> int:
        return self._writer.failed

    @property
    def dropped(self) -> int:
        return self._writer.dropped

    @property
    def pending(self) -> int:
        return self._writer.pending

    @property
    def retry_failures(self) -> int:
        return self._writer.retry_failures

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is written; False on timeout."""
        return self._writer.flush(timeout)

    def close(self, timeout: float = 10.0) -> None:
        self._writer.close(timeout)
