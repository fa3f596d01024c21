"""Organizations gaps: organization-wide reads for the management account only; delegated
administrators filtered by any trusted-access service principal."""

from __future__ import annotations

from typing import Any

from moto.core.utils import unix_time
from moto.organizations.models import (FakeDelegatedAdministrator, FakeServiceAccess, OrganizationsBackend,
                                      organizations_backends)
from moto.utilities.utils import get_partition
from moto.organizations.responses import OrganizationsResponse

from ._core import AwsError, Gap

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
)
