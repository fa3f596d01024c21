"""What counts as weakening (planning.weakening) and what the guard holds (controls.guard.weakenings).

For every weakening issue 11 lists, a pair: the weaker write is classified weakening with the exact
allowance it needs (``<field>=<value>``, as status prints it ready to copy), and its stronger or
neutral counterpart is not. Then the cases that are never weakening (creates, Vigil's own baseline
policies restored over an empty one, a flow log replaced), changes coming from the planners
themselves (so the allowance names the spec field a user edits), how allowances are read and
written (parse_allowances, malformed_allowances, token), and the guard: an allowance allows exactly
the value it names, and a removal after a held write is held with it.
"""

from __future__ import annotations

import json
import re

import pytest

from vigil.api.flowlogs import FlowLogPolicySpec
from vigil.api.logarchive import LogArchiveSpec
from vigil.api.orgtrail import OrgTrailSpec
from vigil.controls.guard import weakenings
from vigil.planning import policies
from vigil.planning.actions import Action, Change
from vigil.planning.flowlogs import DEFAULT_LOG_FORMAT, FlowLogTarget, plan_vpc
from vigil.planning.logarchive import LogArchiveTarget, desired_bucket_settings, plan_bucket
from vigil.planning.logsubscription import selection_criteria
from vigil.planning.orgtrail import TrailTarget, canonical_event_selectors, desired_event_selectors, plan_log_group
from vigil.planning.ownership import Owner
from vigil.planning.sessionlogging import UPDATE_PREFERENCES, session_key_policy
from vigil.planning.weakening import (ALLOW_ANNOTATION, classify, item_token, malformed_allowances, recorded_daily,
                                     parse_allowances, token)
from vigil.state.cloudtrail import LogGroupState
from vigil.state.flowlogs import FlowLog, FlowLogSettings
from vigil.state.logarchive import BucketState, LifecycleRule

ACCOUNT, REGION, ORG = "222222222222", "ca-central-1", "o-abc123"
BUCKET = "acme-log-archive"
T = f"{ACCOUNT}/{REGION}/{BUCKET}"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k1"
GROUP_ARN = "arn:aws:logs:ca-central-1:123456789012:log-group:/vigil/cloudtrail:*"
STRANGER = "arn:aws:iam::999999999999:root"


def act(service: str, operation: str, *changes: Change, creates: bool = False, target: str = T) -> Action:
    return Action(target, ACCOUNT, REGION, service, operation, {}, tuple(changes), creates=creates)


def ch(path: str, before, after, spec: str = "") -> Change:
    return Change(path, before, after, spec)


def allowances(action: Action) -> list[str]:
    return [w.allowance for w in classify(action)]


# --- event selectors, as the OrgTrail planner writes them -----------------------------------------

def selectors(**fields) -> list[dict]:
    """The trail's selectors for a spec (as PutEventSelectors sends them, canonical as observed)."""
    spec = OrgTrailSpec.model_validate({"organizationRef": {"name": "acme"}, "logArchiveRef": {"name": "central"},
                                        **fields})
    return canonical_event_selectors(desired_event_selectors(spec))


def put_selectors(before: dict, after: dict) -> Action:
    return act("cloudtrail", "PutEventSelectors", ch("event_selectors", selectors(**before), selectors(**after)))


S3_ALL = {"dataEvents": {"s3": {"enabled": True}}}
S3_WRITE = {"dataEvents": {"s3": {"enabled": True, "readWriteType": "WriteOnly"}}}
S3_A = {"dataEvents": {"s3": {"enabled": True, "bucketArns": ["arn:aws:s3:::app-a"]}}}
S3_AB = {"dataEvents": {"s3": {"enabled": True, "bucketArns": ["arn:aws:s3:::app-a", "arn:aws:s3:::app-b"]}}}


# --- policies ---------------------------------------------------------------------------------------

BUCKET_BASELINE = policies.canonical(policies.log_archive_bucket_policy(BUCKET, ORG))
KEY_BASELINE = policies.canonical(policies.log_archive_key_policy(ACCOUNT, ORG))


def with_statement(policy: dict, statement: dict) -> dict:
    document = json.loads(json.dumps(policy))
    return policies.canonical({**document, "Statement": [*document["Statement"], statement]})


def without_sid(policy: dict, sid: str) -> dict:
    return policies.canonical({**policy, "Statement": [s for s in policy["Statement"] if s.get("Sid") != sid]})


READ_FOR_STRANGER = {"Sid": "Extra", "Effect": "Allow", "Principal": {"AWS": STRANGER}, "Action": "s3:GetObject",
                     "Resource": f"arn:aws:s3:::{BUCKET}/*"}
READ_FOR_ANYONE = {"Sid": "Extra", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                   "Resource": f"arn:aws:s3:::{BUCKET}/*"}
READ_FOR_THE_ORG = {**READ_FOR_ANYONE, "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}}}
DENY_DELETES = {"Sid": "TheirDeny", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject",
                "Resource": f"arn:aws:s3:::{BUCKET}/*"}
KEY_FOR_STRANGER = {"Sid": "Extra", "Effect": "Allow", "Principal": {"AWS": STRANGER}, "Action": "kms:Decrypt",
                    "Resource": "*"}

BUCKET_WIDENED = with_statement(BUCKET_BASELINE, READ_FOR_STRANGER)
BUCKET_OPEN = with_statement(BUCKET_BASELINE, READ_FOR_ANYONE)
BUCKET_NO_TLS_DENY = without_sid(BUCKET_BASELINE, "VigilDenyInsecureTransport")
BUCKET_THEIR_DENY = with_statement(BUCKET_BASELINE, DENY_DELETES)
KEY_WIDENED = with_statement(KEY_BASELINE, KEY_FOR_STRANGER)

JSON_PATTERN = '{ $.level = "error" }'
CRITERIA_ONE = selection_criteria(["/aws/kinesisfirehose/vigil-errors"])
CRITERIA_TWO = selection_criteria(["/aws/kinesisfirehose/vigil-errors", "/app/debug"])


def rule(expire, glacier=None) -> dict:
    """Vigil's lifecycle rule, as the LogArchive planner's change carries it."""
    return {"expire_after_days": expire, "transition_to_glacier_after_days": glacier}


def put_lifecycle(before, after) -> Action:
    return act("s3", "PutBucketLifecycleConfiguration", ch("lifecycle", before, after))


IAM_TYPES = ("AWS::IAM::Group", "AWS::IAM::Policy", "AWS::IAM::Role", "AWS::IAM::User")
CONTINUOUS = {"recordingFrequency": "CONTINUOUS", "recordingModeOverrides": []}


def recording(default: str, *overrides: tuple[str, ...]) -> dict:
    """Config's recording mode: the default, and overrides as (frequency, *resource types)."""
    return {"recordingFrequency": default, "recordingModeOverrides": [
        {"resourceTypes": list(types), "recordingFrequency": frequency} for frequency, *types in overrides]}


def daily(*overrides: tuple[str, ...]) -> dict:
    return recording("DAILY", *overrides)


def continuous(*overrides: tuple[str, ...]) -> dict:
    return recording("CONTINUOUS", *overrides)


# Each row: the weaker write, the allowances it needs (exactly), its stronger or neutral counterpart.
PAIRS = [
    # LogArchive: retention, Object Lock, the bucket and key policies, key rotation
    pytest.param(
        put_lifecycle(rule(2555, 90), rule(365, 90)),
        ["spec.retention.expireAfterDays=365"],
        put_lifecycle(rule(365, 90), rule(2555, 90)),
        id="s3 expiry shorter / longer"),
    pytest.param(
        put_lifecycle(None, rule(3650)),
        ["spec.retention.expireAfterDays=3650"],
        put_lifecycle(None, rule(None, 90)),
        id="s3 expiry added where there was none / a Glacier transition added"),
    pytest.param(
        put_lifecycle(rule(None, 90), rule(3650, 90)),
        ["spec.retention.expireAfterDays=3650"],
        act("s3", "DeleteBucketLifecycle", ch("lifecycle", rule(3650), None)),
        id="s3 expiry added to a transition-only rule / Vigil's rule deleted (logs kept for ever)"),
    pytest.param(
        act("s3", "PutObjectLockConfiguration", ch("object_lock", {"mode": "COMPLIANCE", "days": 365},
                                                    {"mode": "GOVERNANCE", "days": 365})),
        ["spec.objectLock.mode=GOVERNANCE"],
        act("s3", "PutObjectLockConfiguration", ch("object_lock", {"mode": "GOVERNANCE", "days": 365},
                                                    {"mode": "COMPLIANCE", "days": 365})),
        id="object lock COMPLIANCE relaxed to GOVERNANCE / tightened"),
    pytest.param(
        act("s3", "PutObjectLockConfiguration", ch("object_lock", {"mode": "GOVERNANCE", "days": 365},
                                                    {"mode": "GOVERNANCE", "days": 30})),
        ["spec.objectLock.days=30"],
        act("s3", "PutObjectLockConfiguration", ch("object_lock", {"mode": "GOVERNANCE", "days": 30},
                                                    {"mode": "GOVERNANCE", "days": 365})),
        id="object lock period shorter / longer"),
    pytest.param(
        act("s3", "PutObjectLockConfiguration", ch("object_lock_enabled", True, False)),
        ["bucket.objectLockEnabled=false"],
        act("s3", "PutObjectLockConfiguration", ch("object_lock_enabled", False, True),
            ch("object_lock", None, {"mode": "GOVERNANCE", "days": 365})),
        id="object lock off (S3 has no such call) / turned on for an existing bucket"),
    pytest.param(
        act("kinesis", "StartStreamEncryption", ch("encryption_type", "KMS", "NONE")),
        ["dataStream.encryptionType=NONE"],
        act("kinesis", "StartStreamEncryption", ch("encryption_type", "NONE", "KMS")),
        id="Kinesis data stream unencrypted / encrypted"),
    pytest.param(
        act("s3", "PutBucketPolicy", ch("policy", BUCKET_BASELINE, BUCKET_WIDENED)),
        [f"bucketPolicy={token(BUCKET_WIDENED)}"],
        act("s3", "PutBucketPolicy", ch("policy", BUCKET_WIDENED, BUCKET_BASELINE)),
        id="bucket policy grants another account / that grant removed"),
    pytest.param(
        act("s3", "PutBucketPolicy", ch("policy", BUCKET_BASELINE, BUCKET_OPEN)),
        [f"bucketPolicy={token(BUCKET_OPEN)}"],
        act("s3", "PutBucketPolicy", ch("policy", BUCKET_BASELINE, with_statement(BUCKET_BASELINE, READ_FOR_THE_ORG))),
        id="bucket policy grants an unconditioned * / * scoped to the organization"),
    pytest.param(
        act("s3", "PutBucketPolicy", ch("policy", BUCKET_BASELINE, BUCKET_NO_TLS_DENY)),
        [f"bucketPolicy={token(BUCKET_NO_TLS_DENY)}"],
        act("s3", "PutBucketPolicy", ch("policy", BUCKET_NO_TLS_DENY, BUCKET_BASELINE)),
        id="bucket policy Deny removed / restored"),
    pytest.param(
        act("s3", "PutBucketPolicy", ch("policy", BUCKET_THEIR_DENY, BUCKET_BASELINE)),
        [f"bucketPolicy={token(BUCKET_BASELINE)}"],
        act("s3", "PutBucketPolicy", ch("policy", BUCKET_BASELINE, BUCKET_THEIR_DENY)),
        id="bucket policy: the baseline over someone's extra Deny drops it / a Deny added"),
    pytest.param(
        act("kms", "PutKeyPolicy", ch("policy", KEY_BASELINE, KEY_WIDENED)),
        [f"keyPolicy={token(KEY_WIDENED)}"],
        act("kms", "PutKeyPolicy", ch("policy", KEY_WIDENED, KEY_BASELINE)),
        id="key policy grants another account / the baseline restored over it"),
    pytest.param(
        act("kms", "DisableKeyRotation", ch("rotation_enabled", True, False)),
        ["key.rotation=false"],
        act("kms", "EnableKeyRotation", ch("rotation_enabled", False, True)),
        id="kms rotation off / on"),
    # OrgTrail
    pytest.param(
        act("cloudtrail", "UpdateTrail", ch("enable_log_file_validation", True, False)),
        ["trail.logFileValidation=false"],
        act("cloudtrail", "UpdateTrail", ch("enable_log_file_validation", False, True)),
        id="trail log file validation off / on"),
    pytest.param(
        act("cloudtrail", "UpdateTrail", ch("is_multi_region_trail", True, False)),
        ["trail.multiRegion=false"],
        act("cloudtrail", "UpdateTrail", ch("is_multi_region_trail", False, True)),
        id="trail multi-region off / on"),
    pytest.param(
        act("cloudtrail", "UpdateTrail", ch("kms_key_id", KEY, "")),
        ["trail.kmsKeyId="],
        act("cloudtrail", "UpdateTrail", ch("kms_key_id", "", KEY)),
        id="trail KMS encryption removed / added"),
    pytest.param(
        act("cloudtrail", "UpdateTrail", ch("cloud_watch_logs_log_group_arn", GROUP_ARN, "")),
        ["spec.cloudWatchLogs.enabled=false"],
        act("cloudtrail", "UpdateTrail", ch("cloud_watch_logs_log_group_arn", "", GROUP_ARN)),
        id="trail CloudWatch delivery detached / attached"),
    pytest.param(
        act("cloudtrail", "StopLogging", ch("is_logging", True, False)),
        ["trail.logging=false"],
        act("cloudtrail", "StartLogging", ch("is_logging", False, True)),
        id="trail stopped / started"),
    pytest.param(
        act("cloudtrail", "StopLogging"),
        [f"StopLogging={T}"],
        act("cloudtrail", "StartLogging"),
        id="StopLogging is weakening by its operation"),
    pytest.param(
        put_selectors({}, {"managementEvents": {"readWriteType": "WriteOnly"}}),
        ["spec.managementEvents.readWriteType=WriteOnly"],
        put_selectors({"managementEvents": {"readWriteType": "WriteOnly"}}, {}),
        id="management events All -> WriteOnly (read-only events off) / back to All"),
    pytest.param(
        put_selectors({}, {"managementEvents": {"readWriteType": "ReadOnly"}}),
        ["spec.managementEvents.readWriteType=ReadOnly"],
        put_selectors({"managementEvents": {"readWriteType": "ReadOnly"}}, {}),
        id="management events All -> ReadOnly / back to All"),
    pytest.param(
        put_selectors({}, {"managementEvents": {"excludeKmsEvents": True}}),
        ["spec.managementEvents.excludeKmsEvents=true"],
        put_selectors({"managementEvents": {"excludeKmsEvents": True}}, {}),
        id="KMS events excluded / included again"),
    pytest.param(
        put_selectors(S3_ALL, {}),
        ["spec.dataEvents.s3.enabled=false"],
        put_selectors({}, S3_ALL),
        id="S3 data events removed / added"),
    pytest.param(
        put_selectors(S3_ALL, S3_WRITE),
        ["spec.dataEvents.s3.readWriteType=WriteOnly"],
        put_selectors(S3_WRITE, S3_ALL),
        id="S3 data events readWriteType narrowed / widened"),
    pytest.param(
        put_selectors(S3_ALL, S3_A),
        ["spec.dataEvents.s3.bucketArns=+arn:aws:s3:::app-a"],  # named per item, as admission does
        put_selectors(S3_A, S3_ALL),
        id="S3 data events every bucket -> one bucket / one bucket -> every bucket"),
    pytest.param(
        put_selectors(S3_AB, S3_A),
        ["spec.dataEvents.s3.bucketArns=-arn:aws:s3:::app-b"],
        put_selectors(S3_A, S3_AB),
        id="S3 data events bucket list narrowed / grown"),
    # CloudWatch Logs retention (the trail's group names its spec field)
    pytest.param(
        act("logs", "PutRetentionPolicy", ch("retention_days", 365, 30, "spec.cloudWatchLogs.retentionDays")),
        ["spec.cloudWatchLogs.retentionDays=30"],
        act("logs", "PutRetentionPolicy", ch("retention_days", 30, 365, "spec.cloudWatchLogs.retentionDays")),
        id="log group retention shorter / longer"),
    pytest.param(
        act("logs", "PutRetentionPolicy", ch("retention_days", None, 365)),
        ["logGroup.retentionInDays=365"],
        act("logs", "PutRetentionPolicy", ch("retention_days", 365, 3653)),
        id="log group retention set where it never expired / lengthened"),
    # VPC flow logs
    pytest.param(
        act("ec2", "CreateFlowLogs", ch("traffic_type", "ALL", "ACCEPT")),
        ["spec.trafficType=ACCEPT"],
        act("ec2", "CreateFlowLogs", ch("traffic_type", "ACCEPT", "ALL")),
        id="flow log traffic ALL -> ACCEPT / ACCEPT -> ALL"),
    pytest.param(
        act("ec2", "CreateFlowLogs", ch("traffic_type", "REJECT", "ACCEPT")),
        ["spec.trafficType=ACCEPT"],
        act("ec2", "CreateFlowLogs", ch("traffic_type", "REJECT", "ALL")),
        id="flow log traffic REJECT -> ACCEPT / REJECT -> ALL"),
    pytest.param(
        act("ec2", "DeleteFlowLogs", ch("flow_log.fl-9", "ALL to arn:aws:s3:::theirs", "exclusive", "spec.exclusive")),
        ["spec.exclusive=true"],
        act("ec2", "DeleteFlowLogs", ch("flow_log.fl-1", "ACCEPT to arn:aws:s3:::acme-log-archive", "replaced")),
        id="flow log removed under exclusive / replaced by the right one"),
    # GuardDuty
    pytest.param(
        act("guardduty", "UpdateDetector", ch("features.s3_data_events", True, False)),
        ["spec.features.s3DataEvents=false"],
        act("guardduty", "UpdateDetector", ch("features.s3_data_events", False, True)),
        id="detector feature off / on"),
    pytest.param(
        act("guardduty", "UpdateOrganizationConfiguration", ch("features.eks_audit_logs", "ALL", "NEW")),
        ["spec.autoEnable=NEW"],
        act("guardduty", "UpdateOrganizationConfiguration", ch("features.eks_audit_logs", "NEW", "ALL")),
        id="organization feature ALL -> NEW / NEW -> ALL"),
    pytest.param(
        act("guardduty", "UpdateOrganizationConfiguration", ch("features.runtime_monitoring", "NEW", "NONE")),
        ["spec.features.runtimeMonitoring=false"],
        act("guardduty", "UpdateOrganizationConfiguration", ch("features.runtime_monitoring", "NONE", "NEW")),
        id="organization feature NEW -> NONE / NONE -> NEW"),
    pytest.param(
        act("guardduty", "UpdateOrganizationConfiguration", ch("auto_enable_organization_members", "ALL", "NEW")),
        ["spec.autoEnable=NEW"],
        act("guardduty", "UpdateOrganizationConfiguration", ch("auto_enable_organization_members", "NONE", "ALL")),
        id="auto-enable ALL -> NEW / NONE -> ALL"),
    pytest.param(
        act("guardduty", "UpdateOrganizationConfiguration", ch("auto_enable_organization_members", "NEW", "NONE")),
        ["spec.autoEnable=NONE"],
        act("guardduty", "UpdateOrganizationConfiguration", ch("auto_enable_organization_members", "NEW", "ALL")),
        id="auto-enable NEW -> NONE / NEW -> ALL"),
    pytest.param(
        act("guardduty", "UpdateDetector", ch("features.runtime_monitoring_agent_management.ec2_agent_management",
                                              True, False)),
        ["spec.features.runtimeMonitoringAgentManagement.ec2AgentManagement=false"],
        act("guardduty", "UpdateDetector", ch("features.runtime_monitoring_agent_management.ec2_agent_management",
                                              False, True)),
        id="runtime agent management off / on"),
    pytest.param(
        act("guardduty", "UpdateOrganizationConfiguration", ch(
            "features.runtime_monitoring_agent_management.ecs_fargate_agent_management", "ALL", "NONE")),
        ["spec.features.runtimeMonitoringAgentManagement.ecsFargateAgentManagement=false"],
        act("guardduty", "UpdateOrganizationConfiguration", ch(
            "features.runtime_monitoring_agent_management.ecs_fargate_agent_management", "NONE", "NEW")),
        id="organization agent management ALL -> NONE / NONE -> NEW"),
    pytest.param(
        act("guardduty", "UpdateDetector", ch("enabled", True, False)),
        ["detector.enabled=false"],
        act("guardduty", "UpdateDetector", ch("enabled", False, True)),
        id="detector disabled / enabled"),
    # Config
    pytest.param(
        act("config", "PutConfigurationRecorder", ch("recorder.all_supported", True, False)),
        ["spec.recorder.allSupported=false"],
        act("config", "PutConfigurationRecorder", ch("recorder.all_supported", False, True)),
        id="recorder allSupported off / on"),
    pytest.param(
        act("config", "PutConfigurationRecorder", ch("recorder.unrecorded_types", (), IAM_TYPES,
                                                     "spec.recorder.includeGlobalResourceTypes=None")),
        ["spec.recorder.includeGlobalResourceTypes=None"],
        act("config", "PutConfigurationRecorder", ch("recorder.unrecorded_types", IAM_TYPES, ())),
        id="recorder global resource types off / on"),
    pytest.param(
        act("config", "PutConfigurationRecorder", ch(
            "recorder.unrecorded_types", ("AWS::EC2::Instance",), ("AWS::EC2::Instance", "AWS::EC2::Volume"),
            "spec.recorder.exclusionByResourceTypes=+AWS::EC2::Volume")),
        ["spec.recorder.exclusionByResourceTypes=+AWS::EC2::Volume"],
        act("config", "PutConfigurationRecorder", ch("recorder.unrecorded_types", ("*",), ("AWS::EC2::Volume",))),
        id="recorder exclusion added / from a recorder of chosen types"),
    pytest.param(
        act("config", "PutConfigurationRecorder", ch("recorder.recording_mode", CONTINUOUS, daily())),
        ["spec.recorder.recordingMode.recordingFrequency=DAILY"],
        act("config", "PutConfigurationRecorder", ch("recorder.recording_mode", daily(), CONTINUOUS)),
        id="recording DAILY / CONTINUOUS"),
    pytest.param(
        act("config", "PutConfigurationRecorder", ch("recorder.recording_mode", CONTINUOUS,
                                                     continuous(("DAILY", "AWS::EC2::Instance", "AWS::S3::Bucket")))),
        ["spec.recorder.recordingMode.recordingModeOverrides=+AWS::EC2::Instance",
         "spec.recorder.recordingMode.recordingModeOverrides=+AWS::S3::Bucket"],
        act("config", "PutConfigurationRecorder", ch("recorder.recording_mode",
                                                     continuous(("DAILY", "AWS::EC2::Instance")), CONTINUOUS)),
        id="recording override to DAILY / override removed"),
    pytest.param(
        act("config", "PutConfigurationRecorder", ch("recorder.recording_mode",
                                                     daily(("CONTINUOUS", "AWS::IAM::Role", "AWS::EC2::Instance")),
                                                     daily(("CONTINUOUS", "AWS::IAM::Role")))),
        ["spec.recorder.recordingMode.recordingModeOverrides=-AWS::EC2::Instance"],
        act("config", "PutConfigurationRecorder", ch("recorder.recording_mode", daily(("CONTINUOUS", "AWS::IAM::Role")),
                                                     daily(("CONTINUOUS", "AWS::IAM::Role", "AWS::EC2::Instance")))),
        id="daily recording: a type out of the CONTINUOUS override / into it"),
    pytest.param(
        act("config", "StopConfigurationRecorder", ch("recorder.recording", True, False)),
        ["recorder.recording=false"],
        act("config", "StartConfigurationRecorder", ch("recorder.recording", False, True)),
        id="recording stopped / started"),
    pytest.param(
        act("config", "PutDeliveryChannel", ch("delivery_channel.delivery_frequency", "One_Hour", "TwentyFour_Hours")),
        ["spec.deliveryFrequency=TwentyFour_Hours"],
        act("config", "PutDeliveryChannel", ch("delivery_channel.delivery_frequency", "Six_Hours", "Three_Hours")),
        id="delivery frequency rarer / more frequent"),
    pytest.param(
        act("config", "PutOrganizationConfigRule", ch("organization_rule.excluded_accounts", ("444444444444",),
                                                       ("444444444444", "555555555555"))),
        [f"excludedAccounts={token(['444444444444', '555555555555'])}"],
        act("config", "PutOrganizationConfigRule", ch("organization_rule.excluded_accounts",
                                                       ("444444444444", "555555555555"), ("444444444444",))),
        id="rule excluded accounts grown / shrunk"),
    pytest.param(
        act("config", "PutOrganizationConformancePack", ch("conformance_pack.excluded_accounts", [],
                                                            ["555555555555"])),
        [f"excludedAccounts={token(['555555555555'])}"],
        act("config", "PutOrganizationConformancePack", ch("conformance_pack.excluded_accounts",
                                                            ["555555555555"], [])),
        id="conformance pack excluded accounts grown / shrunk"),
    # Security Hub
    pytest.param(
        act("securityhub", "UpdateOrganizationConfiguration", ch("auto_enable", True, False)),
        ["spec.autoEnable=false"],
        act("securityhub", "UpdateOrganizationConfiguration", ch("auto_enable", False, True)),
        id="security hub auto-enable off / on"),
    pytest.param(
        act("securityhub", "BatchDisableStandards"),
        [f"BatchDisableStandards={T}"],
        act("securityhub", "BatchEnableStandards", ch("standards.pci-dss/v/3.2.1", None, "READY")),
        id="standards disabled / enabled"),
    pytest.param(
        act("securityhub", "DisableImportFindingsForProduct"),
        [f"DisableImportFindingsForProduct={T}"],
        act("securityhub", "EnableImportFindingsForProduct", ch("integrations.guardduty", "disabled", "enabled")),
        id="integration disabled / enabled"),
    # Log subscriptions
    pytest.param(
        act("logs", "DeleteSubscriptionFilter"),
        [f"DeleteSubscriptionFilter={T}"],
        act("logs", "PutSubscriptionFilter", ch("subscription_filter", None, "vigil to arn:dest")),
        id="subscription filter removed / put"),
    pytest.param(
        act("logs", "DeleteAccountPolicy"),
        [f"DeleteAccountPolicy={T}"],
        act("logs", "PutAccountPolicy", ch("account_policy", None, "vigil to arn:dest")),
        id="account policy removed / put"),
    pytest.param(
        act("logs", "PutSubscriptionFilter", ch("filter_pattern", "", "ERROR")),
        ["spec.filterPattern=ERROR"],
        act("logs", "PutSubscriptionFilter", ch("filter_pattern", "ERROR", "")),
        id="subscription filter pattern set where there was none / removed (streams all)"),
    pytest.param(
        act("logs", "PutAccountPolicy", ch("policy_document.FilterPattern", "", JSON_PATTERN)),
        ["spec.filterPattern=" + item_token(JSON_PATTERN)],  # free text, escaped as admission's CEL can
        act("logs", "PutAccountPolicy", ch("policy_document.FilterPattern", JSON_PATTERN, "")),
        id="account policy filter pattern set where there was none / removed"),
    pytest.param(
        act("logs", "PutAccountPolicy", ch("selection_criteria", CRITERIA_ONE, CRITERIA_TWO)),
        [f"spec.logGroupSelector.excludePrefixes={token(CRITERIA_TWO)}"],
        act("logs", "PutAccountPolicy", ch("selection_criteria", CRITERIA_TWO, CRITERIA_ONE)),
        id="account policy exclusions grown / shrunk"),
    pytest.param(
        act("logs", "PutAccountPolicy", ch("selection_criteria", "", CRITERIA_ONE)),
        [f"spec.logGroupSelector.excludePrefixes={token(CRITERIA_ONE)}"],
        act("logs", "PutAccountPolicy", ch("selection_criteria", CRITERIA_ONE, "")),
        id="account policy exclusions added / all removed"),
    # Session Manager preferences
    pytest.param(
        act("ssm", UPDATE_PREFERENCES, ch("s3_bucket_name", BUCKET, "")),
        ["sessionPreferences.s3BucketName="],
        act("ssm", UPDATE_PREFERENCES, ch("s3_bucket_name", "", BUCKET)),
        id="session S3 destination removed / set"),
    pytest.param(
        act("ssm", UPDATE_PREFERENCES, ch("s3_encryption_enabled", True, False)),
        ["sessionPreferences.s3EncryptionEnabled=false"],
        act("ssm", UPDATE_PREFERENCES, ch("s3_encryption_enabled", None, True)),
        id="session S3 encryption off / on"),
    pytest.param(
        act("ssm", UPDATE_PREFERENCES, ch("cloud_watch_log_group_name", "/vigil/ssm-sessions", "")),
        ["spec.cloudWatch.enabled=false"],
        act("ssm", UPDATE_PREFERENCES, ch("cloud_watch_log_group_name", None, "/vigil/ssm-sessions")),
        id="session CloudWatch destination removed / set"),
    pytest.param(
        act("ssm", UPDATE_PREFERENCES, ch("cloud_watch_encryption_enabled", True, False)),
        ["sessionPreferences.cloudWatchEncryptionEnabled=false"],
        act("ssm", UPDATE_PREFERENCES, ch("cloud_watch_encryption_enabled", False, True)),
        id="session CloudWatch encryption off / on"),
    pytest.param(
        act("ssm", UPDATE_PREFERENCES, ch("kms_key_id", KEY, None)),
        ["sessionPreferences.kmsKeyId="],
        act("ssm", UPDATE_PREFERENCES, ch("kms_key_id", None, KEY)),
        id="session KMS key removed / set"),
]


@pytest.mark.parametrize("weaker, expected, stronger", PAIRS)
def test_the_weaker_change_needs_its_allowance_and_the_stronger_does_not(weaker, expected, stronger):
    assert allowances(weaker) == expected
    assert allowances(stronger) == []
    for w in classify(weaker):
        assert w.target == T, "status names the account/region/resource"
        assert not malformed_allowances(w.allowance), f"{w.allowance!r} must be ready to copy into the annotation"


@pytest.mark.parametrize("weaker, _, __", PAIRS)
def test_a_create_is_never_weakening(weaker, _, __):
    """Configuring a resource Vigil is bringing into being weakens nothing: there was nothing."""
    created = Action(weaker.target, weaker.account_id, weaker.region, weaker.service, weaker.operation,
                     weaker.params, weaker.changes, creates=True)
    if re.match(r"^(Stop|Delete|Disable|BatchDisable)", weaker.operation):
        assert allowances(created), "a removal stays a removal whatever its creates flag says"
    else:
        assert allowances(created) == []


@pytest.mark.parametrize("neutral", [
    pytest.param(act("s3", "PutBucketPolicy", ch("policy", None, BUCKET_BASELINE)), id="bucket baseline over none"),
    pytest.param(act("s3", "PutBucketPolicy", ch("policy", {}, BUCKET_BASELINE)), id="bucket baseline over an empty document"),
    pytest.param(act("kms", "PutKeyPolicy", ch("policy", None, KEY_BASELINE)), id="key baseline over none"),
    pytest.param(act("kms", "PutKeyPolicy", ch("policy", {"Version": "2012-10-17", "Statement": []}, KEY_BASELINE)),
                 id="key baseline over an empty statement list"),
    pytest.param(act("kms", "PutKeyPolicy", ch("policy", None, policies.canonical(session_key_policy(ACCOUNT, REGION)))),
                 id="Session Manager key baseline over none"),
    pytest.param(act("cloudtrail", "UpdateTrail", ch("kms_key_id", KEY, KEY.replace("k1", "k2"))),
                 id="trail moved to another key: still encrypted"),
    pytest.param(act("logs", "PutRetentionPolicy", ch("retention_days", 30, None)), id="retention removed: kept for ever"),
    pytest.param(act("s3", "PutBucketVersioning", ch("versioning", "Suspended", "Enabled")), id="versioning on"),
    pytest.param(act("cloudtrail", "UpdateTrail", ch("s3_key_prefix", "old", "cloudtrail")), id="an unjudged field"),
    pytest.param(act("s3", "PutBucketTagging", ch("owner", None, "team-a/LogArchive/central"), creates=True),
                 id="recording the owner (adoption)"),
])
def test_neutral_and_restoring_writes_are_not_weakening(neutral):
    assert classify(neutral) == []


def test_removals_are_weakening_by_operation_unless_their_changes_say_otherwise():
    for operation in ("DeleteTrail", "DeleteDetector", "DisableOrganizationAdminAccount",
                      "DeregisterDelegatedAdministrator", "DeleteBucketPolicy", "ScheduleKeyDeletion"):
        [w] = classify(act("any", operation))
        assert (w.field, w.allowance) == (operation, f"{operation}={T}")
        assert str(w) == f"{T}: {operation} present -> removed"
    # Vigil's lifecycle rule deleted: logs are kept for ever; judged by its change, not its name.
    assert classify(act("s3", "DeleteBucketLifecycle", ch("lifecycle", {"expire_after_days": 30}, None))) == []


def test_a_weakening_reads_as_the_field_that_weakens_old_to_new():
    [w] = classify(act("s3", "PutBucketLifecycleConfiguration",
                       ch("lifecycle", {"expire_after_days": 2555, "transition_to_glacier_after_days": 90},
                          {"expire_after_days": 365, "transition_to_glacier_after_days": 90})))
    assert str(w) == f"{T}: lifecycle.expire_after_days 2555 -> 365"
    [w] = classify(act("cloudtrail", "UpdateTrail", ch("enable_log_file_validation", True, False)))
    assert str(w) == f"{T}: enable_log_file_validation true -> false"
    [mode, days] = classify(act("s3", "PutObjectLockConfiguration", ch("object_lock", {"mode": "COMPLIANCE", "days": 365},
                                                                       {"mode": "GOVERNANCE", "days": 30})))
    assert (str(mode), str(days)) == (f"{T}: object_lock.mode COMPLIANCE -> GOVERNANCE",
                                      f"{T}: object_lock.days 365 -> 30")


def test_one_write_can_hold_several_weakenings_each_with_its_allowance():
    update = act("cloudtrail", "UpdateTrail", ch("enable_log_file_validation", True, False),
                 ch("is_multi_region_trail", True, False), ch("s3_key_prefix", "a", "b"))
    assert allowances(update) == ["trail.logFileValidation=false", "trail.multiRegion=false"]
    both = put_selectors(S3_ALL, {"managementEvents": {"readWriteType": "WriteOnly", "excludeKmsEvents": True}})
    assert allowances(both) == ["spec.managementEvents.readWriteType=WriteOnly",
                                "spec.managementEvents.excludeKmsEvents=true", "spec.dataEvents.s3.enabled=false"]


# --- from the planners: the allowance names the field a user edits ---------------------------------

OWNER = Owner("team-a", "LogArchive", "central")
ARCHIVE = LogArchiveTarget(ACCOUNT, REGION, ORG, OWNER)


def archive_spec(**retention) -> LogArchiveSpec:
    return LogArchiveSpec.model_validate({"organizationRef": {"name": "acme"}, "bucketName": BUCKET,
                                          "retention": retention or None})


def test_a_shorter_retention_in_the_spec_is_held_until_allowed():
    before = archive_spec(expireAfterDays=2555)
    bucket = BucketState(exists=True, settings=desired_bucket_settings(before, ARCHIVE, KEY))
    [put] = plan_bucket(archive_spec(expireAfterDays=30), ARCHIVE, KEY, bucket)
    assert allowances(put) == ["spec.retention.expireAfterDays=30"]
    [put] = plan_bucket(archive_spec(expireAfterDays=3650), ARCHIVE, KEY, bucket)
    assert allowances(put) == []
    [delete] = plan_bucket(archive_spec(), ARCHIVE, KEY, bucket)
    assert delete.operation == "DeleteBucketLifecycle" and allowances(delete) == []
    # A bucket without expiry that gets one: logs start being destroyed.
    bare = BucketState(exists=True, settings=desired_bucket_settings(archive_spec(), ARCHIVE, KEY))
    [put] = plan_bucket(archive_spec(expireAfterDays=400, transitionToGlacierAfterDays=90), ARCHIVE, KEY, bare)
    assert allowances(put) == ["spec.retention.expireAfterDays=400"]


def test_the_trail_log_group_retention_names_the_orgtrail_spec_field():
    spec = OrgTrailSpec.model_validate({"organizationRef": {"name": "acme"}, "logArchiveRef": {"name": "central"},
                                        "cloudWatchLogs": {"enabled": True, "retentionDays": 30}})
    trail = TrailTarget("123456789012", REGION, BUCKET, KEY, Owner("team-a", "OrgTrail", "org-trail"))
    [put] = plan_log_group(spec, trail, LogGroupState(exists=True, retention_days=365))
    assert allowances(put) == ["spec.cloudWatchLogs.retentionDays=30"]
    assert allowances(plan_log_group(spec, trail, LogGroupState(exists=False))[1]) == [], "a new group's retention"


FLOW_OWNER = Owner("team-a", "FlowLogPolicy", "vpcs")
FLOWS = FlowLogTarget("444444444444", REGION, BUCKET, FLOW_OWNER)
ARCHIVE_DESTINATION = f"arn:aws:s3:::{BUCKET}/vpc-flow-logs"


def flow_log(id_: str, traffic: str = "ALL", destination: str = ARCHIVE_DESTINATION, mine: bool = True) -> FlowLog:
    return FlowLog(flow_log_id=id_, resource_id="vpc-1", tags=FLOW_OWNER.tags() if mine else {},
                   settings=FlowLogSettings(traffic_type=traffic, log_destination_type="s3", log_destination=destination,
                                            log_format=DEFAULT_LOG_FORMAT, max_aggregation_interval=600))


def flow_spec(**fields) -> FlowLogPolicySpec:
    return FlowLogPolicySpec.model_validate({"organizationRef": {"name": "acme"}, "logArchiveRef": {"name": "c"},
                                             **fields})


def test_narrowing_a_flow_log_holds_its_replacement_and_the_deletion_after_it():
    """ALL -> ACCEPT creates the narrower flow log, then deletes the ALL one: both wait."""
    plan = plan_vpc(flow_spec(trafficType="ACCEPT"), FLOWS, "vpc-1", [flow_log("fl-1")])
    assert [a.operation for a in plan] == ["CreateFlowLogs", "DeleteFlowLogs"]
    apply, held, allowed = weakenings(plan, frozenset())
    assert apply == [] and allowed == []
    # The deletion waits on the create: the one allowance releases both.
    assert [w.allowance for w in held] == ["spec.trafficType=ACCEPT", "spec.trafficType=ACCEPT"]
    assert held[1].field == "DeleteFlowLogs"
    apply, held, allowed = weakenings(plan, frozenset({"spec.trafficType=ACCEPT"}))
    assert apply == plan and held == [] and [w.allowance for w in allowed] == ["spec.trafficType=ACCEPT"]


def test_replacing_a_wrong_flow_log_with_the_right_one_is_not_held():
    plan = plan_vpc(flow_spec(), FLOWS, "vpc-1", [flow_log("fl-1", traffic="ACCEPT")])
    apply, held, _ = weakenings(plan, frozenset())
    assert [a.operation for a in apply] == ["CreateFlowLogs", "DeleteFlowLogs"] and held == []


def test_exclusive_holds_only_the_removal_of_another_tools_flow_log():
    theirs = flow_log("fl-9", destination="arn:aws:s3:::theirs/flows", mine=False)
    plan = plan_vpc(flow_spec(exclusive=True), FLOWS, "vpc-1", [theirs])
    assert [a.operation for a in plan] == ["CreateFlowLogs", "DeleteFlowLogs"]
    apply, held, _ = weakenings(plan, frozenset())
    assert [a.operation for a in apply] == ["CreateFlowLogs"], "the VPC still gets Vigil's flow log"
    assert [w.allowance for w in held] == ["spec.exclusive=true"]
    apply, held, _ = weakenings(plan, frozenset({"spec.exclusive=true"}))
    assert apply == plan and held == []


# --- the guard: an allowance allows the value it names, and nothing else ---------------------------

SHORTER = act("s3", "PutBucketLifecycleConfiguration", ch("lifecycle", {"expire_after_days": 2555}, {"expire_after_days": 30}))
VERSIONING = act("s3", "PutBucketVersioning", ch("versioning", "Suspended", "Enabled"))


@pytest.mark.parametrize("annotation, applied", [
    pytest.param("spec.retention.expireAfterDays=30", True, id="the exact change"),
    pytest.param(" spec.retention.expireAfterDays=30 ,trail.logging=false\n", True, id="among others, spaced"),
    pytest.param("spec.retention.expireAfterDays=7", False, id="another value does not allow"),
    pytest.param("spec.retention.expireAfterDays=300", False, id="a longer value does not allow a shorter one"),
    pytest.param("spec.retention.transitionToGlacierAfterDays=30", False, id="another field does not allow"),
    pytest.param("spec.retention.expireAfterDays", False, id="a field without its value does not allow"),
    pytest.param("", False, id="no annotation"),
])
def test_an_allowance_names_one_change(annotation, applied):
    apply, held, allowed = weakenings([SHORTER, VERSIONING], parse_allowances(annotation))
    assert VERSIONING in apply, "a write that weakens nothing is never held"
    assert (SHORTER in apply) is applied
    assert [w.allowance for w in (allowed if applied else held)] == ["spec.retention.expireAfterDays=30"]
    assert (allowed if not applied else held) == []


def test_a_removal_after_a_held_write_is_held_but_not_one_before_it():
    create = act("ec2", "CreateFlowLogs", ch("traffic_type", "ALL", "ACCEPT"))
    replaced = act("ec2", "DeleteFlowLogs", ch("flow_log.fl-1", "ALL to x", "replaced"))
    apply, held, _ = weakenings([replaced, create, VERSIONING, replaced], frozenset())
    assert apply == [replaced, VERSIONING], "the first deletion came before anything was held"
    assert [w.field for w in held] == ["traffic_type", "DeleteFlowLogs"]


# --- reading and writing allowances ----------------------------------------------------------------

def test_parse_allowances_splits_on_commas_and_new_lines_and_trims():
    assert parse_allowances(None) == frozenset() and parse_allowances("") == frozenset()
    assert parse_allowances(" a=1,b=2\n  c=sha256:0123456789ab ,,\n\n") == frozenset({"a=1", "b=2", "c=sha256:0123456789ab"})
    assert ALLOW_ANNOTATION == "vigil.dev/allow-weakening"


@pytest.mark.parametrize("annotation, bad", [
    pytest.param("spec.retention.expireAfterDays=30,trail.kmsKeyId=", [], id="well formed, an empty value too"),
    pytest.param(f"StopLogging={T}\nbucketPolicy=sha256:0123456789ab", [], id="an operation on a target, a digest"),
    pytest.param("spec.retention.expireAfterDays", ["spec.retention.expireAfterDays"], id="no value"),
    pytest.param("=30, ok=1", ["=30"], id="no field"),
    pytest.param("a=b=c", ["a=b=c"], id="two equals signs"),
    pytest.param("1field=2,x y=1", ["1field=2", "x y=1"], id="a field must start with a letter and hold no space"),
])
def test_malformed_allowances_lists_what_does_not_read_field_equals_value(annotation, bad):
    message = malformed_allowances(annotation)
    if not bad:
        assert message == ""
    else:
        assert message.startswith("entries must read <field>=<new value>")
        assert message.endswith("not " + ", ".join(sorted(bad)))


@pytest.mark.parametrize("value, written", [
    pytest.param(True, "true", id="true"),
    pytest.param(False, "false", id="false"),
    pytest.param(None, "", id="none is empty"),
    pytest.param(30, "30", id="a number"),
    pytest.param("WriteOnly", "WriteOnly", id="a word"),
    pytest.param("arn:aws:s3:::app-a/", "arn:aws:s3:::app-a/", id="an ARN"),
])
def test_token_writes_plain_values_as_they_are(value, written):
    assert token(value) == written


def test_token_names_other_values_by_a_stable_digest():
    digest = re.compile(r"^sha256:[0-9a-f]{12}$")
    for value in ({"a": 1}, ["x", "y"], "two words", '{ $.level = "error" }', "x" * 129):
        assert digest.match(token(value)), value
    assert token({"a": 1, "b": [1, 2]}) == token({"b": [1, 2], "a": 1}), "key order does not matter"
    assert token(["x", "y"]) != token(["y", "x"]) and token("ERROR WARN") != token("ERROR  WARN")
    assert token(("444444444444",)) == token(["444444444444"])


def test_finishing_a_create_of_the_objects_own_resource_is_no_weakening():
    """A log group this object created whose retention AWS reports unset (the operator stopped
    between CreateLogGroup and PutRetentionPolicy): setting it finishes the create. The same
    change on a group someone else made, or one the object adopted, is held."""
    set_retention = Action("a/r/group", "111111111111", "ca-central-1", "logs", "PutRetentionPolicy",
                           {"logGroupName": "group", "retentionInDays": 365},
                           (Change("retention_days", None, 365, "spec.cloudWatch.retentionDays"),))
    assert classify(set_retention, completing=True) == []
    assert [w.allowance for w in classify(set_retention)] == ["spec.cloudWatch.retentionDays=365"]
    shorter = Action("a/r/group", "111111111111", "ca-central-1", "logs", "PutRetentionPolicy",
                     {"logGroupName": "group", "retentionInDays": 30},
                     (Change("retention_days", 365, 30, "spec.cloudWatch.retentionDays"),))
    assert [w.allowance for w in classify(shorter, completing=True)] == ["spec.cloudWatch.retentionDays=30"], \
        "a set retention made shorter is a weakening on the object's own group too"


# --- Config's recording mode ------------------------------------------------------------------------

FREQUENCY_DAILY = "spec.recorder.recordingMode.recordingFrequency=DAILY"
OVERRIDES = "spec.recorder.recordingMode.recordingModeOverrides"


@pytest.mark.parametrize("before, after, expected", [
    (CONTINUOUS, daily(), [FREQUENCY_DAILY]),
    (continuous(), continuous(("DAILY", "AWS::EC2::Instance")), [f"{OVERRIDES}=+AWS::EC2::Instance"]),
    (continuous(("DAILY", "AWS::EC2::Instance")), continuous(("DAILY", "AWS::EC2::Instance", "AWS::S3::Bucket")),
     [f"{OVERRIDES}=+AWS::S3::Bucket"]),
    (daily(("CONTINUOUS", "AWS::EC2::Instance")), daily(), [f"{OVERRIDES}=-AWS::EC2::Instance"]),
    (daily(("CONTINUOUS", "AWS::EC2::Instance")), continuous(("DAILY", "AWS::EC2::Instance")),
     [f"{OVERRIDES}=+AWS::EC2::Instance"]),
    (continuous(("CONTINUOUS", "AWS::EC2::Instance")), daily(), [FREQUENCY_DAILY, f"{OVERRIDES}=-AWS::EC2::Instance"]),
    (continuous(("CONTINUOUS", "AWS::EC2::Instance")), continuous(("DAILY", "AWS::EC2::Instance")),
     [f"{OVERRIDES}=+AWS::EC2::Instance"]),
    # Stronger, or the same: a type daily before stays daily, one continuous stays so.
    (daily(), continuous(("DAILY", "AWS::EC2::Instance")), []),
    (daily(("DAILY", "AWS::EC2::Instance")), daily(("CONTINUOUS", "AWS::EC2::Instance")), []),
    (daily(), daily(("CONTINUOUS", "AWS::EC2::Instance")), []),
    (None, CONTINUOUS, []),  # a recorder from before recording modes records continuously
], ids=lambda v: "" if isinstance(v, (dict, type(None))) else ",".join(v) or "none")
def test_a_type_recorded_daily_that_was_recorded_at_every_change_weakens(before, after, expected):
    assert [entry for _, entry in recorded_daily(before, after)] == expected
    judged = classify(act("config", "PutConfigurationRecorder", ch("recorder.recording_mode", before, after)))
    assert [w.allowance for w in judged] == expected
    assert all((w.before, w.after) == ("CONTINUOUS", "DAILY") for w in judged), "status reads which way it went"
