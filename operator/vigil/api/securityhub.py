"""SecurityHubBaseline: Security Hub organization-wide, standards, integrations, one findings view."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from pydantic import Field

from .common import (MAX_REGION_LENGTH, REGION_PATTERN, ControlSpec, ManagedStatus, Model, StatusModel, Unique,
                     ValidationRule)


class Standard(str, Enum):
    """A standard by the end of its ARN, as DescribeStandards lists it: resolved to the Region's ARN
    through DescribeStandards, never built by Vigil."""

    FSBP = "aws-foundational-security-best-practices/v/1.0.0"
    PCI_DSS = "pci-dss/v/3.2.1"
    PCI_DSS_4 = "pci-dss/v/4.0.1"
    CIS_1_2 = "cis-aws-foundations-benchmark/v/1.2.0"
    CIS_1_4 = "cis-aws-foundations-benchmark/v/1.4.0"
    CIS_3_0 = "cis-aws-foundations-benchmark/v/3.0.0"
    NIST_800_53 = "nist-800-53/v/5.0.0"


class ConfigurationMode(str, Enum):
    """How standards and controls reach the accounts (Security Hub's organization configuration type)."""

    LOCAL = "Local"  # per account and region: BatchEnableStandards in each, as the seed does
    CENTRAL = "Central"  # one configuration policy of the delegated administrator, associated to the root
    AUTO = "Auto"  # as the organization is configured: Central where it is CENTRAL already, else Local


class Configuration(Model):
    """Where Security Hub's standards and controls are configured."""

    mode: ConfigurationMode = Field(
        ConfigurationMode.AUTO,
        description="Central: the organization is switched to central configuration (from the aggregation "
                    "region, Security Hub's home region) and one configuration policy, associated to the "
                    "organization's root, holds the standards and disabled controls for every account and "
                    "linked region. Local: each account's standards are enabled in the account, region by "
                    "region; an organization configured centrally is reported as CentralConfiguration. Auto: "
                    "Central when the organization is configured centrally already, Local otherwise; Vigil "
                    "never switches the configuration type in Auto. Default: Auto.")
    # Security Hub's CreateConfigurationPolicy: Name, at most 128 characters.
    policy_name: str = Field("vigil-baseline", pattern=r"^[A-Za-z0-9 ._-]{1,128}$", max_length=128,
                             description="The configuration policy Vigil creates in Central mode, 1 to 128 "
                                         "letters, digits, spaces, . _ and -. A policy already associated to the "
                                         "root is used instead, whatever its name, if this object owns or adopts "
                                         "it. Default: vigil-baseline.")


class DisabledControl(Model):
    """A security control turned off in every account, with why: a weakening, admitted only when named in
    the object's vigil.dev/allow-weakening annotation."""

    # Security Hub's security control ids: "EC2.2", "CloudTrail.1", "S3.1", "IAM.6".
    id: str = Field(pattern=r"^[A-Za-z0-9]+(\.[A-Za-z0-9]+)+$", max_length=64,
                    description="The security control id (consolidated control findings), e.g. EC2.2.")
    reason: str = Field(min_length=1, max_length=512,
                        description="Why the control is off (required): kept in the object for the audit trail.")


class Integration(str, Enum):
    GUARDDUTY = "guardduty"
    CONFIG = "config"
    ACCESS_ANALYZER = "access-analyzer"


class AccessAnalyzer(Model):
    """An organization IAM Access Analyzer (type ORGANIZATION) in the security account and the home Region."""

    enabled: bool = Field(True, description="Create and keep the analyzer. Default: true.")
    # IAM Access Analyzer API Reference, CreateAnalyzer: analyzerName.
    name: str = Field("vigil-org-analyzer", pattern=r"^[A-Za-z_][A-Za-z0-9_.-]{0,254}$", max_length=255,
                      description="1 to 255 characters: a letter or _, then letters, digits, _ . and - "
                                  "(Access Analyzer's CreateAnalyzer). Default: vigil-org-analyzer.")


class SecurityHubBaselineSpec(ControlSpec):
    """Security Hub organization-wide: delegated admin, members, standards, integrations, one finding aggregator."""

    auto_enable: bool = Field(True, description="Enroll new accounts of the organization automatically "
                                                "(organization configuration AutoEnable). Default: true.")
    # "" as the contract writes it, so the field can be shown and set back to the default.
    aggregation_region: str = Field("", pattern=f"^$|{REGION_PATTERN}", max_length=MAX_REGION_LENGTH,
                                    description="Where the cross-region finding aggregator lives: a Region where "
                                                "Security Hub runs, so one of regions when regions are given. Empty "
                                                "means the home region.")
    standards: Annotated[list[Standard], Unique("lists a standard twice")] = Field(
        default_factory=lambda: [Standard.FSBP, Standard.PCI_DSS, Standard.CIS_1_2], max_length=len(Standard),
        description="The standards every account runs, by their ARN's end. Default: "
                    "aws-foundational-security-best-practices/v/1.0.0, pci-dss/v/3.2.1, "
                    "cis-aws-foundations-benchmark/v/1.2.0. Only ever added: one turned on by someone else stays on.")
    configuration: Configuration = Field(default_factory=Configuration)
    disabled_controls: Annotated[list[DisabledControl], Unique("lists a control twice", key="id")] = Field(
        default_factory=list, max_length=200,
        description="Security controls turned off in every account and region, each with its reason; only "
                    "through a configuration policy (configuration.mode Central, or Auto in an organization "
                    "configured centrally). Adding one weakens: it needs the allow-weakening annotation. Default: "
                    "none.")
    integrations: Annotated[list[Integration], Unique("lists an integration twice")] = Field(
        default_factory=lambda: [Integration.GUARDDUTY, Integration.CONFIG, Integration.ACCESS_ANALYZER],
        max_length=len(Integration),
        description="The AWS services whose findings Security Hub imports. Default: guardduty, config, "
                    "access-analyzer.")
    access_analyzer: AccessAnalyzer = Field(default_factory=AccessAnalyzer)

    # Security Hub aggregates findings into a Region where it runs (CreateFindingAggregator is
    # called there): with explicit regions, one of them. Against the governed Regions (regions
    # empty), the operator checks.
    validation_rules = (ValidationRule(
        "self.aggregationRegion == '' || !has(self.regions) || size(self.regions) == 0"
        " || self.aggregationRegion in self.regions",
        lambda spec: not spec.aggregation_region or not spec.regions or spec.aggregation_region in spec.regions,
        "aggregationRegion must be one of regions: Security Hub aggregates findings in a Region where it runs",
        field="aggregationRegion"),
        ValidationRule(
            "!has(self.disabledControls) || size(self.disabledControls) == 0 || !has(self.configuration)"
            " || !has(self.configuration.mode) || self.configuration.mode != 'Local'",
            lambda spec: not spec.disabled_controls or spec.configuration.mode != ConfigurationMode.LOCAL,
            "disabledControls need a configuration policy: configuration.mode Central or Auto, not Local",
            field="disabledControls"),)


class FindingCounts(StatusModel):
    """Active findings (record ACTIVE, workflow NEW or NOTIFIED) by severity, from the aggregation Region."""

    critical: int = Field(0, description="Active findings of severity CRITICAL.")
    high: int = Field(0, description="Active findings of severity HIGH.")
    medium: int = Field(0, description="Active findings of severity MEDIUM.")
    low: int = Field(0, description="Active findings of severity LOW.")
    informational: int = Field(0, description="Active findings of severity INFORMATIONAL.")


class SecurityHubV2(str, Enum):
    ENABLED = "Enabled"
    NOT_ENABLED = "NotEnabled"
    UNKNOWN = "Unknown"


class SecurityHubBaselineStatus(ManagedStatus):
    """What Vigil observed at its last pass, and the findings at a glance; written by the operator only."""

    findings: FindingCounts = Field(default_factory=FindingCounts,
                                    description="Active findings (record ACTIVE, workflow NEW or NOTIFIED) by "
                                                "severity, in the security account's view of the aggregation Region; "
                                                "kept as they were when the read fails.")
    configuration_type: str = Field("", description="Security Hub's organization configuration type in the "
                                                    "aggregation region as last observed: LOCAL or CENTRAL.")
    security_hub_v2: SecurityHubV2 = Field(
        SecurityHubV2.UNKNOWN, alias="securityHubV2",
        description="Whether the newer, separate Security Hub (EnableSecurityHubV2) is on in the security account's "
                    "aggregation region. Reported only: Vigil does not manage it (docs/api.md).")
