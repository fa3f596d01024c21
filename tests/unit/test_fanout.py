"""fan_out: every target's outcome in the order given, whatever fails; never more targets at work
at once than the concurrency asked for, and no more threads."""

from __future__ import annotations

import threading
import time

import pytest
from botocore.exceptions import ClientError

from vigil.aws.fanout import fan_out


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


def test_never_more_at_work_than_the_concurrency_and_no_more_threads():
    at_work, most, lock = 0, 0, threading.Lock()
    threads: set[int] = set()
    together = threading.Barrier(8, timeout=30)  # passes only with eight targets at work at once

    def fn() -> None:
        nonlocal at_work, most
        with lock:
            at_work += 1
            most = max(most, at_work)
            threads.add(threading.get_ident())
        together.wait()
        with lock:
            at_work -= 1

    outcomes = fan_out([(f"t{n}", fn) for n in range(200)], concurrency=8)
    assert len(outcomes) == 200 and all(o.error is None for o in outcomes)
    assert most == 8 and not together.broken
    assert len(threads) <= 8


def test_one_target_runs_in_the_callers_thread():
    caller = threading.get_ident()
    [outcome] = fan_out([("only", threading.get_ident)], concurrency=16)
    assert outcome.value == caller


def test_what_is_not_a_targets_failure_reaches_the_caller():
    def stop() -> None:
        raise SystemExit(3)

    with pytest.raises(SystemExit):
        fan_out([("a", lambda: 1), ("b", stop), ("c", lambda: 3)], concurrency=2)
