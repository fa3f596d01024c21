"""Edits of every kind's spec and the allowance entries each needs: the examples of the table in
vigil.planning.spec_weakening, at least one weakening edit per rule and neutral or strengthening
ones beside them.

Shared by the layers that judge an edit: tests/unit runs them through the Python judge,
tests/kube through the generated ValidatingAdmissionPolicy on a real API server, so the CEL and
the Python are held to the same answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vigil.api import KINDS
from vigil.api.common import ControlSpec, ManagedSpec

ORG = {"name": "acme"}
ARCHIVE = {"name": "central"}
ACCOUNT_A, ACCOUNT_B = "444444444444", "555555555555"
KEY = "arn:aws:kms:ca-central-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"
FSBP, PCI, CIS = ("aws-foundational-security-best-practices/v/1.0.0", "pci-dss/v/3.2.1",
                  "cis-aws-foundations-benchmark/v/1.2.0")
OU_A, OU_B = "ou-vigl-security", "ou-vigl-workloads"
JSON_PATTERN = '{ $.level = "error" }'
# Object Lock's COMPLIANCE mode is chosen with its acknowledgement only (the CRD's rule).
COMPLIANCE_365 = {"mode": "COMPLIANCE", "days": 365, "acknowledgeComplianceModeIsPermanent": True}

# The least each kind's spec needs; an edit's fields go over it.
BASE: dict[str, dict[str, Any]] = {
    "Organization": {"accounts": {"logArchive": "222222222222", "security": "333333333333"},
                     "regions": {"home": "ca-central-1", "governed": ["ca-central-1", "us-east-1"]}},
    "LogArchive": {"organizationRef": ORG, "bucketName": "acme-log-archive"},
    "OrgTrail": {"organizationRef": ORG, "logArchiveRef": ARCHIVE},
    "FlowLogPolicy": {"organizationRef": ORG, "logArchiveRef": ARCHIVE},
    "GuardDutyOrg": {"organizationRef": ORG},
    "ConfigBaseline": {"organizationRef": ORG, "logArchiveRef": ARCHIVE},
    "LogSubscriptionPolicy": {"organizationRef": ORG, "logArchiveRef": ARCHIVE},
    "SecurityHubBaseline": {"organizationRef": ORG},
    "SessionLogging": {"organizationRef": ORG, "logArchiveRef": ARCHIVE},
    "Guardrails": {"organizationRef": ORG},
}


def merged(base: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` over ``base``, objects merged key by key (lists and nulls replace)."""
    out = dict(base)
    for key, value in fields.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@dataclass(frozen=True)
class SpecEdit:
    """``kind``'s spec edited from ``before`` to ``after`` (fields over BASE); ``entries``: what
    vigil.dev/allow-weakening must name for it to be admitted (none: it weakens nothing)."""

    name: str
    kind: str
    before: dict[str, Any]
    after: dict[str, Any]
    entries: tuple[str, ...] = field(default=())

    @property
    def old(self) -> dict[str, Any]:
        return merged(BASE[self.kind], self.before)

    @property
    def new(self) -> dict[str, Any]:
        return merged(BASE[self.kind], self.after)


def edit(kind: str, name: str, before: dict[str, Any], after: dict[str, Any], *entries: str) -> SpecEdit:
    return SpecEdit(name, kind, before, after, tuple(entries))


WORKLOADS = {"all": False, "accountIds": [ACCOUNT_A]}
RUNTIME_ON = {"features": {"runtimeMonitoring": True}}


def exclusions(*resource_types: str) -> dict[str, Any]:
    """A ConfigBaseline recorder of every type but ``resource_types``."""
    return {"recorder": {"allSupported": False, "recordingStrategy": "EXCLUSION_BY_RESOURCE_TYPES",
                         "exclusionByResourceTypes": list(resource_types)}}


def recording(frequency: str, override: str | None = None, *resource_types: str) -> dict[str, Any]:
    """A ConfigBaseline recorder recording at ``frequency``, but ``resource_types`` at ``override``."""
    overrides = [{"resourceTypes": list(resource_types), "recordingFrequency": override}] if override else []
    return {"recorder": {"recordingMode": {"recordingFrequency": frequency, "recordingModeOverrides": overrides}}}
S3_ON = {"dataEvents": {"s3": {"enabled": True}}}


def s3(**fields: Any) -> dict[str, Any]:
    return {"dataEvents": {"s3": {"enabled": True, **fields}}}


EDITS: list[SpecEdit] = [
    # --- Organization ------------------------------------------------------------------------------
    edit("Organization", "resync less often", {}, {"resyncInterval": "1h"}, "spec.resyncInterval=1h"),
    edit("Organization", "resync more often", {"resyncInterval": "1h"}, {"resyncInterval": "5m"}),
    edit("Organization", "every workload -> listed ones", {}, {"workloads": WORKLOADS}, "spec.workloads.all=false"),
    edit("Organization", "a listed workload account dropped",
         {"workloads": {"all": False, "accountIds": [ACCOUNT_A, ACCOUNT_B]}}, {"workloads": WORKLOADS},
         f"spec.workloads.accountIds=-{ACCOUNT_B}"),
    edit("Organization", "an organizational unit dropped",
         {"workloads": {"all": False, "organizationalUnits": ["ou-ab12-cdefgh12", "ou-ab12-ijklmn34"]}},
         {"workloads": {"all": False, "organizationalUnits": ["ou-ab12-cdefgh12"]}},
         "spec.workloads.organizationalUnits=-ou-ab12-ijklmn34"),
    edit("Organization", "an account excluded", {}, {"workloads": {"excludeAccountIds": [ACCOUNT_B]}},
         f"spec.workloads.excludeAccountIds=+{ACCOUNT_B}"),
    edit("Organization", "an exclusion lifted", {"workloads": {"excludeAccountIds": [ACCOUNT_B]}}, {}),
    edit("Organization", "a governed region dropped", {}, {"regions": {"governed": ["ca-central-1"]}},
         "spec.regions.governed=-us-east-1"),
    edit("Organization", "a region governed", {}, {"regions": {"governed": ["ca-central-1", "us-east-1", "eu-west-1"]}}),
    edit("Organization", "the member role renamed (no direction)", {}, {"access": {"roleName": "VigilMember"}}),
    edit("Organization", "deletionPolicy Delete (Organization deletes nothing)", {}, {"deletionPolicy": "Delete"}),

    # --- LogArchive ---------------------------------------------------------------------------------
    edit("LogArchive", "expiry shorter", {"retention": {"expireAfterDays": 2555}}, {"retention": {"expireAfterDays": 1}},
         "spec.retention.expireAfterDays=1"),
    edit("LogArchive", "expiry longer", {"retention": {"expireAfterDays": 1}}, {"retention": {"expireAfterDays": 2555}}),
    edit("LogArchive", "expiry where logs were kept for ever", {}, {"retention": {"expireAfterDays": 3650}},
         "spec.retention.expireAfterDays=3650"),
    edit("LogArchive", "expiry where retention was null", {"retention": None}, {"retention": {"expireAfterDays": 30}},
         "spec.retention.expireAfterDays=30"),
    edit("LogArchive", "expiry removed: kept for ever", {"retention": {"expireAfterDays": 2555}}, {}),
    edit("LogArchive", "Glacier sooner (logs kept)", {"retention": {"expireAfterDays": 2555, "transitionToGlacierAfterDays": 90}},
         {"retention": {"expireAfterDays": 2555, "transitionToGlacierAfterDays": 30}}),
    edit("LogArchive", "Object Lock COMPLIANCE -> GOVERNANCE", {"objectLock": COMPLIANCE_365},
         {"objectLock": {"mode": "GOVERNANCE", "days": 365}}, "spec.objectLock.mode=GOVERNANCE"),
    edit("LogArchive", "Object Lock removed", {"objectLock": COMPLIANCE_365}, {},
         "spec.objectLock.days=", "spec.objectLock.mode="),
    edit("LogArchive", "Object Lock shorter", {"objectLock": {"days": 365}}, {"objectLock": {"days": 30}},
         "spec.objectLock.days=30"),
    edit("LogArchive", "Object Lock added", {}, {"objectLock": {**COMPLIANCE_365, "days": 30}}),
    edit("LogArchive", "Object Lock allowed onto the existing bucket", {"objectLock": {"days": 365}},
         {"objectLock": {"days": 365, "enableOnExistingBucket": True}}),
    edit("LogArchive", "Object Lock no longer allowed onto an existing bucket (S3 keeps it on)",
         {"objectLock": {"days": 365, "enableOnExistingBucket": True}}, {"objectLock": {"days": 365}}),
    edit("LogArchive", "deletionPolicy Retain -> Delete", {}, {"deletionPolicy": "Delete"}, "spec.deletionPolicy=Delete"),
    edit("LogArchive", "deletionPolicy Delete -> Retain", {"deletionPolicy": "Delete"}, {"deletionPolicy": "Retain"}),
    edit("LogArchive", "Enforce -> Audit", {}, {"managementPolicy": "Audit"}, "spec.managementPolicy=Audit"),
    edit("LogArchive", "Audit -> Enforce", {"managementPolicy": "Audit"}, {"managementPolicy": "Enforce"}),
    edit("LogArchive", "adopting (the operator judges the writes)", {}, {"adoptionPolicy": "Adopt"}),
    edit("LogArchive", "two weakenings at once", {"retention": {"expireAfterDays": 2555}},
         {"retention": {"expireAfterDays": 365}, "deletionPolicy": "Delete"},
         "spec.deletionPolicy=Delete", "spec.retention.expireAfterDays=365"),

    # --- OrgTrail -----------------------------------------------------------------------------------
    edit("OrgTrail", "management events All -> WriteOnly", {}, {"managementEvents": {"readWriteType": "WriteOnly"}},
         "spec.managementEvents.readWriteType=WriteOnly"),
    edit("OrgTrail", "management events ReadOnly -> WriteOnly (reads lost)",
         {"managementEvents": {"readWriteType": "ReadOnly"}}, {"managementEvents": {"readWriteType": "WriteOnly"}},
         "spec.managementEvents.readWriteType=WriteOnly"),
    edit("OrgTrail", "management events WriteOnly -> All", {"managementEvents": {"readWriteType": "WriteOnly"}}, {}),
    edit("OrgTrail", "KMS events excluded", {}, {"managementEvents": {"excludeKmsEvents": True}},
         "spec.managementEvents.excludeKmsEvents=true"),
    edit("OrgTrail", "S3 data events off", S3_ON, {}, "spec.dataEvents.s3.enabled=false"),
    edit("OrgTrail", "S3 data events on", {}, S3_ON),
    edit("OrgTrail", "S3 data events All -> ReadOnly", S3_ON, s3(readWriteType="ReadOnly"),
         "spec.dataEvents.s3.readWriteType=ReadOnly"),
    edit("OrgTrail", "S3 data events' type while they are off", {}, {"dataEvents": {"s3": {"readWriteType": "ReadOnly"}}}),
    edit("OrgTrail", "S3 data events every bucket -> one", S3_ON, s3(bucketArns=["arn:aws:s3:::app-a"]),
         "spec.dataEvents.s3.bucketArns=+arn:aws:s3:::app-a"),
    edit("OrgTrail", "S3 data events one bucket fewer", s3(bucketArns=["arn:aws:s3:::app-a", "arn:aws:s3:::app-b"]),
         s3(bucketArns=["arn:aws:s3:::app-a"]), "spec.dataEvents.s3.bucketArns=-arn:aws:s3:::app-b"),
    edit("OrgTrail", "S3 data events another prefix of the same bucket", s3(bucketArns=["arn:aws:s3:::app-a/logs"]),
         s3(bucketArns=["arn:aws:s3:::app-a/other"])),
    edit("OrgTrail", "S3 data events one bucket -> every bucket", s3(bucketArns=["arn:aws:s3:::app-a"]), S3_ON),
    edit("OrgTrail", "CloudWatch delivery off", {"cloudWatchLogs": {"enabled": True}}, {},
         "spec.cloudWatchLogs.enabled=false"),
    edit("OrgTrail", "CloudWatch retention shorter", {"cloudWatchLogs": {"enabled": True}},
         {"cloudWatchLogs": {"enabled": True, "retentionDays": 30}}, "spec.cloudWatchLogs.retentionDays=30"),
    edit("OrgTrail", "CloudWatch retention while delivery is off", {}, {"cloudWatchLogs": {"retentionDays": 30}}),
    edit("OrgTrail", "integrity verification off", {}, {"integrity": {"verify": False}}, "spec.integrity.verify=false"),
    edit("OrgTrail", "integrity looks back less", {}, {"integrity": {"lookback": "1h"}}, "spec.integrity.lookback=1h"),
    edit("OrgTrail", "integrity verified less often", {}, {"integrity": {"interval": "6h"}},
         "spec.integrity.interval=6h"),
    edit("OrgTrail", "integrity verified more often", {}, {"integrity": {"interval": "30m", "lookback": "48h"}}),
    edit("OrgTrail", "the trail renamed (a move)", {}, {"trailName": "org-trail"}),

    # --- FlowLogPolicy ------------------------------------------------------------------------------
    edit("FlowLogPolicy", "traffic ALL -> REJECT", {}, {"trafficType": "REJECT"}, "spec.trafficType=REJECT"),
    edit("FlowLogPolicy", "traffic ACCEPT -> REJECT", {"trafficType": "ACCEPT"}, {"trafficType": "REJECT"},
         "spec.trafficType=REJECT"),
    edit("FlowLogPolicy", "traffic REJECT -> ALL", {"trafficType": "REJECT"}, {}),
    edit("FlowLogPolicy", "exclusive: others' flow logs removed", {}, {"exclusive": True}, "spec.exclusive=true"),
    edit("FlowLogPolicy", "exclusive off", {"exclusive": True}, {}),
    edit("FlowLogPolicy", "a tag required", {}, {"vpcSelector": {"matchTags": {"env": "prod"}}},
         "spec.vpcSelector.matchTags=+env:prod"),
    edit("FlowLogPolicy", "a tag's value changed", {"vpcSelector": {"matchTags": {"env": "prod"}}},
         {"vpcSelector": {"matchTags": {"env": "dev team"}}}, "spec.vpcSelector.matchTags=+env:dev%20team"),
    edit("FlowLogPolicy", "a tag no longer required", {"vpcSelector": {"matchTags": {"env": "prod", "tier": "web"}}},
         {"vpcSelector": {"matchTags": {"env": "prod"}}}),
    edit("FlowLogPolicy", "scope SharedNetwork -> Workloads", {}, {"scope": "Workloads"}, "spec.scope=Workloads"),
    edit("FlowLogPolicy", "scope SharedNetwork -> AllAccounts", {}, {"scope": "AllAccounts"}),
    edit("FlowLogPolicy", "an account dropped from scope Accounts",
         {"scope": "Accounts", "accountIds": [ACCOUNT_A, ACCOUNT_B]}, {"scope": "Accounts", "accountIds": [ACCOUNT_A]},
         f"spec.accountIds=-{ACCOUNT_B}"),
    edit("FlowLogPolicy", "every governed region -> one", {}, {"regions": ["ca-central-1"]},
         "spec.regions=+ca-central-1"),
    edit("FlowLogPolicy", "a region dropped", {"regions": ["ca-central-1", "us-east-1"]}, {"regions": ["ca-central-1"]},
         "spec.regions=-us-east-1"),
    edit("FlowLogPolicy", "one region -> every governed region", {"regions": ["ca-central-1"]}, {}),
    edit("FlowLogPolicy", "another log format (no direction)", {}, {"logFormat": "${version} ${srcaddr}"}),

    # --- GuardDutyOrg -------------------------------------------------------------------------------
    edit("GuardDutyOrg", "auto-enable ALL -> NEW", {}, {"autoEnable": "NEW"}, "spec.autoEnable=NEW"),
    edit("GuardDutyOrg", "auto-enable NEW -> NONE", {"autoEnable": "NEW"}, {"autoEnable": "NONE"},
         "spec.autoEnable=NONE"),
    edit("GuardDutyOrg", "auto-enable NONE -> ALL", {"autoEnable": "NONE"}, {}),
    *(edit("GuardDutyOrg", f"feature {name} off", {"features": {name: True}}, {"features": {name: False}},
           f"spec.features.{name}=false")
      for name in ("s3DataEvents", "eksAuditLogs", "ebsMalwareProtection", "rdsLoginEvents", "runtimeMonitoring",
                   "lambdaNetworkLogs")),
    edit("GuardDutyOrg", "runtime monitoring on", {}, {"features": {"runtimeMonitoring": True}}),
    *(edit("GuardDutyOrg", f"runtime agent management {name} off", RUNTIME_ON,
           {"features": {"runtimeMonitoring": True, "runtimeMonitoringAgentManagement": {name: False}}},
           f"spec.features.runtimeMonitoringAgentManagement.{name}=false")
      for name in ("eksAddonManagement", "ecsFargateAgentManagement", "ec2AgentManagement")),
    edit("GuardDutyOrg", "runtime agent management off, runtime monitoring off (left as found)", {},
         {"features": {"runtimeMonitoringAgentManagement": {"ec2AgentManagement": False}}}),
    edit("GuardDutyOrg", "runtime monitoring off with its agent management", RUNTIME_ON,
         {"features": {"runtimeMonitoring": False, "runtimeMonitoringAgentManagement": {"eksAddonManagement": False}}},
         "spec.features.runtimeMonitoring=false"),
    edit("GuardDutyOrg", "findings no longer exported to the archive",
         {"publishFindingsToLogArchive": {"enabled": True, "logArchiveRef": ARCHIVE}},
         {"publishFindingsToLogArchive": {"enabled": False, "logArchiveRef": ARCHIVE}},
         "spec.publishFindingsToLogArchive.enabled=false"),
    edit("GuardDutyOrg", "findings published less often (every one still is)", {},
         {"findingPublishingFrequency": "SIX_HOURS"}),

    # --- ConfigBaseline -----------------------------------------------------------------------------
    edit("ConfigBaseline", "every resource type -> not", {}, {"recorder": {"allSupported": False}},
         "spec.recorder.allSupported=false"),
    edit("ConfigBaseline", "global resources in every region -> the home one",
         {"recorder": {"includeGlobalResourceTypes": "AllRegions"}}, {},
         "spec.recorder.includeGlobalResourceTypes=HomeRegionOnly"),
    edit("ConfigBaseline", "global resources no longer recorded", {}, {"recorder": {"includeGlobalResourceTypes": "None"}},
         "spec.recorder.includeGlobalResourceTypes=None"),
    edit("ConfigBaseline", "every resource type -> all but one", {}, exclusions("AWS::EC2::Instance"),
         "spec.recorder.allSupported=false", "spec.recorder.exclusionByResourceTypes=+AWS::EC2::Instance"),
    edit("ConfigBaseline", "a resource type excluded", exclusions("AWS::EC2::Instance"),
         exclusions("AWS::EC2::Instance", "AWS::EC2::Volume"), "spec.recorder.exclusionByResourceTypes=+AWS::EC2::Volume"),
    edit("ConfigBaseline", "exclusions lifted", exclusions("AWS::EC2::Instance"), {}),
    edit("ConfigBaseline", "recording daily", {}, recording("DAILY"),
         "spec.recorder.recordingMode.recordingFrequency=DAILY"),
    edit("ConfigBaseline", "recording at every change again", recording("DAILY"), {}),
    edit("ConfigBaseline", "EC2 instances and S3 buckets recorded daily", {},
         recording("CONTINUOUS", "DAILY", "AWS::EC2::Instance", "AWS::S3::Bucket"),
         "spec.recorder.recordingMode.recordingModeOverrides=+AWS::EC2::Instance",
         "spec.recorder.recordingMode.recordingModeOverrides=+AWS::S3::Bucket"),
    edit("ConfigBaseline", "daily recording: a type no longer continuous",
         recording("DAILY", "CONTINUOUS", "AWS::IAM::Role", "AWS::EC2::Instance"),
         recording("DAILY", "CONTINUOUS", "AWS::IAM::Role"),
         "spec.recorder.recordingMode.recordingModeOverrides=-AWS::EC2::Instance"),
    edit("ConfigBaseline", "daily recording, roles now continuous", recording("DAILY"),
         recording("DAILY", "CONTINUOUS", "AWS::IAM::Role")),
    edit("ConfigBaseline", "all daily, then all but instances continuous", recording("DAILY"),
         recording("CONTINUOUS", "DAILY", "AWS::EC2::Instance")),
    edit("ConfigBaseline", "an override from continuous to daily",
         recording("CONTINUOUS", "CONTINUOUS", "AWS::EC2::Instance"),
         recording("CONTINUOUS", "DAILY", "AWS::EC2::Instance"),
         "spec.recorder.recordingMode.recordingModeOverrides=+AWS::EC2::Instance"),
    edit("ConfigBaseline", "snapshots rarer", {"deliveryFrequency": "One_Hour"}, {},
         "spec.deliveryFrequency=TwentyFour_Hours"),
    edit("ConfigBaseline", "snapshots more frequent", {}, {"deliveryFrequency": "Six_Hours"}),
    edit("ConfigBaseline", "a rule removed",
         {"rules": [{"name": "encrypted-volumes", "identifier": "ENCRYPTED_VOLUMES"},
                    {"name": "root-mfa", "identifier": "ROOT_ACCOUNT_MFA_ENABLED"}]},
         {"rules": [{"name": "encrypted-volumes", "identifier": "ENCRYPTED_VOLUMES"}]}, "spec.rules=-root-mfa"),
    edit("ConfigBaseline", "a rule's parameters changed (no direction)",
         {"rules": [{"name": "age", "identifier": "ACCESS_KEYS_ROTATED", "inputParameters": {"maxAccessKeyAge": "90"}}]},
         {"rules": [{"name": "age", "identifier": "ACCESS_KEYS_ROTATED", "inputParameters": {"maxAccessKeyAge": "30"}}]}),
    edit("ConfigBaseline", "a conformance pack removed",
         {"conformancePacks": [{"name": "cis", "templateS3Uri": "s3://packs/cis.yaml"}]}, {},
         "spec.conformancePacks=-cis"),
    edit("ConfigBaseline", "scope AllAccounts -> Workloads", {}, {"scope": "Workloads"}, "spec.scope=Workloads"),

    # --- LogSubscriptionPolicy ----------------------------------------------------------------------
    edit("LogSubscriptionPolicy", "a prefix excluded", {},
         {"logGroupSelector": {"excludePrefixes": ["/aws/kinesisfirehose/vigil", "/aws/lambda/"]}},
         "spec.logGroupSelector.excludePrefixes=+/aws/lambda/"),
    edit("LogSubscriptionPolicy", "an exclusion lifted", {"logGroupSelector": {"excludePrefixes": ["/aws/lambda/"]}},
         {"logGroupSelector": {"excludePrefixes": []}}),
    edit("LogSubscriptionPolicy", "a filter where all was streamed", {}, {"filterPattern": "ERROR"},
         "spec.filterPattern=ERROR"),
    edit("LogSubscriptionPolicy", "another filter, free text escaped", {"filterPattern": "ERROR"},
         {"filterPattern": JSON_PATTERN}, "spec.filterPattern={%20$.level%20%3D%20\"error\"%20}"),
    edit("LogSubscriptionPolicy", "the filter removed: all streamed", {"filterPattern": "ERROR"}, {}),
    edit("LogSubscriptionPolicy", "scope Workloads -> SharedNetwork", {}, {"scope": "SharedNetwork"},
         "spec.scope=SharedNetwork"),
    edit("LogSubscriptionPolicy", "the method changed (coverage kept)", {}, {"method": "AccountPolicy"}),
    edit("LogSubscriptionPolicy", "the method changed to filters (the account policies stay)", {},
         {"method": "LogGroup"}),
    edit("LogSubscriptionPolicy", "delivered through Kinesis (every event still reaches the bucket)", {},
         {"delivery": {"type": "Kinesis"}}),
    edit("LogSubscriptionPolicy", "delivered by Firehose alone again", {"delivery": {"type": "Kinesis"}},
         {"delivery": {"type": "Firehose"}}),

    # --- SecurityHubBaseline ------------------------------------------------------------------------
    edit("SecurityHubBaseline", "two standards removed", {}, {"standards": [FSBP]},
         f"spec.standards=-{PCI}", f"spec.standards=-{CIS}"),
    edit("SecurityHubBaseline", "a standard added", {}, {"standards": [FSBP, PCI, CIS, "nist-800-53/v/5.0.0"]}),
    edit("SecurityHubBaseline", "an integration removed", {}, {"integrations": ["guardduty", "access-analyzer"]},
         "spec.integrations=-config"),
    edit("SecurityHubBaseline", "auto-enable off", {}, {"autoEnable": False}, "spec.autoEnable=false"),
    edit("SecurityHubBaseline", "Access Analyzer off", {}, {"accessAnalyzer": {"enabled": False}},
         "spec.accessAnalyzer.enabled=false"),
    edit("SecurityHubBaseline", "another aggregation region (a move)", {}, {"aggregationRegion": "us-east-1"}),
    edit("SecurityHubBaseline", "a control disabled", {"configuration": {"mode": "Central"}},
         {"configuration": {"mode": "Central"}, "disabledControls": [{"id": "EC2.2", "reason": "network team's"}]},
         "spec.disabledControls=+EC2.2"),
    edit("SecurityHubBaseline", "a disabled control turned back on, another's reason edited",
         {"configuration": {"mode": "Central"}, "disabledControls": [{"id": "EC2.2", "reason": "a"},
                                                                    {"id": "IAM.6", "reason": "b"}]},
         {"configuration": {"mode": "Central"}, "disabledControls": [{"id": "IAM.6", "reason": "c"}]}),
    edit("SecurityHubBaseline", "newer standards instead of the seed's", {},
         {"standards": [FSBP, "pci-dss/v/4.0.1", "cis-aws-foundations-benchmark/v/3.0.0"]},
         f"spec.standards=-{PCI}", f"spec.standards=-{CIS}"),
    edit("SecurityHubBaseline", "configured centrally (the policy holds the same standards)", {},
         {"configuration": {"mode": "Central", "policyName": "org-baseline"}}),

    # --- SessionLogging -----------------------------------------------------------------------------
    edit("SessionLogging", "CloudWatch transcripts off", {}, {"cloudWatch": {"enabled": False}},
         "spec.cloudWatch.enabled=false"),
    edit("SessionLogging", "CloudWatch retention shorter", {}, {"cloudWatch": {"retentionDays": 30}},
         "spec.cloudWatch.retentionDays=30"),
    edit("SessionLogging", "CloudWatch retention while it is off", {"cloudWatch": {"enabled": False}},
         {"cloudWatch": {"enabled": False, "retentionDays": 30}}),
    edit("SessionLogging", "scope AllAccounts -> listed accounts", {}, {"scope": "Accounts", "accountIds": [ACCOUNT_A]},
         "spec.scope=Accounts"),
    edit("SessionLogging", "an own key instead of Vigil's", {}, {"kms": {"keyArn": KEY}}),
    edit("SessionLogging", "idle sessions kept longer (not logging)", {}, {"idleSessionTimeoutMinutes": 60}),
    edit("SessionLogging", "Audit, and resync less often", {}, {"managementPolicy": "Audit", "resyncInterval": "10m"},
         "spec.managementPolicy=Audit", "spec.resyncInterval=10m"),

    # --- Guardrails ---------------------------------------------------------------------------------
    edit("Guardrails", "root -> one OU", {}, {"attachTo": {"root": False, "organizationalUnits": [OU_A]}},
         "spec.attachTo.root=false"),
    edit("Guardrails", "one OU of two dropped", {"attachTo": {"root": False, "organizationalUnits": [OU_A, OU_B]}},
         {"attachTo": {"root": False, "organizationalUnits": [OU_B]}}, f"spec.attachTo.organizationalUnits=-{OU_A}"),
    edit("Guardrails", "OUs -> the root (wider)", {"attachTo": {"root": False, "organizationalUnits": [OU_A]}},
         {"attachTo": {"root": True, "organizationalUnits": []}}),
    edit("Guardrails", "a break-glass role added", {"breakGlassRoleNames": ["BreakGlass"]},
         {"breakGlassRoleNames": ["BreakGlass", "Admin"]}, "spec.breakGlassRoleNames=+Admin"),
    edit("Guardrails", "a break-glass role retired", {"breakGlassRoleNames": ["BreakGlass", "Admin"]},
         {"breakGlassRoleNames": ["BreakGlass"]}),
    edit("Guardrails", "SCPs off", {}, {"serviceControlPolicies": {"enabled": False}},
         "spec.serviceControlPolicies.enabled=false"),
    edit("Guardrails", "RCPs off", {}, {"resourceControlPolicies": {"enabled": False}},
         "spec.resourceControlPolicies.enabled=false"),
]

# What kinds share, edited on each of them: each kind's CEL reads the fields on its own.
for _kind, _info in KINDS.items():
    _fields = {f.alias for f in _info.spec.model_fields.values()}
    if issubclass(_info.spec, ManagedSpec):  # not Organization, whose policies do nothing: it only reads AWS
        EDITS += [edit(_kind, "Retain -> Delete", {}, {"deletionPolicy": "Delete"}, "spec.deletionPolicy=Delete"),
                  edit(_kind, "Enforce -> Audit", {}, {"managementPolicy": "Audit"}, "spec.managementPolicy=Audit"),
                  edit(_kind, "resync less often", {}, {"resyncInterval": "30m"}, "spec.resyncInterval=30m")]
    if issubclass(_info.spec, ControlSpec):
        EDITS.append(edit(_kind, "a region dropped", {"regions": ["ca-central-1", "us-east-1"]},
                          {"regions": ["us-east-1"]}, "spec.regions=-ca-central-1"))
    if "accountIds" in _fields:
        EDITS.append(edit(_kind, "an account dropped", {"scope": "Accounts", "accountIds": [ACCOUNT_A, ACCOUNT_B]},
                          {"scope": "Accounts", "accountIds": [ACCOUNT_B]}, f"spec.accountIds=-{ACCOUNT_A}"))
