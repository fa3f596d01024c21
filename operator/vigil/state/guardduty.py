"""GuardDuty in one region, as observed: who administers it for the organization, the
administrator's detector and organization configuration, and the members it has enrolled."""

from __future__ import annotations

from typing import Any

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

# Spec field (api.guardduty.RuntimeMonitoringAgentManagement) -> RUNTIME_MONITORING's additional
# configuration: where GuardDuty manages its runtime agent.
RUNTIME_MONITORING = "RUNTIME_MONITORING"
AGENT_NAMES: dict[str, str] = {
    "eks_addon_management": "EKS_ADDON_MANAGEMENT",
    "ecs_fargate_agent_management": "ECS_FARGATE_AGENT_MANAGEMENT",
    "ec2_agent_management": "EC2_AGENT_MANAGEMENT",
}

ENABLED = "ENABLED"
AUTO_ENABLE_NONE = "NONE"
MEMBER_ENABLED = "Enabled"  # ListMembers' RelationshipStatus of an enrolled, monitored member
MEMBER_DISABLED = "Disabled"  # enrolled, monitoring stopped by the administrator


def _additional(features: list[dict[str, Any]], name: str, value: str) -> dict[str, str]:
    """A feature's additional configuration from GuardDuty's answer: {name: ``value`` field}."""
    found = next((f for f in features if f.get("Name") == name), {})
    return {c["Name"]: c.get(value, "") for c in found.get("AdditionalConfiguration") or []}


class AgentManagement(BaseModel):
    """Whether GuardDuty manages Runtime Monitoring's agent on EKS, ECS on Fargate and EC2."""

    model_config = ConfigDict(frozen=True)

    eks_addon_management: bool = False
    ecs_fargate_agent_management: bool = False
    ec2_agent_management: bool = False


class DetectorFeatures(BaseModel):
    """Whether each managed feature is on; a feature GetDetector does not list is off. The agent
    management is None where it is not managed (desired, while Runtime Monitoring is off)."""

    model_config = ConfigDict(frozen=True)

    s3_data_events: bool = False
    eks_audit_logs: bool = False
    ebs_malware_protection: bool = False
    rds_login_events: bool = False
    runtime_monitoring: bool = False
    runtime_monitoring_agent_management: AgentManagement | None = AgentManagement()
    lambda_network_logs: bool = False

    @classmethod
    def from_features(cls, features: list[dict[str, Any]]) -> DetectorFeatures:
        """From a detector's Features as GetDetector (or GetMemberDetectors) answers them."""
        statuses = {f["Name"]: f.get("Status", "") for f in features}
        agents = _additional(features, RUNTIME_MONITORING, "Status")
        return cls(**{field: statuses.get(name) == ENABLED for field, name in FEATURE_NAMES.items()},
                   runtime_monitoring_agent_management=AgentManagement(
                       **{field: agents.get(name) == ENABLED for field, name in AGENT_NAMES.items()}))

    def plans_on(self) -> list[str]:
        """The spec's names (snake case) of the plans on, agent management by its dotted path."""
        agents = self.runtime_monitoring_agent_management or AgentManagement()
        return [f for f in FEATURE_NAMES if getattr(self, f)] + [
            f"runtime_monitoring_agent_management.{a}" for a in AGENT_NAMES if getattr(agents, a)]


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


class OrganizationAgentManagement(BaseModel):
    """Each Runtime Monitoring agent management's auto-enable for members: ALL | NEW | NONE."""

    model_config = ConfigDict(frozen=True)

    eks_addon_management: str = AUTO_ENABLE_NONE
    ecs_fargate_agent_management: str = AUTO_ENABLE_NONE
    ec2_agent_management: str = AUTO_ENABLE_NONE


class OrganizationFeatures(BaseModel):
    """Each managed feature's auto-enable for members: ALL | NEW | NONE (agent management: None
    where it is not managed)."""

    model_config = ConfigDict(frozen=True)

    s3_data_events: str = AUTO_ENABLE_NONE
    eks_audit_logs: str = AUTO_ENABLE_NONE
    ebs_malware_protection: str = AUTO_ENABLE_NONE
    rds_login_events: str = AUTO_ENABLE_NONE
    runtime_monitoring: str = AUTO_ENABLE_NONE
    runtime_monitoring_agent_management: OrganizationAgentManagement | None = OrganizationAgentManagement()
    lambda_network_logs: str = AUTO_ENABLE_NONE

    @classmethod
    def from_features(cls, features: list[dict[str, Any]]) -> OrganizationFeatures:
        """From DescribeOrganizationConfiguration's Features."""
        auto_enable = {f["Name"]: f.get("AutoEnable", AUTO_ENABLE_NONE) for f in features}
        agents = _additional(features, RUNTIME_MONITORING, "AutoEnable")
        return cls(**{field: auto_enable.get(name, AUTO_ENABLE_NONE) for field, name in FEATURE_NAMES.items()},
                   runtime_monitoring_agent_management=OrganizationAgentManagement(
                       **{field: agents.get(name) or AUTO_ENABLE_NONE for field, name in AGENT_NAMES.items()}))


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


class MemberPlans(BaseModel):
    """How many of a region's enrolled members have each plan on (GetMemberDetectors)."""

    model_config = ConfigDict(frozen=True)

    members: int = 0
    plans: dict[str, int] = {}  # plan (DetectorFeatures.plans_on) -> members with it on
