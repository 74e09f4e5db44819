"""The escalation journal: escalate/report decisions on local disk until the database has committed them."""

from __future__ import annotations

import stat
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import OperationalError

from childsafe.store import DecisionEntry, Store, StoreEventSink
from childsafe.store.interfaces import DecisionLog
from childsafe.store.recorder import EscalationJournal


def entry(decision_id: str, action: str = "report", child_id: str | None = None) -> DecisionEntry:
    return DecisionEntry(
        id=decision_id,
        kind="input",
        action=action,
        categories=["sexual_minors"],
        scores={"sexual_minors": 0.97},
        reasons=["test"],
        policy_version="p-test",
        age_band="10-12",
        role="contact",
        excerpt="keep it [REDACTED]",
        child_id=child_id,
        conversation_id="conv-j",
        extra={"rules": ["r1"]},
        created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


class Outage:
    """A decision log whose database is down (OperationalError, as for a locked or read-only file) until told."""

    def __init__(self, inner: DecisionLog) -> None:
        self.inner = inner
        self.down = True

    def record(self, entries: Sequence[DecisionEntry]) -> None:
        if self.down:
            raise OperationalError("INSERT INTO decisions", {}, Exception("database is locked"))
        self.inner.record(entries)

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


def test_an_appended_entry_is_private_on_disk_and_survives_a_restart(tmp_path: Path) -> None:
    journal = EscalationJournal(tmp_path)
    assert journal.append(entry("dec_1"))
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600
    assert b"dec_1" in journal.path.read_bytes()
    journal.close()  # as after a crash: nothing was acknowledged
    again = EscalationJournal(tmp_path)
    assert again.pending() == [entry("dec_1")]  # every field, the decision time included
    again.close()


def test_acknowledged_entries_leave_the_file(tmp_path: Path) -> None:
    journal = EscalationJournal(tmp_path)
    journal.append(entry("dec_1"))
    journal.append(entry("dec_2"))
    journal.ack(["dec_1"])
    assert [e.id for e in journal.pending()] == ["dec_2"]
    journal.ack(["dec_2"])
    assert journal.pending_count == 0 and journal.path.read_bytes() == b""
    journal.close()
    assert EscalationJournal(tmp_path).pending() == []


def test_a_torn_line_from_a_crash_is_skipped_and_later_entries_are_read(tmp_path: Path) -> None:
    journal = EscalationJournal(tmp_path)
    journal.append(entry("dec_1"))
    path = journal.path
    journal.close()
    with path.open("ab") as fh:
        fh.write(b'{"v":1,"entry":{"id":"dec_2","ki')  # the process died in the middle of an append
    reopened = EscalationJournal(tmp_path)
    assert reopened.corrupt == 1 and [e.id for e in reopened.pending()] == ["dec_1"]
    reopened.append(entry("dec_3"))
    reopened.close()
    assert [e.id for e in EscalationJournal(tmp_path).pending()] == ["dec_1", "dec_3"]


def test_processes_sharing_a_folder_get_their_own_journal_and_a_dead_ones_is_adopted(tmp_path: Path) -> None:
    alive = EscalationJournal(tmp_path)
    busy = EscalationJournal(tmp_path)
    dead = EscalationJournal(tmp_path)
    assert len({alive.path, busy.path, dead.path}) == 3
    busy.append(entry("dec_busy"))
    dead.append(entry("dec_dead"))
    dead_path = dead.path
    dead.close()
    alive.close()
    newcomer = EscalationJournal(tmp_path)  # takes the first free slot and adopts the dead process's journal
    assert [e.id for e in newcomer.pending()] == ["dec_dead"]  # not the live one's
    assert not dead_path.exists() and busy.pending_count == 1
    newcomer.close()
    busy.close()


def test_escalations_the_database_refused_are_replayed_once_it_is_back(db_url: str, tmp_path: Path) -> None:
    store = Store.open(db_url, tmp_path)
    log = Outage(store.decisions)
    sink = StoreEventSink(log, journal=EscalationJournal(tmp_path / "journal"))
    sink.put(entry("dec_r", "report"))
    sink.put(entry("dec_e", "escalate"))
    sink.put(entry("dec_a", "allow"))  # not an escalation: not journaled
    assert sink.flush(5) and sink.failed == 3
    assert sink.journal is not None and sink.journal.pending_count == 2
    time.sleep(0.6)  # a replay or two fail while the database is still down
    log.down = False
    wait_for(lambda: sink.journal is not None and sink.journal.pending_count == 0)
    assert sorted(e.decision_id for e in store.decisions.escalations()) == ["dec_e", "dec_r"]
    # stored by the replay or by the writer's own retry, whichever ran first: either way once, and acknowledged
    assert sink.retry_failures >= 1
    sink.put(entry("dec_r", "report"))  # the same decision again (a replay racing the queue) opens nothing new
    assert sink.flush(5)
    assert len(store.decisions.escalations()) == 2
    sink.close()
    store.close()


def test_start_up_replays_the_journal_and_a_rejected_entry_does_not_hold_back_the_rest(
    db_url: str, tmp_path: Path
) -> None:
    journal = EscalationJournal(tmp_path / "journal")
    journal.append(entry("dec_bad", child_id="ch_erased_meanwhile"))  # its child no longer exists: FK refuses it
    journal.append(entry("dec_good"))
    journal.close()
    store = Store.open(db_url, tmp_path)
    sink = StoreEventSink(store.decisions, journal=EscalationJournal(tmp_path / "journal"))
    wait_for(lambda: store.decisions.get("dec_good") is not None)
    assert sink.journal is not None
    wait_for(lambda: sink.journal is not None and [e.id for e in sink.journal.pending()] == ["dec_bad"])
    assert [e.decision_id for e in store.decisions.escalations()] == ["dec_good"]
    sink.close()
    store.close()
