"""ConfigBaseline planner: recorder (recording strategy, exclusions, global types, recording mode),
delivery channel and recording per account x region; trusted access, delegation, the aggregator and
its role, organization rules and conformance packs; table-driven."""

import json

import pytest

from vigil.api.config import ConfigBaselineSpec
from vigil.planning.config import (AGGREGATOR_POLICY_ARN, AGGREGATOR_ROLE_NAME, CONFIG_PRINCIPAL,
                                   MULTI_ACCOUNT_SETUP_PRINCIPAL, OrganizationTarget, RecorderTarget,
                                   desired_channel, desired_recorder, needs_service_linked_role, plan_aggregator,
                                   plan_aggregator_role, plan_conformance_packs, plan_delegation, plan_recorder,
                                   plan_rules, plan_service_linked_role)
from vigil.planning import policies
from vigil.planning.ownership import Owner
from vigil.planning.weakening import classify
from vigil.state.config import (GLOBAL_IAM_TYPES, AccountConfigState, AggregatorSource, AggregatorState,
                                ChannelState, ConformancePackState, DelegationState, OrganizationRuleSettings,
                                OrganizationRuleState, RecorderState, ServiceRoleState, recording_mode,
                                rule_parameters)

HOME, OTHER = "ca-central-1", "us-east-1"
OWNER = Owner("baseline", "ConfigBaseline", "config")
KEY = "arn:aws:kms:ca-central-1:222222222222:key/k1"
SPEC = ConfigBaselineSpec.model_validate({
    "organizationRef": {"name": "acme"}, "logArchiveRef": {"name": "central"},
    "rules": [{"name": "encrypted-volumes", "identifier": "ENCRYPTED_VOLUMES"},
              {"name": "keys-rotated", "identifier": "ACCESS_KEYS_ROTATED", "inputParameters": {"maxAccessKeyAge": "90"}}],
    "conformancePacks": [{"name": "operational-best-practices", "templateS3Uri": "s3://packs/obp.yaml"}]})
ORG = OrganizationTarget("333333333333", "123456789012", HOME, (HOME, OTHER), ("444444444444",), OWNER)


def target(region=HOME):
    return RecorderTarget("555555555555", region, HOME, "acme-log-archive", KEY)


def healthy(region=HOME, spec=SPEC):
    t = target(region)
    return AccountConfigState(
        recorder=RecorderState(exists=True, name="default", settings=desired_recorder(spec, t), recording=True),
        channel=ChannelState(exists=True, name="default", settings=desired_channel(spec, t)))


def ops(actions):
    return [a.operation for a in actions]


# --- recorder, channel, recording -------------------------------------------------------------


def test_nothing_there_creates_recorder_channel_and_starts_it_in_that_order():
    actions = plan_recorder(SPEC, target(), AccountConfigState(recorder=RecorderState(exists=False),
                                                               channel=ChannelState(exists=False)))
    assert ops(actions) == ["PutConfigurationRecorder", "PutDeliveryChannel", "StartConfigurationRecorder"]
    recorder = actions[0].params["ConfigurationRecorder"]
    assert recorder["name"] == "default"
    assert recorder["roleARN"] == ("arn:aws:iam::555555555555:role/aws-service-role/config.amazonaws.com/"
                                   "AWSServiceRoleForConfig")
    assert recorder["recordingGroup"] == {"allSupported": True, "includeGlobalResourceTypes": True,
                                          "recordingStrategy": {"useOnly": "ALL_SUPPORTED_RESOURCE_TYPES"}}
    assert recorder["recordingMode"] == {"recordingFrequency": "CONTINUOUS", "recordingModeOverrides": []}
    channel = actions[1].params["DeliveryChannel"]
    assert channel == {"name": "default", "s3BucketName": "acme-log-archive", "s3KeyPrefix": "config",
                       "s3KmsKeyArn": KEY, "configSnapshotDeliveryProperties": {"deliveryFrequency": "TwentyFour_Hours"}}
    assert all(a.creates for a in actions)


@pytest.mark.parametrize("region", [HOME, OTHER])
def test_healthy_account_region_needs_nothing(region):
    assert plan_recorder(SPEC, target(region), healthy(region)) == []


def with_recorder(**fields) -> ConfigBaselineSpec:
    return ConfigBaselineSpec.model_validate({**SPEC.model_dump(by_alias=True), "recorder": fields})


EXCLUDING_VOLUMES = {"allSupported": False, "recordingStrategy": "EXCLUSION_BY_RESOURCE_TYPES",
                     "exclusionByResourceTypes": ["AWS::EC2::Volume"]}


def put_recorder(spec, region=HOME, found=None) -> dict:
    [put] = [a for a in plan_recorder(spec, target(region), found or AccountConfigState(
        recorder=RecorderState(exists=False), channel=ChannelState(exists=False)))
        if a.operation == "PutConfigurationRecorder"]
    return put.params["ConfigurationRecorder"]


@pytest.mark.parametrize("setting, home, other", [
    ("HomeRegionOnly", True, False),
    ("AllRegions", True, True),
    ("None", False, False),
])
def test_global_resource_types_follow_the_setting(setting, home, other):
    spec = with_recorder(includeGlobalResourceTypes=setting)
    for region, records in ((HOME, home), (OTHER, other)):
        assert put_recorder(spec, region)["recordingGroup"]["includeGlobalResourceTypes"] is records
        assert desired_recorder(spec, target(region)).unrecorded_types == (() if records else GLOBAL_IAM_TYPES)
    # With exclusions Config's own flag must be off, and records the IAM types unless they are excluded.
    spec = with_recorder(**EXCLUDING_VOLUMES, includeGlobalResourceTypes=setting)
    for region, records in ((HOME, home), (OTHER, other)):
        group = put_recorder(spec, region)["recordingGroup"]
        assert group == {"allSupported": False, "includeGlobalResourceTypes": False,
                         "recordingStrategy": {"useOnly": "EXCLUSION_BY_RESOURCE_TYPES"},
                         "exclusionByResourceTypes": {"resourceTypes": sorted(
                             ["AWS::EC2::Volume", *(() if records else GLOBAL_IAM_TYPES)])}}


@pytest.mark.parametrize("recorder", [
    {}, EXCLUDING_VOLUMES, {"includeGlobalResourceTypes": "None"},
    {"recordingMode": {"recordingFrequency": "DAILY", "recordingModeOverrides": [
        {"description": "changes to roles at once", "resourceTypes": ["AWS::IAM::Role", "AWS::IAM::Policy"],
         "recordingFrequency": "CONTINUOUS"}]}},
], ids=["default", "exclusions", "no global types", "daily"])
@pytest.mark.parametrize("region", [HOME, OTHER])
def test_a_recorder_as_the_spec_says_needs_nothing(recorder, region):
    spec = with_recorder(**recorder)
    assert plan_recorder(spec, target(region), healthy(region, spec)) == []


def test_a_recorder_from_before_recording_modes_records_continuously():
    found = healthy()
    found = found.model_copy(update={"recorder": found.recorder.model_copy(update={
        "settings": found.recorder.settings.model_copy(update={"recording_mode": recording_mode(None)})})})
    assert plan_recorder(SPEC, target(), found) == []


@pytest.mark.parametrize("before, after, changed, allowances", [
    ({}, EXCLUDING_VOLUMES, ["recorder.all_supported", "recorder.recording_strategy", "recorder.unrecorded_types"],
     ["spec.recorder.allSupported=false", "spec.recorder.exclusionByResourceTypes=+AWS::EC2::Volume"]),
    (EXCLUDING_VOLUMES, {**EXCLUDING_VOLUMES, "exclusionByResourceTypes": ["AWS::EC2::Volume", "AWS::S3::Bucket"]},
     ["recorder.unrecorded_types"], ["spec.recorder.exclusionByResourceTypes=+AWS::S3::Bucket"]),
    (EXCLUDING_VOLUMES, {**EXCLUDING_VOLUMES, "includeGlobalResourceTypes": "None"},
     ["recorder.unrecorded_types"], ["spec.recorder.includeGlobalResourceTypes=None"]),
    (EXCLUDING_VOLUMES, {}, ["recorder.all_supported", "recorder.recording_strategy", "recorder.unrecorded_types"],
     []),
    ({}, {"recordingMode": {"recordingFrequency": "DAILY"}}, ["recorder.recording_mode"],
     ["spec.recorder.recordingMode.recordingFrequency=DAILY"]),
    ({}, {"recordingMode": {"recordingModeOverrides": [{"resourceTypes": ["AWS::EC2::Instance"],
                                                        "recordingFrequency": "DAILY"}]}},
     ["recorder.recording_mode"], ["spec.recorder.recordingMode.recordingModeOverrides=+AWS::EC2::Instance"]),
], ids=["exclusions", "one more", "global types off", "exclusions lifted", "daily", "daily override"])
def test_recording_changes_are_one_put_named_by_the_spec_field_that_asks(before, after, changed, allowances):
    """At the home region; the weakening ones (planning.weakening) name the spec fields admission names."""
    old, new = with_recorder(**before), with_recorder(**after)
    [put] = [a for a in plan_recorder(new, target(), healthy(HOME, old)) if a.operation == "PutConfigurationRecorder"]
    assert sorted(c.path for c in put.changes) == changed
    assert sorted(w.allowance for w in classify(put)) == allowances


def test_switching_to_exclusions_elsewhere_does_not_count_the_global_types_as_lost():
    """Outside the home region the IAM types were not recorded (HomeRegionOnly): excluding them
    now loses nothing, only the spec's own exclusion does."""
    [put] = [a for a in plan_recorder(with_recorder(**EXCLUDING_VOLUMES), target(OTHER), healthy(OTHER))
             if a.operation == "PutConfigurationRecorder"]
    assert sorted(w.allowance for w in classify(put)) == [
        "spec.recorder.allSupported=false", "spec.recorder.exclusionByResourceTypes=+AWS::EC2::Volume"]


def test_from_a_recorder_of_chosen_types_nothing_is_lost():
    found = healthy()
    found = found.model_copy(update={"recorder": found.recorder.model_copy(update={
        "settings": found.recorder.settings.model_copy(update={
            "all_supported": False, "recording_strategy": "INCLUSION_BY_RESOURCE_TYPES", "unrecorded_types": ("*",)})})})
    [put] = [a for a in plan_recorder(with_recorder(**EXCLUDING_VOLUMES), target(), found)
             if a.operation == "PutConfigurationRecorder"]
    assert classify(put) == [], "every type but the volumes: more than it recorded"


def test_existing_recorder_and_channel_are_adopted_under_their_own_names():
    found = healthy()
    found = AccountConfigState(
        recorder=found.recorder.model_copy(update={"name": "corp-recorder", "settings": found.recorder.settings.model_copy(
            update={"include_global_resource_types": False, "unrecorded_types": GLOBAL_IAM_TYPES})}),
        channel=found.channel.model_copy(update={"name": "corp-channel", "sns_topic_arn": "arn:aws:sns:x:1:t",
                                                 "settings": found.channel.settings.model_copy(
                                                     update={"delivery_frequency": "One_Hour"})}))
    actions = plan_recorder(SPEC, target(), found)
    assert ops(actions) == ["PutConfigurationRecorder", "PutDeliveryChannel"]
    assert actions[0].params["ConfigurationRecorder"]["name"] == "corp-recorder"
    channel = actions[1].params["DeliveryChannel"]
    assert channel["name"] == "corp-channel" and channel["snsTopicARN"] == "arn:aws:sns:x:1:t", "not ours: kept"
    assert not any(a.creates for a in actions), "correcting an adopted resource is drift"
    assert [str(c) for c in actions[1].changes] == ["delivery_channel.delivery_frequency: 'One_Hour' -> 'TwentyFour_Hours'"]


@pytest.mark.parametrize("field, value, path", [
    ("s3_bucket_name", "someone-elses-bucket", "delivery_channel.s3_bucket_name"),
    ("s3_key_prefix", None, "delivery_channel.s3_key_prefix"),
    ("s3_kms_key_arn", None, "delivery_channel.s3_kms_key_arn"),
])
def test_drifted_channel_is_put_whole(field, value, path):
    found = healthy()
    found = found.model_copy(update={"channel": found.channel.model_copy(
        update={"settings": found.channel.settings.model_copy(update={field: value})})})
    actions = plan_recorder(SPEC, target(), found)
    assert ops(actions) == ["PutDeliveryChannel"]
    assert actions[0].changes[0].path == path
    assert actions[0].params["DeliveryChannel"]["s3BucketName"] == "acme-log-archive"


def test_stopped_recorder_is_started_and_that_is_drift():
    found = healthy()
    found = found.model_copy(update={"recorder": found.recorder.model_copy(update={"recording": False})})
    actions = plan_recorder(SPEC, target(), found)
    assert ops(actions) == ["StartConfigurationRecorder"]
    assert actions[0].params == {"ConfigurationRecorderName": "default"} and not actions[0].creates


def test_recorder_with_another_role_moves_to_the_service_linked_role():
    found = healthy()
    found = found.model_copy(update={"recorder": found.recorder.model_copy(update={
        "settings": found.recorder.settings.model_copy(update={"role_arn": "arn:aws:iam::5:role/legacy"})})})
    assert needs_service_linked_role(SPEC, target(), found)
    assert not needs_service_linked_role(SPEC, target(), healthy())
    assert ops(plan_recorder(SPEC, target(), found)) == ["PutConfigurationRecorder"]


@pytest.mark.parametrize("exists, expected", [(True, []), (False, ["CreateServiceLinkedRole"])])
def test_service_linked_role_is_created_when_missing(exists, expected):
    actions = plan_service_linked_role(target(), exists)
    assert ops(actions) == expected
    if actions:
        assert actions[0].params == {"AWSServiceName": "config.amazonaws.com"} and actions[0].region == "global"


# --- the organization --------------------------------------------------------------------------


@pytest.mark.parametrize("trusted, delegated, expected", [
    (set(), set(), ["EnableAWSServiceAccess", "EnableAWSServiceAccess", "RegisterDelegatedAdministrator",
                    "RegisterDelegatedAdministrator"]),
    ({CONFIG_PRINCIPAL, MULTI_ACCOUNT_SETUP_PRINCIPAL}, {CONFIG_PRINCIPAL}, ["RegisterDelegatedAdministrator"]),
    ({CONFIG_PRINCIPAL, MULTI_ACCOUNT_SETUP_PRINCIPAL, "cloudtrail.amazonaws.com"},
     {CONFIG_PRINCIPAL, MULTI_ACCOUNT_SETUP_PRINCIPAL}, []),
])
def test_delegation_from_the_management_account(trusted, delegated, expected):
    actions = plan_delegation(ORG, DelegationState(trusted_services=frozenset(trusted),
                                                   delegated_services=frozenset(delegated)))
    assert ops(actions) == expected
    assert all(a.account_id == "123456789012" for a in actions)
    registered = [a.params for a in actions if a.operation == "RegisterDelegatedAdministrator"]
    assert all(p["AccountId"] == "333333333333" for p in registered)


def test_security_account_that_is_the_management_account_is_not_delegated_to_itself():
    org = OrganizationTarget("123456789012", "123456789012", HOME, (HOME,), (), OWNER)
    actions = plan_delegation(org, DelegationState(trusted_services=frozenset({CONFIG_PRINCIPAL,
                                                                                MULTI_ACCOUNT_SETUP_PRINCIPAL})))
    assert actions == []


def test_aggregator_role_created_trusting_config_with_the_managed_policy():
    actions = plan_aggregator_role(ORG, ServiceRoleState(exists=False))
    assert ops(actions) == ["CreateRole", "AttachRolePolicy"]
    assert json.loads(actions[0].params["AssumeRolePolicyDocument"])["Statement"][0]["Principal"] == {
        "Service": "config.amazonaws.com"}
    assert actions[1].params == {"RoleName": AGGREGATOR_ROLE_NAME, "PolicyArn": AGGREGATOR_POLICY_ARN}
    healthy_role = ServiceRoleState(exists=True, arn=ORG.aggregator_role_arn,
                                    trust_policy=policies.canonical(policies.service_trust_policy(CONFIG_PRINCIPAL)),
                                    attached_policy_arns=(AGGREGATOR_POLICY_ARN,))
    assert plan_aggregator_role(ORG, healthy_role) == []
    detached = healthy_role.model_copy(update={"attached_policy_arns": ()})
    assert ops(plan_aggregator_role(ORG, detached)) == ["AttachRolePolicy"]


@pytest.mark.parametrize("observed, expected_changes", [
    (AggregatorState(exists=False), ["aggregator"]),
    (AggregatorState(exists=True, organization_source=None), ["aggregator.organization_source"]),
    (AggregatorState(exists=True, organization_source=AggregatorSource(role_arn=ORG.aggregator_role_arn,
                                                                       all_aws_regions=False)),
     ["aggregator.organization_source.all_aws_regions"]),
    (AggregatorState(exists=True, organization_source=AggregatorSource(role_arn=ORG.aggregator_role_arn,
                                                                       all_aws_regions=True)), []),
])
def test_aggregator_spans_the_organization_in_all_regions(observed, expected_changes):
    actions = plan_aggregator(SPEC, ORG, observed, ORG.aggregator_role_arn)
    assert [c.path for a in actions for c in a.changes] == expected_changes
    for action in actions:
        assert action.params["OrganizationAggregationSource"] == {"RoleArn": ORG.aggregator_role_arn,
                                                                  "AllAwsRegions": True}
        assert action.account_id == "333333333333" and action.region == HOME
        assert ("Tags" in action.params) is action.creates


def _rule(name, identifier, params=None, excluded=ORG.excluded_accounts, managed=True):
    return OrganizationRuleState(name=name, managed=managed, settings=OrganizationRuleSettings(
        rule_identifier=identifier, input_parameters=params or {}, excluded_accounts=excluded))


IN_SYNC = {"encrypted-volumes": _rule("encrypted-volumes", "ENCRYPTED_VOLUMES"),
           "keys-rotated": _rule("keys-rotated", "ACCESS_KEYS_ROTATED", {"maxAccessKeyAge": "90"}),
           "someone-elses": _rule("someone-elses", "IAM_ROOT_ACCESS_KEY_CHECK")}


@pytest.mark.parametrize("observed, expected", [
    ({}, {"encrypted-volumes": "organization_rule", "keys-rotated": "organization_rule"}),
    (IN_SYNC, {}),
    ({**IN_SYNC, "keys-rotated": _rule("keys-rotated", "ACCESS_KEYS_ROTATED", {"maxAccessKeyAge": "30"})},
     {"keys-rotated": "organization_rule.input_parameters"}),
    ({**IN_SYNC, "encrypted-volumes": _rule("encrypted-volumes", "ENCRYPTED_VOLUMES", excluded=())},
     {"encrypted-volumes": "organization_rule.excluded_accounts"}),
    ({**IN_SYNC, "encrypted-volumes": _rule("encrypted-volumes", None, managed=False)},
     {"encrypted-volumes": "organization_rule.type"}),
])
def test_organization_rules(observed, expected):
    actions = plan_rules(SPEC, ORG, OTHER, observed)
    assert {a.params["OrganizationConfigRuleName"]: a.changes[0].path for a in actions} == expected
    for action in actions:
        assert action.region == OTHER and action.params["ExcludedAccounts"] == ["444444444444"]
    keys = next((a for a in actions if a.params["OrganizationConfigRuleName"] == "keys-rotated"), None)
    if keys is not None:
        assert json.loads(keys.params["OrganizationManagedRuleMetadata"]["InputParameters"]) == {"maxAccessKeyAge": "90"}


def test_rule_parameters_compare_as_data():
    assert rule_parameters('{ "b":"1",  "a": "2" }') == {"a": "2", "b": "1"}
    assert rule_parameters(None) == rule_parameters("") == {}


@pytest.mark.parametrize("observed, expected", [
    ({}, ["conformance_pack"]),
    ({"operational-best-practices": ConformancePackState(name="operational-best-practices",
                                                         excluded_accounts=("444444444444",))}, []),
    ({"operational-best-practices": ConformancePackState(name="operational-best-practices")},
     ["conformance_pack.excluded_accounts"]),
])
def test_conformance_packs(observed, expected):
    actions = plan_conformance_packs(SPEC, ORG, HOME, observed)
    assert [c.path for a in actions for c in a.changes] == expected
    for action in actions:
        assert action.params["TemplateS3Uri"] == "s3://packs/obp.yaml"


@pytest.mark.parametrize("spec, message", [
    ({"scope": "Accounts"}, "accountIds is required"),
    ({"scope": "AllAccounts", "accountIds": ["555555555555"]}, "accountIds is required"),
    ({"recorder": {"allSupported": False}}, "allSupported: false"),
    ({"rules": [{"name": "a", "identifier": "X"}, {"name": "a", "identifier": "Y"}]}, "names must be unique"),
])
def test_inconsistent_specs_are_refused(spec, message):
    with pytest.raises(ValueError, match=message):
        ConfigBaselineSpec.model_validate({"organizationRef": {"name": "acme"}, "logArchiveRef": {"name": "c"}, **spec})
