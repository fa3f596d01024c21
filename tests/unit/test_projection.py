"""The projection of a 1,000-account x 17-Region convergence from a measured run
(vigil_sandbox.projection): calls scaled by Region and by member, and the three bounds."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from vigil_sandbox.projection import project, scaled_calls

HOME, OTHER = "ca-central-1", "us-east-1"
ADMIN = "333333333333"


@dataclass(frozen=True)
class Call:
    account: str
    region: str
    service: str
    operation: str


def run(members: int) -> list[Call]:
    """Each member: one read in each Region and one global read at home; the admin account one
    call per member in each Region."""
    calls = []
    for i in range(members):
        member = f"{100000000000 + i}"
        calls += [Call(member, HOME, "ec2", "DescribeVpcs"), Call(member, OTHER, "ec2", "DescribeVpcs"),
                  Call(member, HOME, "iam", "GetRole")]
        calls += [Call(ADMIN, HOME, "guardduty", "CreateMembers"), Call(ADMIN, OTHER, "guardduty", "CreateMembers")]
    return calls


def test_other_regions_stand_for_sixteen_and_central_accounts_grow_with_members():
    scaled = scaled_calls(run(10), HOME, [HOME, OTHER], accounts=11, central={ADMIN},
                          target_accounts=101, target_regions=17)
    assert scaled[("100000000000", "other regions", "ec2", "DescribeVpcs")] == 16
    assert scaled[("100000000000", HOME, "iam", "GetRole")] == 1
    assert scaled[(ADMIN, HOME, "guardduty", "CreateMembers")] == pytest.approx(100)
    assert scaled[(ADMIN, "other regions", "guardduty", "CreateMembers")] == pytest.approx(1600)


def test_the_bounds():
    projection = project(run(10), HOME, [HOME, OTHER], accounts=11, central={ADMIN}, cpu_per_call_s=0.002,
                         in_flight=10, rate_for=lambda service, op: (2.0, 0.0) if service == "guardduty" else (100.0, 0.0),
                         target_accounts=101, target_regions=17)
    # 100 members x (17 + 1) calls, and the admin's 100 x 17.
    assert projection.calls == 100 * 18 + 100 * 17
    assert projection.fan_out_s == pytest.approx(projection.calls * 0.1 / 10)
    assert projection.cpu_s == pytest.approx(projection.calls * 0.002)
    # The admin's CreateMembers, 100 calls in each Region at 2 a second, is the slowest key.
    assert projection.rate_limited_s == pytest.approx(50)
    assert projection.slowest_key.startswith(f"guardduty:CreateMembers in {ADMIN}")
    assert projection.total_s == pytest.approx(max(projection.fan_out_s, 50) + projection.cpu_s)
