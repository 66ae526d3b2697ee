"""The gate that lets batches land at once while a batch adding columns lands alone."""

from __future__ import annotations

import threading
import time

from loader.landing import _SchemaGate


def test_batches_adding_no_column_are_open_together() -> None:
    gate = _SchemaGate()
    both_in = threading.Barrier(2, timeout=5)

    def shared() -> None:
        with gate.shared():
            both_in.wait()  # raises BrokenBarrierError unless the other is inside too

    threads = [threading.Thread(target=shared) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not both_in.broken


def test_a_batch_adding_columns_waits_for_the_open_ones_and_is_not_starved() -> None:
    gate = _SchemaGate()
    events: list[str] = []
    first_in = threading.Event()
    release_first = threading.Event()

    def first() -> None:
        with gate.shared():
            events.append("first in")
            first_in.set()
            release_first.wait(5)
            events.append("first out")

    def adding() -> None:
        with gate.alone():
            events.append("alone in")
            time.sleep(0.05)
            events.append("alone out")

    def later() -> None:
        with gate.shared():
            events.append("later in")

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
