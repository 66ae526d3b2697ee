"""The gate that lets batches land at once while a batch adding columns lands alone, in batch order."""

from __future__ import annotations

import threading
import time

from loader.landing import _SchemaGate


def test_batches_adding_no_column_are_open_together() -> None:
    gate = _SchemaGate(2)
    both_in = threading.Barrier(2, timeout=5)

    def shared(index: int) -> None:
        with gate.shared(index):
            both_in.wait()  # raises BrokenBarrierError unless the other is inside too

    threads = [threading.Thread(target=shared, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not both_in.broken


def test_a_batch_adding_columns_waits_for_the_open_ones_and_is_not_starved() -> None:
    gate = _SchemaGate(3)
    events: list[str] = []
    first_in = threading.Event()
    release_first = threading.Event()

    def first() -> None:
        with gate.shared(0):
            events.append("first in")
            first_in.set()
            release_first.wait(5)
            events.append("first out")
        gate.finished(0)

    def adding() -> None:
        with gate.alone(1):
            events.append("alone in")
            time.sleep(0.05)
            events.append("alone out")
        gate.finished(1)

    def later() -> None:
        with gate.shared(2):
            events.append("later in")
        gate.finished(2)

    threads = [threading.Thread(target=first)]
    threads[0].start()
    assert first_in.wait(5)
    threads.append(threading.Thread(target=adding))
    threads[1].start()
    time.sleep(0.1)  # the adding batch is waiting for the first to finish
    threads.append(threading.Thread(target=later))
    threads[2].start()
    time.sleep(0.1)  # the later batch arrived while one adding columns waits: it waits too
    assert events == ["first in"]
    release_first.set()
    for thread in threads:
        thread.join(timeout=10)
    assert events == ["first in", "first out", "alone in", "alone out", "later in"]


def test_batches_adding_columns_take_their_turn_in_batch_order() -> None:
    """The second batch asks first; it still waits until the first has finished, so the first
    file's columns are added first (the table's columns follow the files' order)."""
    gate = _SchemaGate(2)
    events: list[str] = []

    def adding(index: int) -> None:
        with gate.alone(index):
            events.append(f"{index} in")
            time.sleep(0.05)
            events.append(f"{index} out")
        gate.finished(index)

    second = threading.Thread(target=adding, args=(1,))
    second.start()
    time.sleep(0.1)  # the second batch is waiting for the first, which has not even asked
    assert events == []
    first = threading.Thread(target=adding, args=(0,))
    first.start()
    for thread in (first, second):
        thread.join(timeout=10)
    assert events == ["0 in", "0 out", "1 in", "1 out"]


def test_a_batch_that_never_entered_does_not_hold_the_later_ones() -> None:
    """A batch that failed before the gate (its files could not be fetched) is finished all the same."""
    gate = _SchemaGate(2)
    entered = threading.Event()

    def adding() -> None:
        with gate.alone(1):
            entered.set()
        gate.finished(1)

    thread = threading.Thread(target=adding)
    thread.start()
    assert not entered.wait(0.1)
    gate.finished(0)
    assert entered.wait(5)
    thread.join(timeout=10)
