"""The Organization's reachability, through the reconcile with AWS stood in for: every ACTIVE
account's role is probed at every pass; an account that cannot be reached (refused, or not
answering) and a suspended one are listed with their reason, in status.failures and
status.accounts.unreachable, and the Organization stays Ready, so its dependents are never held
back by one account."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from vigil.aws.errors import TargetError
from vigil.aws.session import AccessSettings
from vigil.conditions import get_condition
from vigil.controls.base import Runtime
from vigil.controls.reconciler import reconcile_object

MANAGEMENT = "111111111111"
ACCOUNTS = [(MANAGEMENT, "ACTIVE"), ("222222222222", "ACTIVE"), ("333333333333", "ACTIVE"),
            ("555555555555", "ACTIVE"), ("666666666666", "ACTIVE"), ("777777777777", "SUSPENDED")]
SPEC = {"accounts": {"logArchive": "222222222222", "security": "333333333333"},
        "regions": {"home": "ca-central-1", "governed": ["ca-central-1"]}}


class Organizations:
    """Organizations, and Account Management's ListRegions (the Organization's preflight asks it)."""

    def describe_organization(self) -> dict[str, Any]:
        return {"Organization": {"Id": "o-test", "MasterAccountId": MANAGEMENT}}

    def get_paginator(self, operation: str) -> Any:
        self.operation = operation
        return self

    def paginate(self, **_: Any) -> list[dict[str, Any]]:
        if self.operation == "list_regions":
            return [{"Regions": [{"RegionName": "ca-central-1", "RegionOptStatus": "ENABLED_BY_DEFAULT"}]}]
        return [{"Accounts": [{"Id": i, "Name": f"n{i[0]}", "Status": s} for i, s in ACCOUNTS]}]


class Access:
    """AwsAccess as the Organization uses it; ``refusing`` maps an account to its probe's failure."""

    def __init__(self, refusing: dict[str, Exception]) -> None:
        self.settings = AccessSettings(home_region="ca-central-1")
        self.refusing = refusing
        self.probed: list[str] = []

    def base_account_id(self) -> str:
        return MANAGEMENT

    def client(self, service: str, account_id: str, region: str, retries: bool = True) -> Any:
        return Organizations()

    def role_arn(self, account_id: str) -> str:
        return f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole"

    def check_reachable(self, account_id: str) -> None:
        self.probed.append(account_id)
        if account_id in self.refusing:
            raise self.refusing[account_id]


class Pool:
    def __init__(self, access: Access) -> None:
        self.access = access

    def get(self, _: AccessSettings) -> Access:
        return self.access


class NoLookup:
    def get(self, *_: Any) -> None:
        return None

    def secret(self, *_: Any) -> str:
        raise LookupError


def reconcile(access: Access, spec: dict[str, Any] = SPEC, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    runtime = Runtime(access_pool=Pool(access))  # type: ignore[arg-type]
    return reconcile_object("Organization", "ns", "acme", 1, spec, previous or {}, NoLookup(), runtime,
                            now=lambda: "T").status


def ready(status: dict[str, Any]) -> dict[str, Any]:
    return get_condition(status["conditions"], "Ready") or {}


UNREACHABLE = TargetError("AccountUnreachable", "Vigil cannot assume the role.", recoverable=False)
THROTTLED = ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"},
                         "ResponseMetadata": {"HTTPStatusCode": 400}}, "AssumeRole")


def test_every_active_account_is_probed_at_every_pass():
    access = Access({})
    status = reconcile(access)
    status = reconcile(access, previous=status)
    assert sorted(access.probed) == sorted(2 * [i for i, s in ACCOUNTS if s == "ACTIVE"])
    assert ready(status)["status"] == "True"


def test_an_unreachable_account_is_listed_and_the_organization_stays_ready():
    status = reconcile(Access({"666666666666": UNREACHABLE}))
    assert (ready(status)["status"], ready(status)["reason"]) == ("True", "Reconciled")
    assert status["accounts"] == {"total": 6, "reachable": 4, "summary": "4/6", "unreachable": [
        {"accountId": "666666666666", "reason": "AccountUnreachable"},
        {"accountId": "777777777777", "reason": "AccountSuspended"}]}
    failures = {f["target"]: f for f in status["failures"]}
    assert failures["666666666666"]["message"] == "Vigil cannot assume the role."
    assert failures["777777777777"]["message"].startswith(
        "Account 777777777777 (n7) is SUSPENDED in organization o-test: AWS lets nothing be done in it")
    assert get_condition(status["conditions"], "Compliant")["reason"] == "NotObserved"


def test_a_probe_that_was_only_throttled_does_not_hold_the_organization_back():
    status = reconcile(Access({"555555555555": THROTTLED}))
    assert ready(status)["status"] == "True"
    [failure] = [f for f in status["failures"] if f["target"] == "555555555555"]
    assert failure["reason"] == "AccountUnreachable"
    assert failure["message"].startswith("Vigil could not check that it can assume "
                                         "arn:aws:iam::555555555555:role/OrganizationAccountAccessRole this pass: "
                                         "AWS throttled AssumeRole (Throttling)")
