"""SecurityHubBaseline: Security Hub organization-wide, standards, integrations, one findings view."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from pydantic import Field

from .common import (MAX_REGION_LENGTH, REGION_PATTERN, ControlSpec, ManagedStatus, Model, StatusModel, Unique,
                     ValidationRule)


class Standard(str, Enum):
    FSBP = "aws-foundational-security-best-practices/v/1.0.0"
    PCI_DSS = "pci-dss/v/3.2.1"
    CIS_1_2 = "cis-aws-foundations-benchmark/v/1.2.0"
    CIS_1_4 = "cis-aws-foundations-benchmark/v/1.4.0"
    NIST_800_53 = "nist-800-53/v/5.0.0"


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
        field="aggregationRegion"),)


class FindingCounts(StatusModel):
    """Active findings (record ACTIVE, workflow NEW or NOTIFIED) by severity, from the aggregation Region."""

    critical: int = Field(0, description="Active findings of severity CRITICAL.")
    high: int = Field(0, description="Active findings of severity HIGH.")
    medium: int = Field(0, description="Active findings of severity MEDIUM.")
    low: int = Field(0, description="Active findings of severity LOW.")
    informational: int = Field(0, description="Active findings of severity INFORMATIONAL.")


class SecurityHubBaselineStatus(ManagedStatus):
    """What Vigil observed at its last pass, and the findings at a glance; written by the operator only."""

    findings: FindingCounts = Field(default_factory=FindingCounts,
                                    description="Active findings (record ACTIVE, workflow NEW or NOTIFIED) by "
                                                "severity, in the security account's view of the aggregation Region; "
                                                "kept as they were when the read fails.")
