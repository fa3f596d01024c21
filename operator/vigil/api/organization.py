"""Organization: which accounts exist, which roles reach them, which regions are governed."""

from __future__ import annotations

from pydantic import Field, model_validator

from .common import (IAM_ROLE_NAME_PATTERN, AccountId, OrganizationalUnitId, DeletionPolicy, Duration,
                     ManagedStatus, ManagementPolicy, Model, Region, SecretKeySelector, StatusModel)


class CoreAccounts(Model):
    management: AccountId | None = Field(None, description="Discovered with DescribeOrganization when empty.")
    log_archive: AccountId
    security: AccountId = Field(description="Delegated admin for GuardDuty, Security Hub, Config, Access Analyzer.")
    shared_network: AccountId | None = None


class WorkloadSelection(Model):
    all: bool = Field(True, description="Every ACTIVE account except the core ones.")
    account_ids: list[AccountId] = Field(default_factory=list)
    organizational_units: list[OrganizationalUnitId] = Field(default_factory=list, description="Recursively.")
    exclude_account_ids: list[AccountId] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_way_to_select(self) -> "WorkloadSelection":
        if self.all and (self.account_ids or self.organizational_units):
            raise ValueError("workloads: set all: false to select by accountIds or organizationalUnits")
        return self


class RegionSelection(Model):
    home: Region
    governed: list[Region] = Field(min_length=1)

    @model_validator(mode="after")
    def _home_is_governed(self) -> "RegionSelection":
        if self.home not in self.governed:
            raise ValueError(f"regions.home {self.home} must also be listed in regions.governed")
        if len(set(self.governed)) != len(self.governed):
            raise ValueError("regions.governed lists a region twice")
        return self


class AccessSettings(Model):
    role_name: str = Field("OrganizationAccountAccessRole", pattern=IAM_ROLE_NAME_PATTERN)
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

    @model_validator(mode="after")
    def _core_accounts_distinct(self) -> "OrganizationSpec":
        a = self.accounts
        if a.log_archive == a.security:
            raise ValueError("accounts.logArchive and accounts.security must be different accounts")
        return self


class AccountCounts(StatusModel):
    total: int = 0
    reachable: int = 0
    summary: str = "0/0"


class OrganizationStatus(ManagedStatus):
    organization_id: str | None = None
    management_account: str | None = None
    accounts: AccountCounts = Field(default_factory=AccountCounts)
