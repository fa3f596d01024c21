"""OrgTrail: the organization trail (and its optional CloudWatch Logs delivery), desired vs observed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..api.orgtrail import OrgTrailSpec
from ..state.cloudtrail import LogGroupState, RoleState, TrailSettings, TrailState
from . import policies
from .ownership import Owner
from .actions import Action, Change, diff

CLOUDWATCH_ROLE_NAME = "vigil-cloudtrail-cloudwatch-logs"
CLOUDWATCH_ROLE_POLICY = "vigil-cloudtrail-delivery"

# TrailSettings field -> CreateTrail/UpdateTrail parameter.
_TRAIL_PARAMS = {
    "s3_bucket_name": "S3BucketName",
    "s3_key_prefix": "S3KeyPrefix",
    "is_organization_trail": "IsOrganizationTrail",
    "is_multi_region_trail": "IsMultiRegionTrail",
    "include_global_service_events": "IncludeGlobalServiceEvents",
    "enable_log_file_validation": "EnableLogFileValidation",
    "kms_key_id": "KmsKeyId",
    "cloud_watch_logs_log_group_arn": "CloudWatchLogsLogGroupArn",
    "cloud_watch_logs_role_arn": "CloudWatchLogsRoleArn",
}


@dataclass(frozen=True)
class TrailTarget:
    account_id: str  # the management account: organization trails live there
    region: str  # the home region
    bucket: str
    kms_key_arn: str
    owner: Owner  # who signs what Vigil creates (planning.ownership)

    def label(self, what: str) -> str:
        return f"{self.account_id}/{self.region}/{what}"


def desired_trail_settings(spec: OrgTrailSpec, target: TrailTarget, log_group_arn: str = "",
                           role_arn: str = "") -> TrailSettings:
    """CloudWatch fields are "" when delivery is off, so turning it off detaches the group."""
    return TrailSettings(
        s3_bucket_name=target.bucket,
        s3_key_prefix=spec.s3_key_prefix or "",
        is_organization_trail=True,
        is_multi_region_trail=True,
        include_global_service_events=True,
        enable_log_file_validation=True,
        kms_key_id=target.kms_key_arn,
        cloud_watch_logs_log_group_arn=log_group_arn if spec.cloud_watch_logs.enabled else "",
        cloud_watch_logs_role_arn=role_arn if spec.cloud_watch_logs.enabled else "",
    )


def desired_event_selectors(spec: OrgTrailSpec) -> list[dict[str, Any]]:
    """Classic event selectors: one for management events, one for S3 data events when on."""
    management = {
        "ReadWriteType": spec.management_events.read_write_type,
        "IncludeManagementEvents": True,
        "DataResources": [],
        "ExcludeManagementEventSources": ["kms.amazonaws.com"] if spec.management_events.exclude_kms_events else [],
    }
    selectors = [management]
    s3 = spec.data_events.s3
    if s3.enabled:
        values = [arn.split("/", 1)[0] + "/" for arn in s3.bucket_arns] or ["arn:aws:s3"]
        selectors.append({
            "ReadWriteType": s3.read_write_type,
            "IncludeManagementEvents": False,
            "DataResources": [{"Type": "AWS::S3::Object", "Values": sorted(set(values))}],
            "ExcludeManagementEventSources": [],
        })
    return selectors


def canonical_event_selectors(selectors: list[dict[str, Any]] | None) -> Any:
    """Fill AWS's defaults so an absent key and its default compare equal."""
    filled = []
    for s in selectors or []:
        filled.append({
            "ReadWriteType": s.get("ReadWriteType", "All"),
            "IncludeManagementEvents": s.get("IncludeManagementEvents", True),
            "DataResources": sorted(({"Type": d["Type"], "Values": sorted(d.get("Values", []))}
                                     for d in s.get("DataResources", [])), key=lambda d: json.dumps(d)),
            "ExcludeManagementEventSources": sorted(s.get("ExcludeManagementEventSources", [])),
        })
    return sorted(filled, key=lambda d: json.dumps(d, sort_keys=True))


CLOUDTRAIL_PRINCIPAL = "cloudtrail.amazonaws.com"  # needs trusted access for an organization trail


def plan_trail(spec: OrgTrailSpec, target: TrailTarget, observed: TrailState, log_group_arn: str = "",
               role_arn: str = "") -> list[Action]:
    name = spec.trail_name
    label = target.label(name)
    desired = desired_trail_settings(spec, target, log_group_arn, role_arn)
    actions: list[Action] = []

    def act(operation: str, params: dict[str, Any], changes: tuple[Change, ...], creates: bool = False) -> None:
        actions.append(Action(label, target.account_id, target.region, "cloudtrail", operation, params,
                              changes, creates=creates))

    creating = not observed.exists
    if creating:
        params = {"Name": name, "TagsList": target.owner.tag_list()}
        for field, param in _TRAIL_PARAMS.items():
            value = getattr(desired, field)
            if value != "":
                params[param] = value
        act("CreateTrail", params, (Change("trail", None, name),), creates=True)
    else:
        changes = diff(desired, observed.settings)
        if changes:
            params = {"Name": name}
            for change in changes:
                params[_TRAIL_PARAMS[change.path]] = change.after
            # UpdateTrail takes the CloudWatch pair together or not at all.
            if {"CloudWatchLogsLogGroupArn", "CloudWatchLogsRoleArn"} & params.keys():
                params["CloudWatchLogsLogGroupArn"] = desired.cloud_watch_logs_log_group_arn
                params["CloudWatchLogsRoleArn"] = desired.cloud_watch_logs_role_arn
            act("UpdateTrail", params, tuple(changes))

    want_selectors = desired_event_selectors(spec)
    want, have = canonical_event_selectors(want_selectors), canonical_event_selectors(observed.event_selectors)
    if creating or want != have:
        act("PutEventSelectors", {"TrailName": name, "EventSelectors": want_selectors},
            (Change("event_selectors", have, want),), creating)
    if creating or not observed.is_logging:
        act("StartLogging", {"Name": name}, (Change("is_logging", observed.is_logging, True),), creating)
    return actions


def plan_log_group(spec: OrgTrailSpec, target: TrailTarget, observed: LogGroupState) -> list[Action]:
    """The trail's CloudWatch log group. Never deleted by Vigil: it holds log data."""
    if not spec.cloud_watch_logs.enabled:
        return []
    cw = spec.cloud_watch_logs
    label = target.label(cw.log_group_name)
    actions = []
    if not observed.exists:
        actions.append(Action(label, target.account_id, target.region, "logs", "CreateLogGroup", {
            "logGroupName": cw.log_group_name, "tags": target.owner.tags()},
            (Change("log_group", None, cw.log_group_name),), creates=True))
    if observed.retention_days != cw.retention_days:
        actions.append(Action(label, target.account_id, target.region, "logs", "PutRetentionPolicy", {
            "logGroupName": cw.log_group_name, "retentionInDays": cw.retention_days},
            (Change("retention_days", observed.retention_days, cw.retention_days, "spec.cloudWatchLogs.retentionDays"),),
            creates=not observed.exists))
    return actions


def cloudwatch_role_policy(log_group_arn: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "VigilTrailDelivery", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": f"{log_group_arn.removesuffix(':*')}:log-stream:*"}]}


def plan_role(spec: OrgTrailSpec, target: TrailTarget, log_group_arn: str, observed: RoleState) -> list[Action]:
    """The role CloudTrail assumes to write into the log group."""
    if not spec.cloud_watch_logs.enabled:
        return []
    label = target.label(f"role/{CLOUDWATCH_ROLE_NAME}")
    trust = policies.service_trust_policy("cloudtrail.amazonaws.com")
    inline = cloudwatch_role_policy(log_group_arn)
    actions = []
    if not observed.exists:
        actions.append(Action(label, target.account_id, "global", "iam", "CreateRole", {
            "RoleName": CLOUDWATCH_ROLE_NAME, "AssumeRolePolicyDocument": policies.to_json(trust),
            "Tags": target.owner.tag_list()},
            (Change("role", None, CLOUDWATCH_ROLE_NAME),), creates=True))
    elif observed.trust_policy != policies.canonical(trust):
        actions.append(Action(label, target.account_id, "global", "iam", "UpdateAssumeRolePolicy", {
            "RoleName": CLOUDWATCH_ROLE_NAME, "PolicyDocument": policies.to_json(trust)},
            (Change("trust_policy", observed.trust_policy, policies.canonical(trust)),)))
    if observed.inline_policy != policies.canonical(inline):
        actions.append(Action(label, target.account_id, "global", "iam", "PutRolePolicy", {
            "RoleName": CLOUDWATCH_ROLE_NAME, "PolicyName": CLOUDWATCH_ROLE_POLICY,
            "PolicyDocument": policies.to_json(inline)},
            (Change("inline_policy", observed.inline_policy, policies.canonical(inline)),),
            creates=not observed.exists))
    return actions
