"""CloudTrail: the organization trail."""

from __future__ import annotations

from typing import Any

from ..state.cloudtrail import TrailSettings, TrailState
from .session import AwsAccess, partition


def observe_trail(access: AwsAccess, account_id: str, region: str, name: str) -> TrailState:
    ct = access.client("cloudtrail", account_id, region)
    trails = ct.describe_trails(trailNameList=[name], includeShadowTrails=False)["trailList"]
    trail = next((t for t in trails if t.get("Name") == name), None)
    if trail is None:
        return TrailState(exists=False)
    selectors = ct.get_event_selectors(TrailName=trail["TrailARN"]).get("EventSelectors", [])
    return TrailState(
        exists=True, arn=trail["TrailARN"], home_region=trail.get("HomeRegion"),
        settings=TrailSettings(
            s3_bucket_name=trail.get("S3BucketName"),
            s3_key_prefix=trail.get("S3KeyPrefix") or "",
            is_organization_trail=bool(trail.get("IsOrganizationTrail")),
            is_multi_region_trail=bool(trail.get("IsMultiRegionTrail")),
            include_global_service_events=bool(trail.get("IncludeGlobalServiceEvents")),
            enable_log_file_validation=bool(trail.get("LogFileValidationEnabled")),
            kms_key_id=trail.get("KmsKeyId"),
            cloud_watch_logs_log_group_arn=trail.get("CloudWatchLogsLogGroupArn") or "",
            cloud_watch_logs_role_arn=trail.get("CloudWatchLogsRoleArn") or "",
        ),
        event_selectors=selectors,
        **logging_status(access, account_id, region, trail["TrailARN"]),
    )


def logging_status(access: AwsAccess, account_id: str, region: str, trail_arn: str) -> dict[str, Any]:
    """Whether the trail logs, since when, and its latest delivery: TrailState's fields, one read."""
    status = access.client("cloudtrail", account_id, region).get_trail_status(Name=trail_arn)
    delivery = status.get("LatestDeliveryTime")
    started = status.get("StartLoggingTime")
    return {"is_logging": bool(status.get("IsLogging")),
            "latest_delivery_time": delivery.isoformat() if delivery else None,
            "start_logging_time": started.isoformat() if started else None}


def trail_arn(account_id: str, region: str, name: str) -> str:
    """A trail's ARN, as CloudTrail makes it from where the trail is and its name."""
    return f"arn:{partition(region)}:cloudtrail:{region}:{account_id}:trail/{name}"


def trail_tags(access: AwsAccess, account_id: str, region: str, trail_arn: str) -> dict[str, str]:
    ct = access.client("cloudtrail", account_id, region)
    tags = ct.list_tags(ResourceIdList=[trail_arn])["ResourceTagList"]
    return {t["Key"]: t["Value"] for entry in tags for t in entry.get("TagsList", [])}


def delete_trail(access: AwsAccess, account_id: str, region: str, trail: str) -> None:
    access.client("cloudtrail", account_id, region).delete_trail(Name=trail)
