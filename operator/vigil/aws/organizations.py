"""AWS Organizations: who is in the organization, and where in the OU tree."""

from __future__ import annotations

from typing import Any

from ..state.organizations import Account, OrganizationInventory
from .session import AwsAccess


def discover(access: AwsAccess, *, with_ou_paths: bool) -> OrganizationInventory:
    """Read the organization from the management account.

    The OU walk costs a call per OU and is only made when a spec selects accounts by OU.
    """
    me = access.base_account_id()
    org = access.client("organizations", me, access.settings.home_region)
    description = org.describe_organization()["Organization"]
    if with_ou_paths:
        accounts = _walk(org)
    else:
        accounts = [Account(a["Id"], a.get("Name", ""), a.get("Status", "ACTIVE"), email=a.get("Email", ""))
                    for page in org.get_paginator("list_accounts").paginate() for a in page["Accounts"]]
    return OrganizationInventory(
        organization_id=description["Id"],
        management_account_id=description["MasterAccountId"],
        accounts=tuple(sorted(accounts, key=lambda a: a.id)),
    )


def _walk(org: Any) -> list[Account]:
    accounts: list[Account] = []
    roots = [r["Id"] for r in org.list_roots()["Roots"]]
    stack: list[tuple[str, tuple[str, ...]]] = [(root, ()) for root in roots]
    while stack:
        parent, path = stack.pop()
        for page in org.get_paginator("list_accounts_for_parent").paginate(ParentId=parent):
            accounts.extend(Account(a["Id"], a.get("Name", ""), a.get("Status", "ACTIVE"), path, a.get("Email", ""))
                            for a in page["Accounts"])
        for page in org.get_paginator("list_organizational_units_for_parent").paginate(ParentId=parent):
            stack.extend((ou["Id"], (*path, ou["Id"])) for ou in page["OrganizationalUnits"])
    return accounts


def trusted_services(access: AwsAccess) -> set[str]:
    """Service principals with trusted access to the organization (CloudTrail needs it for an
    organization trail, GuardDuty and Config for their organization features)."""
    org = access.client("organizations", access.base_account_id(), access.settings.home_region)
    return {s["ServicePrincipal"] for page in org.get_paginator("list_aws_service_access_for_organization").paginate()
            for s in page["EnabledServicePrincipals"]}
