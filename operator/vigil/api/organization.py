"""Organization: which accounts exist, which roles reach them, which regions are governed."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .common import (MAX_FAILURES, MAX_ORGANIZATIONAL_UNITS, AccountId, AccountIds, DeletionPolicy, Duration,
                     IamRoleName, ManagedStatus, ManagementPolicy, Model, OrganizationalUnitId, Region, Regions,
                     SecretKeySelector, StatusModel, Unique, ValidationRule)


class CoreAccounts(Model):
    """The organization's core accounts, by account id."""

    management: AccountId | None = Field(
        None, description="Discovered with DescribeOrganization when empty; when given, the operator checks it is "
                          "the organization's management account (an organization has one).")
    log_archive: AccountId = Field(description="The log-archive account: holds the LogArchive bucket and its key. "
                                               "Must differ from security.")
    security: AccountId = Field(description="Delegated admin for GuardDuty, Security Hub, Config, Access Analyzer.")
    shared_network: AccountId | None = Field(None, description="Optional: the shared-network account, the one "
                                                               "scope: SharedNetwork selects.")

    # Evidence and its reviewers are kept apart, as AWS's multi-account guidance separates the Log
    # Archive and Security Tooling accounts: the security account must not hold the archive.
    validation_rules = (ValidationRule("self.logArchive != self.security", lambda a: a.log_archive != a.security,
                                       "logArchive and security must be different accounts", field="security"),)


class WorkloadSelection(Model):
    """Which accounts are workload accounts (what scope: Workloads selects)."""

    all: bool = Field(True, description="Every ACTIVE account except the core ones (the default, true); set false "
                                        "to select by accountIds or organizationalUnits.")
    account_ids: AccountIds = Field(default_factory=list, description="With all: false, workload accounts by id.")
    organizational_units: Annotated[list[OrganizationalUnitId], Unique("lists an OU twice")] = Field(
        default_factory=list, max_length=MAX_ORGANIZATIONAL_UNITS,
        description="With all: false, the OUs whose accounts (recursively) are workload accounts.")
    exclude_account_ids: AccountIds = Field(default_factory=list, description="Accounts never taken as workload "
                                                                              "accounts, whatever selects them.")

    # With all: true a selection would be silently ignored.
    validation_rules = (ValidationRule(
        "!self.all || ((!has(self.accountIds) || size(self.accountIds) == 0)"
        " && (!has(self.organizationalUnits) || size(self.organizationalUnits) == 0))",
        lambda w: not (w.all and (w.account_ids or w.organizational_units)),
        "set all: false to select by accountIds or organizationalUnits", field="all"),)


class RegionSelection(Model):
    """The organization's home Region and the Regions Vigil governs."""

    home: Region = Field(description="The home Region: the LogArchive bucket, the organization trail and the "
                                     "aggregators live there. Must be one of governed.")
    governed: Regions = Field(min_length=1, description="The Regions Vigil governs; each must be enabled in every "
                                                        "account (opt-in Regions are off until enabled).")

    validation_rules = (ValidationRule("self.home in self.governed", lambda r: r.home in r.governed,
                                       "home must also be listed in governed", field="home"),)


class AccessSettings(Model):
    """How Vigil reaches the member accounts: the role it assumes in each."""

    role_name: IamRoleName = Field("OrganizationAccountAccessRole",
                                   description="Assumed in every member account (default "
                                               "OrganizationAccountAccessRole); not a Guardrails break-glass role.")
    external_id_secret_ref: SecretKeySelector | None = Field(
        None, description="Optional: the Secret key holding the external id Vigil passes to AssumeRole, for roles "
                          "whose trust policy requires sts:ExternalId.")
    # STS AssumeRole: 900 s at least; and the operator's own identity is a role (IRSA, Pod
    # Identity), so assuming another is role chaining, which AWS limits to one hour.
    session_duration_seconds: int = Field(
        3600, ge=900, le=3600,
        description="AssumeRole's DurationSeconds: from 900 (STS's minimum) to 3600, the most AWS allows when a "
                    "role assumes another (role chaining), as the operator's own role does. Default: 3600.")


class OrganizationSpec(Model):
    """The AWS Organization as Vigil finds it: core accounts, workload accounts, governed Regions, access role."""

    accounts: CoreAccounts
    workloads: WorkloadSelection = Field(default_factory=WorkloadSelection)
    regions: RegionSelection
    access: AccessSettings = Field(default_factory=AccessSettings)
    # Organization only reads AWS; the two policies are accepted so every kind reads the same.
    management_policy: ManagementPolicy = Field(
        ManagementPolicy.ENFORCE, description="Enforce (the default) or Audit; accepted so every kind reads the "
                                              "same: an Organization only reads AWS, so both behave alike.")
    deletion_policy: DeletionPolicy = Field(
        DeletionPolicy.RETAIN, description="Retain (the default) or Delete; accepted so every kind reads the same: "
                                           "an Organization creates nothing in AWS, so both behave alike.")
    resync_interval: Duration = Field("5m", description="How often the organization's accounts are discovered and "
                                                        "their roles assumed again. Default: 5m.")


class UnreachableAccount(StatusModel):
    """An account Vigil could not reach at the last pass."""

    account_id: str = Field(description="The account's id.")
    reason: str = Field(description="AccountUnreachable (its role cannot be assumed) or AccountSuspended.")


class AccountCounts(StatusModel):
    total: int = Field(0, description="The organization's accounts.")
    reachable: int = Field(0, description="The accounts whose role Vigil assumed at the last pass.")
    summary: str = Field("0/0", description="reachable/total, for the TARGETS printer column.")
    unreachable: list[UnreachableAccount] = Field(
        default_factory=list, max_length=MAX_FAILURES,
        description="The accounts Vigil could not reach at the last pass, with why (status.failures has the message).")


class OrganizationStatus(ManagedStatus):
    """What Vigil observed of the organization at its last pass; written by the operator only."""

    organization_id: str | None = Field(None, description="The AWS Organizations id (o-...).")
    management_account: str | None = Field(None, description="The management account's id, as AWS Organizations "
                                                             "reports it.")
    accounts: AccountCounts = Field(default_factory=AccountCounts, description="The organization's accounts: how "
                                                                               "many, and how many Vigil reached.")
