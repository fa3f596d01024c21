"""FlowLogPolicy: one flow log per selected VPC, to the LogArchive bucket."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Literal

from pydantic import Field

from .common import (ACCOUNTS_WITH_SCOPE, VALUE, AccountIds, ControlSpec, LocalObjectReference, ManagedStatus, Model,
                     S3Prefix, Scope, ValidationRule)

# EC2 CreateFlowLogs, LogFormat: fields as ${field-id}, separated by spaces.
LOG_FORMAT_PATTERN = r"^$|^\$\{[a-z0-9-]+\}( \$\{[a-z0-9-]+\})*$"
# EC2 tags: keys of at most 128 characters (the selector only reads tags, so aws: keys may match).
MAX_TAG_KEY_LENGTH = 128


class TrafficType(str, Enum):
    ALL = "ALL"
    ACCEPT = "ACCEPT"
    REJECT = "REJECT"


class VpcSelector(Model):
    """Which VPCs of the selected accounts get a flow log, present and future."""

    # EC2 takes 50 tags per resource, values of up to 256 characters.
    match_tags: Annotated[
        dict[str, Annotated[str, Field(max_length=256)]],
        ValidationRule(f"self.all(k, size(k) >= 1 && size(k) <= {MAX_TAG_KEY_LENGTH})",
                       lambda tags: all(1 <= len(k) <= MAX_TAG_KEY_LENGTH for k in tags),
                       f"EC2 tag keys are 1 to {MAX_TAG_KEY_LENGTH} characters long"),
    ] = Field(default_factory=dict, max_length=50,
              description="Empty selects every VPC. EC2 tags: keys of 1 to 128 characters, values of at most 256.")


class FlowLogPolicySpec(ControlSpec):
    """One flow log per selected VPC, in the selected accounts and Regions, delivering to the LogArchive bucket."""

    log_archive_ref: LocalObjectReference = Field(description="The LogArchive whose bucket receives the flow logs.")
    scope: Scope = Field(Scope.SHARED_NETWORK,
                         description="Whose VPCs: SharedNetwork (the default: the Organization's "
                                     "accounts.sharedNetwork), Workloads, AllAccounts, or Accounts (accountIds).")
    account_ids: AccountIds = Field(default_factory=list, description="With scope: Accounts (and only then), the "
                                                                      "accounts.")
    vpc_selector: VpcSelector = Field(default_factory=VpcSelector)
    traffic_type: TrafficType = Field(TrafficType.ALL, description="The traffic recorded: ALL (the default), "
                                                                   "ACCEPT or REJECT.")
    log_format: str = Field("", max_length=4096, pattern=LOG_FORMAT_PATTERN,
                            description="Empty means the AWS default format; else the fields as ${field-id}, "
                                        "separated by single spaces, as EC2's CreateFlowLogs takes them.")
    max_aggregation_interval_seconds: Literal[60, 600] = Field(
        600, description="The longest a flow is captured before it is logged, in seconds: 60 or 600 (the default), "
                         "the two EC2 takes.")
    s3_key_prefix: Annotated[S3Prefix, ValidationRule(
        "!('/' + self + '/').contains('/AWSLogs/')", lambda prefix: "/AWSLogs/" not in f"/{prefix}/",
        f"{VALUE} has a folder named AWSLogs, which EC2 flow logs do not take as a subfolder name"),
    ] = Field("vpc-flow-logs", description="Where the flow logs go in the bucket; no folder of it may be named "
                                           "AWSLogs (EC2 CreateFlowLogs). Default: vpc-flow-logs.")
    exclusive: bool = Field(False, description="Remove other flow logs on the selected VPCs. Default: false.")

    validation_rules = (ACCOUNTS_WITH_SCOPE,)


class FlowLogPolicyStatus(ManagedStatus):
    """What Vigil observed at its last pass, VPC by VPC; written by the operator only."""
