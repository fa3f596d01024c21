"""A write AWS refused for good (a terminal error) is not sent again before the object's next
resync or a spec change (vigil.controls.refusals, used by TargetRun.converge): the same write
fails again without an AWS call, with when it will be tried; a retryable error is never held;
a new generation of the object, the interval's end, or another write of the object (which may be
what the refused one was waiting for) sends it again."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from botocore.exceptions import ClientError

from vigil.aws.errors import TargetError
from vigil.controls.base import Context, TargetRun
from vigil.controls.refusals import RefusalLedger
from vigil.planning.actions import Action
from vigil.planning.ownership import Owner

START = Action("123456789012/ca-central-1/vigil-org-trail", "123456789012", "ca-central-1", "cloudtrail",
               "StartLogging", {"Name": "vigil-org-trail"})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class RefusingAws:
    """Stands in for AwsAccess: every write is answered with ``code`` (None: accepted)."""

    def __init__(self, code: str | None, status: int = 400) -> None:
        self.code, self.status, self.sent = code, status, 0

    def client(self, service: str, account_id: str, region: str, retries: bool = True) -> Any:
        return self

    def start_logging(self, **_: Any) -> None:
        self.sent += 1
        if self.code:
            raise ClientError({"Error": {"Code": self.code, "Message": "no"},
                               "ResponseMetadata": {"HTTPStatusCode": self.status}}, "StartLogging")


def converge(aws: RefusingAws, ledger: RefusalLedger, generation: int = 1) -> TargetError | None:
    owner = Owner("baseline", "OrgTrail", "org-trail", uid="u-1", generation=generation)
    ctx = Context("OrgTrail", "baseline", "org-trail", spec=None, mode="Enforce", access=aws,  # type: ignore[arg-type]
                  organization=None, owner=owner, refusals=ledger, resync_seconds=300)  # type: ignore[arg-type]
    try:
        TargetRun(ctx, START.target).converge([START])
    except TargetError as error:
        return error
    return None


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(clock: Clock) -> RefusalLedger:
    return RefusalLedger(clock, wall=lambda: datetime(2026, 11, 27, 10, 0, tzinfo=timezone.utc))


def test_a_refused_write_is_not_sent_again_before_the_next_resync(ledger, clock):
    aws = RefusingAws("ValidationException")
    first = converge(aws, ledger)
    assert first is not None and first.reason == "AWSError" and first.code == "ValidationException"
    assert first.message.endswith("Not sent again before 2026-11-27T10:05:00Z, unless the spec changes or another "
                                  "write of this object changes what AWS holds.")
    for _ in range(5):
        clock.now += 30
        assert converge(aws, ledger) == first, "the same failure, told the same way"
    assert aws.sent == 1
    clock.now += 300
    assert converge(aws, ledger) is not None and aws.sent == 2, "the next resync sends it again"


def test_a_spec_change_sends_it_at_once(ledger, clock):
    aws = RefusingAws("InvalidParameterValueException")
    converge(aws, ledger, generation=1)
    converge(aws, ledger, generation=2)
    converge(aws, ledger, generation=2)
    assert aws.sent == 2
    assert len(ledger) == 1, "an older generation's refusals are dropped"


@pytest.mark.parametrize("code, status", [("ThrottlingException", 400), ("InternalFailure", 500)])
def test_a_retryable_error_is_never_held(ledger, code, status):
    aws = RefusingAws(code, status)
    for _ in range(3):
        assert converge(aws, ledger) is not None
    assert aws.sent == 3 and len(ledger) == 0


def test_another_object_or_write_is_not_held_by_this_refusal(ledger):
    aws = RefusingAws("ValidationException")
    converge(aws, ledger)
    other = Owner("baseline", "OrgTrail", "other", uid="u-2", generation=1)
    assert ledger.refused(other, START) is None
    assert ledger.refused(Owner("baseline", "OrgTrail", "org-trail", uid="u-1", generation=1),
                          Action(START.target, START.account_id, START.region, "cloudtrail", "StartLogging",
                                 {"Name": "another-trail"})) is None


def test_an_accepted_write_leaves_nothing_behind(ledger):
    aws = RefusingAws(None)
    assert converge(aws, ledger) is None and converge(aws, ledger) is None
    assert aws.sent == 2 and len(ledger) == 0


def test_another_write_of_the_object_sends_it_again_at_its_next_pass(ledger):
    """AWS often refuses a write as invalid for what another of the object's writes is about to
    put right (a destination whose role policy is not there yet)."""
    aws = RefusingAws("InvalidParameterException")
    owner = Owner("baseline", "OrgTrail", "org-trail", uid="u-1", generation=1)
    converge(aws, ledger)
    assert ledger.refused(owner, START) is not None
    ledger.wrote(owner)
    assert ledger.refused(owner, START) is None
    converge(aws, ledger)
    converge(aws, ledger)
    assert aws.sent == 2, "held again once refused again, until the next write"
