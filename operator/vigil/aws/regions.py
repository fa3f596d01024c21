"""AWS Account Management: which Regions an account has enabled (account:ListRegions)."""

from __future__ import annotations

from .session import AwsAccess


def opt_status(access: AwsAccess, account_id: str) -> dict[str, str]:
    """Every Region of the account's partition and its opt-in status (ENABLED_BY_DEFAULT, ENABLED,
    ENABLING, DISABLING, DISABLED), asked as the account itself: naming a member from the
    management account would need trusted access for account.amazonaws.com."""
    client = access.client("account", account_id, access.settings.home_region)
    return {region["RegionName"]: region["RegionOptStatus"]
            for page in client.get_paginator("list_regions").paginate(PaginationConfig={"PageSize": 50})
            for region in page["Regions"]}
