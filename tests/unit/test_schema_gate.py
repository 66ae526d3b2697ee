"""The gate that lets batches land at once while a batch adding columns lands alone, in batch order."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from loader.landing import SchemaGate


def adds(value: bool) -> Callable[[], bool]:
    """The gate's question (does the batch add columns?), answered."""
    return lambda: value


def test_batches_adding_no_column_are_open_together() -> None:
    gate = SchemaGate(2)
    both_in = threading.Barrier(2, timeout=5)

    def shared(index: int) -> None:
        with gate.turn(index, adds(False)):
            both_in.wait()  # raises BrokenBarrierError unless the other is inside too
        gate.finished(index)

    threads = [threading.Thread(target=shared, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not both_in.broken


def test_a_batch_adding_columns_waits_for_the_open_ones_and_is_not_starved() -> None:
    gate = SchemaGate(3)
    events: list[str] = []
    first_in = threading.Event()
    release_first = threading.Event()

    def first() -> None:
        with gate.turn(0, adds(False)):
            events.append("first in")
            first_in.set()
            release_first.wait(5)
            events.append("first out")
        gate.finished(0)

    def adding() -> None:
        with gate.turn(1, adds(True)):
            events.append("alone in")
            time.sleep(0.05)
            events.append("alone out")
        gate.finished(1)

    def later() -> None:
        with gate.turn(2, adds(False)):
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
    gate = SchemaGate(2)
    events: list[str] = []

    def adding(index: int) -> None:
        with gate.turn(index, adds(True)):
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


def test_a_batch_asks_whether_it_adds_columns_at_its_turn() -> None:
    """Only once the earlier batch adding columns is done: the columns it added are then in the
    table, so a later batch with the same header lands beside the others, not alone."""
    gate = SchemaGate(2)
    events: list[str] = []
    second_started = threading.Event()

    def first() -> None:
        assert second_started.wait(5)
        time.sleep(0.05)  # the second batch is waiting for its turn meanwhile
        with gate.turn(0, adds(True)):
            events.append("0 adds its columns")
        gate.finished(0)

    def second() -> None:
        def asked() -> bool:
            events.append("1 asked")
            return False

        second_started.set()
        with gate.turn(1, asked):
            events.append("1 in")
        gate.finished(1)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert events == ["0 adds its columns", "1 asked", "1 in"]


def test_a_batch_that_never_entered_does_not_hold_the_later_ones() -> None:
    """A batch that failed before the gate (its files could not be fetched) is finished all the same."""
    gate = SchemaGate(2)
    entered = threading.Event()

    def adding() -> None:
        with gate.turn(1, adds(True)):
            entered.set()
        gate.finished(1)

    thread = threading.Thread(target=adding)
    thread.start()
    assert not entered.wait(0.1)
    gate.finished(0)
    assert entered.wait(5)
    thread.join(timeout=10)
