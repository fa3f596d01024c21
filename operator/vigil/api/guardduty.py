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
    """GuardDuty's protection plans, for the administrator and members; all managed (false turns one off)."""

    s3_data_events: bool = Field(True, description="S3 Protection (S3_DATA_EVENTS). Default: true.")
    eks_audit_logs: bool = Field(True, description="EKS Audit Log Monitoring (EKS_AUDIT_LOGS). Default: true.")
    ebs_malware_protection: bool = Field(True, description="Malware Protection for EC2 (EBS_MALWARE_PROTECTION). "
                                                           "Default: true.")
    rds_login_events: bool = Field(True, description="RDS Protection (RDS_LOGIN_EVENTS). Default: true.")
    runtime_monitoring: bool = Field(False, description="Runtime Monitoring (RUNTIME_MONITORING, never the older "
                                                        "EKS_RUNTIME_MONITORING). Default: false.")
    lambda_network_logs: bool = Field(True, description="Lambda Protection (LAMBDA_NETWORK_LOGS). Default: true.")


class PublishFindings(Model):
    """Optional: findings exported to the LogArchive bucket (under guardduty/), encrypted with its key."""

    enabled: bool = Field(False, description="Export findings. Default: false. Turned off, the export is left in "
                                             "place.")
    log_archive_ref: LocalObjectReference | None = Field(
        None, description="The LogArchive whose bucket and key receive the findings; required while enabled.")

    # GuardDuty's CreatePublishingDestination needs a destination bucket and key: the LogArchive's.
    validation_rules = (ValidationRule(
        "!self.enabled || has(self.logArchiveRef)", lambda p: not p.enabled or p.log_archive_ref is not None,
        "logArchiveRef is required when enabled is true: GuardDuty exports findings to a bucket and key",
        field="logArchiveRef", reason="FieldValueRequired"),)


class GuardDutyOrgSpec(ControlSpec):
    """GuardDuty in every governed Region, the security account its delegated administrator, every member enrolled."""

    auto_enable: AutoEnable = Field(AutoEnable.ALL,
                                    description="Which accounts the organization configuration enrolls: ALL (the "
                                                "default: existing and new), NEW (new accounts only) or NONE.")
    finding_publishing_frequency: PublishingFrequency = Field(
        PublishingFrequency.FIFTEEN_MINUTES,
        description="How often updated findings are exported: FIFTEEN_MINUTES (the default), ONE_HOUR or SIX_HOURS.")
    features: GuardDutyFeatures = Field(default_factory=GuardDutyFeatures)
    publish_findings_to_log_archive: PublishFindings = Field(default_factory=PublishFindings)

    @property
    def log_archive_ref(self) -> LocalObjectReference | None:
        """The LogArchive this object depends on (as the other kinds' field of that name): only
        while findings are exported to it."""
        publish = self.publish_findings_to_log_archive
        return publish.log_archive_ref if publish.enabled else None


class GuardDutyOrgStatus(ManagedStatus):
    """What Vigil observed at its last pass, administrator and member by Region; written by the operator only."""
