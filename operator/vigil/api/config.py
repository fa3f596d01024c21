"""ConfigBaseline: AWS Config recorders everywhere, an aggregator and rules in the security account."""

from __future__ import annotations

from enum import Enum

from pydantic import Field, model_validator

from .common import AccountId, ControlSpec, LocalObjectReference, ManagedStatus, Model, Scope, StatusModel


class GlobalResourceTypes(str, Enum):
    HOME_REGION_ONLY = "HomeRegionOnly"
    ALL_REGIONS = "AllRegions"
    NONE = "None"


class Recorder(Model):
    all_supported: bool = True
    include_global_resource_types: GlobalResourceTypes = GlobalResourceTypes.HOME_REGION_ONLY


class DeliveryFrequency(str, Enum):
    ONE_HOUR = "One_Hour"
    THREE_HOURS = "Three_Hours"
    SIX_HOURS = "Six_Hours"
    TWELVE_HOURS = "Twelve_Hours"
    TWENTY_FOUR_HOURS = "TwentyFour_Hours"


class Aggregator(Model):
    name: str = Field("vigil-org-aggregator", pattern=r"^[A-Za-z0-9_-]{1,256}$")


class ConfigRule(Model):
    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    identifier: str = Field(pattern=r"^[A-Z0-9_]{1,256}$", description="AWS managed rule identifier.")
    input_parameters: dict[str, str] = Field(default_factory=dict)


class ConformancePack(Model):
    name: str = Field(pattern=r"^[a-zA-Z][-a-zA-Z0-9]{0,50}$")
    template_s3_uri: str = Field(pattern=r"^s3://.+$")


class ConfigBaselineSpec(ControlSpec):
    log_archive_ref: LocalObjectReference
    scope: Scope = Scope.ALL_ACCOUNTS
    account_ids: list[AccountId] = Field(default_factory=list, description="With scope: Accounts.")
    recorder: Recorder = Field(default_factory=Recorder)
    delivery_frequency: DeliveryFrequency = DeliveryFrequency.TWENTY_FOUR_HOURS
    aggregator: Aggregator = Field(default_factory=Aggregator)
    rules: list[ConfigRule] = Field(default_factory=list)
    conformance_packs: list[ConformancePack] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> "ConfigBaselineSpec":
        if (self.scope == Scope.ACCOUNTS.value) != bool(self.account_ids):
            raise ValueError("accountIds is required with scope: Accounts, and only then")
        # AWS refuses a recording group with neither allSupported nor resource types.
        if not self.recorder.all_supported:
            raise ValueError("recorder.allSupported: false needs resource types, which this version does not take")
        for what, names in (("rules", [r.name for r in self.rules]),
                            ("conformancePacks", [p.name for p in self.conformance_packs])):
            if len(set(names)) != len(names):
                raise ValueError(f"{what}: names must be unique")
        return self


class ComplianceSummary(StatusModel):
    compliant_rules: int = 0
    non_compliant_rules: int = 0
    non_compliant_resources: int = 0


class ConfigBaselineStatus(ManagedStatus):
    compliance: ComplianceSummary = Field(default_factory=ComplianceSummary)
