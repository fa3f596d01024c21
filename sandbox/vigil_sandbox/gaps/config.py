"""AWS Config gaps: organization config rules and the aggregator's compliance view, which moto
lacks; a recorder's recording mode, which moto drops; and the checks AWS makes that moto skips
(who may act for the organization, the role Config is given, the bucket it delivers to).

moto keeps recorders, delivery channels, aggregators and organization conformance packs per
account x region. Added here, kept per organization and region as AWS keeps them (the management
account and the delegated administrator see the same ones):

- organization config rules (managed rules; custom rules would need Lambda or Guard);
- their evaluations, computed when asked from the sandbox's own resources for the managed rules
  in EVALUATORS (ENCRYPTED_VOLUMES: EC2 volumes; S3_BUCKET_VERSIONING_ENABLED: buckets), in every
  account x region of the organization the rule does not exclude and whose recorder is recording;
  with no resource in scope, or for another rule, INSUFFICIENT_DATA (as AWS before a first result);
- what an aggregator sees of them: GetAggregateConfigRuleComplianceSummary and
  DescribeAggregateComplianceByConfigRules.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from moto.config.models import config_backends
from moto.config.responses import ConfigResponse
from moto.ec2.models import ec2_backends
from moto.iam.exceptions import NotFoundException as IAMNotFoundException
from moto.iam.models import iam_backends
from moto.kms.models import kms_backends
from moto.organizations.models import OrganizationsBackend, organizations_backends
from moto.s3.exceptions import MissingBucket
from moto.s3.models import s3_backends

from ._core import AwsError, Gap
from ._policies import policy_allows_service

CONFIG = "config.amazonaws.com"
# Organization rules and conformance packs: Config's "multi-account setup" in Organizations.
MULTI_ACCOUNT_SETUP = "config-multiaccountsetup.amazonaws.com"

# --- Domain: who may act for the organization ----------------------------------------------------


def management_backend(account: str, partition: str) -> OrganizationsBackend | None:
    """The Organizations backend that holds the caller's organization, or None outside one."""
    own = organizations_backends[account][partition]
    if own.org is not None:
        return own
    found = organizations_backends.master_accounts.get(account)
    if found is None:
        return None
    management, management_partition = found
    return organizations_backends[management][management_partition]


def require_organization_administrator(account: str, partition: str, principal: str) -> OrganizationsBackend:
    """Organization rules, packs and aggregators are made from the management account or from the
    delegated administrator of ``principal``, once its trusted access is enabled."""
    backend = management_backend(account, partition)
    if backend is None or backend.org is None:
        raise AwsError("NoAvailableOrganizationException", "Your account is not a member of an organization.")
    if backend.org.feature_set != "ALL":
        raise AwsError("OrganizationAllFeaturesNotEnabledException",
                       "AWS Config organization features need all features enabled in AWS Organizations.")
    if not any(service["ServicePrincipal"] == principal for service in backend.services):
        raise AwsError("OrganizationAccessDeniedException",
                       f"Trusted access for {principal} is not enabled in AWS Organizations.")
    delegated = any(admin.account.id == account and principal in admin.services for admin in backend.admins)
    if account != backend.account_id and not delegated:
        raise AwsError("OrganizationAccessDeniedException",
                       f"The account is neither the management account nor a delegated administrator for {principal}.")
    return backend


def active_accounts(backend: OrganizationsBackend) -> list[str]:
    return [account.id for account in backend.accounts if account.status == "ACTIVE"]


# --- Domain: the role, bucket and key Config is given ---------------------------------------------


def require_role_for_config(role_arn: str, partition: str) -> None:
    """The role must exist and trust Config."""
    parts = role_arn.split(":")
    if len(parts) < 6 or not parts[5].startswith("role/"):
        raise AwsError("InvalidRoleException", f"{role_arn} is not a role ARN.")
    try:
        role = iam_backends[parts[4]][partition].get_role_by_arn(role_arn)
    except IAMNotFoundException:
        raise AwsError("InvalidRoleException", f"The role {role_arn} does not exist.") from None
    if not policy_allows_service(role.assume_role_policy_document, CONFIG, "sts:AssumeRole"):
        raise AwsError("InvalidRoleException", f"The role {role_arn} does not trust {CONFIG}.")


def require_delivery_bucket(account: str, partition: str, bucket_name: str) -> None:
    """The bucket must exist; in another account (a log archive), its policy must let Config write."""
    try:
        bucket = s3_backends[account][partition].get_bucket(bucket_name)
    except MissingBucket:
        raise AwsError("NoSuchBucketException", f"Cannot find a S3 bucket with name {bucket_name}.") from None
    policy = bucket.policy.decode() if bucket.policy else None
    if bucket.account_id != account and not policy_allows_service(policy, CONFIG, "s3:PutObject"):
        raise AwsError("InsufficientDeliveryPolicyException",
                       f"Insufficient delivery policy to s3 bucket: {bucket_name}, unable to write to bucket.")


def require_delivery_key(key_arn: str) -> None:
    parts = key_arn.split(":")
    if len(parts) != 6 or parts[2] != "kms" or not parts[5].startswith("key/"):
        raise AwsError("InvalidS3KmsKeyArnException", f"{key_arn} is not a KMS key ARN.")
    if parts[5].removeprefix("key/") not in kms_backends[parts[4]][parts[3]].keys:
        raise AwsError("InvalidS3KmsKeyArnException", f"The KMS key {key_arn} does not exist.")


# --- Domain: a recorder's recording mode ---------------------------------------------------------

# Config records these continuously, whatever the recording mode says (RecordingMode, recordingFrequency).
CONTINUOUS_ONLY = ("AWS::Config::ResourceCompliance", "AWS::Config::ConformancePackCompliance",
                   "AWS::Config::ConfigurationRecorder")
CONTINUOUS = {"recordingFrequency": "CONTINUOUS", "recordingModeOverrides": []}


def require_recording_mode(mode: dict[str, Any] | None) -> dict[str, Any]:
    """The recording mode to keep: CONTINUOUS when none is given, as Config defaults it; DAILY
    refused for the types Config records continuously only."""
    if mode is None:
        return dict(CONTINUOUS)
    for override in mode.get("recordingModeOverrides") or []:
        daily_only = set(override["resourceTypes"]) & set(CONTINUOUS_ONLY)
        if override["recordingFrequency"] == "DAILY" and daily_only:
            raise AwsError("InvalidRecordingGroupException",
                           f"Daily recording cannot be specified for {', '.join(sorted(daily_only))}.")
    return {"recordingFrequency": mode["recordingFrequency"],
            "recordingModeOverrides": list(mode.get("recordingModeOverrides") or [])}


def keep_recording_mode(recorder: Any, mode: dict[str, Any]) -> None:
    """Kept on moto's recorder object (which a put replaces, and a reset forgets)."""
    recorder._vigil_recording_mode = mode


def recorder_view(view: dict[str, Any], recorder: Any) -> dict[str, Any]:
    """moto's view of a recorder, with its recording mode, and its recording group as Config
    returns it: moto adds the empty lists of the strategies not in use."""
    group = dict(view.get("recordingGroup") or {})
    if not group.get("resourceTypes"):
        group.pop("resourceTypes", None)
    if not (group.get("exclusionByResourceTypes") or {}).get("resourceTypes"):
        group.pop("exclusionByResourceTypes", None)
    return {"name": view["name"], "roleARN": view.get("roleARN", ""), "recordingGroup": group,
            "recordingMode": getattr(recorder, "_vigil_recording_mode", dict(CONTINUOUS))}


# --- Domain: organization config rules ----------------------------------------------------------


@dataclass
class OrganizationRule:
    name: str
    arn: str
    managed: dict[str, Any]  # OrganizationManagedRuleMetadata, as put
    excluded_accounts: list[str]
    updated: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def member_rule_name(self) -> str:
        """The rule AWS makes in each member account: OrgConfigRule-<name>-<suffix>."""
        return f"OrgConfigRule-{self.name}-{hashlib.sha256(self.arn.encode()).hexdigest()[:8]}"

    def view(self) -> dict[str, Any]:
        return {"OrganizationConfigRuleName": self.name, "OrganizationConfigRuleArn": self.arn,
                "OrganizationManagedRuleMetadata": self.managed, "ExcludedAccounts": self.excluded_accounts,
                "LastUpdateTime": self.updated}


_rules: dict[tuple[str, str], dict[str, OrganizationRule]] = {}  # (organization id, region) -> name -> rule
_rules_lock = threading.Lock()


def organization_rules(organization_id: str, region: str) -> list[OrganizationRule]:
    with _rules_lock:
        return sorted(_rules.get((organization_id, region), {}).values(), key=lambda r: r.name)


def put_organization_rule(backend: OrganizationsBackend, caller: str, region: str,
                          params: dict[str, Any]) -> OrganizationRule:
    if "OrganizationManagedRuleMetadata" not in params:
        raise AwsError("ValidationException",
                       "vigil-sandbox: only organization managed rules are modelled (no Lambda, no Guard).")
    name = params["OrganizationConfigRuleName"]
    organization_id = backend.org.id  # type: ignore[union-attr]
    with _rules_lock:
        rules = _rules.setdefault((organization_id, region), {})
        existing = rules.get(name)
        suffix = hashlib.sha256(f"{organization_id}/{region}/{name}".encode()).hexdigest()[:8]
        arn = existing.arn if existing else f"arn:aws:config:{region}:{caller}:organization-config-rule/{name}-{suffix}"
        excluded = params.get("ExcludedAccounts", existing.excluded_accounts if existing else [])
        rules[name] = OrganizationRule(name, arn, dict(params["OrganizationManagedRuleMetadata"]), list(excluded))
        return rules[name]


def delete_organization_rule(organization_id: str, region: str, name: str) -> None:
    with _rules_lock:
        if _rules.get((organization_id, region), {}).pop(name, None) is None:
            raise AwsError("NoSuchOrganizationConfigRuleException",
                           f"The organization config rule {name} does not exist.")


def clear_organization_rules() -> None:
    with _rules_lock:
        _rules.clear()


# --- Domain: evaluations -----------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """One organization rule in one account x region, as an aggregator reports it."""

    rule: str  # the member rule's name
    account: str
    region: str
    compliance: str  # COMPLIANT | NON_COMPLIANT | INSUFFICIENT_DATA
    non_compliant_resources: int


def _volumes_encrypted(account: str, region: str) -> list[bool]:
    return [bool(volume.encrypted) for volume in ec2_backends[account][region].volumes.values()]


def _buckets_versioned(account: str, region: str) -> list[bool]:
    return [bucket.versioning_status == "Enabled" for bucket in s3_backends[account]["aws"].buckets.values()
            if bucket.region_name == region]


# Managed rule identifier -> for each resource in scope, whether it complies.
EVALUATORS: dict[str, Callable[[str, str], list[bool]]] = {
    "ENCRYPTED_VOLUMES": _volumes_encrypted,
    "S3_BUCKET_VERSIONING_ENABLED": _buckets_versioned,
}


def is_recording(account: str, region: str) -> bool:
    return any(recorder.status.recording for recorder in config_backends[account][region].recorders.values())


def evaluate(rule: OrganizationRule, account: str, region: str) -> Evaluation:
    evaluator = EVALUATORS.get(rule.managed.get("RuleIdentifier", ""))
    verdicts = evaluator(account, region) if evaluator else []
    failing = verdicts.count(False)
    compliance = "INSUFFICIENT_DATA" if not verdicts else "NON_COMPLIANT" if failing else "COMPLIANT"
    return Evaluation(rule.member_rule_name, account, region, compliance, failing)


def aggregated_evaluations(caller: str, partition: str, region: str, aggregator_name: str) -> list[Evaluation]:
    """What an aggregator sees: each organization rule where it runs, within the aggregator's
    accounts and regions."""
    aggregator = config_backends[caller][region].config_aggregators.get(aggregator_name)
    if aggregator is None:
        raise AwsError("NoSuchConfigurationAggregatorException",
                       f"The configuration aggregator {aggregator_name} does not exist.")
    backend = management_backend(caller, partition)
    if backend is None or backend.org is None:
        return []
    source = aggregator.organization_aggregation_source
    if source is not None:
        accounts = active_accounts(backend)
        regions = None if source.all_aws_regions else set(source.aws_regions or [])
    else:
        sources = aggregator.account_aggregation_sources or []
        accounts = [account for s in sources for account in s.account_ids]
        regions = None if any(s.all_aws_regions for s in sources) else {r for s in sources for r in s.aws_regions or []}
    with _rules_lock:
        placed = [(r, rule) for (organization, r), rules in _rules.items()
                  if organization == backend.org.id and (regions is None or r in regions) for rule in rules.values()]
    return [evaluate(rule, account, r) for r, rule in placed for account in accounts
            if account not in rule.excluded_accounts and is_recording(account, r)]


def _page(items: list[Any], params: dict[str, Any], limit_default: int) -> tuple[list[Any], str | None]:
    """Offsets as tokens, which is all a client may assume of a token."""
    start = int(params.get("NextToken") or 0)
    limit = params.get("Limit") or limit_default
    end = start + limit
    return items[start:end], (str(end) if end < len(items) else None)


# --- Wire ----------------------------------------------------------------------------------------


def _put_configuration_recorder(self: ConfigResponse, params: dict[str, Any]) -> dict[str, Any]:
    recorder = params["ConfigurationRecorder"]
    role_arn = recorder.get("roleARN")
    if role_arn:
        require_role_for_config(role_arn, self.partition)
    mode = require_recording_mode(recorder.get("recordingMode"))
    backend = config_backends[self.current_account][self.region]
    backend.put_configuration_recorder(recorder)
    keep_recording_mode(backend.recorders[recorder["name"]], mode)
    return {}


def _describe_configuration_recorders(self: ConfigResponse, params: dict[str, Any]) -> dict[str, Any]:
    backend = config_backends[self.current_account][self.region]
    found = backend.describe_configuration_recorders(params.get("ConfigurationRecorderNames"))
    return {"ConfigurationRecorders": [recorder_view(r, backend.recorders[r["name"]]) for r in found]}


def _put_delivery_channel(self: ConfigResponse, params: dict[str, Any]) -> None:
    channel = params["DeliveryChannel"]
    if channel.get("s3BucketName"):
        require_delivery_bucket(self.current_account, self.partition, channel["s3BucketName"])
    if channel.get("s3KmsKeyArn"):
        require_delivery_key(channel["s3KmsKeyArn"])


def _put_configuration_aggregator(self: ConfigResponse, params: dict[str, Any]) -> None:
    source = params.get("OrganizationAggregationSource")
    if source is not None:
        require_organization_administrator(self.current_account, self.partition, CONFIG)
        require_role_for_config(source["RoleArn"], self.partition)


def _put_organization_config_rule(self: ConfigResponse, params: dict[str, Any]) -> dict[str, Any]:
    backend = require_organization_administrator(self.current_account, self.partition, MULTI_ACCOUNT_SETUP)
    rule = put_organization_rule(backend, self.current_account, self.region, params)
    return {"OrganizationConfigRuleArn": rule.arn}


def _describe_organization_config_rules(self: ConfigResponse, params: dict[str, Any]) -> dict[str, Any]:
    backend = require_organization_administrator(self.current_account, self.partition, MULTI_ACCOUNT_SETUP)
    rules = organization_rules(backend.org.id, self.region)  # type: ignore[union-attr]
    names = params.get("OrganizationConfigRuleNames")
    if names:
        missing = set(names) - {rule.name for rule in rules}
        if missing:
            raise AwsError("NoSuchOrganizationConfigRuleException",
                           f"The organization config rules {sorted(missing)} do not exist.")
        rules = [rule for rule in rules if rule.name in names]
    page, token = _page(rules, params, 100)
    return {"OrganizationConfigRules": [rule.view() for rule in page], **({"NextToken": token} if token else {})}


def _delete_organization_config_rule(self: ConfigResponse, params: dict[str, Any]) -> dict[str, Any]:
    backend = require_organization_administrator(self.current_account, self.partition, MULTI_ACCOUNT_SETUP)
    delete_organization_rule(backend.org.id, self.region, params["OrganizationConfigRuleName"])  # type: ignore[union-attr]
    return {}


def _put_organization_conformance_pack(self: ConfigResponse, params: dict[str, Any]) -> None:
    require_organization_administrator(self.current_account, self.partition, MULTI_ACCOUNT_SETUP)


def _describe_organization_conformance_packs(self: ConfigResponse, params: dict[str, Any]) -> dict[str, Any]:
    require_organization_administrator(self.current_account, self.partition, MULTI_ACCOUNT_SETUP)
    packs = config_backends[self.current_account][self.region].organization_conformance_packs
    names = params.get("OrganizationConformancePackNames") or sorted(packs)
    missing = [name for name in names if name not in packs]
    if missing:
        raise AwsError("NoSuchOrganizationConformancePackException",
                       "One or more organization conformance packs with specified names are not present.")
    views = []
    for name in names:
        view = packs[name].to_dict()
        view["LastUpdateTime"] = datetime.fromtimestamp(view["LastUpdateTime"], tz=timezone.utc)
        views.append(view)
    page, token = _page(views, params, 100)
    return {"OrganizationConformancePacks": page, **({"NextToken": token} if token else {})}


def _matches(evaluation: Evaluation, filters: dict[str, Any]) -> bool:
    return (filters.get("AccountId") in (None, evaluation.account)
            and filters.get("AwsRegion") in (None, evaluation.region)
            and filters.get("ConfigRuleName") in (None, evaluation.rule)
            and filters.get("ComplianceType") in (None, evaluation.compliance))


def _count(n: int) -> dict[str, Any]:
    return {"CappedCount": n, "CapExceeded": False}


def _get_aggregate_config_rule_compliance_summary(self: ConfigResponse, params: dict[str, Any]) -> dict[str, Any]:
    evaluations = [e for e in aggregated_evaluations(self.current_account, self.partition, self.region,
                                                     params["ConfigurationAggregatorName"])
                   if _matches(e, params.get("Filters") or {})]
    key = params.get("GroupByKey")
    groups: dict[str | None, list[Evaluation]] = {}
    for evaluation in evaluations:
        name = {"ACCOUNT_ID": evaluation.account, "AWS_REGION": evaluation.region}.get(key or "")
        groups.setdefault(name, []).append(evaluation)
    if not key:
        groups.setdefault(None, [])
    now = datetime.now(timezone.utc)
    counts = [{**({"GroupName": name} if name is not None else {}), "ComplianceSummary": {
        # Despite the names, these count rules: AWS documents the summary as compliant and
        # noncompliant rules.
        "CompliantResourceCount": _count(sum(e.compliance == "COMPLIANT" for e in members)),
        "NonCompliantResourceCount": _count(sum(e.compliance == "NON_COMPLIANT" for e in members)),
        "ComplianceSummaryTimestamp": now}} for name, members in sorted(groups.items(), key=lambda g: g[0] or "")]
    page, token = _page(counts, params, 1000)
    return {**({"GroupByKey": key} if key else {}), "AggregateComplianceCounts": page,
            **({"NextToken": token} if token else {})}


def _describe_aggregate_compliance_by_config_rules(self: ConfigResponse, params: dict[str, Any]) -> dict[str, Any]:
    evaluations = [e for e in aggregated_evaluations(self.current_account, self.partition, self.region,
                                                     params["ConfigurationAggregatorName"])
                   if _matches(e, params.get("Filters") or {})]
    rows = []
    for e in sorted(evaluations, key=lambda e: (e.rule, e.account, e.region)):
        compliance: dict[str, Any] = {"ComplianceType": e.compliance}
        if e.compliance == "NON_COMPLIANT":  # AWS counts contributors to non-compliance only
            compliance["ComplianceContributorCount"] = _count(e.non_compliant_resources)
        rows.append({"ConfigRuleName": e.rule, "Compliance": compliance, "AccountId": e.account,
                     "AwsRegion": e.region})
    page, token = _page(rows, params, 1000)
    return {"AggregateComplianceByConfigRules": page, **({"NextToken": token} if token else {})}


GAPS: tuple[Gap, ...] = (
    Gap(
        "config", "PutConfigurationRecorder", "fix", ConfigResponse, _put_configuration_recorder,
        moto="takes any role ARN; drops the recording mode",
        sandbox="InvalidRoleException unless the role exists and trusts config.amazonaws.com; keeps the recording "
                "mode (CONTINUOUS when none is given); DAILY for a type Config records continuously only is "
                "InvalidRecordingGroupException",
    ),
    Gap(
        "config", "DescribeConfigurationRecorders", "fix", ConfigResponse, _describe_configuration_recorders,
        moto="no recording mode; empty lists of the recording strategies not in use",
        sandbox="the recording mode as put; the recording group as Config returns it",
    ),
    Gap(
        "config", "PutDeliveryChannel", "guard", ConfigResponse, _put_delivery_channel,
        moto="takes any bucket name and KMS key ARN",
        sandbox="NoSuchBucketException; InsufficientDeliveryPolicyException for another account's bucket whose "
                "policy does not let Config write; InvalidS3KmsKeyArnException for a missing key",
    ),
    Gap(
        "config", "PutConfigurationAggregator", "guard", ConfigResponse, _put_configuration_aggregator,
        moto="makes an organization aggregator in any account, with any role",
        sandbox="management account or delegated administrator for config.amazonaws.com, with trusted access; "
                "the role must exist and trust Config",
    ),
    Gap(
        "config", "PutOrganizationConfigRule", "addition", ConfigResponse, _put_organization_config_rule,
        moto="not implemented",
        sandbox="managed rules per organization and region; from the management account or the delegated "
                "administrator for config-multiaccountsetup.amazonaws.com, with trusted access",
    ),
    Gap(
        "config", "DescribeOrganizationConfigRules", "addition", ConfigResponse,
        _describe_organization_config_rules,
        moto="not implemented",
        sandbox="the organization's rules in the region, all or by name (NoSuchOrganizationConfigRuleException)",
    ),
    Gap(
        "config", "DeleteOrganizationConfigRule", "addition", ConfigResponse, _delete_organization_config_rule,
        moto="not implemented",
        sandbox="deletes the rule; NoSuchOrganizationConfigRuleException",
    ),
    Gap(
        "config", "PutOrganizationConformancePack", "guard", ConfigResponse, _put_organization_conformance_pack,
        moto="from any account",
        sandbox="the management account or the delegated administrator for config-multiaccountsetup, "
                "with trusted access",
    ),
    Gap(
        "config", "DescribeOrganizationConformancePacks", "fix", ConfigResponse,
        _describe_organization_conformance_packs,
        moto="fails (500) without OrganizationConformancePackNames; from any account",
        sandbox="every pack when no name is given; administrators only",
    ),
    Gap(
        "config", "GetAggregateConfigRuleComplianceSummary", "addition", ConfigResponse,
        _get_aggregate_config_rule_compliance_summary,
        moto="not implemented",
        sandbox="compliant and non-compliant rules over the aggregator's accounts and regions, by ACCOUNT_ID or "
                "AWS_REGION",
    ),
    Gap(
        "config", "DescribeAggregateComplianceByConfigRules", "addition", ConfigResponse,
        _describe_aggregate_compliance_by_config_rules,
        moto="not implemented",
        sandbox="each organization rule per account x region, with its non-compliant resource count",
    ),
)
