"""fan_out: every target's outcome in the order given, whatever fails; never more targets at work
at once than the concurrency asked for; one set of workers for the whole process, shared by the
fan-outs in turn, and never more threads than it holds."""

from __future__ import annotations

import threading
import time

import pytest
from botocore.exceptions import ClientError

from vigil.aws.fanout import Workers, fan_out


def test_outcomes_come_back_in_the_order_given_and_a_failure_stays_its_targets():
    def answer(n: int):
        def fn() -> int:
            time.sleep(0.001 * (n % 3))  # finish out of order
            if n == 4:
                raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DescribeVpcs")
            if n == 6:
                raise ValueError("a bug for one target")
            return n * 10
        return fn

    outcomes = fan_out([(f"t{n}", answer(n)) for n in range(10)], concurrency=3)
    assert [o.target for o in outcomes] == [f"t{n}" for n in range(10)]
    assert [o.value for o in outcomes if o.error is None] == [n * 10 for n in range(10) if n not in (4, 6)]
    assert outcomes[4].error is not None and outcomes[4].error.code == "AccessDenied"
    assert outcomes[6].error is not None and "a bug for one target" not in outcomes[6].error.message


def at_work_counter(together: threading.Barrier):
    state = {"at_work": 0, "most": 0, "threads": set()}
    lock = threading.Lock()

    def fn() -> None:
        with lock:
            state["at_work"] += 1
            state["most"] = max(state["most"], state["at_work"])
            state["threads"].add(threading.get_ident())
        together.wait()
        with lock:
            state["at_work"] -= 1
    return fn, state


def test_never_more_at_work_than_the_concurrency_asked_for():
    together = threading.Barrier(8, timeout=30)  # passes only with eight targets at work at once
    fn, state = at_work_counter(together)
    outcomes = Workers(size=32).run([(f"t{n}", fn) for n in range(200)], limit=8)
    assert len(outcomes) == 200 and all(o.error is None for o in outcomes)
    assert state["most"] == 8 and not together.broken


def test_never_more_threads_than_the_workers_hold_and_the_caller():
    together = threading.Barrier(5, timeout=30)
    fn, state = at_work_counter(together)
    workers = Workers(size=4)
    outcomes = workers.run([(f"t{n}", fn) for n in range(100)], limit=64)
    assert all(o.error is None for o in outcomes)
    assert state["most"] == 5 and len(state["threads"]) == 5  # four workers and the caller
    assert workers.threads == 4


def test_one_target_runs_in_the_callers_thread():
    caller = threading.get_ident()
    [outcome] = fan_out([("only", threading.get_ident)], concurrency=16)
    assert outcome.value == caller


def test_what_is_not_a_targets_failure_reaches_the_caller_and_the_workers_go_on():
    def stop() -> None:
        raise SystemExit(3)

    workers = Workers(size=2)
    with pytest.raises(SystemExit):
        workers.run([("a", lambda: 1), ("b", stop), ("c", lambda: 3)], limit=2)
    assert [o.value for o in workers.run([(f"t{n}", lambda n=n: n) for n in range(5)], limit=2)] == list(range(5))


def test_a_fan_out_started_behind_a_large_one_gets_workers_in_turn():
    """A small fan-out asked for while a large one holds every worker: the workers take one target
    of each in turn, so the small one is done long before the large one has given out its targets."""
    workers = Workers(size=4)
    lock = threading.Lock()
    taken = {"large": 0}
    large_running = threading.Event()
    taken_when_small_done: list[int] = []

    def large_target() -> None:
        with lock:
            taken["large"] += 1
        large_running.set()
        time.sleep(0.005)

    large = threading.Thread(target=workers.run, args=([(f"l{n}", large_target) for n in range(200)], 64))
    large.start()
    assert large_running.wait(10)
    together = threading.Barrier(3, timeout=30)  # three of the small one's targets at once: two workers
    workers.run([(f"s{n}", together.wait) for n in range(6)], limit=3)
    with lock:
        taken_when_small_done.append(taken["large"])
    large.join(30)
    assert taken["large"] == 200
    assert taken_when_small_done[0] < 100, taken_when_small_done


def test_a_fan_out_within_a_target_finishes_even_when_every_worker_is_busy():
    workers = Workers(size=2)

    def outer(n: int):
        return lambda: sum(o.value for o in workers.run([(f"{n}/{m}", lambda m=m: m) for m in range(5)], limit=4))

    done: list[list[int]] = []
    runner = threading.Thread(target=lambda: done.append(
        [o.value for o in workers.run([(f"o{n}", outer(n)) for n in range(6)], limit=6)]))
    runner.start()
    runner.join(30)
    assert done == [[10] * 6]


def test_idle_workers_end():
    workers = Workers(size=4, idle_seconds=0.05)
    workers.run([(f"t{n}", lambda: time.sleep(0.01)) for n in range(8)], limit=4)
    deadline = time.monotonic() + 10
    while workers.threads and time.monotonic() < deadline:
        time.sleep(0.01)
    assert workers.threads == 0


def test_workers_woken_but_not_yet_running_are_not_counted_idle_again():
    """A fan-out asked for from within a target, while the workers just woken for its parent have
    not yet run: it starts threads of its own rather than counting on those."""
    workers = Workers(size=16, idle_seconds=30)
    workers.run([(f"w{n}", lambda: time.sleep(0.02)) for n in range(9)], limit=9)  # eight idle workers
    nested_done = threading.Event()
    together = threading.Barrier(8, timeout=10)  # passes only with the nested fan-out's eight at once

    def nested() -> list:
        try:
            return workers.run([(f"b{n}", together.wait) for n in range(8)], limit=8)
        finally:
            nested_done.set()

    outer = workers.run([("a0", nested)] + [(f"a{n}", lambda: nested_done.wait(30)) for n in range(1, 9)],
                        limit=9)
    assert all(o.error is None for o in outer[0].value) and not together.broken


def test_a_thread_that_cannot_be_started_leaves_the_work_to_the_caller(monkeypatch):
    def refuse(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    workers = Workers(size=4)
    monkeypatch.setattr(threading.Thread, "start", refuse)
    caller = threading.get_ident()
    outcomes = workers.run([(f"t{n}", threading.get_ident) for n in range(6)], limit=3)
    assert [o.value for o in outcomes] == [caller] * 6
    assert workers.threads == 0
