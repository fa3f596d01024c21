"""GuardDutyOrg: GuardDuty organization-wide with the security account as delegated admin."""

from __future__ import annotations

from enum import Enum

from pydantic import Field

from .common import MAX_REGIONS, ControlSpec, LocalObjectReference, ManagedStatus, Model, StatusModel, ValidationRule


class AutoEnable(str, Enum):
    ALL = "ALL"
    NEW = "NEW"
    NONE = "NONE"


class PublishingFrequency(str, Enum):
    FIFTEEN_MINUTES = "FIFTEEN_MINUTES"
    ONE_HOUR = "ONE_HOUR"
    SIX_HOURS = "SIX_HOURS"


class RuntimeMonitoringAgentManagement(Model):
    """Runtime Monitoring's automated agent configuration: GuardDuty deploys and updates its security agent itself."""

    eks_addon_management: bool = Field(True, description="On Amazon EKS clusters, as an EKS add-on "
                                                         "(EKS_ADDON_MANAGEMENT). Default: true.")
    ecs_fargate_agent_management: bool = Field(True, description="In Amazon ECS tasks on AWS Fargate, as a sidecar "
                                                                 "(ECS_FARGATE_AGENT_MANAGEMENT). Default: true.")
    ec2_agent_management: bool = Field(True, description="On Amazon EC2 instances, through SSM "
                                                         "(EC2_AGENT_MANAGEMENT). Default: true.")


class GuardDutyFeatures(Model):
    """GuardDuty's protection plans, for the administrator and members; all managed (false turns one off)."""

    s3_data_events: bool = Field(True, description="S3 Protection (S3_DATA_EVENTS). Default: true.")
    eks_audit_logs: bool = Field(True, description="EKS Audit Log Monitoring (EKS_AUDIT_LOGS). Default: true.")
    ebs_malware_protection: bool = Field(True, description="Malware Protection for EC2 (EBS_MALWARE_PROTECTION). "
                                                           "Default: true.")
    rds_login_events: bool = Field(True, description="RDS Protection (RDS_LOGIN_EVENTS). Default: true.")
    runtime_monitoring: bool = Field(False, description="Runtime Monitoring (RUNTIME_MONITORING, never the older "
                                                        "EKS_RUNTIME_MONITORING). Default: false: it runs an agent "
                                                        "in workloads, which their owners should know of first.")
    runtime_monitoring_agent_management: RuntimeMonitoringAgentManagement = Field(
        default_factory=RuntimeMonitoringAgentManagement,
        description="While runtimeMonitoring is on, where GuardDuty manages its agent (RUNTIME_MONITORING's "
                    "additional configuration); all on by default. Left as found while runtimeMonitoring is off.")
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


class AgentManagementCounts(StatusModel):
    """Members whose Runtime Monitoring agent GuardDuty manages, by where."""

    eks_addon_management: int = Field(0, description="Members with EKS_ADDON_MANAGEMENT on.")
    ecs_fargate_agent_management: int = Field(0, description="Members with ECS_FARGATE_AGENT_MANAGEMENT on.")
    ec2_agent_management: int = Field(0, description="Members with EC2_AGENT_MANAGEMENT on.")


class PlanCounts(StatusModel):
    """Members with each protection plan on."""

    s3_data_events: int = Field(0, description="Members with S3 Protection (S3_DATA_EVENTS) on.")
    eks_audit_logs: int = Field(0, description="Members with EKS Audit Log Monitoring (EKS_AUDIT_LOGS) on.")
    ebs_malware_protection: int = Field(0, description="Members with Malware Protection for EC2 "
                                                       "(EBS_MALWARE_PROTECTION) on.")
    rds_login_events: int = Field(0, description="Members with RDS Protection (RDS_LOGIN_EVENTS) on.")
    runtime_monitoring: int = Field(0, description="Members with Runtime Monitoring (RUNTIME_MONITORING) on.")
    runtime_monitoring_agent_management: AgentManagementCounts = Field(
        default_factory=AgentManagementCounts, description="Members whose runtime agent GuardDuty manages.")
    lambda_network_logs: int = Field(0, description="Members with Lambda Protection (LAMBDA_NETWORK_LOGS) on.")


class RegionProtection(StatusModel):
    """One Region's protection plans, counted over the members the administrator has enrolled there."""

    region: str = Field(description="The Region.")
    members: int = Field(0, description="Enrolled members whose detector the administrator read "
                                        "(GetMemberDetectors).")
    plans: PlanCounts = Field(default_factory=PlanCounts, description="Of those, how many have each plan on.")


class GuardDutyOrgStatus(ManagedStatus):
    """What Vigil observed at its last pass, administrator and member by Region; written by the operator only."""

    protection: list[RegionProtection] = Field(
        default_factory=list, max_length=MAX_REGIONS,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["region"]},
        description="Per Region, how many enrolled members have each protection plan on, read after enrolling "
                    "them; a Region whose members could not be read keeps its last figures.")
