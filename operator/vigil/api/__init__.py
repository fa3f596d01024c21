"""The vigil.dev/v1alpha1 API: one pydantic model pair (spec, status) per kind, and how each kind
shows in Kubernetes. This package is the only source of the CRDs in crds/."""

from .common import API_VERSION, GROUP, VERSION, KindInfo
from .config import ConfigBaselineSpec, ConfigBaselineStatus
from .flowlogs import FlowLogPolicySpec, FlowLogPolicyStatus
from .guardduty import GuardDutyOrgSpec, GuardDutyOrgStatus
from .guardrails import GuardrailsSpec, GuardrailsStatus
from .logarchive import LogArchiveSpec, LogArchiveStatus
from .logsubscription import LogSubscriptionPolicySpec, LogSubscriptionPolicyStatus
from .organization import OrganizationSpec, OrganizationStatus
from .orgtrail import OrgTrailSpec, OrgTrailStatus
from .securityhub import SecurityHubBaselineSpec, SecurityHubBaselineStatus
from .sessionlogging import SessionLoggingSpec, SessionLoggingStatus

KINDS: dict[str, KindInfo] = {k.kind: k for k in [
    KindInfo(kind="Organization", plural="organizations", short_names=["vorg"],
             spec=OrganizationSpec, status=OrganizationStatus, targets_column=".status.accounts.summary",
             extra_columns=[{"name": "Org", "type": "string", "jsonPath": ".status.organizationId"}]),
    KindInfo(kind="LogArchive", plural="logarchives", short_names=["vla"],
             spec=LogArchiveSpec, status=LogArchiveStatus,
             extra_columns=[{"name": "Bucket", "type": "string", "jsonPath": ".spec.bucketName",
                             "priority": "1"}]),
    KindInfo(kind="OrgTrail", plural="orgtrails", short_names=["vtrail"],
             spec=OrgTrailSpec, status=OrgTrailStatus,
             extra_columns=[{"name": "Logging", "type": "boolean", "jsonPath": ".status.isLogging",
                             "priority": "1"}]),
    KindInfo(kind="FlowLogPolicy", plural="flowlogpolicies", short_names=["vflow"],
             spec=FlowLogPolicySpec, status=FlowLogPolicyStatus),
    KindInfo(kind="GuardDutyOrg", plural="guarddutyorgs", short_names=["vgd"],
             spec=GuardDutyOrgSpec, status=GuardDutyOrgStatus),
    KindInfo(kind="ConfigBaseline", plural="configbaselines", short_names=["vconfig"],
             spec=ConfigBaselineSpec, status=ConfigBaselineStatus),
    KindInfo(kind="LogSubscriptionPolicy", plural="logsubscriptionpolicies", short_names=["vlogsub"],
             spec=LogSubscriptionPolicySpec, status=LogSubscriptionPolicyStatus),
    KindInfo(kind="SecurityHubBaseline", plural="securityhubbaselines", short_names=["vsechub"],
             spec=SecurityHubBaselineSpec, status=SecurityHubBaselineStatus,
             extra_columns=[{"name": "Critical", "type": "integer", "jsonPath": ".status.findings.critical"},
                            {"name": "High", "type": "integer", "jsonPath": ".status.findings.high"}]),
    KindInfo(kind="SessionLogging", plural="sessionloggings", short_names=["vssm"],
             spec=SessionLoggingSpec, status=SessionLoggingStatus),
    KindInfo(kind="Guardrails", plural="guardrails", short_names=["vguard"],
             spec=GuardrailsSpec, status=GuardrailsStatus),
]}

__all__ = ["API_VERSION", "GROUP", "VERSION", "KINDS", "KindInfo"]
