"""The organization trail, as observed."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class TrailSettings(BaseModel):
    """What UpdateTrail can change; compared field by field."""

    model_config = ConfigDict(frozen=True)

    s3_bucket_name: str | None = None
    s3_key_prefix: str | None = None
    is_organization_trail: bool = False
    is_multi_region_trail: bool = False
    include_global_service_events: bool = False
    enable_log_file_validation: bool = False
    kms_key_id: str | None = None
    cloud_watch_logs_log_group_arn: str | None = None
    cloud_watch_logs_role_arn: str | None = None


class TrailState(BaseModel):
    model_config = ConfigDict(frozen=True)

    exists: bool
    arn: str | None = None
    home_region: str | None = None
    settings: TrailSettings = TrailSettings()
    is_logging: bool = False
    latest_delivery_time: str | None = None
    start_logging_time: str | None = None  # when logging last started: digests are due from then
    event_selectors: list[dict[str, Any]] = []  # as GetEventSelectors returns them


class LogGroupState(BaseModel):
    model_config = ConfigDict(frozen=True)

    exists: bool
    arn: str | None = None
    retention_days: int | None = None
    kms_key_id: str | None = None  # the key the group's data is encrypted with, if any


class RoleState(BaseModel):
    model_config = ConfigDict(frozen=True)

    exists: bool
    arn: str | None = None
    trust_policy: Any = None  # canonical
    inline_policy: Any = None  # canonical, Vigil's own inline policy by name
