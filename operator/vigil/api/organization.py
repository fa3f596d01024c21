"""Organization: which accounts exist, which roles reach them, which regions are governed."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .common import (MAX_FAILURES, MAX_ORGANIZATIONAL_UNITS, AccountId, AccountIds, DeletionPolicy, Duration,
                     IamRoleName, ManagedStatus, ManagementPolicy, Model, OrganizationalUnitId, Region, Regions,
                     SecretKeySelector, StatusModel, Unique, ValidationRule)


class CoreAccounts(Model):
    management: AccountId | None = Field(
        None, description="Discovered with DescribeOrganization when empty; when given, the operator checks it is "
                          "the organization's management account (an organization has one).")
    log_archive: AccountId
    security: AccountId = Field(description="Delegated admin for GuardDuty, Security Hub, Config, Access Analyzer.")
    shared_network: AccountId | None = None

    # Evidence and its reviewers are kept apart, as AWS's multi-account guidance separates the Log
    # Archive and Security Tooling accounts: the security account must not hold the archive.
    validation_rules = (ValidationRule("self.logArchive != self.security", lambda a: a.log_archive != a.security,
                                       "logArchive and security must be different accounts", field="security"),)


class WorkloadSelection(Model):
    all: bool = Field(True, description="Every ACTIVE account except the core ones.")
    account_ids: AccountIds = Field(default_factory=list)
    organizational_units: Annotated[list[OrganizationalUnitId], Unique("lists an OU twice")] = Field(
        default_factory=list, max_length=MAX_ORGANIZATIONAL_UNITS, description="Recursively.")
    exclude_account_ids: AccountIds = Field(default_factory=list)

    # With all: true a selection would be silently ignored.
    validation_rules = (ValidationRule(
        "!self.all || ((!has(self.accountIds) || size(self.accountIds) == 0)"
        " && (!has(self.organizationalUnits) || size(self.organizationalUnits) == 0))",
        lambda w: not (w.all and (w.account_ids or w.organizational_units)),
        "set all: false to select by accountIds or organizationalUnits", field="all"),)


class RegionSelection(Model):
    home: Region
    governed: Regions = Field(min_length=1, description="The Regions Vigil governs; each must be enabled in every "
                                                        "account (opt-in Regions are off until enabled).")

    validation_rules = (ValidationRule("self.home in self.governed", lambda r: r.home in r.governed,
                                       "home must also be listed in governed", field="home"),)


class AccessSettings(Model):
    role_name: IamRoleName = Field("OrganizationAccountAccessRole", description="Assumed in every member account.")
    external_id_secret_ref: SecretKeySelector | None = None
    # STS AssumeRole: 900 s at least; and the operator's own identity is a role (IRSA, Pod
    # Identity), so assuming another is role chaining, which AWS limits to one hour.
    session_duration_seconds: int = Field(
        3600, ge=900, le=3600,
        description="AssumeRole's DurationSeconds: from 900 (STS's minimum) to 3600, the most AWS allows when a "
                    "role assumes another (role chaining), as the operator's own role does.")


class OrganizationSpec(Model):
    accounts: CoreAccounts
    workloads: WorkloadSelection = Field(default_factory=WorkloadSelection)
    regions: RegionSelection
    access: AccessSettings = Field(default_factory=AccessSettings)
    # Organization only reads AWS; the two policies are accepted so every kind reads the same.
    management_policy: ManagementPolicy = ManagementPolicy.ENFORCE
    deletion_policy: DeletionPolicy = DeletionPolicy.RETAIN
    resync_interval: Duration = "5m"


class UnreachableAccount(StatusModel):
    account_id: str
    reason: str  # AccountUnreachable | AccountSuspended


class AccountCounts(StatusModel):
    total: int = 0
    reachable: int = 0
    summary: str = "0/0"
    unreachable: list[UnreachableAccount] = Field(
        default_factory=list, max_length=MAX_FAILURES,
        description="The accounts Vigil could not reach at the last pass, with why (status.failures has the message).")


class OrganizationStatus(ManagedStatus):
    organization_id: str | None = None
    management_account: str | None = None
    accounts: AccountCounts = Field(default_factory=AccountCounts)
