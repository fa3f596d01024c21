"""Security Hub as observed: an account's organization configuration, standards subscriptions and
finding aggregator, the organization's IAM Access Analyzer, and the active findings by severity.
(Whether a hub is on, who administers a region and the members' statuses are plain values.)"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

ADMIN_ENABLED = "ENABLED"
MEMBER_ENABLED = "Enabled"  # ListMembers' MemberStatus of an enrolled member
# A subscription in these states is the standard turned on; DELETING and FAILED are not.
STANDARD_ON = frozenset({"PENDING", "READY", "INCOMPLETE"})
ANALYZER_ACTIVE = "ACTIVE"


class HubSettings(BaseModel):
    """What UpdateOrganizationConfiguration can change; compared field by field."""

    model_config = ConfigDict(frozen=True)

    auto_enable: bool = False
    auto_enable_standards: str = "DEFAULT"  # AWS's answer before anyone chose


class StandardSubscription(BaseModel):
    model_config = ConfigDict(frozen=True)

    standards_arn: str
    subscription_arn: str
    status: str

    @property
    def on(self) -> bool:
        return self.status in STANDARD_ON


class FindingAggregator(BaseModel):
    model_config = ConfigDict(frozen=True)

    arn: str
    region: str
    region_linking_mode: str
    regions: tuple[str, ...] = ()


class AnalyzerState(BaseModel):
    model_config = ConfigDict(frozen=True)

    exists: bool
    arn: str = ""
    type: str = ""
    status: str = ""
    status_reason: str = ""
    tags: dict[str, str] = {}


class FindingCounts(BaseModel):
    """Active findings by severity label, as the administrator's (aggregated) view holds them."""

    model_config = ConfigDict(frozen=True)

    critical: int = 0
    high: int = 0
    medium: int = 0
    low: int = 0
    informational: int = 0


# Security Hub's organization configuration types, and the policy id a target without one has.
LOCAL = "LOCAL"
CENTRAL = "CENTRAL"
SELF_MANAGED = "SELF_MANAGED_SECURITY_HUB"


class StandardDefinition(BaseModel):
    """A standard the region offers (DescribeStandards)."""

    model_config = ConfigDict(frozen=True)

    arn: str
    name: str = ""

    @property
    def path(self) -> str:
        """The ARN's end after standards/ or ruleset/: "pci-dss/v/3.2.1", how specs name it."""
        resource = self.arn.split(":", 5)[-1]
        return resource.split("/", 1)[1] if "/" in resource else resource


class ConfigurationPolicy(BaseModel):
    """A central configuration policy's Security Hub part, as GetConfigurationPolicy answers it.
    ``enabled_controls`` is set only for a policy that lists the controls it enables (then every
    other control is off); Vigil's list the controls they disable."""

    model_config = ConfigDict(frozen=True)

    id: str
    arn: str
    name: str
    service_enabled: bool = False
    standards: tuple[str, ...] = ()  # standards ARNs
    disabled_controls: tuple[str, ...] = ()
    enabled_controls: tuple[str, ...] | None = None
    custom_parameters: tuple[dict, ...] = ()  # kept as found: Vigil sets no parameter


class PolicyAssociation(BaseModel):
    """Which policy a target (here the root) is configured by, and how that went."""

    model_config = ConfigDict(frozen=True)

    policy_id: str
    association_type: str = ""  # APPLIED | INHERITED
    status: str = ""  # PENDING | SUCCESS | FAILED
    message: str = ""
