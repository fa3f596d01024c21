"""Which accounts a spec means: core accounts, workloads, and a control's scope; and what the
organization itself must allow for a service's organization-wide features (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from ..api.common import Scope
from ..api.organization import OrganizationSpec
from ..state.organizations import OrganizationInventory
from .ownership import Owner
from .actions import Action, Change


class SelectionError(ValueError):
    """The spec names something the organization does not have."""


def core_account_ids(spec: OrganizationSpec, inventory: OrganizationInventory) -> set[str]:
    a = spec.accounts
    return {i for i in (a.management or inventory.management_account_id, a.log_archive, a.security,
                        a.shared_network) if i}


def missing_core_accounts(spec: OrganizationSpec, inventory: OrganizationInventory) -> list[str]:
    """Core accounts the spec names that are not ACTIVE members of the organization."""
    active = set(inventory.active_ids)
    named = {"management": spec.accounts.management, "logArchive": spec.accounts.log_archive,
             "security": spec.accounts.security, "sharedNetwork": spec.accounts.shared_network}
    return [f"accounts.{role} {account}" for role, account in named.items() if account and account not in active]


def workload_account_ids(spec: OrganizationSpec, inventory: OrganizationInventory) -> list[str]:
    w = spec.workloads
    core = core_account_ids(spec, inventory)
    active = [a for a in inventory.accounts if a.status == "ACTIVE"]
    if w.all:
        chosen = [a.id for a in active if a.id not in core]
    else:
        ous = set(w.organizational_units)
        wanted = set(w.account_ids)
        chosen = [a.id for a in active if a.id in wanted or ous.intersection(a.ou_path)]
    excluded = set(w.exclude_account_ids)
    return sorted(i for i in chosen if i not in excluded)


def scope_account_ids(scope: Scope | str, account_ids: list[str], spec: OrganizationSpec,
                      inventory: OrganizationInventory) -> list[str]:
    """The accounts a control kind covers, for its ``scope``."""
    scope = Scope(scope)
    if scope is Scope.SHARED_NETWORK:
        if not spec.accounts.shared_network:
            raise SelectionError("scope SharedNetwork needs accounts.sharedNetwork in the Organization")
        return [spec.accounts.shared_network]
    if scope is Scope.WORKLOADS:
        return workload_account_ids(spec, inventory)
    if scope is Scope.ALL_ACCOUNTS:
        return sorted(inventory.active_ids)
    unknown = sorted(set(account_ids) - set(inventory.active_ids))
    if unknown:
        raise SelectionError(f"accountIds not ACTIVE in the organization: {', '.join(unknown)}")
    return sorted(set(account_ids))


def target_regions(requested: list[str], governed: list[str]) -> list[str]:
    """A control's regions: its own list, which must stay within the governed regions."""
    if not requested:
        return list(governed)
    outside = [r for r in requested if r not in governed]
    if outside:
        raise SelectionError(f"regions {', '.join(outside)} are not governed by the Organization")
    return list(dict.fromkeys(requested))


def plan_trusted_access(service_principal: str, trusted: set[str], target: str, management_account_id: str,
                        region: str) -> list[Action]:
    """A service's organization-wide features (an organization trail, GuardDuty's delegated
    administrator) need its trusted access in AWS Organizations, enabled from the management account."""
    if service_principal in trusted:
        return []
    return [Action(target, management_account_id, region, "organizations", "EnableAWSServiceAccess",
                   {"ServicePrincipal": service_principal},
                   (Change("trusted_access", sorted(trusted), service_principal),))]


@dataclass(frozen=True)
class DelegatedRegion:
    """One region of a service run organization-wide by a delegated administrator (GuardDuty,
    Security Hub): who designates it, who administers, and how targets there are named."""

    management_account_id: str  # designates the delegated administrator
    admin_account_id: str  # the security account
    region: str
    owner: Owner  # who signs what Vigil creates (planning.ownership)

    @property
    def label(self) -> str:
        return f"{self.admin_account_id}/{self.region}"

    def member_label(self, account_id: str) -> str:
        return f"{account_id}/{self.region}"
