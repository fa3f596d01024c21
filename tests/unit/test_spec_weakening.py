"""What weakens a spec edit (planning.spec_weakening), the table the admission policy enforces.

Covers: every example edit of vigil_sandbox.spec_edits needs exactly its entries (tests/kube runs
the same edits through the generated CEL); every rule has a weakening example, names a field the
model has, and a ranked or coverage rule knows every value of its field; reading a field follows
the model's defaults as the API server does; the entries parse back as the operator parses the
annotation. And the operator agrees: where planning.weakening (or a planner) names a spec field,
the same change in the spec needs the same entries, driven through the operator's own planners
and desired-state functions.
"""

from __future__ import annotations

import re
import typing
from enum import Enum
from pathlib import Path

import pytest
from pydantic import BaseModel

from vigil.api import KINDS
from vigil.api.config import ConfigBaselineSpec
from vigil.api.flowlogs import FlowLogPolicySpec
from vigil.api.guardduty import GuardDutyOrgSpec
from vigil.api.logarchive import LogArchiveSpec
from vigil.api.logsubscription import LogSubscriptionPolicySpec
from vigil.api.orgtrail import OrgTrailSpec
from vigil.api.securityhub import SecurityHubBaselineSpec
from vigil.planning.actions import Action, Change, diff
from vigil.planning.config import RecorderTarget, desired_recorder, plan_recorder
from vigil.planning.flowlogs import DEFAULT_LOG_FORMAT, FlowLogTarget, plan_vpc
from vigil.planning.guardduty import desired_detector, desired_organization
from vigil.planning.logarchive import LogArchiveTarget, desired_bucket_settings, plan_bucket
from vigil.planning.logsubscription import Names, Source, excluded_prefixes, plan_account_policy, selection_criteria
from vigil.planning.orgtrail import TrailTarget, canonical_event_selectors, desired_event_selectors, plan_log_group
from vigil.planning.ownership import Owner
from vigil.planning.securityhub import SecurityHubRegion, plan_configuration_policy
from vigil.planning.securityhub import desired_organization as desired_hub
from vigil.state.securityhub import ConfigurationPolicy
from vigil.planning.spec_weakening import SPEC_RULES, Covered, read, spec_weakenings
from vigil.planning.weakening import classify, malformed_allowances, parse_allowances
from vigil.state.cloudtrail import LogGroupState
from vigil.state.config import AccountConfigState, ChannelState, RecorderState
from vigil.state.flowlogs import FlowLog, FlowLogSettings
from vigil.state.logarchive import BucketState
from vigil.state.logsubscription import AccountPolicy
from vigil_sandbox.spec_edits import BASE, EDITS, RUNTIME_ON, SpecEdit, exclusions, merged, recording

PLANNING = Path(__file__).resolve().parents[2] / "operator" / "vigil" / "planning"
ACCOUNT, REGION, BUCKET, KEY = "222222222222", "ca-central-1", "acme-log-archive", "arn:aws:kms:ca-central-1:1:key/k"


def needed(kind: str, old: dict, new: dict) -> set[str]:
    return {entry for w in spec_weakenings(kind, old, new) for entry in w.entries}


# --- the table ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("edit", EDITS, ids=lambda e: f"{e.kind}: {e.name}")
def test_each_example_edit_needs_exactly_its_entries(edit: SpecEdit) -> None:
    assert needed(edit.kind, edit.old, edit.new) == set(edit.entries)


@pytest.mark.parametrize("kind, rule", [(k, r) for k, rules in SPEC_RULES.items() for r in rules],
                         ids=lambda v: v if isinstance(v, str) else v.path)
def test_every_rule_has_a_weakening_example(kind, rule) -> None:
    named = {entry.split("=", 1)[0] for e in EDITS if e.kind == kind for entry in e.entries}
    assert rule.field in named, f"spec_edits has no edit of {kind} {rule.field} that weakens"


def _field(model: type[BaseModel], path: str):
    for name in path.split("."):
        info = next((f for f in model.model_fields.values() if f.alias == name), None)
        assert info is not None, f"{model.__name__} has no field {name}"
        annotation = info.annotation
        model = next((a for a in (annotation, *typing.get_args(annotation))
                      if isinstance(a, type) and issubclass(a, BaseModel)), model)
    return info


@pytest.mark.parametrize("kind", SPEC_RULES)
def test_rules_name_fields_of_the_model(kind) -> None:
    assert set(SPEC_RULES) == set(KINDS)
    for rule in SPEC_RULES[kind]:
        for path in (rule.path, *(p for p, _ in rule.when)):
            _field(KINDS[kind].spec, path)


def _values(annotation) -> set[str]:
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, Enum):
            return {member.value for member in candidate}
    return set()


@pytest.mark.parametrize("kind, rule", [(k, r) for k, rules in SPEC_RULES.items() for r in rules if isinstance(r, Covered)],
                         ids=lambda v: v if isinstance(v, str) else v.path)
def test_a_coverage_rule_knows_every_value_of_its_field(kind, rule) -> None:
    info = _field(KINDS[kind].spec, rule.path)
    values = _values(info.annotation)
    assert values and values <= set(rule.covers), f"{rule.field}: {values - set(rule.covers)} not in covers"
    assert rule.moves(), "a rule that never weakens"


def test_reading_a_field_follows_the_model_defaults_as_the_api_server_does() -> None:
    assert read("OrgTrail", {}, "managementEvents.readWriteType", "") == "All"
    assert read("OrgTrail", {"managementEvents": None}, "managementEvents.readWriteType", "") == "All"
    assert read("LogArchive", {}, "retention.expireAfterDays", "never") == "never"  # no default: unset
    assert read("LogArchive", {"objectLock": {"days": 3}}, "objectLock.mode", "") == "GOVERNANCE"
    assert read("LogArchive", {}, "objectLock.mode", "") == ""  # no lock at all
    assert read("SecurityHubBaseline", {}, "standards", ())[0] == "aws-foundational-security-best-practices/v/1.0.0"


@pytest.mark.parametrize("edit", [e for e in EDITS if e.entries], ids=lambda e: f"{e.kind}: {e.name}")
def test_entries_read_back_as_the_operator_parses_the_annotation(edit: SpecEdit) -> None:
    annotation = ",".join(edit.entries)
    assert malformed_allowances(annotation) == ""
    assert parse_allowances(annotation) == set(edit.entries)


# --- the operator agrees ---------------------------------------------------------------------------

def spec_of(kind: str, fields: dict) -> BaseModel:
    return KINDS[kind].spec.model_validate(merged(BASE[kind], fields))


def operator_allowances(*actions: Action) -> set[str]:
    return {w.allowance for action in actions for w in classify(action)}


def act(service: str, operation: str, changes: list[Change]) -> Action:
    return Action(f"{ACCOUNT}/{REGION}/x", ACCOUNT, REGION, service, operation, {}, tuple(changes))


def archive(before: dict, after: dict) -> list[Action]:
    target = LogArchiveTarget(ACCOUNT, REGION, "o-abc123", Owner("team-a", "LogArchive", "central"))
    observed = BucketState(exists=True, settings=desired_bucket_settings(spec_of("LogArchive", before), target, KEY))
    return plan_bucket(spec_of("LogArchive", after), target, KEY, observed)


def object_lock(before: dict, after: dict) -> list[Action]:
    def lock(fields: dict) -> dict | None:
        spec = spec_of("LogArchive", fields)
        return spec.object_lock and {"mode": spec.object_lock.mode, "days": spec.object_lock.days}
    return [act("s3", "PutObjectLockConfiguration", [Change("object_lock", lock(before), lock(after))])]


def selectors(before: dict, after: dict) -> list[Action]:
    def of(fields: dict) -> list[dict]:
        return canonical_event_selectors(desired_event_selectors(spec_of("OrgTrail", fields)))
    return [act("cloudtrail", "PutEventSelectors", [Change("event_selectors", of(before), of(after))])]


def trail_log_group(before: dict, after: dict) -> list[Action]:
    trail = TrailTarget("123456789012", REGION, BUCKET, KEY, Owner("team-a", "OrgTrail", "org-trail"))
    retention = spec_of("OrgTrail", before).cloud_watch_logs.retention_days  # type: ignore[attr-defined]
    return plan_log_group(spec_of("OrgTrail", after), trail, LogGroupState(exists=True, retention_days=retention))


def trail_delivery(before: dict, after: dict) -> list[Action]:
    def arn(fields: dict) -> str:
        return "arn:aws:logs:ca-central-1:1:log-group:/vigil/cloudtrail:*" \
            if spec_of("OrgTrail", fields).cloud_watch_logs.enabled else ""  # type: ignore[attr-defined]
    return [act("cloudtrail", "UpdateTrail", [Change("cloud_watch_logs_log_group_arn", arn(before), arn(after))])]


def flow_logs(before: dict, after: dict) -> list[Action]:
    owner = Owner("team-a", "FlowLogPolicy", "vpcs")
    theirs = FlowLog(flow_log_id="fl-9", resource_id="vpc-1", tags={}, settings=FlowLogSettings(
        traffic_type="ALL", log_destination_type="s3", log_destination="arn:aws:s3:::theirs/flows",
        log_format=DEFAULT_LOG_FORMAT, max_aggregation_interval=600))
    ours = FlowLog(flow_log_id="fl-1", resource_id="vpc-1", tags=owner.tags(), settings=FlowLogSettings(
        traffic_type=spec_of("FlowLogPolicy", before).traffic_type, log_destination_type="s3",  # type: ignore[attr-defined]
        log_destination=f"arn:aws:s3:::{BUCKET}/vpc-flow-logs", log_format=DEFAULT_LOG_FORMAT,
        max_aggregation_interval=600))
    return plan_vpc(spec_of("FlowLogPolicy", after), FlowLogTarget("444444444444", REGION, BUCKET, owner),  # type: ignore[arg-type]
                    "vpc-1", [ours, theirs])


def account_policy(before: dict, after: dict) -> list[Action]:
    names = Names.of("baseline", "workload-logs")
    groups = ["/app/web", "/aws/lambda/fn", "/aws/kinesisfirehose/vigil-errors"]

    def excluded(fields: dict) -> list[str]:
        prefixes = excluded_prefixes(spec_of("LogSubscriptionPolicy", fields))  # type: ignore[arg-type]
        return [g for g in groups if g.startswith(prefixes)]
    source = Source("555555555555", "us-east-1", "arn:aws:logs:us-east-1:222222222222:destination:d")
    ours = AccountPolicy(name=names.account_policy, document={"DestinationArn": source.destination_arn,
                                                               "FilterPattern": ""},
                         selection_criteria=selection_criteria(excluded(before)), scope="ALL")
    return plan_account_policy(spec_of("LogSubscriptionPolicy", after), source, names, [ours],  # type: ignore[arg-type]
                               excluded(after))


def filter_pattern(before: dict, after: dict) -> list[Action]:
    patterns = [spec_of("LogSubscriptionPolicy", f).filter_pattern for f in (before, after)]  # type: ignore[attr-defined]
    return [act("logs", "PutSubscriptionFilter", [Change("filter_pattern", *patterns)])]


def recorder(before: dict, after: dict) -> list[Action]:
    target = RecorderTarget(ACCOUNT, REGION, REGION, BUCKET, KEY)  # the home region: global types recorded
    old = spec_of("ConfigBaseline", before)
    observed = AccountConfigState(
        recorder=RecorderState(exists=True, name="default", settings=desired_recorder(old, target), recording=True),  # type: ignore[arg-type]
        channel=ChannelState(exists=False))
    return [a for a in plan_recorder(spec_of("ConfigBaseline", after), target, observed)  # type: ignore[arg-type]
            if a.operation == "PutConfigurationRecorder"]


def delivery_frequency(before: dict, after: dict) -> list[Action]:
    frequencies = [spec_of("ConfigBaseline", f).delivery_frequency for f in (before, after)]  # type: ignore[attr-defined]
    return [act("config", "PutDeliveryChannel", [Change("delivery_channel.delivery_frequency", *frequencies)])]


def guardduty(before: dict, after: dict) -> list[Action]:
    old, new = spec_of("GuardDutyOrg", before), spec_of("GuardDutyOrg", after)
    return [act("guardduty", "UpdateDetector", diff(desired_detector(new), desired_detector(old))),  # type: ignore[arg-type]
            act("guardduty", "UpdateOrganizationConfiguration",
                diff(desired_organization(new), desired_organization(old)))]  # type: ignore[arg-type]


def securityhub(before: dict, after: dict) -> list[Action]:
    old, new = spec_of("SecurityHubBaseline", before), spec_of("SecurityHubBaseline", after)
    return [act("securityhub", "UpdateOrganizationConfiguration",
                diff(desired_hub(new), desired_hub(old)))]  # type: ignore[arg-type]


def securityhub_policy(before: dict, after: dict) -> list[Action]:
    """The configuration policy as the old spec made it, updated to the new one's."""
    old, new = spec_of("SecurityHubBaseline", before), spec_of("SecurityHubBaseline", after)
    target = SecurityHubRegion("123456789012", "333333333333", "us-east-1", Owner("ns", "SecurityHubBaseline", "s"),
                               aggregates=True)
    arns = {s: f"arn:aws:securityhub:us-east-1::standards/{s}" for s in old.standards}  # type: ignore[attr-defined]
    made = ConfigurationPolicy(id="p", arn="arn:p", name="vigil-baseline", service_enabled=True,
                               standards=tuple(arns.values()),
                               disabled_controls=tuple(c.id for c in old.disabled_controls))  # type: ignore[attr-defined]
    return plan_configuration_policy(new, target, arns, made)  # type: ignore[arg-type]


def session_cloudwatch(before: dict, after: dict) -> list[Action]:
    def group(fields: dict) -> str:
        return "/vigil/ssm-sessions" if spec_of("SessionLogging", fields).cloud_watch.enabled else ""  # type: ignore[attr-defined]
    return [act("ssm", "UpdateDocument", [Change("cloud_watch_log_group_name", group(before), group(after))])]


def session_retention(before: dict, after: dict) -> list[Action]:
    days = [spec_of("SessionLogging", f).cloud_watch.retention_days for f in (before, after)]  # type: ignore[attr-defined]
    return [act("logs", "PutRetentionPolicy", [Change("retention_days", *days, "spec.cloudWatch.retentionDays")])]


# COMPLIANCE is chosen with its acknowledgement only (the CRD's rule).
COMPLIANCE_365 = {"mode": "COMPLIANCE", "days": 365, "acknowledgeComplianceModeIsPermanent": True}

# (kind, the spec before, after, how the operator writes that change to AWS)
AGREEMENT = [
    ("LogArchive", {"retention": {"expireAfterDays": 2555}}, {"retention": {"expireAfterDays": 30}}, archive),
    ("LogArchive", {}, {"retention": {"expireAfterDays": 400}}, archive),
    ("LogArchive", {"objectLock": COMPLIANCE_365}, {"objectLock": {"mode": "GOVERNANCE", "days": 30}},
     object_lock),
    ("LogArchive", {"objectLock": COMPLIANCE_365}, {}, object_lock),
    ("OrgTrail", {}, {"managementEvents": {"readWriteType": "WriteOnly", "excludeKmsEvents": True}}, selectors),
    ("OrgTrail", {"dataEvents": {"s3": {"enabled": True}}}, {}, selectors),
    ("OrgTrail", {"dataEvents": {"s3": {"enabled": True}}}, {"dataEvents": {"s3": {"enabled": True, "readWriteType": "ReadOnly"}}},
     selectors),
    ("OrgTrail", {"dataEvents": {"s3": {"enabled": True}}},
     {"dataEvents": {"s3": {"enabled": True, "bucketArns": ["arn:aws:s3:::app-a", "arn:aws:s3:::app-b/logs"]}}}, selectors),
    ("OrgTrail", {"dataEvents": {"s3": {"enabled": True, "bucketArns": ["arn:aws:s3:::app-a", "arn:aws:s3:::app-b"]}}},
     {"dataEvents": {"s3": {"enabled": True, "bucketArns": ["arn:aws:s3:::app-a"]}}}, selectors),
    ("OrgTrail", {"cloudWatchLogs": {"enabled": True}}, {"cloudWatchLogs": {"enabled": True, "retentionDays": 30}},
     trail_log_group),
    ("OrgTrail", {"cloudWatchLogs": {"enabled": True}}, {}, trail_delivery),
    ("FlowLogPolicy", {}, {"trafficType": "ACCEPT"}, flow_logs),
    ("FlowLogPolicy", {}, {"exclusive": True}, flow_logs),
    ("LogSubscriptionPolicy", {"method": "AccountPolicy"},
     {"method": "AccountPolicy", "logGroupSelector": {"excludePrefixes": ["/aws/kinesisfirehose/vigil", "/aws/lambda/"]}},
     account_policy),
    ("LogSubscriptionPolicy", {}, {"filterPattern": "ERROR"}, filter_pattern),
    ("LogSubscriptionPolicy", {"filterPattern": "ERROR"}, {"filterPattern": '{ $.level = "error" }'}, filter_pattern),
    ("ConfigBaseline", {"recorder": {"includeGlobalResourceTypes": "HomeRegionOnly"}},
     {"recorder": {"includeGlobalResourceTypes": "None"}}, recorder),
    ("ConfigBaseline", {}, exclusions("AWS::EC2::Instance"), recorder),
    ("ConfigBaseline", exclusions("AWS::EC2::Instance"), exclusions("AWS::EC2::Instance", "AWS::EC2::Volume"),
     recorder),
    ("ConfigBaseline", exclusions("AWS::EC2::Instance"),
     {"recorder": {**exclusions("AWS::EC2::Instance")["recorder"], "includeGlobalResourceTypes": "None"}}, recorder),
    ("ConfigBaseline", {}, recording("DAILY"), recorder),
    ("ConfigBaseline", {}, recording("CONTINUOUS", "DAILY", "AWS::EC2::Instance", "AWS::S3::Bucket"), recorder),
    ("ConfigBaseline", recording("DAILY", "CONTINUOUS", "AWS::IAM::Role", "AWS::EC2::Instance"),
     recording("DAILY", "CONTINUOUS", "AWS::IAM::Role"), recorder),
    ("ConfigBaseline", {"deliveryFrequency": "One_Hour"}, {"deliveryFrequency": "Six_Hours"}, delivery_frequency),
    ("GuardDutyOrg", {}, {"autoEnable": "NEW", "features": {"s3DataEvents": False, "eksAuditLogs": False}}, guardduty),
    ("GuardDutyOrg", RUNTIME_ON, {"features": {"runtimeMonitoring": True, "runtimeMonitoringAgentManagement": {
        "ecsFargateAgentManagement": False, "ec2AgentManagement": False}}}, guardduty),
    ("SecurityHubBaseline", {}, {"autoEnable": False}, securityhub),
    ("SecurityHubBaseline", {"configuration": {"mode": "Central"}, "disabledControls": [{"id": "EC2.2", "reason": "a"}]},
     {"configuration": {"mode": "Central"}, "disabledControls": [{"id": "EC2.2", "reason": "a"},
                                                                {"id": "IAM.6", "reason": "b"}]}, securityhub_policy),
    ("SessionLogging", {}, {"cloudWatch": {"enabled": False}}, session_cloudwatch),
    ("SessionLogging", {}, {"cloudWatch": {"retentionDays": 30}}, session_retention),
]


@pytest.mark.parametrize("kind, before, after, write", AGREEMENT,
                         ids=[f"{k}: {w.__name__} {i}" for i, (k, _, _, w) in enumerate(AGREEMENT)])
def test_admission_and_the_operator_name_a_spec_change_alike(kind, before, after, write) -> None:
    old, new = merged(BASE[kind], before), merged(BASE[kind], after)
    operator = {a for a in operator_allowances(*write(before, after)) if a.startswith("spec.")}
    assert operator, "the write weakens nothing: the pair tests nothing"
    assert operator <= needed(kind, old, new), "admission would let through what the operator holds"
    fields = {entry.split("=", 1)[0] for entry in operator}
    assert {e for e in needed(kind, old, new) if e.split("=", 1)[0] in fields} == operator


def _named_by_the_operator() -> set[str]:
    """Every spec field planning/ names in an allowance (an f-string's field by its fixed part)."""
    found: set[str] = set()
    for path in PLANNING.glob("*.py"):
        # preflight.py names fields in the refusals of invalid specs, not in allowances.
        if path.name not in ("spec_weakening.py", "preflight.py"):
            found |= {m.rstrip(".") for m in re.findall(r"[\"']spec\.([A-Za-z][A-Za-z0-9.]*)", path.read_text())}
    return found


def test_every_spec_field_the_operator_names_is_judged_at_admission() -> None:
    judged = {rule.field.removeprefix("spec.") for rules in SPEC_RULES.values() for rule in rules}
    named = _named_by_the_operator()
    assert "retention.expireAfterDays" in named and "features" in named
    missing = {n for n in named if not any(p == n or p.startswith(n + ".") for p in judged)}
    assert not missing, f"the operator holds changes of {missing}, which admission lets through"


def test_the_pairs_cover_every_field_both_name() -> None:
    covered = {entry.split("=", 1)[0].removeprefix("spec.")
               for kind, before, after, write in AGREEMENT for entry in operator_allowances(*write(before, after))}
    for name in _named_by_the_operator() - {"scope", "recorder.allSupported", "features"}:
        assert name in covered, f"no pair shows admission and the operator agree on spec.{name}"


def test_specs_are_compared_after_the_model_validates_them() -> None:
    # The example specs are ones the operator takes, so the table is judged on real specs.
    for spec in (LogArchiveSpec, OrgTrailSpec, FlowLogPolicySpec, GuardDutyOrgSpec, ConfigBaselineSpec,
                 LogSubscriptionPolicySpec, SecurityHubBaselineSpec):
        kind = next(k for k, info in KINDS.items() if info.spec is spec)
        spec.model_validate(BASE[kind])
