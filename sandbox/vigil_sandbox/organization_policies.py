"""Service control policies (SCPs) and resource control policies (RCPs), applied to every request
the sandbox answers: moto stores an organization's policies and never applies them.

Which policies apply, after AWS Organizations' User Guide ("SCP evaluation", "RCP evaluation",
"Resource control policies") and the IAM User Guide ("Policy evaluation logic"):

- SCPs limit the principals of member accounts, not the management account's, and never a
  service-linked role, once SERVICE_CONTROL_POLICY is enabled on the root. A request is allowed only
  if, at every level from the root through each OU down to the account, some attached SCP has an
  Allow statement for it (FullAWSAccess gives that), and no attached SCP has a Deny that applies.
- RCPs limit access to the resources of member accounts (not the management account's), whoever
  asks, from inside the organization or not, once RESOURCE_CONTROL_POLICY is enabled, for the
  services that support RCPs; never a service-linked role. RCPFullAWSAccess is always attached, so
  only a Deny statement matters: any RCP from the root down to the resource's account.
- Explicit denies first, SCPs' then RCPs'; then the SCPs' implicit deny.

A request neither could apply to costs a dictionary look-up or two (``evaluate`` returns None); the
parsed documents are cached by (policy id, content).

Not modelled: IAM identity policies, permission boundaries, session policies, resource-based
policies (their own gaps aside), AWS service principals' calls (the sandbox sees none), and the
permissions AWS checks implicitly (ec2:CreateTags on a create with TagSpecifications, ...).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from moto.organizations.models import FakePolicy, FakeRoot, OrganizationsBackend, organizations_backends

from vigil_sandbox.callers import Caller, caller_of
from vigil_sandbox.contract import SandboxContractError
from vigil_sandbox.policy_language import (
    RESOURCE_CONTROL_POLICY,
    SERVICE_CONTROL_POLICY,
    MalformedPolicy,
    Policy,
    RequestContext,
    parse_policy,
)
from vigil_sandbox.request_context import Target, WireRequest, request_keys, targets

# The services whose actions RCPs apply to, by botocore name (AWS Organizations User Guide,
# "Resource control policies", and its later additions: ECR and OpenSearch Serverless in June 2025,
# CloudWatch Logs and Cognito user pools in January 2026).
RCP_SERVICES = frozenset(
    {"s3", "sts", "kms", "sqs", "secretsmanager", "ecr", "opensearchserverless", "logs", "cognito-idp"}
)
POLICY_TYPE_NAMES = {
    SERVICE_CONTROL_POLICY: "service control policy",
    RESOURCE_CONTROL_POLICY: "resource control policy",
}

# The levels of an account, root first: (target id, the policies of a type attached to it).
Levels = list[tuple[str, list[FakePolicy]]]


@dataclass(frozen=True)
class Denial:
    """Why the organization's policies deny one action."""

    policy_type: str  # SERVICE_CONTROL_POLICY or RESOURCE_CONTROL_POLICY
    caller: str  # the caller's ARN, as AWS's errors name it
    action: str
    resource: str | None
    policy_id: str | None = None  # the denying policy; None for the SCPs' implicit deny
    policy_name: str | None = None
    policy_arn: str | None = None
    target_id: str | None = None  # implicit deny: the root, OU or account where no SCP allows

    @property
    def message(self) -> str:
        """AWS's message: "User: <arn> is not authorized to perform: <action> on resource: <arn> ..."."""
        kind = POLICY_TYPE_NAMES[self.policy_type]
        on = f" on resource: {self.resource}" if self.resource not in (None, "*") else ""
        head = f"User: {self.caller} is not authorized to perform: {self.action}{on}"
        if self.policy_id is None:
            return f"{head} because no {kind} allows the {self.action} action"
        return f"{head} with an explicit deny in a {kind}: {self.policy_arn}"

    @property
    def label(self) -> str:
        """What denied it, as the call record says (AwsCall.denied)."""
        kind = POLICY_TYPE_NAMES[self.policy_type]
        if self.policy_id is None:
            return f"{kind}: none allows {self.action} at {self.target_id}"
        return f"{kind} {self.policy_id} ({self.policy_name})"


@dataclass(frozen=True)
class Decision:
    """The organization's policies on each target of a request (request_context.targets)."""

    targets: tuple[Target, ...]
    denials: tuple[Denial | None, ...]

    @property
    def denied(self) -> Denial | None:
        """The first denial, if any target is denied."""
        return next((d for d in self.denials if d is not None), None)


# --- moto's organization state ---------------------------------------------------------------------


def _organization(management: str, partition: str) -> OrganizationsBackend | None:
    # Read as plain dicts: moto's BackendDict takes a lock and copies its keys on every look-up,
    # and this runs on every request.
    backend = dict.get(dict.get(organizations_backends, management) or {}, partition)
    return backend if backend is not None and backend.org is not None else None


def _management_backend(account: str) -> OrganizationsBackend | None:
    """The organization a member account belongs to; None for the management account and outsiders."""
    found = organizations_backends.master_accounts.get(account)
    return _organization(*found) if found is not None else None


def _organization_id(account: str) -> str | None:
    backend = _management_backend(account)
    if backend is None:  # the management account itself, or no organization
        own = dict.get(organizations_backends, account)
        backend = next((b for b in list(dict.values(own)) if b.org is not None), None) if own else None
    return backend.org.id if backend is not None else None  # type: ignore[union-attr]


def _enabled(backend: OrganizationsBackend, policy_type: str) -> bool:
    root = next((ou for ou in backend.ou if isinstance(ou, FakeRoot)), None)
    return root is not None and any(t["Type"] == policy_type for t in root.policy_types)


def _levels(backend: OrganizationsBackend, account: str, policy_type: str) -> Levels | None:
    member = next((a for a in backend.accounts if a.id == account), None)
    if member is None:
        return None
    units = {ou.id: ou for ou in backend.ou}
    chain: list[Any] = [member]
    parent = member.parent_id
    while parent in units and len(chain) <= len(units):
        chain.append(units[parent])
        parent = units[parent].parent_id
    return [(node.id, [p for p in node.attached_policies if p.type == policy_type]) for node in reversed(chain)]


def policy_levels(account: str, policy_type: str) -> Levels | None:
    """The policies of a type that apply to a member account, level by level from the root; None
    when none can: not a member, or the type not enabled."""
    backend = _management_backend(account)
    if backend is None or not _enabled(backend, policy_type):
        return None
    return _levels(backend, account, policy_type)


def _rcps_enabled_anywhere() -> bool:
    for management, partition in set(organizations_backends.master_accounts.values()):
        backend = _organization(management, partition)
        if backend is not None and _enabled(backend, RESOURCE_CONTROL_POLICY):
            return True
    return False


# --- Evaluation ------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _parsed(policy_id: str, content: str, policy_type: str) -> Policy:
    try:
        return parse_policy(content, policy_type)
    except MalformedPolicy as error:
        raise SandboxContractError(f"policy {policy_id} is malformed ({error}); AWS would have refused it") from None


def _statements_of(policy: FakePolicy) -> Policy:
    try:
        return _parsed(policy.id, policy.content, policy.type)
    except SandboxContractError as error:
        raise SandboxContractError(f"{POLICY_TYPE_NAMES[policy.type]} {policy.id} ({policy.name}): {error}") from None


def _applying(levels: Levels) -> Iterator[tuple[str, FakePolicy, Policy]]:
    for target_id, policies in levels:
        for policy in policies:
            yield target_id, policy, _statements_of(policy)


def _explicit_deny(levels: Levels, policy_type: str, context: RequestContext, caller: Caller) -> Denial | None:
    for _, policy, parsed in _applying(levels):
        try:
            denying = parsed.denying(context)
        except SandboxContractError as error:
            raise SandboxContractError(f"{POLICY_TYPE_NAMES[policy_type]} {policy.id} ({policy.name}): {error}") \
                from None
        if denying is not None:
            return Denial(policy_type, caller.arn, context.action, context.resource, policy.id, policy.name,
                          policy.arn)
    return None


def _implicit_deny(levels: Levels, context: RequestContext, caller: Caller) -> Denial | None:
    for target_id, policies in levels:
        allowed = False
        for policy in policies:
            try:
                allowed = _statements_of(policy).allows(context)
            except SandboxContractError as error:
                raise SandboxContractError(f"service control policy {policy.id} ({policy.name}): {error}") from None
            if allowed:
                break
        if not allowed:
            return Denial(SERVICE_CONTROL_POLICY, caller.arn, context.action, context.resource, target_id=target_id)
    return None


def _principal_keys(caller: Caller, request: WireRequest) -> dict[str, Any]:
    keys: dict[str, Any] = {
        "aws:principalarn": caller.principal_arn,
        "aws:principalaccount": caller.account,
        "aws:principaltype": caller.principal_type,
        "aws:principalisawsservice": "false",
        "aws:viaawsservice": "false",
        "aws:securetransport": "true",  # the sandbox stands in for AWS's HTTPS endpoints
        "aws:requestedregion": request.region,
    }
    organization = _organization_id(caller.account)
    if organization:
        keys["aws:principalorgid"] = organization
    return keys


def evaluate(request: WireRequest) -> Decision | None:
    """The organization's SCPs and RCPs on a request; None when none can apply to it.

    Raises SandboxContractError for a policy the sandbox cannot evaluate on this request.
    """
    scps = policy_levels(request.account, SERVICE_CONTROL_POLICY)
    rcps_possible = request.service in RCP_SERVICES and _rcps_enabled_anywhere()
    if scps is None and not rcps_possible:
        return None
    found = tuple(targets(request))
    rcps_by_owner: dict[str, Levels | None] = {}
    if rcps_possible:
        rcps_by_owner = {t.owner: policy_levels(t.owner, RESOURCE_CONTROL_POLICY) for t in found if t.owner}
    if scps is None and not any(rcps_by_owner.values()):
        return None
    caller = caller_of(request.access_key, request.account)
    if caller.service_linked:
        return None
    common = {**_principal_keys(caller, request), **request_keys(request)}
    denials = []
    for target in found:
        keys = {**common, **target.keys}
        if target.owner:
            owner_organization = _organization_id(target.owner)
            if owner_organization:
                keys["aws:resourceorgid"] = owner_organization
        context = RequestContext(target.action, target.resource, keys)
        denial = _explicit_deny(scps, SERVICE_CONTROL_POLICY, context, caller) if scps else None
        rcps = rcps_by_owner.get(target.owner) if target.owner else None
        if denial is None and rcps:
            denial = _explicit_deny(rcps, RESOURCE_CONTROL_POLICY, context, caller)
        if denial is None and scps:
            denial = _implicit_deny(scps, context, caller)
        denials.append(denial)
    return Decision(found, tuple(denials))
