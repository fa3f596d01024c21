"""GuardDutyOrg: GuardDuty organization-wide with the security account as delegated admin."""

from __future__ import annotations

from enum import Enum

from pydantic import Field

from .common import ControlSpec, LocalObjectReference, ManagedStatus, Model, ValidationRule


class AutoEnable(str, Enum):
    ALL = "ALL"
    NEW = "NEW"
    NONE = "NONE"


class PublishingFrequency(str, Enum):
    FIFTEEN_MINUTES = "FIFTEEN_MINUTES"
    ONE_HOUR = "ONE_HOUR"
    SIX_HOURS = "SIX_HOURS"


class GuardDutyFeatures(Model):
    s3_data_events: bool = True
    eks_audit_logs: bool = True
    ebs_malware_protection: bool = True
    rds_login_events: bool = True
    runtime_monitoring: bool = False
    lambda_network_logs: bool = True


class PublishFindings(Model):
    enabled: bool = False
    log_archive_ref: LocalObjectReference | None = Field(
        None, description="The LogArchive whose bucket and key receive the findings; required while enabled.")

    # GuardDuty's CreatePublishingDestination needs a destination bucket and key: the LogArchive's.
    validation_rules = (ValidationRule(
        "!self.enabled || has(self.logArchiveRef)", lambda p: not p.enabled or p.log_archive_ref is not None,
        "logArchiveRef is required when enabled is true: GuardDuty exports findings to a bucket and key",
        field="logArchiveRef", reason="FieldValueRequired"),)


class GuardDutyOrgSpec(ControlSpec):
    auto_enable: AutoEnable = AutoEnable.ALL
    finding_publishing_frequency: PublishingFrequency = PublishingFrequency.FIFTEEN_MINUTES
    features: GuardDutyFeatures = Field(default_factory=GuardDutyFeatures)
    publish_findings_to_log_archive: PublishFindings = Field(default_factory=PublishFindings)

    @property
    def log_archive_ref(self) -> LocalObjectReference | None:
        """The LogArchive this object depends on (as the other kinds' field of that name): only
        while findings are exported to it."""
        publish = self.publish_findings_to_log_archive
        return publish.log_archive_ref if publish.enabled else None


class GuardDutyOrgStatus(ManagedStatus):
    pass
