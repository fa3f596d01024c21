"""GuardDuty in one region, as observed: who administers it for the organization, the
administrator's detector and organization configuration, and the members it has enrolled."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

# Spec field (api.guardduty.GuardDutyFeatures) -> GuardDuty feature name. RUNTIME_MONITORING
# supersedes EKS_RUNTIME_MONITORING, and AWS refuses both in one request, so only it is managed.
FEATURE_NAMES: dict[str, str] = {
    "s3_data_events": "S3_DATA_EVENTS",
    "eks_audit_logs": "EKS_AUDIT_LOGS",
    "ebs_malware_protection": "EBS_MALWARE_PROTECTION",
    "rds_login_events": "RDS_LOGIN_EVENTS",
    "runtime_monitoring": "RUNTIME_MONITORING",
    "lambda_network_logs": "LAMBDA_NETWORK_LOGS",
}

ENABLED = "ENABLED"
AUTO_ENABLE_NONE = "NONE"
MEMBER_ENABLED = "Enabled"  # ListMembers' RelationshipStatus of an enrolled, monitored member
MEMBER_DISABLED = "Disabled"  # enrolled, monitoring stopped by the administrator


class DetectorFeatures(BaseModel):
    """Whether each managed feature is on; a feature GetDetector does not list is off."""

    model_config = ConfigDict(frozen=True)

    s3_data_events: bool = False
    eks_audit_logs: bool = False
    ebs_malware_protection: bool = False
    rds_login_events: bool = False
    runtime_monitoring: bool = False
    lambda_network_logs: bool = False

    @classmethod
    def from_statuses(cls, statuses: dict[str, str]) -> DetectorFeatures:
        """From GetDetector's {feature name: ENABLED | DISABLED}."""
        return cls(**{field: statuses.get(name) == ENABLED for field, name in FEATURE_NAMES.items()})


class DetectorSettings(BaseModel):
    """What UpdateDetector can change; compared field by field."""

    model_config = ConfigDict(frozen=True)

    enabled: bool = False
    finding_publishing_frequency: str | None = None
    features: DetectorFeatures = DetectorFeatures()


class DetectorState(BaseModel):
    model_config = ConfigDict(frozen=True)

    exists: bool
    detector_id: str | None = None
    arn: str | None = None
    settings: DetectorSettings = DetectorSettings()
    tags: dict[str, str] = {}  # GetDetector returns them: ownership costs no read


class OrganizationFeatures(BaseModel):
    """Each managed feature's auto-enable for members: ALL | NEW | NONE."""

    model_config = ConfigDict(frozen=True)

    s3_data_events: str = AUTO_ENABLE_NONE
    eks_audit_logs: str = AUTO_ENABLE_NONE
    ebs_malware_protection: str = AUTO_ENABLE_NONE
    rds_login_events: str = AUTO_ENABLE_NONE
    runtime_monitoring: str = AUTO_ENABLE_NONE
    lambda_network_logs: str = AUTO_ENABLE_NONE

    @classmethod
    def from_auto_enable(cls, auto_enable: dict[str, str]) -> OrganizationFeatures:
        """From DescribeOrganizationConfiguration's {feature name: ALL | NEW | NONE}."""
        return cls(**{field: auto_enable.get(name, AUTO_ENABLE_NONE) for field, name in FEATURE_NAMES.items()})


class OrganizationSettings(BaseModel):
    """What UpdateOrganizationConfiguration can change; compared field by field."""

    model_config = ConfigDict(frozen=True)

    auto_enable_organization_members: str = AUTO_ENABLE_NONE
    features: OrganizationFeatures = OrganizationFeatures()


class PublishingDestination(BaseModel):
    model_config = ConfigDict(frozen=True)

    destination_id: str
    destination_arn: str = ""
    kms_key_arn: str = ""
    status: str = ""
    tags: dict[str, str] = {}

