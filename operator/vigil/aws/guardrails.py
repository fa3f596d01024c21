"""Reading and writing organization policies (SCPs and RCPs) for the guardrails. Every call is
the management account's: only it may read or attach organization policies."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from ..state.guardrails import OrgPolicy, PolicyTypeState
from .errors import is_code
from .session import AwsAccess

NOT_FOUND = ("TargetNotFoundException", "OrganizationalUnitNotFoundException")


class UnknownTarget(LookupError):
    """A target (an OU of the spec) the organization does not have."""

    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


def root(access: AwsAccess, account_id: str, region: str) -> tuple[str, set[str]]:
    """The root's id and the policy types enabled on it."""
    found = access.client("organizations", account_id, region).list_roots()["Roots"][0]
    return found["Id"], {t["Type"] for t in found.get("PolicyTypes", []) if t.get("Status") == "ENABLED"}


def observe(access: AwsAccess, account_id: str, region: str, policy_type: str, enabled: bool,
            names: Iterable[str], targets: Iterable[str]) -> PolicyTypeState:
    """Vigil's policies (``names``, found by name) with their content and targets, and what is
    attached to each of ``targets``, others' contents included. Read whether or not the type is
    enabled: a target the organization does not have is found before any write."""
    org = access.client("organizations", account_id, region)
    wanted = set(names)
    ours = {}
    for page in org.get_paginator("list_policies").paginate(Filter=policy_type):
        for summary in page["Policies"]:
            if summary["Name"] in wanted:
                ours[summary["Name"]] = _read(org, summary, with_targets=True)
    attached: dict[str, tuple[OrgPolicy, ...]] = {}
    for target in targets:
        found = []
        try:
            for page in org.get_paginator("list_policies_for_target").paginate(TargetId=target, Filter=policy_type):
                for summary in page["Policies"]:
                    mine = ours.get(summary["Name"])
                    found.append(mine if mine is not None and mine.id == summary["Id"] else _read(org, summary))
        except ClientError as exc:
            if is_code(exc, *NOT_FOUND):
                raise UnknownTarget(target) from None
            raise
        attached[target] = tuple(found)
    return PolicyTypeState(policy_type, enabled, ours, attached)


# The contents of AWS managed policies (FullAWSAccess, RCPFullAWSAccess), by id: no one in an
# organization can edit them, so each is read once per process rather than at every resync. A few
# entries, the same in every organization.
_AWS_MANAGED_CONTENT: dict[str, str] = {}


def _content(org: Any, summary: dict[str, Any]) -> str:
    if summary.get("AwsManaged") and summary["Id"] in _AWS_MANAGED_CONTENT:
        return _AWS_MANAGED_CONTENT[summary["Id"]]
    content: str = org.describe_policy(PolicyId=summary["Id"])["Policy"]["Content"]
    if summary.get("AwsManaged"):
        _AWS_MANAGED_CONTENT[summary["Id"]] = content
    return content


def _read(org: Any, summary: dict[str, Any], with_targets: bool = False) -> OrgPolicy:
    content = _content(org, summary)
    targets: tuple[str, ...] = ()
    if with_targets:
        targets = tuple(t["TargetId"] for page in org.get_paginator("list_targets_for_policy").paginate(
            PolicyId=summary["Id"]) for t in page["Targets"])
    return OrgPolicy(summary["Id"], summary["Name"], content, bool(summary.get("AwsManaged")), targets)


def policy_ids(access: AwsAccess, account_id: str, region: str, policy_type: str,
               names: Iterable[str]) -> dict[str, str]:
    """The ids of the policies of ``names`` (one read a page of policies): {name: id}."""
    wanted = set(names)
    org = access.client("organizations", account_id, region)
    return {p["Name"]: p["Id"] for page in org.get_paginator("list_policies").paginate(Filter=policy_type)
            for p in page["Policies"] if p["Name"] in wanted}


def create_and_attach(client: Any, params: dict[str, Any]) -> None:
    """CreatePolicy, with the owner's tags, then AttachPolicy to each target. A create whose answer
    is lost is refused again as DuplicatePolicyException: the next pass finds the policy by name
    and attaches it then."""
    create = {k: v for k, v in params.items() if k != "TargetIds"}
    policy = client.create_policy(**create)["Policy"]["PolicySummary"]
    for target in params["TargetIds"]:
        client.attach_policy(PolicyId=policy["Id"], TargetId=target)


def delete_policy(access: AwsAccess, account_id: str, region: str, policy: OrgPolicy) -> None:
    """Detach the policy everywhere, then delete it (AWS refuses to delete an attached policy)."""
    org = access.client("organizations", account_id, region)
    for target in policy.targets:
        org.detach_policy(PolicyId=policy.id, TargetId=target)
    org.delete_policy(PolicyId=policy.id)
