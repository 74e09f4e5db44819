from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest

from childsafe.store import ConversationRecord, Store
from childsafe.store.background import BackgroundWriter


class Recorder:
    """A write function that remembers each batch; it can be held (stuck) and told to reject items."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.bad: set[int] = set()

    def __call__(self, batch: list[int]) -> None:
        self.entered.set()
        assert self.gate.wait(10)
        if self.bad.intersection(batch):
            raise ValueError(f"rejected {sorted(self.bad.intersection(batch))}")  # must not reach the log
        self.batches.append(list(batch))

    @property
    def items(self) -> list[int]:
        return [x for b in self.batches for x in b]


def test_items_queued_while_the_writer_is_busy_are_written_in_batches() -> None:
    rec = Recorder()
    rec.gate.clear()
    w: BackgroundWriter[int] = BackgroundWriter(rec, name="t-batch", batch_size=10)
    w.put(0)
    assert rec.entered.wait(5)  # the thread holds item 0; the next 25 pile up behind it
    for i in range(1, 26):
        assert w.put(i)
    rec.gate.set()
    assert w.flush(5)
    assert rec.items == list(range(26))  # all, in order
    assert [len(b) for b in rec.batches] == [1, 10, 10, 5]
    assert (w.written, w.failed, w.dropped) == (26, 0, 0)
    assert w.close(5)


def test_flush_returns_false_while_the_writer_is_stuck_and_true_once_it_moves() -> None:
    rec = Recorder()
    rec.gate.clear()
    w: BackgroundWriter[int] = BackgroundWriter(rec, name="t-stuck")
    w.put(1)
    assert rec.entered.wait(5)
    w.put(2)
    assert w.flush(0.2) is False
    assert w.written == 0
    rec.gate.set()
    assert w.flush(5) is True
    assert rec.items == [1, 2] and w.written == 2
    assert w.close(5)


def test_close_drains_everything_queued_then_counts_later_puts_as_dropped() -> None:
    rec = Recorder()
    rec.gate.clear()
    w: BackgroundWriter[int] = BackgroundWriter(rec, name="t-close", batch_size=7)
    for i in range(50):
        w.put(i)
    closer = threading.Thread(target=w.close, args=(10,))
    closer.start()
    rec.gate.set()
    closer.join(10)
    assert rec.items == list(range(50)) and w.written == 50
    assert w.put(99) is False and w.dropped == 1
    assert rec.items[-1] == 49
    assert w.flush(1)  # nothing left to wait for


def test_a_failing_item_is_counted_logged_without_content_and_the_rest_still_written(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rec = Recorder()
    rec.bad = {3}
    rec.gate.clear()
    w: BackgroundWriter[int] = BackgroundWriter(rec, name="t-fail", what="numbers")
    w.put(0)
    assert rec.entered.wait(5)
    for i in range(1, 7):
        w.put(i)  # one batch 1..6 containing the bad item 3
    with caplog.at_level(logging.ERROR, logger="childsafe.store"):
        rec.gate.set()
        assert w.flush(5)
        w.put(7)  # after the failure the writer keeps going
        assert w.flush(5)
    assert sorted(rec.items) == [0, 1, 2, 4, 5, 6, 7]
    assert (w.written, w.failed, w.dropped) == (7, 1, 0)
    assert "ValueError" in caplog.text and "rejected" not in caplog.text
    assert w.close(5)


def test_a_dead_database_stops_single_retries_and_counts_the_batch_as_failed() -> None:
    calls: list[int] = []
    gate, entered = threading.Event(), threading.Event()

    def down(batch: list[int]) -> None:
        entered.set()
        assert gate.wait(10)
        calls.append(len(batch))
        raise ConnectionError("database unreachable")

    w: BackgroundWriter[int] = BackgroundWriter(down, name="t-down", max_consecutive_failures=3)
    w.put(-1)
    assert entered.wait(5)
    for i in range(20):
        w.put(i)
    gate.set()
    assert w.flush(5)
    assert w.failed == 21 and w.written == 0
    assert calls == [1, 20, 1, 1, 1]  # the held item, the batch, then three single tries before giving up
    assert w.close(5)


def test_a_full_queue_counts_a_drop_after_a_brief_wait() -> None:
    rec = Recorder()
    rec.gate.clear()
    w: BackgroundWriter[int] = BackgroundWriter(rec, name="t-full", max_queued=3, put_timeout_s=0.05)
    w.put(0)
    assert rec.entered.wait(5)
    assert all(w.put(i) for i in (1, 2, 3))  # fills the queue
    assert w.put(4) is False and w.dropped == 1
    rec.gate.set()
    assert w.flush(5)
    assert rec.items == [0, 1, 2, 3] and (w.written, w.dropped) == (4, 1)
    assert w.close(5)


def test_a_full_queue_makes_put_wait_for_room_rather_than_drop() -> None:
    rec = Recorder()
    rec.gate.clear()
    w: BackgroundWriter[int] = BackgroundWriter(rec, name="t-wait", max_queued=1, put_timeout_s=5)
    w.put(0)
    assert rec.entered.wait(5)
    w.put(1)  # the queue is full now
    opener = threading.Timer(0.2, rec.gate.set)
    opener.start()
    assert w.put(2) is True  # waited until the writer took item 1
    opener.join()
    assert w.flush(5) and rec.items == [0, 1, 2] and w.dropped == 0
    assert w.close(5)


def test_concurrent_producers_lose_nothing() -> None:
    rec = Recorder()
    w: BackgroundWriter[int] = BackgroundWriter(rec, name="t-many", batch_size=50, max_queued=64, put_timeout_s=5)

    def produce(base: int) -> None:
        for i in range(500):
            w.put(base + i)

    threads = [threading.Thread(target=produce, args=(k * 1000,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert w.close(10)
    assert sorted(rec.items) == sorted(k * 1000 + i for k in range(4) for i in range(500))
    assert (w.written, w.dropped) == (2000, 0)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="batch_size"):
        BackgroundWriter(Recorder(), name="t-bad", batch_size=0)
    with pytest.raises(ValueError, match="max_queued"):
        BackgroundWriter(Recorder(), name="t-bad", max_queued=0)


def test_with_the_real_store_a_rejected_conversation_state_fails_alone(tmp_path: Path) -> None:
    store = Store.open(None, tmp_path / "data")
    app = store.apps.ensure("a", "ka", 60)
    kid, other = store.children.upsert(app.id, "u1", "10-12"), store.children.upsert(app.id, "u2", "10-12")
    store.conversations.save(ConversationRecord("taken", app.id, other.id, None, 1, False))
    w: BackgroundWriter[ConversationRecord] = BackgroundWriter(store.conversations.save_many, name="t-store")
    w.put(ConversationRecord("c1", app.id, kid.id, {"n": 1}, 1, False))
    w.put(ConversationRecord("taken", app.id, kid.id, {"n": 2}, 2, False))  # another child's conversation id
    w.put(ConversationRecord("c2", app.id, kid.id, {"n": 3}, 3, False))
    assert w.flush(5)
    c1, c2, taken = (store.conversations.load(x) for x in ("c1", "c2", "taken"))
    assert c1 is not None and c2 is not None and c2.state == {"n": 3}
    assert taken is not None and taken.child_id == other.id
    assert (w.written, w.failed) == (2, 1)
    assert w.close(5)
    store.close()
