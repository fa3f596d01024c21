"""What counts as weakening: the one place that decides it, for every control.

Every planned write is judged against what AWS has now (not against the previous spec, so a new
object that would weaken an existing resource is caught as well). A weakening write is held
until the object carries an allowance naming that exact change, in the annotation
``vigil.dev/allow-weakening``: entries ``<field>=<new value>``, separated by commas or new lines,
for example ``spec.retention.expireAfterDays=1``. The field is the spec field that asks for the
change where there is one; otherwise the AWS setting as status shows it. A value that is not a
plain number, word or boolean is named by its digest (``sha256:<12 hex>``), which status prints
ready to copy. An allowance names a value, so it authorizes that change and nothing else: an edit
to another value is held again.

A spec field's change is named as the admission policy names the same edit (``spec_weakening``,
whose CEL cannot compute a digest): a list by one entry per item, ``<field>=-<item>`` for one it
lost and ``<field>=+<item>`` for one it gained; free text (a filter pattern) as itself with the
separators escaped (``item_token``). The digest is left for AWS documents no spec field holds.

Pure: actions in, judgements out.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..state.config import UNLISTED_TYPES
from .actions import Action, Change
from .guardrail_policy import lost

ALLOW_ANNOTATION = "vigil.dev/allow-weakening"


@dataclass(frozen=True)
class Weakening:
    """One weakening change, as a user reads it and allows it."""

    target: str  # account/region/resource
    field: str
    before: Any
    after: Any
    allowance: str  # the entry of the annotation that allows exactly this change

    def __str__(self) -> str:
        return f"{self.target}: {self.field} {_show(self.before)} -> {_show(self.after)}"


def parse_allowances(annotation: str | None) -> frozenset[str]:
    """The entries of ``vigil.dev/allow-weakening``; whitespace around them is not part of them."""
    if not annotation:
        return frozenset()
    return frozenset(e.strip() for e in re.split(r"[,\n]", annotation) if e.strip())


ALLOWANCE_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.:/-]*=[^,\n=]*$")


def malformed_allowances(annotation: str | None) -> str:
    """"" when every entry reads ``<field>=<value>``; else which entries do not."""
    bad = sorted(e for e in parse_allowances(annotation) if not ALLOWANCE_PATTERN.match(e))
    return f"entries must read <field>=<new value>, as status prints them; not {', '.join(bad)}" if bad else ""


def token(value: Any) -> str:
    """How an allowance writes a value: plain scalars as they are, anything else by its digest."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (int, float, str)) and re.fullmatch(r"[A-Za-z0-9_.:/*-]{0,128}", str(value)):
        return str(value)
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:12]


# What an entry cannot hold as it is: its separators, the quote of the `kubectl annotate` command
# printed to copy, and blanks (trimmed away at the ends). Percent-escaped, "%" first, because the
# admission policy's CEL can replace text but not hash it (spec_weakening renders the same table).
ESCAPES = (("%", "%25"), (",", "%2C"), ("=", "%3D"), ("'", "%27"), (" ", "%20"), ("\n", "%0A"),
           ("\r", "%0D"), ("\t", "%09"))


def item_token(text: str) -> str:
    """How an allowance writes one item of a list or a free text: itself, escaped (``ESCAPES``)."""
    for plain, escaped in ESCAPES:
        text = text.replace(plain, escaped)
    return text


def entries(field: str, sign: str, items: Iterable[str]) -> str:
    """One entry per item, ``<field>=-<item>`` (lost) or ``<field>=+<item>`` (gained), comma-joined:
    ``classify`` makes each its own weakening, so every one of them must be allowed."""
    return ",".join(f"{field}={sign}{item_token(item)}" for item in dict.fromkeys(items))


# --- judging one change --------------------------------------------------------------------------

# A judge looks at one change and says which weakenings it holds: (field, allowance path, value),
# or with two more, the before and after a user reads when the change's own are whole documents.
Finding = tuple[Any, ...]
Judge = Callable[[Change, str], list[Finding]]  # (the change, the account written to)


def _truthy(value: Any) -> bool:
    return value not in (None, False, "", "disabled", "NONE", [], {})


def turned_off(allow: str, value: Any = ...) -> Judge:
    """On before, off after (a flag cleared, a destination or key removed)."""
    def judge(change: Change, account: str = "") -> list[Finding]:
        if _truthy(change.before) and not _truthy(change.after):
            return [(change.path, change.spec or allow, change.after if value is ... else value)]
        return []
    return judge


def filter_narrowed(allow: str) -> Judge:
    """A filter pattern set where there was none (none streams every event; a pattern only the
    events that match it), or changed to another one, which may match less."""
    def judge(change: Change, account: str = "") -> list[Finding]:
        if _truthy(change.after) and change.after != change.before:
            field = change.spec or allow
            return [(change.path, field if "=" in field else f"{field}={item_token(str(change.after))}", change.after)]
        return []
    return judge


def shorter(allow: str) -> Judge:
    """A period that got shorter; None is for ever (no expiry), the longest of all."""
    def judge(change: Change, account: str = "") -> list[Finding]:
        before, after = change.before, change.after
        if after is not None and (before is None or after < before):
            return [(change.path, change.spec or allow, after)]
        return []
    return judge


def ranked(order: tuple[str, ...], allow: str) -> Judge:
    """A setting with a strength order, weakest first: moving down the order weakens."""
    def judge(change: Change, account: str = "") -> list[Finding]:
        before, after = _rank(order, change.before), _rank(order, change.after)
        if before is not None and after is not None and after < before:
            return [(change.path, change.spec or allow, change.after)]
        if isinstance(change.before, bool) or isinstance(change.after, bool):
            return turned_off(allow, False)(change)
        return []
    return judge


def _rank(order: tuple[str, ...], value: Any) -> int | None:
    return order.index(value) if value in order else None


def grown(allow: str, members: Callable[[Any], list[Any]] | None = None) -> Judge:
    """An exclusion list that gained members: coverage narrowed. ``members`` reads the list out
    of a value that is not one (an account policy's selection criteria)."""
    read = members or _items

    def judge(change: Change, account: str = "") -> list[Finding]:
        if set(read(change.after)) - set(read(change.before)):
            return [(change.path, change.spec or allow, change.after)]
        return []
    return judge


_NOT_IN = re.compile(r"^\s*LogGroupName\s+NOT\s+IN\s*(\[.*\])\s*$", re.IGNORECASE | re.DOTALL)


def _criteria_exclusions(criteria: Any) -> list[Any]:
    """The log group names ``LogGroupName NOT IN [...]`` excludes ("" or none: nothing excluded).
    Criteria of any other form is one opaque member, so any change to it counts as grown."""
    if criteria is None or not str(criteria).strip():
        return []
    match = _NOT_IN.match(str(criteria))
    try:
        names = json.loads(match.group(1)) if match else None
    except ValueError:
        names = None
    if isinstance(names, list) and all(isinstance(n, str) for n in names):
        return names
    return [str(criteria)]


def _items(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, dict):
        return [json.dumps(value, sort_keys=True)]
    return [json.dumps(v, sort_keys=True) if isinstance(v, dict) else v for v in value] \
        if isinstance(value, (list, tuple)) else [value]


# A flow log's traffic type: ALL covers ACCEPT and REJECT; anything else covers itself.
TRAFFIC_COVERS = {"ALL": ("ACCEPT", "REJECT"), "ACCEPT": ("ACCEPT",), "REJECT": ("REJECT",)}


def traffic(allow: str) -> Judge:
    """A flow log's traffic type narrowed: it covers less than before (``TRAFFIC_COVERS``)."""
    def judge(change: Change, account: str = "") -> list[Finding]:
        if set(TRAFFIC_COVERS.get(change.before, ())) - set(TRAFFIC_COVERS.get(change.after, ())):
            return [(change.path, change.spec or allow, change.after)]
        return []
    return judge


def lifecycle(change: Change, account: str = "") -> list[Finding]:
    """Vigil's lifecycle rule: only its expiry can destroy logs; moving to Glacier keeps them."""
    before = (change.before or {}).get("expire_after_days")
    after = (change.after or {}).get("expire_after_days")
    if after is not None and (before is None or after < before):
        return [("lifecycle.expire_after_days", change.spec or "spec.retention.expireAfterDays", after, before, after)]
    return []


def object_lock(change: Change, account: str = "") -> list[Finding]:
    """Object Lock: a shorter default retention, or COMPLIANCE relaxed to GOVERNANCE."""
    before, after = change.before or {}, change.after or {}
    found: list[Finding] = []
    if before.get("mode") == "COMPLIANCE" and after.get("mode") != "COMPLIANCE":
        found.append(("object_lock.mode", "spec.objectLock.mode", after.get("mode"), "COMPLIANCE", after.get("mode")))
    if before.get("days") and (not after.get("days") or after["days"] < before["days"]):
        found.append(("object_lock.days", "spec.objectLock.days", after.get("days"), before["days"], after.get("days")))
    return found


def policy(allow: str, grants: bool = True) -> Judge:
    """A resource or trust policy: weaker when it allows a principal it did not (beyond the AWS
    delivery services, grants scoped to the organization and the resource's own account, which
    are the baseline's own), or when a Deny it had is gone. ``account``: the account of the write."""
    def judge(change: Change, account: str = "") -> list[Finding]:
        before, after = _statements(change.before), _statements(change.after)
        widened = {g for g in _grants(after, "Allow") - _grants(before, "Allow")
                   if grants and not _baseline_grant(g, account)}
        dropped = _grants(before, "Deny") - _grants(after, "Deny")
        return [(change.path, change.spec or allow, change.after)] if widened or dropped else []
    return judge


def _statements(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    statements = (document or {}).get("Statement", []) if isinstance(document, dict) else []
    return [statements] if isinstance(statements, dict) else list(statements)


Grant = tuple[str, str, str, str, str]  # effect, principal, action, resource, condition


def _grants(statements: Iterable[dict[str, Any]], effect: str) -> set[Grant]:
    grants: set[Grant] = set()
    for s in statements:
        if s.get("Effect") != effect:
            continue
        condition = json.dumps(s.get("Condition") or {}, sort_keys=True)
        for principal in _principals(s.get("Principal")):
            for action in _list(s.get("Action")):
                for resource in _list(s.get("Resource")) or ["*"]:
                    grants.add((effect, principal, action, resource, condition))
    return grants


def _principals(principal: Any) -> list[str]:
    if principal is None or isinstance(principal, str):
        return [f"AWS:{principal or '*'}"]
    return [f"{kind}:{p}" for kind, values in principal.items() for p in _list(values)]


def _list(value: Any) -> list[Any]:
    return [] if value is None else list(value) if isinstance(value, (list, tuple)) else [value]


def _baseline_grant(grant: Grant, account: str = "") -> bool:
    _, principal, _, _, condition = grant
    # The resource's own account administering it (the key policy's first statement, as AWS's
    # default key policy has it) gives nobody outside that account anything.
    own_account = bool(account) and principal in (f"AWS:arn:aws:iam::{account}:root", f"AWS:{account}")
    return principal.startswith("Service:") or own_account or \
        "aws:PrincipalOrgID" in condition or "aws:SourceOrgID" in condition


def event_selectors(change: Change, account: str = "") -> list[Finding]:
    """CloudTrail's classic event selectors, as the events they record: what was recorded before
    and is not after is a weakening, named by the spec field that turns it off."""
    before, after = _coverage(change.before), _coverage(change.after)
    lost = before - after
    found: list[Finding] = []
    if any(a[0] == "management" for a in lost):
        was = _read_write({a[1] for a in before if a[0] == "management"})
        rw = _read_write({a[1] for a in after if a[0] == "management"})
        found.append(("management_events.read_write_type", "spec.managementEvents.readWriteType", rw, was, rw))
    if ("source", "kms.amazonaws.com") in lost:
        found.append(("management_events.exclude_kms_events", "spec.managementEvents.excludeKmsEvents", True,
                      False, True))
    data_lost = [a for a in lost if a[0] == "data" and not _data_covered(a, after)]
    if data_lost:
        before_data = [a for a in before if a[0] == "data"]
        after_data = [a for a in after if a[0] == "data"]
        if not after_data:
            found.append(("data_events.s3.enabled", "spec.dataEvents.s3.enabled", False, True, False))
        elif {a[2] for a in data_lost} - {a[2] for a in after_data}:
            rw = _read_write({a[2] for a in after_data})
            found.append(("data_events.s3.read_write_type", "spec.dataEvents.s3.readWriteType", rw,
                          _read_write({a[2] for a in before_data}), rw))
        else:
            found.extend(_buckets_lost({a[1] for a in before_data}, {a[1] for a in after_data},
                                       {a[1] for a in data_lost}))
    return found


def _buckets_lost(before: set[str], after: set[str], lost: set[str]) -> list[Finding]:
    """Data events narrowed to fewer buckets, named as the spec's bucketArns items (a selector's
    value is the bucket's ARN and "/"): from every bucket, each bucket now listed; else each one
    lost. ``classify`` makes each entry a weakening of its own."""
    def bucket(value: str) -> str:
        return value.rstrip("/")

    named = entries("spec.dataEvents.s3.bucketArns", "+", map(bucket, sorted(after))) if ALL_BUCKETS in lost \
        else entries("spec.dataEvents.s3.bucketArns", "-", map(bucket, sorted(lost)))
    return [("data_events.s3.bucket_arns", named, None, sorted(map(bucket, before)), sorted(map(bucket, after)))]


# What each readWriteType records; the spec's values are CloudTrail's.
READ_WRITE_COVERS = {"All": ("Read", "Write"), "ReadOnly": ("Read",), "WriteOnly": ("Write",)}
ALL_BUCKETS = "arn:aws:s3"  # the data resource value for every bucket


def _coverage(selectors: Any) -> set[tuple[str, ...]]:
    atoms: set[tuple[str, ...]] = set()
    for s in selectors or []:
        kinds = READ_WRITE_COVERS[s.get("ReadWriteType", "All")]
        if s.get("IncludeManagementEvents", True):
            atoms |= {("management", k) for k in kinds}
            if "kms.amazonaws.com" not in s.get("ExcludeManagementEventSources", []):
                atoms.add(("source", "kms.amazonaws.com"))
        for resource in s.get("DataResources", []):
            atoms |= {("data", value, k) for value in resource.get("Values", []) for k in kinds}
    return atoms


def _data_covered(atom: tuple[str, ...], after: set[tuple[str, ...]]) -> bool:
    _, value, kind = atom
    return any(a[0] == "data" and a[2] == kind and (a[1] == ALL_BUCKETS or value.startswith(a[1])) for a in after)


def _read_write(kinds: set[str]) -> str:
    return {frozenset({"Read", "Write"}): "All", frozenset({"Read"}): "ReadOnly",
            frozenset({"Write"}): "WriteOnly"}.get(frozenset(kinds), "None")


AUTO_ENABLE = ("NONE", "NEW", "ALL")


def feature(name: str) -> Judge:
    """A GuardDuty protection plan: on the detector a flag, in the organization configuration
    ALL | NEW | NONE. Off is the spec's ``features.<name>: false``; ALL to NEW follows
    ``autoEnable: NEW`` (existing members no longer enrolled in it)."""
    def judge(change: Change, account: str = "") -> list[Finding]:
        before, after = change.before, change.after
        if isinstance(before, bool) or isinstance(after, bool):
            return turned_off(f"spec.features.{name}", False)(change, account)
        if before in ("ALL", "NEW") and after == "NONE":
            return [(change.path, f"spec.features.{name}", False, before, after)]
        if before == "ALL" and after == "NEW":
            return [(change.path, "spec.autoEnable", after)]
        return []
    return judge
# --- Config's recording -----------------------------------------------------------------------------

def fewer_recorded(allow: str) -> Judge:
    """A recorder that would stop recording resource types it records now (more excluded, or the
    global IAM types left out). From a recorder of chosen types, which left out every type it did
    not list, nothing is lost."""
    def judge(change: Change, account: str = "") -> list[Finding]:
        before, after = set(change.before or ()), set(change.after or ())
        if UNLISTED_TYPES not in before and after - before:
            return [(change.path, change.spec or allow, sorted(after - before))]
        return []
    return judge


RECORDING_FREQUENCY = "spec.recorder.recordingMode.recordingFrequency"
RECORDING_MODE_OVERRIDES = "spec.recorder.recordingMode.recordingModeOverrides"


def recorded_at(mode: Any, resource_type: str | None = None) -> str:
    """How often Config's recording mode (its wire form) records ``resource_type``: the first
    override naming it decides, else the default (None: a type no override names)."""
    mode = mode or {}
    for override in mode.get("recordingModeOverrides") or []:
        if resource_type is not None and resource_type in (override.get("resourceTypes") or []):
            return str(override.get("recordingFrequency", "CONTINUOUS"))
    return str(mode.get("recordingFrequency") or "CONTINUOUS")


def recorded_daily(before: Any, after: Any) -> list[tuple[str | None, str]]:
    """The resource types a change of recording mode records DAILY that were recorded at every
    change, each with the allowance entry that allows it: (None, the default frequency) for every
    type no override names; ``+<type>`` for a type a DAILY override now lists; ``-<type>`` for one
    a CONTINUOUS override no longer lists while the default is DAILY. Admission names the same
    (spec_rules.RecordedDaily, with the default's entry from its own rule)."""
    found: list[tuple[str | None, str]] = []
    if recorded_at(before) != "DAILY" and recorded_at(after) == "DAILY":
        found.append((None, f"{RECORDING_FREQUENCY}=DAILY"))
    listed_after = [t for o in (after or {}).get("recordingModeOverrides") or [] for t in o.get("resourceTypes") or []]
    listed_before = [t for o in (before or {}).get("recordingModeOverrides") or []
                     for t in o.get("resourceTypes") or []]
    for t in dict.fromkeys(listed_after):
        if recorded_at(after, t) == "DAILY" and recorded_at(before, t) != "DAILY":
            found.append((t, f"{RECORDING_MODE_OVERRIDES}=+{item_token(t)}"))
    for t in dict.fromkeys(listed_before):
        if t not in listed_after and recorded_at(after, t) == "DAILY" and recorded_at(before, t) != "DAILY":
            found.append((t, f"{RECORDING_MODE_OVERRIDES}=-{item_token(t)}"))
    return found


def recording_mode(change: Change, account: str = "") -> list[Finding]:
    """Config's recording mode: every resource type it would record DAILY instead of at every
    change, one weakening each (``recorded_daily``)."""
    return [(f"{change.path}.{t or 'recording_frequency'}", entry, None, "CONTINUOUS", "DAILY")
            for t, entry in recorded_daily(change.before, change.after)]


def guardrail_denials(change: Change, account: str = "") -> list[Finding]:
    """A guardrail policy rewritten, detached or deleted: weakening when the organization would
    stop denying something (a repacking that keeps every denial is not). The allowance names the
    policy and, by digest, exactly what it would stop denying."""
    gone = [str(d) for d in lost(change.before or [], change.after or [])]
    if not gone:
        return []
    return [(change.path, change.spec, gone, gone, "no longer denied")]


# Config's snapshot delivery: the rarer, the weaker.
DELIVERY_FREQUENCY = ("TwentyFour_Hours", "Twelve_Hours", "Six_Hours", "Three_Hours", "One_Hour")

_FEATURE_SPEC = {"s3_data_events": "s3DataEvents", "eks_audit_logs": "eksAuditLogs",
                 "ebs_malware_protection": "ebsMalwareProtection", "rds_login_events": "rdsLoginEvents",
                 "runtime_monitoring": "runtimeMonitoring", "lambda_network_logs": "lambdaNetworkLogs",
                 **{f"runtime_monitoring_agent_management.{agent}": f"runtimeMonitoringAgentManagement.{spec}"
                    for agent, spec in (("eks_addon_management", "eksAddonManagement"),
                                        ("ecs_fargate_agent_management", "ecsFargateAgentManagement"),
                                        ("ec2_agent_management", "ec2AgentManagement"))}}

# (service, change path) -> judge. A path ending in ".*" matches any field under it.
RULES: dict[tuple[str, str], Judge] = {
    # LogArchive: the bucket and its key
    ("s3", "lifecycle"): lifecycle,
    ("s3", "object_lock"): object_lock,
    # Object Lock itself: S3 turns it on for good, so Vigil never writes it off; listed so that nothing would.
    ("s3", "object_lock_enabled"): turned_off("bucket.objectLockEnabled", False),
    ("s3", "versioning"): turned_off("bucket.versioning"),
    ("s3", "encryption.sse_algorithm"): ranked(("", "AES256", "aws:kms"), "bucket.encryption.sseAlgorithm"),
    ("s3", "public_access_block.*"): turned_off("bucket.publicAccessBlock", False),
    ("s3", "policy"): policy("bucketPolicy"),
    ("kms", "policy"): policy("keyPolicy"),
    ("kms", "rotation_enabled"): turned_off("key.rotation", False),
    # OrgTrail
    ("cloudtrail", "enable_log_file_validation"): turned_off("trail.logFileValidation", False),
    ("cloudtrail", "is_multi_region_trail"): turned_off("trail.multiRegion", False),
    ("cloudtrail", "is_organization_trail"): turned_off("trail.organization", False),
    ("cloudtrail", "include_global_service_events"): turned_off("trail.globalServiceEvents", False),
    ("cloudtrail", "kms_key_id"): turned_off("trail.kmsKeyId", ""),
    ("cloudtrail", "cloud_watch_logs_log_group_arn"): turned_off("spec.cloudWatchLogs.enabled", False),
    ("cloudtrail", "is_logging"): turned_off("trail.logging", False),
    ("cloudtrail", "event_selectors"): event_selectors,
    # CloudWatch Logs groups (the trail's, Session Manager's, the delivery errors')
    ("logs", "retention_days"): shorter("logGroup.retentionInDays"),
    ("logs", "kms_key_id"): turned_off("logGroup.kmsKeyId", ""),
    ("logs", "access_policy"): policy("destinationPolicy"),
    ("logs", "filter_pattern"): filter_narrowed("spec.filterPattern"),  # a pattern filters; none streams all
    ("logs", "policy_document.FilterPattern"): filter_narrowed("spec.filterPattern"),  # the document's key
    ("logs", "selection_criteria"): grown("spec.logGroupSelector.excludePrefixes", _criteria_exclusions),
    ("logs", "scope"): turned_off("accountPolicy.scope"),
    # The Kinesis data stream of delivery type Kinesis: stored encrypted, or weaker.
    ("kinesis", "encryption_type"): ranked(("NONE", "KMS"), "dataStream.encryptionType"),
    ("iam", "trust_policy"): policy("role.trustPolicy"),
    # A role's own permissions name no principal: only a Deny taken away weakens them.
    ("iam", "inline_policy"): policy("role.inlinePolicy", grants=False),
    # VPC flow logs
    ("ec2", "traffic_type"): traffic("spec.trafficType"),
    # GuardDuty (detector features are booleans, organization features ALL | NEW | NONE)
    ("guardduty", "enabled"): turned_off("detector.enabled", False),
    ("guardduty", "auto_enable_organization_members"): ranked(AUTO_ENABLE, "spec.autoEnable"),
    **{("guardduty", f"features.{f}"): feature(s) for f, s in _FEATURE_SPEC.items()},
    # Config
    ("config", "recorder.all_supported"): turned_off("spec.recorder.allSupported", False),
    # The types a recorder leaves out, however it says so (exclusions, the global IAM types).
    ("config", "recorder.unrecorded_types"): fewer_recorded("spec.recorder.exclusionByResourceTypes"),
    ("config", "recorder.recording_mode"): recording_mode,
    ("config", "recorder.recording"): turned_off("recorder.recording", False),
    ("config", "delivery_channel.delivery_frequency"): ranked(DELIVERY_FREQUENCY, "spec.deliveryFrequency"),
    ("config", "excluded_accounts"): grown("excludedAccounts"),
    ("config", "conformance_pack.excluded_accounts"): grown("excludedAccounts"),
    # Security Hub
    ("securityhub", "auto_enable"): turned_off("spec.autoEnable", False),
    # Security Hub's central configuration policy: off, or more controls off (Vigil only ever adds
    # standards to it, as to an account).
    ("securityhub", "configuration_policy.service_enabled"): turned_off("configurationPolicy.serviceEnabled", False),
    ("securityhub", "configuration_policy.disabled_controls"): grown("spec.disabledControls"),
    # Session Manager preferences
    ("ssm", "s3_bucket_name"): turned_off("sessionPreferences.s3BucketName", ""),
    ("ssm", "s3_encryption_enabled"): turned_off("sessionPreferences.s3EncryptionEnabled", False),
    ("ssm", "cloud_watch_log_group_name"): turned_off("spec.cloudWatch.enabled", False),
    ("ssm", "cloud_watch_encryption_enabled"): turned_off("sessionPreferences.cloudWatchEncryptionEnabled", False),
    ("ssm", "cloud_watch_streaming_enabled"): turned_off("sessionPreferences.cloudWatchStreamingEnabled", False),
    ("ssm", "kms_key_id"): turned_off("sessionPreferences.kmsKeyId", ""),
    # Guardrails (SCPs and RCPs)
    ("organizations", "denied"): guardrail_denials,
}

# Writes that take something away whatever their changes say: judged by operation.
REMOVING = re.compile(r"^(Delete|Detach|Disable|Stop|Disassociate|Deregister|Remove|Untag|ScheduleKeyDeletion|"
                      r"BatchDisable)")
# Removals whose changes say whether they weaken: Vigil's lifecycle rule deleted means logs kept
# for ever; a flow log replaced by the right one (created first in the same plan) drops no coverage;
# a guardrail policy detached or deleted when another of Vigil's denies the same.
JUDGED_BY_CHANGES = {("s3", "DeleteBucketLifecycle"), ("ec2", "DeleteFlowLogs"), ("organizations", "DetachPolicy"),
                     ("organizations", "DeletePolicy")}


def _rule(service: str, path: str) -> Judge | None:
    if (service, path) in RULES:
        return RULES[(service, path)]
    parent = path.rsplit(".", 1)[0]
    return RULES.get((service, f"{parent}.*")) or RULES.get((service, path.split(".", 1)[-1]))


def classify(action: Action, completing: bool = False) -> list[Weakening]:
    """The weakenings ``action`` would make; [] for a neutral or strengthening write. Creating a
    resource (or configuring one just created) weakens nothing: there was nothing to weaken.

    ``completing``: the resource is one this object created (not adopted). A setting AWS reports
    as unset there is its creation not yet finished (an answer lost, the operator stopped between
    the create and the settings), so setting it is finishing the create, not weakening it."""
    if action.creates and not REMOVING.match(action.operation):
        return []
    found: list[Weakening] = []
    for change in action.changes:
        if completing and change.before is None:
            continue
        if action.operation == "DeleteFlowLogs":
            if change.after == "exclusive":  # another tool's flow log: a log destination removed
                found.extend(_weakenings(action, (change.path, change.spec or change.path, True), change))
            continue
        judge = _rule(action.service, change.path)
        if judge is None:
            continue
        # Policy judges need the account written to: its own root is the baseline's, not a widening.
        for finding in judge(change, action.account_id):
            found.extend(_weakenings(action, finding, change))
    if not found and REMOVING.match(action.operation) and (action.service, action.operation) not in JUDGED_BY_CHANGES:
        found.append(Weakening(action.target, action.operation, "present", "removed",
                               f"{action.operation}={action.target}"))
    return found


def _weakenings(action: Action, finding: Finding, change: Change) -> list[Weakening]:
    field, allow, value, *shown = finding
    before, after = shown if shown else (change.before, change.after)
    # A planner may name the whole allowance (Change.spec "path=value") where the spec value that
    # asks for the change is not the AWS value (HomeRegionOnly for a recorder's False), or several
    # (``entries``: a list's items), each of which must then be allowed.
    named = parse_allowances(allow) if "=" in allow else [f"{allow}={token(value)}"]
    return [Weakening(action.target, field, before, after, entry) for entry in sorted(named)]


def _show(value: Any, limit: int = 60) -> str:
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return "[" + ", ".join(value) + "]"
    if isinstance(value, (dict, list, tuple)):
        return token(value)
    text = "none" if value is None else '""' if value == "" else token(value) if isinstance(value, bool) \
        else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
