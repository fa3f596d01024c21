"""AWS Config, as observed: a recorder and its delivery channel per account x region; the
organization-wide pieces (aggregator, organization rules and conformance packs) in the
delegated administrator's account."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


# The global IAM resource types: what Config's includeGlobalResourceTypes records with allSupported,
# and what an exclusion strategy records unless it excludes them.
GLOBAL_IAM_TYPES = ("AWS::IAM::Group", "AWS::IAM::Policy", "AWS::IAM::Role", "AWS::IAM::User")
# What a recorder of chosen types (INCLUSION_BY_RESOURCE_TYPES, never the baseline's) leaves out:
# every type but those, which no list says.
UNLISTED_TYPES = "*"
CONTINUOUS_RECORDING = {"recordingFrequency": "CONTINUOUS", "recordingModeOverrides": []}


def unrecorded_types(all_supported: bool, include_global: bool, strategy: str,
                     exclusions: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The supported resource types a recording group does not record, whichever way it says so:
    with allSupported, the global IAM types unless includeGlobalResourceTypes; with exclusions, the
    types excluded (Config ignores includeGlobalResourceTypes then)."""
    if all_supported:
        return () if include_global else GLOBAL_IAM_TYPES
    if strategy == "EXCLUSION_BY_RESOURCE_TYPES":
        return tuple(sorted(set(exclusions)))
    return (UNLISTED_TYPES,)


def recording_mode(mode: dict[str, Any] | None) -> dict[str, Any]:
    """A recording mode as data to compare: Config's wire form, each override's types sorted and an
    absent description left out; a recorder from before recording modes records continuously."""
    if not mode:
        return {**CONTINUOUS_RECORDING, "recordingModeOverrides": []}
    overrides = [{**({"description": o["description"]} if o.get("description") else {}),
                  "resourceTypes": sorted(o.get("resourceTypes") or []),
                  "recordingFrequency": o.get("recordingFrequency", "CONTINUOUS")}
                 for o in mode.get("recordingModeOverrides") or []]
    return {"recordingFrequency": mode.get("recordingFrequency", "CONTINUOUS"), "recordingModeOverrides": overrides}


class RecorderSettings(BaseModel):
    """What PutConfigurationRecorder sets that the baseline cares about; compared field by field.
    ``unrecorded_types`` is derived (``unrecorded_types``): coverage, whichever fields say it;
    ``recording_mode`` is Config's RecordingMode as data (``recording_mode``)."""

    model_config = ConfigDict(frozen=True)

    role_arn: str | None = None
    all_supported: bool = False
    include_global_resource_types: bool | None = False  # desired None: unrecorded_types says it
    recording_strategy: str | None = None
    unrecorded_types: tuple[str, ...] = ()
    recording_mode: dict[str, Any] = Field(default_factory=lambda: recording_mode(None))


class RecorderState(BaseModel):
    model_config = ConfigDict(frozen=True)

    exists: bool
    name: str | None = None
    settings: RecorderSettings = RecorderSettings()
    recording: bool = False


class ChannelSettings(BaseModel):
    """What PutDeliveryChannel sets that the baseline cares about."""

    model_config = ConfigDict(frozen=True)

    s3_bucket_name: str | None = None
    s3_key_prefix: str | None = None
    s3_kms_key_arn: str | None = None
    delivery_frequency: str | None = None


class ChannelState(BaseModel):
    model_config = ConfigDict(frozen=True)

    exists: bool
    name: str | None = None
    settings: ChannelSettings = ChannelSettings()
    sns_topic_arn: str | None = None  # not the baseline's, kept as found


class AccountConfigState(BaseModel):
    """One account x region: its (single) customer-managed recorder and delivery channel."""

    model_config = ConfigDict(frozen=True)

    recorder: RecorderState
    channel: ChannelState


class ServiceRoleState(BaseModel):
    """A role Config assumes, with the managed policies attached to it."""

    model_config = ConfigDict(frozen=True)

    exists: bool
    arn: str | None = None
    trust_policy: Any = None  # canonical
    attached_policy_arns: tuple[str, ...] = ()


class AggregatorSource(BaseModel):
    model_config = ConfigDict(frozen=True)

    role_arn: str | None = None
    all_aws_regions: bool = False


class AggregatorState(BaseModel):
    model_config = ConfigDict(frozen=True)

    exists: bool
    arn: str | None = None
    organization_source: AggregatorSource | None = None  # None: an account-based aggregator


def rule_parameters(text: str | None) -> dict[str, Any]:
    """A rule's InputParameters as data: AWS hands back the JSON string it was given, however spaced."""
    if not text:
        return {}
    try:
        parsed = json.loads(text)
    except ValueError:
        return {"<unparsable>": text}
    return parsed if isinstance(parsed, dict) else {"<not an object>": parsed}


class OrganizationRuleSettings(BaseModel):
    """An organization managed rule, as PutOrganizationConfigRule takes it."""

    model_config = ConfigDict(frozen=True)

    rule_identifier: str | None = None
    input_parameters: Any = None  # the parsed JSON: key order and spacing are not drift
    excluded_accounts: tuple[str, ...] = ()


class OrganizationRuleState(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    managed: bool  # False: a custom (Lambda or Guard) rule by that name
    settings: OrganizationRuleSettings = OrganizationRuleSettings()


class ConformancePackState(BaseModel):
    """An organization conformance pack. AWS never returns its template, so the template cannot
    be compared: only presence and excluded accounts can."""

    model_config = ConfigDict(frozen=True)

    name: str
    excluded_accounts: tuple[str, ...] = ()


class DelegationState(BaseModel):
    """Who may act for the organization: trusted access and the delegated administrator."""

    model_config = ConfigDict(frozen=True)

    trusted_services: frozenset[str] = frozenset()
    delegated_services: frozenset[str] = frozenset()  # of the administrator account


class ComplianceCounts(BaseModel):
    """The aggregator's view; rules are counted once per account x region they run in."""

    model_config = ConfigDict(frozen=True)

    compliant_rules: int = 0
    non_compliant_rules: int = 0
    non_compliant_resources: int = 0
