"""Cases opened when the escalation happens, not when someone first opens the queue.

:class:`CaseIntake` is an engine event sink and a thread. An escalating decision only wakes the thread
(``emit`` returns at once, on the check's path); the thread waits for the decision recorder to store what is
queued, then opens the cases (``ReviewService.import_escalations``), which also queues the alerts for
severity-1 cases. It also looks every ``interval_s`` seconds, for escalations stored later (the escalation
journal replays decisions the database refused for a while) and at start, for anything left from before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from childsafe.review.service import ReviewService

log = logging.getLogger("childsafe.review")


class CaseIntake:
    def __init__(
        self,
        review: ReviewService,
        flush: Callable[[float], bool] | None = None,
        *,
        interval_s: float = 30.0,
        flush_timeout_s: float = 5.0,
    ) -> None:
        self._review = review
        self._flush = flush
        self._interval = interval_s
        self._flush_timeout = flush_timeout_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self.opened = 0
        self.rounds = 0
        self._thread = threading.Thread(target=self._run, name="childsafe-case-intake", daemon=True)
        self._thread.start()

    def emit(self, event: Any) -> None:
        """``childsafe.events.EventSink``: an escalating decision wakes the intake."""
        if getattr(event, "escalated", False):
            self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._flush is not None:
                self._flush(self._flush_timeout)  # the decision must be stored before its case can open
            try:
                self.opened += self._review.import_escalations()
            except Exception as exc:  # a locked or unreachable database: the next round tries again
                log.warning("could not open review cases (%s); retrying", type(exc).__name__)
            self.rounds += 1
            self._wake.wait(self._interval)
            self._wake.clear()

    def close(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
