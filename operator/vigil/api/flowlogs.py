"""FlowLogPolicy: one flow log per selected VPC, to the LogArchive bucket."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Literal

from pydantic import Field

from .common import (ACCOUNTS_WITH_SCOPE, AccountIds, ControlSpec, LocalObjectReference, ManagedStatus, Model, S3Prefix,
                     Scope)


class TrafficType(str, Enum):
    ALL = "ALL"
    ACCEPT = "ACCEPT"
    REJECT = "REJECT"


class VpcSelector(Model):
    # EC2 takes 50 tags per resource, values of up to 256 characters.
    match_tags: dict[str, Annotated[str, Field(max_length=256)]] = Field(
        default_factory=dict, max_length=50, description="Empty selects every VPC.")


class FlowLogPolicySpec(ControlSpec):
    log_archive_ref: LocalObjectReference
    scope: Scope = Scope.SHARED_NETWORK
    account_ids: AccountIds = Field(default_factory=list, description="With scope: Accounts.")
    vpc_selector: VpcSelector = Field(default_factory=VpcSelector)
    traffic_type: TrafficType = TrafficType.ALL
    log_format: str = Field("", max_length=4096, description="Empty means the AWS default format.")
    max_aggregation_interval_seconds: Literal[60, 600] = 600
    s3_key_prefix: S3Prefix = "vpc-flow-logs"
    exclusive: bool = Field(False, description="Remove other flow logs on the selected VPCs.")

    validation_rules = (ACCOUNTS_WITH_SCOPE,)


class FlowLogPolicyStatus(ManagedStatus):
    pass
