"""Organizations gaps: organization-wide reads for the management account only; delegated
administrators filtered by any trusted-access service principal; service and resource control
policies checked as AWS checks them (size, syntax, enabled types, attachments per target), and the
policy types' AWS-managed policies attached and detached with the type.

The policies themselves are applied by vigil_sandbox.organization_policies, to every request."""

from __future__ import annotations

import json
from typing import Any

from moto.core.utils import unix_time
from moto.organizations.models import (FakeDelegatedAdministrator, FakePolicy, FakeRoot, FakeServiceAccess,
                                      OrganizationsBackend, organizations_backends)
from moto.organizations.responses import OrganizationsResponse
from moto.organizations.utils import DEFAULT_RCP_POLICY_ID, DEFAULT_SCP_POLICY_ID
from moto.utilities.utils import get_partition

from vigil_sandbox.policy_language import (RESOURCE_CONTROL_POLICY, SERVICE_CONTROL_POLICY, MalformedPolicy,
                                           parse_policy)

from ._core import AwsError, Gap, SandboxContractError

# --- Domain --------------------------------------------------------------------------------------


def organization_of(account: str, partition: str) -> OrganizationsBackend | None:
    """The organization an account belongs to, as its management account's backend."""
    own = organizations_backends[account][partition]
    if own.org is not None:
        return own
    if account in organizations_backends.master_accounts:
        management, org_partition = organizations_backends.master_accounts[account]
        return organizations_backends[management][org_partition]
    return None


def is_active_account(organization: OrganizationsBackend, account: str) -> bool:
    return any(a.id == account and a.status == "ACTIVE" for a in organization.accounts)


def is_trusted(organization: OrganizationsBackend, principal: str) -> bool:
    return any(s["ServicePrincipal"] == principal for s in organization.services)


def management_organization(account: str, region: str, refusal: AwsError) -> OrganizationsBackend:
    """The organization ``account`` manages; ``refusal`` (each service words it its own way) if none."""
    organization = organizations_backends[account][get_partition(region)]
    if organization.org is None:
        raise refusal
    return organization


def require_management_account(account: str, partition: str) -> None:
    """Organization-wide reads are for the management account (delegated admins not modelled)."""
    if organizations_backends[account][partition].org is not None:
        return
    if account in organizations_backends.master_accounts:
        raise AwsError(
            "AccessDeniedException", "You don't have permissions to access this resource."
        )
    raise AwsError(
        "AWSOrganizationsNotInUseException",
        "Your account is not a member of an organization.",
    )


def delegated_administrators(
    account: str, partition: str, service_principal: str | None
) -> list[dict[str, Any]]:
    """The organization's delegated administrators, for one service principal or all."""
    if service_principal and not FakeServiceAccess.trusted_service(service_principal):
        raise AwsError("InvalidInputException", "You specified an unrecognized service principal.")
    admins = organizations_backends[account][partition].admins
    return [
        admin.describe()
        for admin in admins
        if service_principal is None or service_principal in admin.services
    ]


def register_delegated_administrator(account: str, partition: str, admin_account: str, service_principal: str) -> None:
    """Any service with trusted access can have a delegated administrator (AWS Config's
    config.amazonaws.com for aggregators, say), not only the few moto lists."""
    require_management_account(account, partition)
    if not FakeServiceAccess.trusted_service(service_principal):
        raise AwsError("InvalidInputException", "You specified an unrecognized service principal.")
    if admin_account == account:
        raise AwsError("ConstraintViolationException",
                       "You cannot register the management account as a delegated administrator.")
    backend = organizations_backends[account][partition]
    if admin_account not in {a.id for a in backend.accounts}:
        raise AwsError("AccountNotFoundException", f"You specified an account that doesn't exist: {admin_account}.")
    admin = next((a for a in backend.admins if a.account.id == admin_account), None)
    if admin is None:
        admin = FakeDelegatedAdministrator(backend.get_account_by_id(admin_account))
        backend.admins.append(admin)
    if service_principal in admin.services:
        raise AwsError("AccountAlreadyRegisteredException",
                       "The provided account is already a delegated administrator for your organization.")
    admin.services[service_principal] = {"ServicePrincipal": service_principal, "DelegationEnabledDate": unix_time()}


# --- Domain: service and resource control policies -----------------------------------------------


# AWS Organizations User Guide, "Quotas and service limits": (characters in a document, policies of
# the type in an organization, policies of the type attached to one root, OU or account).
POLICY_LIMITS = {SERVICE_CONTROL_POLICY: (5120, 10000, 5), RESOURCE_CONTROL_POLICY: (5120, 1000, 5)}
# The AWS-managed policy every root, OU and account has while the type is enabled.
MANAGED_POLICIES = {SERVICE_CONTROL_POLICY: DEFAULT_SCP_POLICY_ID, RESOURCE_CONTROL_POLICY: DEFAULT_RCP_POLICY_ID}


def constraint_violation(reason: str, message: str) -> AwsError:
    error = AwsError("ConstraintViolationException", message)
    error.reason = reason  # type: ignore[attr-defined]  # moto serializes it as the shape's Reason
    return error


def _malformed(why: str) -> AwsError:
    return AwsError("MalformedPolicyDocumentException",
                    f"The provided policy document does not meet the requirements of the specified policy type: {why}")


def check_policy_document(policy_type: str, content: str) -> None:
    """What AWS refuses in an SCP or RCP document; other policy types are left to moto.

    A document AWS takes and the sandbox cannot evaluate (StringEqualsIgnoreCase, say) is taken:
    the evaluator refuses it, loudly, only when it applies to a request.
    """
    if policy_type not in POLICY_LIMITS:
        return
    if len(content) > POLICY_LIMITS[policy_type][0]:
        raise constraint_violation("POLICY_CONTENT_LIMIT_EXCEEDED",
                                   f"You attempted to create a policy that is larger than the maximum size "
                                   f"({POLICY_LIMITS[policy_type][0]} characters).")
    try:
        parse_policy(content, policy_type)
    except MalformedPolicy as error:
        raise _malformed(str(error)) from None
    except SandboxContractError:
        pass
    if policy_type == RESOURCE_CONTROL_POLICY:
        statements = json.loads(content)["Statement"]
        for statement in statements if isinstance(statements, list) else [statements]:
            if statement.get("Effect") == "Allow":  # "RCP syntax": Allow is RCPFullAWSAccess's alone
                raise _malformed("the effect of Allow is supported only for the RCPFullAWSAccess policy")


def policy_type_enabled(organization: OrganizationsBackend, policy_type: str) -> bool:
    root = next((ou for ou in organization.ou if isinstance(ou, FakeRoot)), None)
    return root is not None and any(t["Type"] == policy_type for t in root.policy_types)


def policy_targets(organization: OrganizationsBackend) -> list[Any]:
    """Every root, OU and account of the organization: what a policy can be attached to."""
    return [*organization.ou, *organization.accounts]


def _policy(organization: OrganizationsBackend, policy_id: str) -> FakePolicy | None:
    return next((p for p in organization.policies if p.id == policy_id), None)


def _target(organization: OrganizationsBackend, target_id: str) -> Any:
    return next((t for t in policy_targets(organization) if t.id == target_id), None)


def create_policy(organization: OrganizationsBackend, policy_type: str, content: str) -> None:
    check_policy_document(policy_type, content)
    if policy_type in POLICY_LIMITS:
        limit = POLICY_LIMITS[policy_type][1]
        if sum(1 for p in organization.policies if p.type == policy_type) >= limit:
            raise constraint_violation("POLICY_NUMBER_LIMIT_EXCEEDED",
                                       f"You attempted to exceed the number of policies of this type ({limit}) "
                                       "that you can have in an organization.")


def update_policy(organization: OrganizationsBackend, policy_id: str, content: str | None) -> None:
    policy = _policy(organization, policy_id)
    if policy is not None and content is not None:  # moto answers PolicyNotFoundException
        check_policy_document(policy.type, content)


def attach_policy(organization: OrganizationsBackend, policy_id: str, target_id: str) -> None:
    """AWS's checks before an attachment: the type enabled, not attached yet, at most 5 of a type."""
    policy, target = _policy(organization, policy_id), _target(organization, target_id)
    if policy is None or target is None:
        return  # moto answers PolicyNotFoundException, TargetNotFoundException, ...
    if not policy_type_enabled(organization, policy.type):
        raise AwsError("PolicyTypeNotEnabledException",
                       "This operation can be performed only for enabled policy types.")
    if policy in target.attached_policies:
        raise AwsError("DuplicatePolicyAttachmentException",
                       "The selected policy is already attached to the specified target.")
    if policy.type in POLICY_LIMITS:
        limit = POLICY_LIMITS[policy.type][2]
        if sum(1 for p in target.attached_policies if p.type == policy.type) >= limit:
            raise constraint_violation("MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                                       f"You attempted to exceed the number of policies of this type ({limit}) "
                                       f"that can be attached to {target_id}.")


def detach_policy(organization: OrganizationsBackend, policy_id: str, target_id: str) -> None:
    """AWS's checks before a detachment: attached; never RCPFullAWSAccess; never a target's last SCP."""
    policy, target = _policy(organization, policy_id), _target(organization, target_id)
    if policy is None or target is None:
        return
    if policy not in target.attached_policies:
        raise AwsError("PolicyNotAttachedException", "The policy isn't attached to the specified target.")
    if policy.id == DEFAULT_RCP_POLICY_ID:
        raise constraint_violation("MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                                   "You cannot detach RCPFullAWSAccess: it stays attached to every root, OU and "
                                   "account while resource control policies are enabled.")
    if policy.type == SERVICE_CONTROL_POLICY and sum(1 for p in target.attached_policies if p.type == policy.type) == 1:
        raise constraint_violation("MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED",
                                   f"{target_id} must have at least one service control policy attached: attach "
                                   "its replacement before you detach this one.")


def attach_managed_policy(organization: OrganizationsBackend, policy_type: str) -> None:
    """As EnablePolicyType does: the type's AWS-managed policy on every root, OU and account."""
    managed = MANAGED_POLICIES.get(policy_type)
    if managed is None or _policy(organization, managed) is None:
        return
    for target in policy_targets(organization):
        if not any(p.id == managed for p in target.attached_policies):
            organization.attach_policy(PolicyId=managed, TargetId=target.id)


def detach_policies_of_type(organization: OrganizationsBackend, policy_type: str) -> None:
    """As DisablePolicyType does: every policy of the type detached from every target, not deleted
    ("Disabling a policy type"); re-enabled, the targets start again from the managed policy alone."""
    for target in policy_targets(organization):
        for policy in [p for p in target.attached_policies if p.type == policy_type]:
            organization.detach_policy(PolicyId=policy.id, TargetId=target.id)


# --- Wire ----------------------------------------------------------------------------------------


def _guard_management_read(self: OrganizationsResponse, params: dict[str, Any]) -> None:
    require_management_account(self.current_account, self.partition)


def _list_delegated_administrators(
    self: OrganizationsResponse, params: dict[str, Any]
) -> dict[str, Any]:
    require_management_account(self.current_account, self.partition)
    admins = delegated_administrators(
        self.current_account, self.partition, params.get("ServicePrincipal")
    )
    return {"DelegatedAdministrators": admins}


def _register_delegated_administrator(self: OrganizationsResponse, params: dict[str, Any]) -> dict[str, Any]:
    register_delegated_administrator(self.current_account, self.partition, params["AccountId"],
                                     params["ServicePrincipal"])
    return {}


def _management_organization(self: OrganizationsResponse) -> OrganizationsBackend:
    # Policies are managed from the management account (delegated administrators not modelled);
    # moto's member backend has no organization and fails on them with a 500.
    require_management_account(self.current_account, self.partition)
    return self.organizations_backend


def _create_policy(self: OrganizationsResponse, params: dict[str, Any]) -> None:
    create_policy(_management_organization(self), params["Type"], params["Content"])


def _update_policy(self: OrganizationsResponse, params: dict[str, Any]) -> None:
    update_policy(_management_organization(self), params["PolicyId"], params.get("Content"))


def _attach_policy(self: OrganizationsResponse, params: dict[str, Any]) -> None:
    attach_policy(_management_organization(self), params["PolicyId"], params["TargetId"])


def _detach_policy(self: OrganizationsResponse, params: dict[str, Any]) -> None:
    detach_policy(_management_organization(self), params["PolicyId"], params["TargetId"])


def _enable_policy_type(self: OrganizationsResponse, params: dict[str, Any]) -> dict[str, Any]:
    organization = _management_organization(self)
    answer = organization.enable_policy_type(**params)
    attach_managed_policy(organization, params["PolicyType"])
    return answer


def _disable_policy_type(self: OrganizationsResponse, params: dict[str, Any]) -> dict[str, Any]:
    organization = _management_organization(self)
    answer = organization.disable_policy_type(**params)
    detach_policies_of_type(organization, params["PolicyType"])
    return answer


def _management_read(operation: str) -> Gap:
    return Gap(
        "organizations", operation, "guard", OrganizationsResponse, _guard_management_read,
        moto="answers member accounts, from their empty view",
        sandbox="AccessDeniedException unless the caller is the management account",
    )


GAPS: tuple[Gap, ...] = (
    _management_read("ListAccounts"),
    _management_read("ListRoots"),
    _management_read("ListOrganizationalUnitsForParent"),
    _management_read("ListAccountsForParent"),
    Gap(
        "organizations", "ListDelegatedAdministrators", "fix", OrganizationsResponse,
        _list_delegated_administrators,
        moto="rejects ServicePrincipal filters such as securityhub.amazonaws.com",
        sandbox="filters by any trusted-access service principal; management account only",
    ),
    Gap(
        "organizations", "RegisterDelegatedAdministrator", "fix", OrganizationsResponse,
        _register_delegated_administrator,
        moto="InvalidInputException for principals outside its short list, such as config.amazonaws.com",
        sandbox="any trusted-access service principal; management account only",
    ),
    Gap(
        "organizations", "CreatePolicy", "guard", OrganizationsResponse, _create_policy,
        moto="takes any content of any size; fails with a 500 from a member account",
        sandbox="SCP and RCP documents: ConstraintViolationException POLICY_CONTENT_LIMIT_EXCEEDED over 5,120 "
                "characters, MalformedPolicyDocumentException for what is not an SCP or RCP (an RCP Allow "
                "included), POLICY_NUMBER_LIMIT_EXCEEDED past 10,000 SCPs or 1,000 RCPs; management account only",
    ),
    Gap(
        "organizations", "UpdatePolicy", "guard", OrganizationsResponse, _update_policy,
        moto="takes any content",
        sandbox="the new content checked as at CreatePolicy; management account only",
    ),
    Gap(
        "organizations", "AttachPolicy", "guard", OrganizationsResponse, _attach_policy,
        moto="attaches a policy whose type is not enabled, any number per target, and again silently",
        sandbox="PolicyTypeNotEnabledException; DuplicatePolicyAttachmentException; ConstraintViolationException "
                "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED past 5 SCPs or RCPs on a root, OU or account; "
                "management account only",
    ),
    Gap(
        "organizations", "DetachPolicy", "guard", OrganizationsResponse, _detach_policy,
        moto="detaches a target's last SCP and RCPFullAWSAccess; ignores a policy that is not attached",
        sandbox="PolicyNotAttachedException; ConstraintViolationException MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED "
                "for a target's last SCP and for RCPFullAWSAccess; management account only",
    ),
    Gap(
        "organizations", "EnablePolicyType", "fix", OrganizationsResponse, _enable_policy_type,
        moto="attaches nothing (its managed policies are attached at creation, and lost to a disable)",
        sandbox="FullAWSAccess or RCPFullAWSAccess attached to every root, OU and account lacking it",
    ),
    Gap(
        "organizations", "DisablePolicyType", "fix", OrganizationsResponse, _disable_policy_type,
        moto="leaves the type's policies attached, to apply again when it is re-enabled",
        sandbox="every policy of the type detached from every root, OU and account (not deleted)",
    ),
)
