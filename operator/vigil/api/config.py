"""ConfigBaseline: AWS Config recorders everywhere, an aggregator and rules in the security account."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from pydantic import Field

from .common import (ACCOUNTS_WITH_SCOPE, AccountIds, ControlSpec, LocalObjectReference, ManagedStatus, Model, Scope,
                     StatusModel, Unique, ValidationRule, aws_rule)

# AWS Config's limits: rules per account and region, conformance packs per account, and the
# length of a rule's InputParameters (all of them, as JSON: each value and their number are less).
MAX_RULES = 1000
MAX_CONFORMANCE_PACKS = 50
MAX_INPUT_PARAMETERS_LENGTH = 1024


class GlobalResourceTypes(str, Enum):
    HOME_REGION_ONLY = "HomeRegionOnly"
    ALL_REGIONS = "AllRegions"
    NONE = "None"


class RecordingStrategy(str, Enum):
    ALL_SUPPORTED_RESOURCE_TYPES = "ALL_SUPPORTED_RESOURCE_TYPES"
    EXCLUSION_BY_RESOURCE_TYPES = "EXCLUSION_BY_RESOURCE_TYPES"


class RecordingFrequency(str, Enum):
    CONTINUOUS = "CONTINUOUS"
    DAILY = "DAILY"


# Config API Reference, ResourceType: AWS::<service>::<resource>. AWS lists over 500 and adds more;
# a list of them is bounded well above that.
MAX_RESOURCE_TYPES = 1000
ResourceType = Annotated[str, Field(
    pattern=r"^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$", max_length=128, json_schema_extra=aws_rule(
        "A resource type as AWS Config names it, AWS::<service>::<resource> (AWS::EC2::Instance); Config refuses "
        "one it does not support (InvalidResourceTypeException)."))]
ResourceTypes = Annotated[list[ResourceType], Field(max_length=MAX_RESOURCE_TYPES),
                          Unique("lists a resource type twice")]
# Config records these continuously whatever the recording mode says (RecordingMode, recordingFrequency).
CONTINUOUS_ONLY = ("AWS::Config::ResourceCompliance", "AWS::Config::ConformancePackCompliance",
                   "AWS::Config::ConfigurationRecorder")
_CONTINUOUS_ONLY_CEL = ", ".join(f"'{t}'" for t in CONTINUOUS_ONLY)


class RecordingModeOverride(Model):
    """Another recording frequency for some resource types (Config's RecordingModeOverride)."""

    description: str | None = Field(None, min_length=1, max_length=256,
                                    description="Why the override, 1 to 256 characters; optional.")
    resource_types: ResourceTypes = Field(min_length=1, description="The resource types it applies to; at least "
                                                                    "one.")
    recording_frequency: RecordingFrequency = Field(
        description="CONTINUOUS (a configuration item at every change) or DAILY (at most one a day, the latest "
                    "state).")

    validation_rules = (ValidationRule(
        f"self.recordingFrequency != 'DAILY' || !self.resourceTypes.exists(t, t in [{_CONTINUOUS_ONLY_CEL}])",
        lambda o: o.recording_frequency != RecordingFrequency.DAILY or not set(o.resource_types) & set(CONTINUOUS_ONLY),
        f"Config records {', '.join(CONTINUOUS_ONLY)} continuously only: they cannot be DAILY",
        field="resourceTypes"),)


class RecordingMode(Model):
    """How often Config records a configuration item: at every change, or once a day (Config's RecordingMode)."""

    recording_frequency: RecordingFrequency = Field(
        RecordingFrequency.CONTINUOUS,
        description="CONTINUOUS (the default, and AWS's recommendation: a configuration item at every change) or "
                    "DAILY (at most one a day per resource, the latest state; changes in between are not "
                    "recorded).")
    recording_mode_overrides: list[RecordingModeOverride] = Field(
        default_factory=list, max_length=1,
        description="Another frequency for some resource types; at most one override (Config's limit). Default: "
                    "none.")


class Recorder(Model):
    """What each configuration recorder records, and how often."""

    all_supported: bool = Field(True, description="Record every supported resource type (Config's allSupported). "
                                                  "Default: true; false goes with recordingStrategy "
                                                  "EXCLUSION_BY_RESOURCE_TYPES, and only with it, as Config wants.")
    include_global_resource_types: GlobalResourceTypes = Field(
        GlobalResourceTypes.HOME_REGION_ONLY,
        description="Where the global IAM resource types (users, groups, roles, customer managed policies) are "
                    "recorded: HomeRegionOnly (the default), AllRegions or None. With "
                    "EXCLUSION_BY_RESOURCE_TYPES, Config's own flag must be off and records them unless excluded, "
                    "so Vigil excludes them in the Regions where this says they are not recorded.")
    recording_strategy: RecordingStrategy = Field(
        RecordingStrategy.ALL_SUPPORTED_RESOURCE_TYPES,
        description="ALL_SUPPORTED_RESOURCE_TYPES (the default: every type Config supports, present and future) "
                    "or EXCLUSION_BY_RESOURCE_TYPES (all of them but exclusionByResourceTypes).")
    exclusion_by_resource_types: ResourceTypes = Field(
        default_factory=list,
        description="The resource types not recorded, with recordingStrategy EXCLUSION_BY_RESOURCE_TYPES (and "
                    "only then; at least one). Default: none.")
    recording_mode: RecordingMode = Field(default_factory=RecordingMode,
                                          description="How often configuration items are recorded. Default: "
                                                      "CONTINUOUS for every type.")

    # Config's RecordingGroup: allSupported excludes a recording strategy other than
    # ALL_SUPPORTED_RESOURCE_TYPES, and exclusions need that strategy and at least one type.
    validation_rules = (
        ValidationRule(
            "self.allSupported == (self.recordingStrategy == 'ALL_SUPPORTED_RESOURCE_TYPES')",
            lambda r: r.all_supported == (r.recording_strategy == RecordingStrategy.ALL_SUPPORTED_RESOURCE_TYPES),
            "allSupported: false goes with recordingStrategy: EXCLUSION_BY_RESOURCE_TYPES, and only with it",
            field="allSupported"),
        ValidationRule(
            "(self.recordingStrategy == 'EXCLUSION_BY_RESOURCE_TYPES') == "
            "(has(self.exclusionByResourceTypes) && size(self.exclusionByResourceTypes) > 0)",
            lambda r: (r.recording_strategy == RecordingStrategy.EXCLUSION_BY_RESOURCE_TYPES) ==
            bool(r.exclusion_by_resource_types),
            "exclusionByResourceTypes lists the types not recorded with recordingStrategy: "
            "EXCLUSION_BY_RESOURCE_TYPES, and only with it", field="exclusionByResourceTypes",
            reason="FieldValueRequired"),
    )


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
