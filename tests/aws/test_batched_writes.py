"""Targets whose writes go out together (vigil.controls.batched) against the sandbox: GuardDuty
members enrolled in one CreateMembers, each account reporting its own outcome; an account AWS
could not enroll fails alone, found by reading the members again; Audit writes nothing and plans
each account's write."""

from __future__ import annotations

import pytest

from vigil.aws import guardduty as aws_guardduty
from vigil.aws.session import AwsAccess
from vigil.controls.base import Context, GroupRun
from vigil.controls.batched import Planned, converge_batched
from vigil.planning.guardduty import MEMBER_ENABLED, GuardDutyRegion, plan_member
from vigil.planning.ownership import Owner

REGION = "eu-west-3"  # no other test designates GuardDuty's administrator here
STRANGER = "999999999999"  # in no organization
OWNER = Owner("tests", "GuardDutyOrg", "batched")


@pytest.fixture(scope="module")
def region(aws, organization) -> GuardDutyRegion:
    aws.client("guardduty", region=REGION).enable_organization_admin_account(AdminAccountId=organization.security)
    return GuardDutyRegion(organization.management, organization.security, REGION, OWNER)


def members(access: AwsAccess, region: GuardDutyRegion) -> tuple[str, dict[str, str]]:
    detector = aws_guardduty.observe_detector(access, region.admin_account_id, REGION).detector_id or ""
    return detector, aws_guardduty.member_relationships(access, region.admin_account_id, REGION, detector)


def converge(access: AwsAccess, region: GuardDutyRegion, accounts: list[str], mode: str) -> GroupRun:
    detector, relationships = members(access, region)
    group = GroupRun(Context("GuardDutyOrg", "tests", "batched", None, mode, access, None, owner=OWNER),
                     f"guardduty/{REGION}")
    planned = [Planned(region.member_label(a), plan_member(region, a, f"{a}@example.com", detector,
                                                           relationships.get(a))) for a in accounts]

    def landed() -> set[str]:
        return {region.member_label(a) for a, status in members(access, region)[1].items()
                if status == MEMBER_ENABLED}
    converge_batched(group, planned, landed)
    return group


def test_audit_plans_each_account_and_writes_nothing(access, region, organization, call_log):
    group = converge(access, region, [organization.log_archive, STRANGER], "Audit")
    assert [(r.target, [a.operation for a in r.planned], r.applied) for r in group.reports] == [
        (region.member_label(organization.log_archive), ["CreateMembers"], []),
        (region.member_label(STRANGER), ["CreateMembers"], [])]
    assert [c for c in call_log.calls() if c.write] == []


def test_accounts_are_enrolled_in_one_call_each_reporting_its_own_outcome(access, region, organization, call_log):
    accounts = [organization.log_archive, *organization.workloads, STRANGER]
    call_log.reset()
    group = converge(access, region, accounts, "Enforce")
    calls = call_log.calls()
    assert [(c.operation, c.account) for c in calls if c.write] == [("CreateMembers", organization.security)]
    assert [c.operation for c in calls].count("ListMembers") == 2, \
        "AWS could not enroll one account: the members are read again to tell which"
    reports = {r.target: r for r in group.reports}
    assert [reports[region.member_label(a)].compliant for a in accounts] == [True] * (len(accounts) - 1) + [False]
    failed = reports[region.member_label(STRANGER)]
    assert failed.error is not None and STRANGER in failed.error.message and failed.applied == []
    assert all(r.applied == r.planned and len(r.planned) == 1 for r in group.reports if r is not failed)
    assert set(members(access, region)[1]) >= {organization.log_archive, *organization.workloads}

    call_log.reset()
    again = converge(access, region, accounts[:-1], "Enforce")
    assert all(r.compliant and not r.planned for r in again.reports)
    assert [c for c in call_log.calls() if c.write] == [], "enrolled: nothing more to write"
