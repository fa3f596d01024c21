"""The operator-wide budget of AWS requests (vigil.aws.budget), on a virtual clock: a throttled
API of one account is paced and the others are not; the pace halves on each throttle and climbs
back on answers until it is forgotten; no more requests are in flight than the budget allows."""

from __future__ import annotations

import threading

import pytest

from vigil.aws import budget as b
from vigil.aws.budget import CallBudget

A = ("111111111111", "ca-central-1", "ec2", "DescribeVpcs")
B = ("222222222222", "ca-central-1", "ec2", "DescribeVpcs")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def call(budget: CallBudget, key, throttled: bool = False) -> None:
    budget.enter(key)
    budget.leave(key, throttled)


def test_nothing_is_paced_before_aws_throttles(clock):
    budget = CallBudget(4, clock, clock.sleep)
    for _ in range(100):
        call(budget, A)
    assert clock.slept == [] and budget.paced() == {}


def test_a_throttled_api_is_paced_and_another_accounts_is_not(clock):
    budget = CallBudget(4, clock, clock.sleep)
    call(budget, A, throttled=True)
    assert budget.paced() == {A: b.START_RATE}
    call(budget, B)
    assert clock.slept == []  # the other account goes on at once
    call(budget, A)
    call(budget, A)
    # Each call after the throttle waits its interval at the rate of the time it was let in.
    assert clock.slept == [1 / b.START_RATE, pytest.approx(1 / b.START_RATE)]
    call(budget, A)
    assert clock.slept[-1] == pytest.approx(1 / (b.START_RATE + b.INCREASE))


def test_each_throttle_halves_the_rate_down_to_a_floor(clock):
    budget = CallBudget(4, clock, clock.sleep)
    for _ in range(12):
        call(budget, A, throttled=True)
    assert budget.paced()[A] == b.MIN_RATE
    call(budget, A, throttled=False)
    assert budget.paced()[A] == b.MIN_RATE + b.INCREASE


def test_answers_raise_the_rate_until_the_key_is_forgotten(clock):
    budget = CallBudget(4, clock, clock.sleep)
    call(budget, A, throttled=True)
    answers = 0
    while A in budget.paced():
        call(budget, A)
        answers += 1
    assert answers == int((b.FORGET_ABOVE - b.START_RATE) / b.INCREASE) + 1
    clock.slept.clear()
    call(budget, A)
    assert clock.slept == []


def test_no_more_requests_in_flight_than_the_budget():
    budget = CallBudget(3)
    inside, most, lock = [0], [0], threading.Lock()
    release = threading.Event()

    def request(i: int) -> None:
        key = (str(i), "ca-central-1", "s3", "GetObject")
        budget.enter(key)
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        release.wait(5)
        with lock:
            inside[0] -= 1
        budget.leave(key, False)

    threads = [threading.Thread(target=request, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    while True:  # wait until the budget is full and the rest are queued
        with lock:
            if inside[0] == 3:
                break
    release.set()
    for t in threads:
        t.join()
    assert most[0] == 3 and inside[0] == 0
