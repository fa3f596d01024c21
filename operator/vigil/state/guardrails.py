"""What AWS Organizations holds of the guardrails: the policy types enabled on the root, Vigil's
policies, and every policy attached where Vigil attaches (to count AWS's limit, and to recognize
another tool's guardrails)."""

from __future__ import annotations

from dataclasses import dataclass, field

SCP = "SERVICE_CONTROL_POLICY"
RCP = "RESOURCE_CONTROL_POLICY"


@dataclass(frozen=True)
class OrgPolicy:
    id: str
    name: str
    content: str = ""  # read for Vigil's policies and for others' attached where Vigil attaches
    aws_managed: bool = False
    targets: tuple[str, ...] = ()  # read for Vigil's policies only


@dataclass(frozen=True)
class PolicyTypeState:
    """One policy type (SCP or RCP) of the organization, as far as the guardrails look."""

    type: str
    enabled: bool
    ours: dict[str, OrgPolicy] = field(default_factory=dict)  # Vigil's policies of this object, by name
    attached: dict[str, tuple[OrgPolicy, ...]] = field(default_factory=dict)  # per target Vigil attaches to
