"""AWS Account Management's Regions (vigil_sandbox.gaps.account), which moto lacks: every Region of
the partition, opt-in ones disabled until enabled; an account asks about itself, or the management
account about a member once the organization trusts account.amazonaws.com; and the operator's
adapter (vigil.aws.regions) reads them."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from vigil.aws import regions as aws_regions
from vigil.aws.session import AccessSettings, AwsAccess
from vigil_sandbox.gaps import without_gaps

OPT_IN = "af-south-1"


def error_code(call) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"]


@pytest.fixture
def opt_in_enabled_in_management(aws):
    """af-south-1 enabled in the management account only, disabled again afterwards."""
    account = aws.client("account")
    account.enable_region(RegionName=OPT_IN)
    yield
    account.disable_region(RegionName=OPT_IN)


def test_plain_moto_has_no_list_regions(aws):
    with without_gaps():
        with pytest.raises(ClientError):
            aws.client("account").list_regions()


def test_default_regions_are_enabled_and_opt_in_regions_are_not(aws):
    regions = {r["RegionName"]: r["RegionOptStatus"] for r in aws.client("account").get_paginator(
        "list_regions").paginate().build_full_result()["Regions"]}
    assert regions["ca-central-1"] == regions["us-east-1"] == "ENABLED_BY_DEFAULT"
    assert regions[OPT_IN] == "DISABLED"
    assert "us-east-7" not in regions and "aws-global" not in regions


def test_an_opt_in_region_is_enabled_per_account(aws, organization, opt_in_enabled_in_management):
    assert aws.client("account").get_region_opt_status(RegionName=OPT_IN)["RegionOptStatus"] == "ENABLED"
    member = aws.client("account", organization.workloads[0])
    assert member.get_region_opt_status(RegionName=OPT_IN)["RegionOptStatus"] == "DISABLED"
    assert error_code(lambda: aws.client("account").enable_region(RegionName="ca-central-1")) == "ValidationException"


def test_a_member_is_named_only_by_the_management_account_with_trusted_access(aws, organization):
    account = aws.client("account")
    member = organization.workloads[0]
    assert error_code(lambda: account.list_regions(AccountId=member)) == "AccessDeniedException"
    assert error_code(lambda: account.list_regions(AccountId=organization.management)) == "ValidationException"
    assert error_code(lambda: aws.client("account", member).list_regions(
        AccountId=organization.security)) == "AccessDeniedException"


def test_the_adapter_reads_each_accounts_regions(sandbox, organization, opt_in_enabled_in_management):
    access = AwsAccess(AccessSettings(home_region="ca-central-1"))
    management = aws_regions.opt_status(access, organization.management)
    assert management[OPT_IN] == "ENABLED" and management["ca-central-1"] == "ENABLED_BY_DEFAULT"
    assert aws_regions.opt_status(access, organization.workloads[0])[OPT_IN] == "DISABLED"
