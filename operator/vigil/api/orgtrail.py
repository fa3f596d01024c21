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
    """Which management events the trail records."""

    read_write_type: ReadWriteType = Field(ReadWriteType.ALL, description="All (the default), ReadOnly or WriteOnly "
                                                                          "events.")
    exclude_kms_events: bool = Field(False, description="Leave out KMS events (kms.amazonaws.com: Encrypt, Decrypt, "
                                                        "GenerateDataKey, ...). Default: false.")


class S3DataEvents(Model):
    """S3 data events: object-level API calls (GetObject, PutObject, DeleteObject, ...)."""

    enabled: bool = Field(False, description="Record S3 data events. Default: false.")
    read_write_type: ReadWriteType = Field(ReadWriteType.ALL, description="All (the default), ReadOnly or WriteOnly "
                                                                          "events.")
    # CloudTrail takes 250 data resources per trail.
    bucket_arns: Annotated[list[S3BucketArn], Unique("lists a bucket twice")] = Field(
        default_factory=list, max_length=250, description="Empty means every bucket. At most 250 (CloudTrail's "
                                                          "limit of data resources per trail).")


class DataEvents(Model):
    """Data events the trail records, besides management events."""

    s3: S3DataEvents = Field(default_factory=S3DataEvents)


class TrailCloudWatchLogs(Model):
    """Optional: the trail's events to a CloudWatch Logs log group too, besides the bucket."""

    enabled: bool = Field(False, description="Deliver to CloudWatch Logs too. Default: false.")
    log_group_name: LogGroupName = Field("/vigil/cloudtrail", description="The log group. Default: "
                                                                          "/vigil/cloudtrail.")
    retention_days: LogRetentionDays = Field(365, description="How long the log group keeps events. Default: 365.")


class Integrity(Model):
    """Verification of the trail's signed digest chain and log files (the IntegrityVerified condition)."""

    verify: bool = Field(True, description="Verify every interval, in Audit as in Enforce (it only reads). Default: "
                                           "true.")
    lookback: Duration = Field("24h", description="How far back each verification reads. Default: 24h.")
    interval: Duration = Field("1h", description="How often the chain is verified (not every resync). Default: 1h.")


class OrgTrailSpec(ManagedSpec):
    """The organization trail, in the management account's home Region, delivering to the LogArchive bucket."""

    log_archive_ref: LocalObjectReference = Field(description="The LogArchive whose bucket and key the trail "
                                                              "delivers to.")
    trail_name: TrailName = Field("vigil-org-trail", description="The organization trail's name. Default: "
                                                                 "vigil-org-trail.")
    s3_key_prefix: S3Prefix = Field("cloudtrail", description="Where the trail delivers in the archive bucket. "
                                                              "Default: cloudtrail.")
    management_events: ManagementEvents = Field(default_factory=ManagementEvents)
    data_events: DataEvents = Field(default_factory=DataEvents)
    cloud_watch_logs: TrailCloudWatchLogs = Field(default_factory=TrailCloudWatchLogs)
    integrity: Integrity = Field(default_factory=Integrity)


class IntegrityGap(StatusModel):
    """Hours without verified digests in the window, and why."""

    account: str = Field(description="The account whose chain has the gap; \"*\" for a stop of the whole trail.")
    region: str = Field(description="The Region of that chain; \"*\" for a stop of the whole trail.")
    since: str = Field(description="The start of the gap (RFC 3339): the end of the last digest before it, or "
                                   "when the trail was stopped.")
    until: str | None = Field(None, description="The end of the gap (RFC 3339): the start of the first digest after "
                                                "it, or when the trail was started again; unset while it lasts.")
    reason: str = Field(description="LoggingStopped: CloudTrail's event history records who stopped the trail (or "
                                    "turned log file validation off, or deleted it) and who started it again; "
                                    "evidence, not tampering, and not a failure. DigestMissing: the chain starts "
                                    "again and nothing explains the hours between: digests were deleted (also a "
                                    "finding in status.failures).")
    message: str = Field(description="What happened, with the callers' ARNs for LoggingStopped.")


MAX_GAPS_SHOWN = 20


class IntegrityStatus(StatusModel):
    """The last verification of the digest chain."""

    last_verified_time: str | None = Field(None, description="When the last verification ran (RFC 3339).")
    last_successful_verification_time: str | None = Field(
        default=None, description="The last verification that found every digest and log file intact (RFC 3339); "
                                  "an alert fires when it is older than two intervals.")
    digests_verified: int = Field(0, description="The digest files the last verification checked.")
    log_files_verified: int = Field(0, description="The log files the last verification checked.")
    failures: int = Field(0, description="How many findings the last verification made (DigestMissing, "
                                         "LogFileModified, ...); each is also in status.failures.")
    verified_from: str | None = Field(None, description="From this hour (RFC 3339) to verifiedTo, every account and "
                                                        "Region's chain has digests CloudTrail signed, apart from the "
                                                        "gaps listed: the latest first hour of the chains in the "
                                                        "window. `vigil verify-trail` prints each chain's own range.")
    verified_to: str | None = Field(None, description="Until this hour (RFC 3339): the earliest last hour of the "
                                                      "chains in the window.")
    chains: int = Field(0, description="The account x Region chains the last verification walked.")
    gaps: Annotated[list[IntegrityGap], Field(max_length=MAX_GAPS_SHOWN)] = Field(
        default_factory=list, description=f"Hours without verified digests in the window, at most {MAX_GAPS_SHOWN} "
                                          "(gapsTotal counts them all): each stop of the trail and each hour of "
                                          "digests gone.")
    gaps_total: int = Field(0, description="How many gaps the last verification found, shown or not.")


class OrgTrailStatus(ManagedStatus):
    """What Vigil observed of the trail at its last pass; written by the operator only."""

    trail_arn: str | None = Field(None, description="The organization trail's ARN.")
    is_logging: bool | None = Field(None, description="Whether the trail is logging (CloudTrail's GetTrailStatus).")
    latest_delivery_time: str | None = Field(None, description="When CloudTrail last delivered log files to the "
                                                               "bucket (RFC 3339).")
    integrity: IntegrityStatus = Field(default_factory=IntegrityStatus)
