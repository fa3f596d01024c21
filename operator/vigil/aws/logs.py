"""CloudWatch Logs: log groups."""

from __future__ import annotations

from ..state.cloudtrail import LogGroupState
from .session import AwsAccess


def observe_log_group(access: AwsAccess, account_id: str, region: str, name: str) -> LogGroupState:
    logs = access.client("logs", account_id, region)
    groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    group = next((g for g in groups if g["logGroupName"] == name), None)
    if group is None:
        return LogGroupState(exists=False)
    return LogGroupState(exists=True, arn=group["arn"], retention_days=group.get("retentionInDays"))
