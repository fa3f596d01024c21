"""Account selection: core accounts, workloads by all/ids/OUs, scopes and regions."""

import pytest

from vigil.api.organization import OrganizationSpec
from vigil.planning.organization import (SelectionError, missing_core_accounts, scope_account_ids, target_regions,
                                         workload_account_ids)
from vigil.state.organizations import Account, OrganizationInventory

INV = OrganizationInventory("o-1", "111111111111", (
    Account("111111111111", "mgmt", "ACTIVE"),
    Account("222222222222", "logs", "ACTIVE", ("ou-secu-aaaaaaaa",)),
    Account("333333333333", "sec", "ACTIVE", ("ou-secu-aaaaaaaa",)),
    Account("444444444444", "net", "ACTIVE", ("ou-infr-bbbbbbbb",)),
    Account("555555555555", "w1", "ACTIVE", ("ou-wkld-cccccccc",)),
    Account("666666666666", "w2", "ACTIVE", ("ou-wkld-cccccccc", "ou-wkld-dddddddd")),
    Account("777777777777", "gone", "SUSPENDED", ("ou-wkld-cccccccc",)),
))


def spec(**workloads):
    return OrganizationSpec.model_validate({
        "accounts": {"logArchive": "222222222222", "security": "333333333333", "sharedNetwork": "444444444444"},
        "regions": {"home": "ca-central-1", "governed": ["ca-central-1", "us-east-1"]},
        "workloads": workloads or {"all": True}})


def test_all_workloads_are_active_non_core_accounts():
    assert workload_account_ids(spec(), INV) == ["555555555555", "666666666666"]


def test_workloads_by_ou_are_recursive_and_exclusions_apply():
    s = spec(all=False, organizationalUnits=["ou-wkld-cccccccc"], excludeAccountIds=["555555555555"])
    assert workload_account_ids(s, INV) == ["666666666666"]


def test_scopes():
    assert scope_account_ids("SharedNetwork", [], spec(), INV) == ["444444444444"]
    assert len(scope_account_ids("AllAccounts", [], spec(), INV)) == 6
    with pytest.raises(SelectionError, match="888888888888"):
        scope_account_ids("Accounts", ["888888888888"], spec(), INV)


def test_core_account_missing_from_the_organization_is_named():
    s = OrganizationSpec.model_validate({**spec().model_dump(by_alias=True),
                                         "accounts": {"logArchive": "999999999999", "security": "333333333333"}})
    assert missing_core_accounts(s, INV) == ["accounts.logArchive 999999999999"]


def test_control_regions_stay_within_governed_regions():
    assert target_regions([], ["ca-central-1", "us-east-1"]) == ["ca-central-1", "us-east-1"]
    with pytest.raises(SelectionError, match="eu-west-1"):
        target_regions(["eu-west-1"], ["ca-central-1"])
