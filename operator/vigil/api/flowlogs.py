"""FlowLogPolicy: one flow log per selected VPC, to the LogArchive bucket."""

from __future__ import annotations

from enum import Enum
from typing import Literal

from pydantic import Field, model_validator

from .common import AccountId, ControlSpec, LocalObjectReference, ManagedStatus, Model, S3Prefix, Scope


class TrafficType(str, Enum):
    ALL = "ALL"
    ACCEPT = "ACCEPT"
    REJECT = "REJECT"


class VpcSelector(Model):
    match_tags: dict[str, str] = Field(default_factory=dict, description="Empty selects every VPC.")


class FlowLogPolicySpec(ControlSpec):
    log_archive_ref: LocalObjectReference
    scope: Scope = Scope.SHARED_NETWORK
    account_ids: list[AccountId] = Field(default_factory=list, description="With scope: Accounts.")
    vpc_selector: VpcSelector = Field(default_factory=VpcSelector)
    traffic_type: TrafficType = TrafficType.ALL
    log_format: str = Field("", max_length=4096, description="Empty means the AWS default format.")
    max_aggregation_interval_seconds: Literal[60, 600] = 600
    s3_key_prefix: S3Prefix = "vpc-flow-logs"
    exclusive: bool = Field(False, description="Remove other flow logs on the selected VPCs.")

    @model_validator(mode="after")
    def _accounts_with_scope(self) -> "FlowLogPolicySpec":
        if (self.scope == Scope.ACCOUNTS.value) != bool(self.account_ids):
            raise ValueError("accountIds is required with scope: Accounts, and only then")
        return self


class FlowLogPolicyStatus(ManagedStatus):
    pass
