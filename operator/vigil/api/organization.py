"""Organization: which accounts exist, which roles reach them, which regions are governed."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .common import (IAM_ROLE_NAME_PATTERN, MAX_ORGANIZATIONAL_UNITS, AccountId, AccountIds, DeletionPolicy, Duration,
                     ManagedStatus, ManagementPolicy, Model, OrganizationalUnitId, Region, Regions, SecretKeySelector,
                     StatusModel, Unique, ValidationRule)


class CoreAccounts(Model):
    management: AccountId | None = Field(None, description="Discovered with DescribeOrganization when empty.")
    log_archive: AccountId
    security: AccountId = Field(description="Delegated admin for GuardDuty, Security Hub, Config, Access Analyzer.")
    shared_network: AccountId | None = None

    # Evidence and its reviewers are kept apart: the security account must not hold the archive.
    validation_rules = (ValidationRule("self.logArchive != self.security", lambda a: a.log_archive != a.security,
                                       "logArchive and security must be different accounts", field="security"),)


class WorkloadSelection(Model):
    all: bool = Field(True, description="Every ACTIVE account except the core ones.")
    account_ids: AccountIds = Field(default_factory=list)
    organizational_units: list[OrganizationalUnitId] = Field(default_factory=list, max_length=MAX_ORGANIZATIONAL_UNITS,
                                                             description="Recursively.")
    exclude_account_ids: AccountIds = Field(default_factory=list)

    # With all: true a selection would be silently ignored.
    validation_rules = (ValidationRule(
        "!self.all || ((!has(self.accountIds) || size(self.accountIds) == 0)"
        " && (!has(self.organizationalUnits) || size(self.organizationalUnits) == 0))",
        lambda w: not (w.all and (w.account_ids or w.organizational_units)),
        "set all: false to select by accountIds or organizationalUnits", field="all"),)


class RegionSelection(Model):
    home: Region
    governed: Annotated[Regions, Unique("lists a region twice")] = Field(min_length=1)

    validation_rules = (ValidationRule("self.home in self.governed", lambda r: r.home in r.governed,
                                       "home must also be listed in governed", field="home"),)


class AccessSettings(Model):
    role_name: str = Field("OrganizationAccountAccessRole", pattern=IAM_ROLE_NAME_PATTERN, max_length=64)
    external_id_secret_ref: SecretKeySelector | None = None
    session_duration_seconds: int = Field(3600, ge=900, le=43200)


class OrganizationSpec(Model):
    accounts: CoreAccounts
    workloads: WorkloadSelection = Field(default_factory=WorkloadSelection)
    regions: RegionSelection
    access: AccessSettings = Field(default_factory=AccessSettings)
    # Organization only reads AWS; the two policies are accepted so every kind reads the same.
    management_policy: ManagementPolicy = ManagementPolicy.ENFORCE
    deletion_policy: DeletionPolicy = DeletionPolicy.RETAIN
    resync_interval: Duration = "5m"


class AccountCounts(StatusModel):
    total: int = 0
    reachable: int = 0
    summary: str = "0/0"


class OrganizationStatus(ManagedStatus):
    organization_id: str | None = None
    management_account: str | None = None
    accounts: AccountCounts = Field(default_factory=AccountCounts)
