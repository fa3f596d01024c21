"""CloudWatch Logs: log groups, their subscription filters, account-level subscription filter
policies, and the destinations that receive subscribed log events from other accounts."""

from __future__ import annotations

import json
from typing import Any

from ..state.cloudtrail import LogGroupState
from ..state.documents import canonical
from ..state.logsubscription import (AccountPolicy, DestinationSettings, DestinationState, LogGroup,
                                     SubscriptionFilter, SubscriptionFilterSettings)
from ..planning.ownership import Resource
from .errors import or_default
from .ownership import read_tags
from .session import AwsAccess

NOT_FOUND = "ResourceNotFoundException"
SUBSCRIPTION_FILTER_POLICY = "SUBSCRIPTION_FILTER_POLICY"


def observe_log_group(access: AwsAccess, account_id: str, region: str, name: str) -> LogGroupState:
    logs = access.client("logs", account_id, region)
    groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    group = next((g for g in groups if g["logGroupName"] == name), None)
    if group is None:
        return LogGroupState(exists=False)
    return LogGroupState(exists=True, arn=group["arn"], retention_days=group.get("retentionInDays"),
                         kms_key_id=group.get("kmsKeyId"))


def find_log_groups(access: AwsAccess, account_id: str, region: str, prefix: str = "") -> list[LogGroup]:
    """Every log group (or those under ``prefix``): one read per 50 groups."""
    logs = access.client("logs", account_id, region)
    query = {"logGroupNamePrefix": prefix} if prefix else {}
    return [LogGroup(name=g["logGroupName"], arn=g.get("arn", ""), creation_time=g.get("creationTime"))
            for page in logs.get_paginator("describe_log_groups").paginate(**query) for g in page["logGroups"]]


def observe_subscription_filters(access: AwsAccess, account_id: str, region: str,
                                 log_group: str) -> list[SubscriptionFilter] | None:
    """The group's filters (two at most, so one read); None when the group is gone."""
    logs = access.client("logs", account_id, region)
    found = or_default(lambda: logs.describe_subscription_filters(logGroupName=log_group)["subscriptionFilters"],
                       None, NOT_FOUND)
    if found is None:
        return None
    return [SubscriptionFilter(name=f["filterName"], settings=SubscriptionFilterSettings(
        destination_arn=f.get("destinationArn", ""), filter_pattern=f.get("filterPattern", "")))
        for f in found]


def observe_destination(access: AwsAccess, account_id: str, region: str, name: str) -> DestinationState:
    """The destination and its access policy, in one read."""
    logs = access.client("logs", account_id, region)
    pages = logs.get_paginator("describe_destinations").paginate(DestinationNamePrefix=name)
    found = next((d for page in pages for d in page["destinations"] if d["destinationName"] == name), None)
    if found is None:
        return DestinationState(exists=False)
    return DestinationState(exists=True, arn=found.get("arn"),
                            settings=DestinationSettings(target_arn=found.get("targetArn", ""),
                                                         role_arn=found.get("roleArn", "")),
                            access_policy=canonical(found.get("accessPolicy")))


def observe_subscription_policies(access: AwsAccess, account_id: str, region: str) -> list[AccountPolicy]:
    """The account's subscription filter policies in the region (AWS allows one)."""
    logs = access.client("logs", account_id, region)
    policies = []
    token: dict[str, Any] = {}
    while True:
        page = logs.describe_account_policies(policyType=SUBSCRIPTION_FILTER_POLICY, **token)
        policies += [AccountPolicy(name=p["policyName"], document=_json(p.get("policyDocument")),
                                   selection_criteria=p.get("selectionCriteria") or "", scope=p.get("scope") or "ALL")
                     for p in page.get("accountPolicies", [])]
        if not page.get("nextToken"):
            return policies
        token = {"nextToken": page["nextToken"]}


def _json(document: str | None) -> Any:
    try:
        return json.loads(document) if document else None
    except ValueError:
        return document


# --- deletion (deletionPolicy: Delete) -----------------------------------------------------------


def delete_subscription_filter(access: AwsAccess, account_id: str, region: str, log_group: str, name: str) -> None:
    logs = access.client("logs", account_id, region)
    or_default(lambda: logs.delete_subscription_filter(logGroupName=log_group, filterName=name), None, NOT_FOUND)


def delete_subscription_policy(access: AwsAccess, account_id: str, region: str, name: str) -> None:
    logs = access.client("logs", account_id, region)
    or_default(lambda: logs.delete_account_policy(policyName=name, policyType=SUBSCRIPTION_FILTER_POLICY),
               None, NOT_FOUND)


def destination_tags(access: AwsAccess, account_id: str, region: str, arn: str) -> dict[str, str] | None:
    return read_tags(access, Resource("logs-destination", account_id, region, arn, arn))


def delete_destination(access: AwsAccess, account_id: str, region: str, name: str) -> None:
    logs = access.client("logs", account_id, region)
    or_default(lambda: logs.delete_destination(destinationName=name), None, NOT_FOUND)
