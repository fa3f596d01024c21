"""ConfigBaseline: AWS Config recorders everywhere, an aggregator and rules in the security account."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from pydantic import Field

from .common import (ACCOUNTS_WITH_SCOPE, AccountIds, ControlSpec, LocalObjectReference, ManagedStatus, Model, Scope,
                     StatusModel, Unique, ValidationRule)

# AWS Config's limits: rules per account and region, conformance packs per account, and the
# length of a rule's InputParameters (all of them, as JSON: each value and their number are less).
MAX_RULES = 1000
MAX_CONFORMANCE_PACKS = 50
MAX_INPUT_PARAMETERS_LENGTH = 1024


class GlobalResourceTypes(str, Enum):
    HOME_REGION_ONLY = "HomeRegionOnly"
    ALL_REGIONS = "AllRegions"
    NONE = "None"


class Recorder(Model):
    """What each configuration recorder records."""

    all_supported: bool = Field(True, description="Record every supported resource type. Default: true, and it "
                                                  "must be (this version takes no list of resource types).")
    include_global_resource_types: GlobalResourceTypes = Field(
        GlobalResourceTypes.HOME_REGION_ONLY,
        description="Where global resources (IAM) are recorded: HomeRegionOnly (the default), AllRegions or None.")

    # AWS refuses a recording group with neither allSupported nor resource types.
    validation_rules = (ValidationRule(
        "self.allSupported", lambda recorder: recorder.all_supported,
        "allSupported: false needs resource types, which this version does not take", field="allSupported"),)


class DeliveryFrequency(str, Enum):
    ONE_HOUR = "One_Hour"
    THREE_HOURS = "Three_Hours"
    SIX_HOURS = "Six_Hours"
    TWELVE_HOURS = "Twelve_Hours"
    TWENTY_FOUR_HOURS = "TwentyFour_Hours"


class Aggregator(Model):
    """The organization aggregator, in the security account and the home Region, over every account and Region."""

    # Config API Reference, PutConfigurationAggregator: ConfigurationAggregatorName.
    name: str = Field("vigil-org-aggregator", pattern=r"^[A-Za-z0-9_-]{1,256}$", max_length=256,
                      description="1 to 256 letters, digits, _ and - (Config's PutConfigurationAggregator). Default: "
                                  "vigil-org-aggregator.")


class ConfigRule(Model):
    """An AWS managed Config rule, put as an organization rule in every target Region."""

    # Config API Reference, PutOrganizationConfigRule: OrganizationConfigRuleName.
    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", max_length=64,
                      description="1 to 64 letters, digits, _ and - (Config's PutOrganizationConfigRule).")
    identifier: str = Field(pattern=r"^[A-Z0-9_]{1,256}$", max_length=256,
                            description="AWS managed rule identifier: uppercase letters, digits and _, as "
                                        "ENCRYPTED_VOLUMES.")
    input_parameters: dict[str, Annotated[str, Field(max_length=MAX_INPUT_PARAMETERS_LENGTH)]] = Field(
        default_factory=dict, max_length=MAX_INPUT_PARAMETERS_LENGTH // 8,  # '"k":"v",' is 8 characters
        description="The rule's parameters, by name, as strings; Config takes at most 1024 characters of them as "
                    "JSON (InputParameters). Default: none.")


class ConformancePack(Model):
    """An organization conformance pack, put in every target Region."""

    # Config API Reference, PutOrganizationConformancePack: OrganizationConformancePackName, TemplateS3Uri.
    name: str = Field(pattern=r"^[a-zA-Z][-a-zA-Z0-9]{0,50}$", max_length=51,
                      description="A letter, then letters, digits and hyphens (Config's "
                                  "PutOrganizationConformancePack); at most 51 characters.")
    template_s3_uri: str = Field(pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$", max_length=1024,
                                 description="s3://<bucket>/<key> of the template, as Config's "
                                             "PutOrganizationConformancePack takes it.")


class ConfigBaselineSpec(ControlSpec):
    """AWS Config in every selected account and Region to the LogArchive bucket; rules and packs organization-wide."""

    log_archive_ref: LocalObjectReference = Field(description="The LogArchive whose bucket the delivery channels "
                                                              "deliver to.")
    scope: Scope = Field(Scope.ALL_ACCOUNTS,
                         description="Which accounts record: AllAccounts (the default), Workloads, SharedNetwork, or "
                                     "Accounts (accountIds).")
    account_ids: AccountIds = Field(default_factory=list, description="With scope: Accounts (and only then), the "
                                                                      "accounts.")
    recorder: Recorder = Field(default_factory=Recorder)
    delivery_frequency: DeliveryFrequency = Field(
        DeliveryFrequency.TWENTY_FOUR_HOURS,
        description="How often Config delivers configuration snapshots to the bucket: One_Hour, Three_Hours, "
                    "Six_Hours, Twelve_Hours or TwentyFour_Hours (the default).")
    aggregator: Aggregator = Field(default_factory=Aggregator)
    # AWS names rules and packs per account and region: two of one name would be one.
    rules: Annotated[list[ConfigRule], Unique("names must be unique", key="name")] = Field(
        default_factory=list, max_length=MAX_RULES,
        description="Organization Config rules, unique by name; at most 1000 (Config's limit per account and "
                    "Region). Rules not listed are left alone.")
    conformance_packs: Annotated[list[ConformancePack], Unique("names must be unique", key="name")] = Field(
        default_factory=list, max_length=MAX_CONFORMANCE_PACKS,
        description="Organization conformance packs, unique by name; at most 50 (Config's limit per account). Packs "
                    "not listed are left alone.")

    validation_rules = (ACCOUNTS_WITH_SCOPE,)


class ComplianceSummary(StatusModel):
    """The aggregator's compliance figures; kept as they were when the aggregator cannot be read."""

    compliant_rules: int = Field(0, description="Compliant rules, counted per account x Region they run in.")
    non_compliant_rules: int = Field(0, description="Non-compliant rules, counted per account x Region they run in.")
    non_compliant_resources: int = Field(0, description="Non-compliant resources, summed over the non-compliant "
                                                        "rules.")


class ConfigBaselineStatus(ManagedStatus):
    """What Vigil observed of recorders and the aggregator at its last pass; written by the operator only."""

    compliance: ComplianceSummary = Field(default_factory=ComplianceSummary)
