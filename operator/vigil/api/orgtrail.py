"""OrgTrail: the organization's CloudTrail trail, delivering to the LogArchive bucket."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from pydantic import Field

from .common import (Duration, LocalObjectReference, LogGroupName, LogRetentionDays, ManagedSpec, ManagedStatus, Model,
                     S3BucketArn, S3Prefix, StatusModel, TrailName, Unique)


class ReadWriteType(str, Enum):
    ALL = "All"
    READ_ONLY = "ReadOnly"
    WRITE_ONLY = "WriteOnly"


class ManagementEvents(Model):
    read_write_type: ReadWriteType = ReadWriteType.ALL
    exclude_kms_events: bool = False


class S3DataEvents(Model):
    enabled: bool = False
    read_write_type: ReadWriteType = ReadWriteType.ALL
    # CloudTrail takes 250 data resources per trail.
    bucket_arns: Annotated[list[S3BucketArn], Unique("lists a bucket twice")] = Field(
        default_factory=list, max_length=250, description="Empty means every bucket. At most 250 (CloudTrail's "
                                                          "limit of data resources per trail).")


class DataEvents(Model):
    s3: S3DataEvents = Field(default_factory=S3DataEvents)


class TrailCloudWatchLogs(Model):
    enabled: bool = False
    log_group_name: LogGroupName = "/vigil/cloudtrail"
    retention_days: LogRetentionDays = 365


class Integrity(Model):
    verify: bool = True
    lookback: Duration = "24h"
    interval: Duration = "1h"


class OrgTrailSpec(ManagedSpec):
    log_archive_ref: LocalObjectReference
    trail_name: TrailName = "vigil-org-trail"
    s3_key_prefix: S3Prefix = "cloudtrail"
    management_events: ManagementEvents = Field(default_factory=ManagementEvents)
    data_events: DataEvents = Field(default_factory=DataEvents)
    cloud_watch_logs: TrailCloudWatchLogs = Field(default_factory=TrailCloudWatchLogs)
    integrity: Integrity = Field(default_factory=Integrity)


class IntegrityStatus(StatusModel):
    last_verified_time: str | None = None
    last_successful_verification_time: str | None = Field(
        default=None, description="The last verification that found every digest and log file intact (RFC 3339); "
                                  "an alert fires when it is older than two intervals")
    digests_verified: int = 0
    log_files_verified: int = 0
    failures: int = 0


class OrgTrailStatus(ManagedStatus):
    trail_arn: str | None = None
    is_logging: bool | None = None
    latest_delivery_time: str | None = None
    integrity: IntegrityStatus = Field(default_factory=IntegrityStatus)
