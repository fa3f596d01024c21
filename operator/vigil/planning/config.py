"""ConfigBaseline: AWS Config recorders everywhere, organization pieces in the security account.

Per account x region: one configuration recorder (AWS allows one; an existing one is adopted under
its own name) recording all supported types (or all but the spec's exclusions), global types only
where the spec says, as often as its recording mode says, through the Config service-linked role;
one delivery channel to the LogArchive bucket; recording on.

For the organization, in the security account: trusted access for Config and its multi-account
setup, the security account registered as their delegated administrator (so the management
account runs nothing but Organizations calls), an organization aggregator over every account and
region through a service role, and the spec's managed rules and conformance packs, organization
wide, in every target region (organization rules and packs are regional).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from ..api.config import ConfigBaselineSpec, GlobalResourceTypes, RecordingStrategy
from ..state.config import (GLOBAL_IAM_TYPES, UNLISTED_TYPES, AccountConfigState, AggregatorSource, AggregatorState,
                            ChannelSettings, ConformancePackState, DelegationState, OrganizationRuleSettings,
                            OrganizationRuleState, RecorderSettings, ServiceRoleState, recording_mode,
                            unrecorded_types)
from . import policies
from .ownership import Owner
from .actions import Action, Change, diff
from .organization import plan_trusted_access
from .weakening import entries

CONFIG_PRINCIPAL = "config.amazonaws.com"
# Organization rules and conformance packs are Config's "multi-account setup" in Organizations.
MULTI_ACCOUNT_SETUP_PRINCIPAL = "config-multiaccountsetup.amazonaws.com"
SERVICE_LINKED_ROLE_NAME = "AWSServiceRoleForConfig"
AGGREGATOR_ROLE_NAME = "vigil-config-aggregator"
AGGREGATOR_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSConfigRoleForOrganizations"
DEFAULT_NAME = "default"  # the name AWS's console gives a recorder and a delivery channel
S3_KEY_PREFIX = "config"


def service_linked_role_arn(account_id: str) -> str:
    return f"arn:aws:iam::{account_id}:role/aws-service-role/{CONFIG_PRINCIPAL}/{SERVICE_LINKED_ROLE_NAME}"


@dataclass(frozen=True)
class RecorderTarget:
    """One account x region."""

    account_id: str
    region: str
    home_region: str
    bucket: str
    kms_key_arn: str

    @property
    def label(self) -> str:
        return f"{self.account_id}/{self.region}/config-recorder"

    @property
    def role_arn(self) -> str:
        return service_linked_role_arn(self.account_id)


@dataclass(frozen=True)
class OrganizationTarget:
    """The organization-wide pieces, administered from ``admin_account_id`` (the security account)."""

    admin_account_id: str
    management_account_id: str
    home_region: str
    regions: tuple[str, ...]  # where organization rules and packs go
    excluded_accounts: tuple[str, ...]  # active accounts outside the scope: they have no recorder
    owner: Owner  # who signs what Vigil creates (planning.ownership)

    def label(self, what: str, region: str | None = None) -> str:
        return f"{self.admin_account_id}/{region or self.home_region}/{what}"

    @property
    def delegated(self) -> bool:
        """AWS refuses the management account as its own delegated administrator; if the security
        account is the management account, it acts as itself."""
        return self.admin_account_id != self.management_account_id

    @property
    def aggregator_role_arn(self) -> str:
        return f"arn:aws:iam::{self.admin_account_id}:role/{AGGREGATOR_ROLE_NAME}"


# --- per account x region ---------------------------------------------------------------------


def records_global_types(spec: ConfigBaselineSpec, target: RecorderTarget) -> bool:
    wanted = GlobalResourceTypes(spec.recorder.include_global_resource_types)
    return wanted is GlobalResourceTypes.ALL_REGIONS or (
        wanted is GlobalResourceTypes.HOME_REGION_ONLY and target.region == target.home_region)


def desired_recorder(spec: ConfigBaselineSpec, target: RecorderTarget) -> RecorderSettings:
    """What the recorder should be. Config's includeGlobalResourceTypes is left out of the
    comparison: with allSupported, ``unrecorded_types`` says the same; with exclusions Config
    wants it off and records the global IAM types unless they are excluded, so they are excluded
    in the Regions where the spec does not record them."""
    recorder = spec.recorder
    global_here = records_global_types(spec, target)
    strategy = RecordingStrategy(recorder.recording_strategy)
    all_supported = strategy is RecordingStrategy.ALL_SUPPORTED_RESOURCE_TYPES
    excluded = () if all_supported else (*recorder.exclusion_by_resource_types,
                                         *(() if global_here else GLOBAL_IAM_TYPES))
    return RecorderSettings(
        role_arn=target.role_arn, all_supported=all_supported, include_global_resource_types=None,
        recording_strategy=strategy.value,
        unrecorded_types=unrecorded_types(all_supported, global_here, strategy.value, excluded),
        recording_mode=recording_mode(recorder.recording_mode.model_dump(by_alias=True, exclude_none=True)))


def recording_group(want: RecorderSettings, global_here: bool) -> dict[str, Any]:
    """Config's RecordingGroup for ``want``, as PutConfigurationRecorder takes it."""
    if want.all_supported:
        return {"allSupported": True, "includeGlobalResourceTypes": global_here,
                "recordingStrategy": {"useOnly": want.recording_strategy}}
    return {"allSupported": False, "includeGlobalResourceTypes": False,
            "recordingStrategy": {"useOnly": want.recording_strategy},
            "exclusionByResourceTypes": {"resourceTypes": list(want.unrecorded_types)}}


def _unrecorded_named(spec: ConfigBaselineSpec, change: Change) -> Change:
    """The types a recorder would stop recording, named by the spec field that asks: each one the
    spec excludes by itself, and the global IAM types by includeGlobalResourceTypes."""
    if UNLISTED_TYPES in (change.before or ()):
        return change  # from a recorder of chosen types: none of them is lost (planning.weakening)
    gained = sorted(set(change.after or ()) - set(change.before or ()))
    listed = set(spec.recorder.exclusion_by_resource_types)
    named = entries("spec.recorder.exclusionByResourceTypes", "+", (t for t in gained if t in listed))
    if any(t not in listed for t in gained):
        named = ",".join(filter(None, (
            named, f"spec.recorder.includeGlobalResourceTypes={spec.recorder.include_global_resource_types}")))
    return replace(change, spec=named)


def desired_channel(spec: ConfigBaselineSpec, target: RecorderTarget) -> ChannelSettings:
    return ChannelSettings(s3_bucket_name=target.bucket, s3_key_prefix=S3_KEY_PREFIX,
                           s3_kms_key_arn=target.kms_key_arn, delivery_frequency=spec.delivery_frequency)


def needs_service_linked_role(spec: ConfigBaselineSpec, target: RecorderTarget, observed: AccountConfigState) -> bool:
    """Whether the recorder is about to be put, hence its role must exist. A recorder already
    using the role proves the role is there (IAM refuses to delete a service-linked role while
    its service uses it), which spares a read per account at every resync."""
    return not observed.recorder.exists or observed.recorder.settings.role_arn != target.role_arn


def plan_service_linked_role(target: RecorderTarget, exists: bool) -> list[Action]:
    if exists:
        return []
    return [Action(f"{target.account_id}/global/role/{SERVICE_LINKED_ROLE_NAME}", target.account_id, "global", "iam",
                   "CreateServiceLinkedRole", {"AWSServiceName": CONFIG_PRINCIPAL},
                   (Change("service_linked_role", None, SERVICE_LINKED_ROLE_NAME),), creates=True)]


def plan_recorder(spec: ConfigBaselineSpec, target: RecorderTarget, observed: AccountConfigState) -> list[Action]:
    """Recorder, then channel (AWS wants a recorder first), then recording (it wants a channel)."""
    actions: list[Action] = []

    def act(operation: str, params: dict[str, Any], changes: list[Change], creates: bool) -> None:
        actions.append(Action(target.label, target.account_id, target.region, "config", operation, params,
                              tuple(changes), creates=creates))

    recorder, channel = observed.recorder, observed.channel
    recorder_name = recorder.name or DEFAULT_NAME
    want = desired_recorder(spec, target)
    changes = [Change("recorder", None, recorder_name)] if not recorder.exists else [
        _unrecorded_named(spec, c) if c.path == "recorder.unrecorded_types" else c
        for c in diff(want, recorder.settings, "recorder.")]
    if changes:
        act("PutConfigurationRecorder", {"ConfigurationRecorder": {
            "name": recorder_name, "roleARN": want.role_arn,
            "recordingGroup": recording_group(want, records_global_types(spec, target)),
            "recordingMode": want.recording_mode}},
            changes, creates=not recorder.exists)

    want_channel = desired_channel(spec, target)
    changes = [Change("delivery_channel", None, channel.name or DEFAULT_NAME)] if not channel.exists else diff(
        want_channel, channel.settings, "delivery_channel.")
    if changes:
        delivery: dict[str, Any] = {
            "name": channel.name or DEFAULT_NAME, "s3BucketName": want_channel.s3_bucket_name,
            "s3KeyPrefix": want_channel.s3_key_prefix, "s3KmsKeyArn": want_channel.s3_kms_key_arn,
            "configSnapshotDeliveryProperties": {"deliveryFrequency": want_channel.delivery_frequency}}
        if channel.sns_topic_arn:  # PutDeliveryChannel replaces the channel: keep what is not ours
            delivery["snsTopicARN"] = channel.sns_topic_arn
        act("PutDeliveryChannel", {"DeliveryChannel": delivery}, changes, creates=not channel.exists)

    if not recorder.recording:
        act("StartConfigurationRecorder", {"ConfigurationRecorderName": recorder_name},
            [Change("recorder.recording", recorder.recording, True)], creates=not recorder.exists)
    return actions


# --- the organization ---------------------------------------------------------------------------


def plan_delegation(target: OrganizationTarget, observed: DelegationState) -> list[Action]:
    """Trusted access for both Config principals, then the security account as their delegated
    administrator: all from the management account."""
    m, home = target.management_account_id, target.home_region
    actions: list[Action] = []
    for principal in (CONFIG_PRINCIPAL, MULTI_ACCOUNT_SETUP_PRINCIPAL):
        actions += plan_trusted_access(principal, set(observed.trusted_services), target.label("organizations"), m,
                                       home)
    if not target.delegated:
        return actions
    for principal in (CONFIG_PRINCIPAL, MULTI_ACCOUNT_SETUP_PRINCIPAL):
        if principal not in observed.delegated_services:
            actions.append(Action(target.label("organizations"), m, home, "organizations",
                                  "RegisterDelegatedAdministrator",
                                  {"AccountId": target.admin_account_id, "ServicePrincipal": principal},
                                  (Change("delegated_administrator", sorted(observed.delegated_services),
                                          principal),)))
    return actions


def plan_aggregator_role(target: OrganizationTarget, observed: ServiceRoleState) -> list[Action]:
    """The role an organization aggregator assumes to list the organization's accounts; AWS
    maintains its permissions in the managed policy."""
    a, label = target.admin_account_id, target.label(f"role/{AGGREGATOR_ROLE_NAME}")
    trust = policies.service_trust_policy(CONFIG_PRINCIPAL)
    actions = []
    if not observed.exists:
        actions.append(Action(label, a, "global", "iam", "CreateRole", {
            "RoleName": AGGREGATOR_ROLE_NAME, "AssumeRolePolicyDocument": policies.to_json(trust),
            "Tags": target.owner.tag_list()},
            (Change("role", None, AGGREGATOR_ROLE_NAME),), creates=True))
    elif observed.trust_policy != policies.canonical(trust):
        actions.append(Action(label, a, "global", "iam", "UpdateAssumeRolePolicy", {
            "RoleName": AGGREGATOR_ROLE_NAME, "PolicyDocument": policies.to_json(trust)},
            (Change("trust_policy", observed.trust_policy, policies.canonical(trust)),)))
    if AGGREGATOR_POLICY_ARN not in observed.attached_policy_arns:
        actions.append(Action(label, a, "global", "iam", "AttachRolePolicy", {
            "RoleName": AGGREGATOR_ROLE_NAME, "PolicyArn": AGGREGATOR_POLICY_ARN},
            (Change("attached_policies", sorted(observed.attached_policy_arns), AGGREGATOR_POLICY_ARN),),
            creates=not observed.exists))
    return actions


def plan_aggregator(spec: ConfigBaselineSpec, target: OrganizationTarget, observed: AggregatorState,
                    role_arn: str) -> list[Action]:
    name = spec.aggregator.name
    want = AggregatorSource(role_arn=role_arn, all_aws_regions=True)
    if not observed.exists:
        changes = [Change("aggregator", None, name)]
    elif observed.organization_source is None:
        changes = [Change("aggregator.organization_source", None, want.model_dump())]
    else:
        changes = diff(want, observed.organization_source, "aggregator.organization_source.")
    if not changes:
        return []
    params: dict[str, Any] = {"ConfigurationAggregatorName": name,
                              "OrganizationAggregationSource": {"RoleArn": role_arn, "AllAwsRegions": True}}
    if not observed.exists:
        params["Tags"] = target.owner.tag_list()
    return [Action(target.label(name), target.admin_account_id, target.home_region, "config",
                   "PutConfigurationAggregator", params, tuple(changes), creates=not observed.exists)]


def plan_rules(spec: ConfigBaselineSpec, target: OrganizationTarget, region: str,
               observed: dict[str, OrganizationRuleState]) -> list[Action]:
    """Each rule of the spec, organization wide, in ``region``. Rules that are not in the spec
    are left alone: they may be someone else's."""
    actions = []
    for rule in spec.rules:
        want = OrganizationRuleSettings(rule_identifier=rule.identifier, input_parameters=rule.input_parameters,
                                        excluded_accounts=target.excluded_accounts)
        have = observed.get(rule.name)
        if have is None:
            changes = [Change("organization_rule", None, rule.name)]
        elif not have.managed:
            changes = [Change("organization_rule.type", "custom", "managed")]
        else:
            changes = _by_scope(spec, diff(want, have.settings, "organization_rule."))
        if not changes:
            continue
        metadata: dict[str, Any] = {"RuleIdentifier": rule.identifier}
        if rule.input_parameters:
            metadata["InputParameters"] = json.dumps(rule.input_parameters, sort_keys=True)
        actions.append(Action(target.label(rule.name, region), target.admin_account_id, region, "config",
                              "PutOrganizationConfigRule", {
                                  "OrganizationConfigRuleName": rule.name,
                                  "OrganizationManagedRuleMetadata": metadata,
                                  "ExcludedAccounts": list(target.excluded_accounts)},
                              tuple(changes), creates=have is None))
    return actions


def _by_scope(spec: ConfigBaselineSpec, changes: list[Change]) -> list[Change]:
    """Excluded accounts follow the spec's scope (the active accounts outside it), so an account
    joining outside the scope is allowed by naming the scope, not each account."""
    return [replace(c, spec=f"spec.scope={spec.scope}") if c.path.endswith("excluded_accounts") else c
            for c in changes]


def plan_conformance_packs(spec: ConfigBaselineSpec, target: OrganizationTarget, region: str,
                           observed: dict[str, ConformancePackState]) -> list[Action]:
    """Packs are compared by presence and excluded accounts only: AWS does not return a pack's
    template, so a changed template in the spec is put once, when the pack is created."""
    actions = []
    for pack in spec.conformance_packs:
        have = observed.get(pack.name)
        if have is None:
            changes = [Change("conformance_pack", None, pack.name)]
        elif have.excluded_accounts != target.excluded_accounts:
            changes = _by_scope(spec, [Change("conformance_pack.excluded_accounts", list(have.excluded_accounts),
                                              list(target.excluded_accounts))])
        else:
            continue
        actions.append(Action(target.label(pack.name, region), target.admin_account_id, region, "config",
                              "PutOrganizationConformancePack", {
                                  "OrganizationConformancePackName": pack.name,
                                  "TemplateS3Uri": pack.template_s3_uri,
                                  "ExcludedAccounts": list(target.excluded_accounts)},
                              tuple(changes), creates=have is None))
    return actions
