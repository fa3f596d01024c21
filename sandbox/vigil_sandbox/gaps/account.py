"""AWS Account Management: which Regions an account has enabled, which moto does not model at all
(its account service has alternate contacts only).

Every account sees the Regions of its partition (botocore's partition data): those AWS enables by
default as ENABLED_BY_DEFAULT, the opt-in ones (AWS's, launched after March 2019) DISABLED until
EnableRegion. As in AWS, an account asks about itself, or the management account about a member
(AccountId) once the organization trusts account.amazonaws.com; the management account may not
name itself; a Region enabled by default cannot be enabled or disabled. Not modelled: the hours
AWS takes (ENABLING and DISABLING are never seen: the change is immediate), delegated
administrators.
"""

from __future__ import annotations

import json
import os
from typing import Any

import botocore
from moto.account import urls as account_urls
from moto.account.models import account_backends
from moto.account.responses import AccountResponse

from ._core import AwsError, Gap
from .organizations import is_active_account, is_trusted, organization_of

ACCOUNT_MANAGEMENT = "account.amazonaws.com"
# The Regions AWS launched after March 20, 2019: disabled in an account until it opts in.
OPT_IN_REGIONS = frozenset({
    "af-south-1", "ap-east-1", "ap-east-2", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5",
    "ap-southeast-6", "ap-southeast-7", "ca-west-1", "eu-central-2", "eu-south-1", "eu-south-2", "il-central-1",
    "me-central-1", "me-south-1", "me-west-1", "mx-central-1", "sa-west-1",
})
ENABLED, DISABLED, BY_DEFAULT = "ENABLED", "DISABLED", "ENABLED_BY_DEFAULT"


# --- Domain ----------------------------------------------------------------------------------------


def partition_regions(partition: str) -> list[str]:
    """The Regions of a partition, as botocore knows them (its global pseudo-regions left out)."""
    path = os.path.join(os.path.dirname(botocore.__file__), "data", "partitions.json")
    with open(path) as file:
        partitions = json.load(file)["partitions"]
    found = next((p for p in partitions if p["id"] == partition), None)
    return sorted(name for name in (found or {}).get("regions", {}) if not name.endswith("-global"))


def opt_status(account: str, partition: str) -> dict[str, str]:
    """Each Region's opt-in status for an account, kept on moto's account backend (so moto's reset
    forgets the opt-ins with everything else)."""
    backend = account_backends[account][partition]
    enabled: set[str] = backend.__dict__.setdefault("_vigil_enabled_regions", set())
    return {region: BY_DEFAULT if region not in OPT_IN_REGIONS else ENABLED if region in enabled else DISABLED
            for region in partition_regions(partition)}


def set_opt_in(account: str, partition: str, region: str, enabled: bool) -> None:
    status = opt_status(account, partition).get(region)
    if status is None:
        raise AwsError("ValidationException", f"{region} is not a Region of partition {partition}.")
    if status == BY_DEFAULT:
        raise AwsError("ValidationException", f"{region} is enabled by default and cannot be enabled or disabled.")
    chosen: set[str] = account_backends[account][partition].__dict__["_vigil_enabled_regions"]
    (chosen.add if enabled else chosen.discard)(region)


def target_account(caller: str, partition: str, params: dict[str, Any]) -> str:
    """The account a request is about: the caller's own, or a member its management account names."""
    named = params.get("AccountId")
    if not named:
        return caller
    organization = organization_of(caller, partition)
    if organization is None or organization.org is None or organization.account_id != caller:
        raise AwsError("AccessDeniedException", "Only the organization's management account may name another "
                                                "account.")
    if named == caller:
        raise AwsError("ValidationException", "The management account can't specify its own AccountId; omit it.")
    if not is_trusted(organization, ACCOUNT_MANAGEMENT):
        raise AwsError("AccessDeniedException", f"Trusted access for {ACCOUNT_MANAGEMENT} is not enabled in the "
                                                "organization.")
    if not is_active_account(organization, named):
        raise AwsError("AccessDeniedException", f"Account {named} is not a member of the organization.")
    return named


# --- Wire ------------------------------------------------------------------------------------------

PAGE = 50  # ListRegions' MaxResults at most


def _list_regions(self: AccountResponse, params: dict[str, Any]) -> dict[str, Any]:
    account = target_account(self.current_account, self.partition, params)
    wanted = set(params.get("RegionOptStatusContains") or ())
    regions = [{"RegionName": name, "RegionOptStatus": status}
               for name, status in opt_status(account, self.partition).items() if not wanted or status in wanted]
    start = int(params.get("NextToken") or 0)
    size = int(params.get("MaxResults") or PAGE)
    answer: dict[str, Any] = {"Regions": regions[start:start + size]}
    if start + size < len(regions):
        answer["NextToken"] = str(start + size)
    return answer


def _get_region_opt_status(self: AccountResponse, params: dict[str, Any]) -> dict[str, Any]:
    account = target_account(self.current_account, self.partition, params)
    status = opt_status(account, self.partition).get(params["RegionName"])
    if status is None:
        raise AwsError("ValidationException", f"{params['RegionName']} is not a Region.")
    return {"RegionName": params["RegionName"], "RegionOptStatus": status}


def _enable_region(self: AccountResponse, params: dict[str, Any]) -> dict[str, Any]:
    set_opt_in(target_account(self.current_account, self.partition, params), self.partition, params["RegionName"],
               enabled=True)
    return {}


def _disable_region(self: AccountResponse, params: dict[str, Any]) -> dict[str, Any]:
    set_opt_in(target_account(self.current_account, self.partition, params), self.partition, params["RegionName"],
               enabled=False)
    return {}


def _register_paths() -> None:
    """moto's server routes an account request by its path, and knows only the alternate contacts'."""
    for operation in ("listRegions", "getRegionOptStatus", "enableRegion", "disableRegion"):
        account_urls.url_paths.setdefault(f"{{0}}/{operation}$", AccountResponse.dispatch)


_register_paths()


def _gap(operation: str, handler: Any, sandbox: str) -> Gap:
    return Gap("account", operation, "addition", AccountResponse, handler,
               moto="not implemented (moto's account service has alternate contacts only)", sandbox=sandbox)


GAPS: tuple[Gap, ...] = (
    _gap("ListRegions", _list_regions,
         "the partition's Regions: opt-in ones DISABLED until enabled, the others ENABLED_BY_DEFAULT; "
         "RegionOptStatusContains, pages of MaxResults; a member by AccountId from the management account "
         "with trusted access for account.amazonaws.com"),
    _gap("GetRegionOptStatus", _get_region_opt_status, "one Region's status, as ListRegions"),
    _gap("EnableRegion", _enable_region, "an opt-in Region ENABLED at once; a default Region is ValidationException"),
    _gap("DisableRegion", _disable_region, "an opt-in Region DISABLED at once; a default Region is "
                                           "ValidationException"),
)
