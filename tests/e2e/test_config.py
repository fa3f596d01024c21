"""ConfigBaseline end to end, the real operator on the sandbox, scoped to two accounts so it stays
quick: recorders, delivery channels and recording in every account x region; the organization
aggregator, rules and conformance pack from the delegated security account; compliance in status;
exclusions and a daily recording override, held as weakening until allowed, then recorded;
drift (a stopped recorder, a moved delivery channel, a deleted organization rule) undone within one
resync; Audit reporting drift with no write; a steady resync writing nothing; an invalid spec refused."""

from __future__ import annotations

import json
import time

import pytest

from vigil_sandbox.stack import Stack, condition, is_ready_and_compliant, reconciled

pytestmark = pytest.mark.e2e

HOME, OTHER = "ca-central-1", "us-east-1"
REGIONS = (HOME, OTHER)
LOG_ARCHIVE, SECURITY, WORKLOAD = "222222222222", "333333333333", "555555555555"
SCOPE = [LOG_ARCHIVE, WORKLOAD]
PACK = {"name": "operational-best-practices", "templateS3Uri": "s3://acme-config-packs/obp.yaml"}
RESYNC_SECONDS = 3


def reason(obj: dict, type_: str = "Ready") -> str:
    return condition(obj, type_).get("reason", "")


@pytest.fixture(scope="module")
def baseline(stack: Stack, manifest) -> dict:
    stack.apply(manifest("Organization", "baseline"))
    stack.apply(manifest("LogArchive", "baseline"))
    stack.apply(manifest("ConfigBaseline", "baseline", scope="Accounts", accountIds=SCOPE, conformancePacks=[PACK]))
    return stack.wait("ConfigBaseline", "baseline", "config", is_ready_and_compliant, timeout=60,
                      what="Ready and Compliant")


def resynced(stack: Stack, times: int = 1) -> dict:
    """The object after ``times`` more reconciles have finished."""
    obj = stack.get("ConfigBaseline", "baseline", "config")
    for _ in range(times):
        last = obj["status"]["lastReconcileTime"]
        obj = stack.wait("ConfigBaseline", "baseline", "config", lambda o: o["status"]["lastReconcileTime"] != last,
                         timeout=RESYNC_SECONDS + 5, what="a resync")
    return obj


def recorder_of(stack: Stack, account: str, region: str) -> tuple[dict, bool, dict]:
    config = stack.aws("config", account, region)
    recorder = config.describe_configuration_recorders()["ConfigurationRecorders"][0]
    status = config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"][0]
    channel = config.describe_delivery_channels()["DeliveryChannels"][0]
    return recorder, status["recording"], channel


def test_every_account_region_records_and_delivers_to_the_archive(stack: Stack, baseline: dict):
    key = stack.get("LogArchive", "baseline", "central")["status"]["kmsKeyArn"]
    for account in SCOPE:
        for region in REGIONS:
            recorder, recording, channel = recorder_of(stack, account, region)
            assert recorder["roleARN"] == (f"arn:aws:iam::{account}:role/aws-service-role/config.amazonaws.com/"
                                           "AWSServiceRoleForConfig")
            assert recorder["recordingGroup"]["allSupported"]
            assert recorder["recordingGroup"]["includeGlobalResourceTypes"] is (region == HOME)
            assert recording, f"{account}/{region} not recording"
            assert (channel["s3BucketName"], channel["s3KeyPrefix"], channel["s3KmsKeyArn"]) == (
                "acme-log-archive", "config", key)
            assert channel["configSnapshotDeliveryProperties"]["deliveryFrequency"] == "TwentyFour_Hours"
    outside = stack.aws("config", "666666666666").describe_configuration_recorders()["ConfigurationRecorders"]
    assert outside == [], "an account outside the scope is left alone"
    assert baseline["status"]["targets"]["total"] == len(SCOPE) * len(REGIONS) + 1


def test_organization_pieces_live_in_the_delegated_security_account(stack: Stack, baseline: dict):
    delegated = stack.aws("organizations").list_delegated_services_for_account(AccountId=SECURITY)
    assert {s["ServicePrincipal"] for s in delegated["DelegatedServices"]} >= {
        "config.amazonaws.com", "config-multiaccountsetup.amazonaws.com"}
    config = stack.aws("config", SECURITY)
    aggregator = config.describe_configuration_aggregators(
        ConfigurationAggregatorNames=["vigil-org-aggregator"])["ConfigurationAggregators"][0]
    assert aggregator["OrganizationAggregationSource"] == {
        "RoleArn": f"arn:aws:iam::{SECURITY}:role/vigil-config-aggregator", "AllAwsRegions": True}
    attached = stack.aws("iam", SECURITY).list_attached_role_policies(RoleName="vigil-config-aggregator")
    assert [p["PolicyName"] for p in attached["AttachedPolicies"]] == ["AWSConfigRoleForOrganizations"]
    organization = stack.organization
    everyone = {organization["management"], organization["log_archive"], organization["security"],
                organization["shared_network"], *organization["workloads"]}
    outside = sorted(everyone - set(SCOPE))
    for region in REGIONS:
        regional = stack.aws("config", SECURITY, region)
        rules = {r["OrganizationConfigRuleName"]: r
                 for r in regional.describe_organization_config_rules()["OrganizationConfigRules"]}
        assert set(rules) == {"encrypted-volumes", "s3-bucket-versioning-enabled", "access-keys-rotated"}
        keys = rules["access-keys-rotated"]["OrganizationManagedRuleMetadata"]
        assert json.loads(keys["InputParameters"]) == {"maxAccessKeyAge": "90"}
        assert sorted(rules["encrypted-volumes"]["ExcludedAccounts"]) == outside
        packs = regional.describe_organization_conformance_packs()["OrganizationConformancePacks"]
        assert [p["OrganizationConformancePackName"] for p in packs] == [PACK["name"]]


def test_status_reports_the_aggregated_compliance(stack: Stack, baseline: dict):
    # Seeded: an unencrypted volume in each workload account's home region. Rules are counted per
    # account x region, as the aggregator counts them.
    compliance = stack.wait("ConfigBaseline", "baseline", "config",
                            lambda o: (o["status"].get("compliance") or {}).get("nonCompliantRules"), timeout=10,
                            what="compliance in status")["status"]["compliance"]
    rows = stack.aws("config", SECURITY).describe_aggregate_compliance_by_config_rules(
        ConfigurationAggregatorName="vigil-org-aggregator")["AggregateComplianceByConfigRules"]
    volumes = next(r for r in rows if r["ConfigRuleName"].startswith("OrgConfigRule-encrypted-volumes-")
                   and (r["AccountId"], r["AwsRegion"]) == (WORKLOAD, HOME))
    assert volumes["Compliance"] == {"ComplianceType": "NON_COMPLIANT",
                                     "ComplianceContributorCount": {"CappedCount": 1, "CapExceeded": False}}
    types = [r["Compliance"]["ComplianceType"] for r in rows]
    assert compliance == {
        "compliantRules": types.count("COMPLIANT"), "nonCompliantRules": types.count("NON_COMPLIANT"),
        "nonCompliantResources": sum(r["Compliance"].get("ComplianceContributorCount", {}).get("CappedCount", 0)
                                     for r in rows)}
    assert {r["AccountId"] for r in rows} == set(SCOPE), "rules run where the recorders are"


IAM_TYPES = ["AWS::IAM::Group", "AWS::IAM::Policy", "AWS::IAM::Role", "AWS::IAM::User"]
RECORDING = {"allSupported": False, "recordingStrategy": "EXCLUSION_BY_RESOURCE_TYPES",
             "exclusionByResourceTypes": ["AWS::EC2::Volume"],
             "recordingMode": {"recordingFrequency": "CONTINUOUS", "recordingModeOverrides": [
                 {"description": "instances once a day", "resourceTypes": ["AWS::EC2::Instance"],
                  "recordingFrequency": "DAILY"}]}}
RECORDING_ALLOWANCES = ("spec.recorder.allSupported=false", "spec.recorder.exclusionByResourceTypes=+AWS::EC2::Volume",
                        "spec.recorder.recordingMode.recordingModeOverrides=+AWS::EC2::Instance")


def test_exclusions_and_daily_recording_wait_for_their_allowance_then_record(stack: Stack, baseline: dict):
    """Every type but EBS volumes (and outside the home region the IAM types, as HomeRegionOnly
    says, which Config would record otherwise), EC2 instances once a day: each a weakening, held
    until allowed. Left so: the steady resync after it writes nothing."""
    stack.patch_spec("ConfigBaseline", "baseline", "config", {"recorder": RECORDING})
    held = stack.wait("ConfigBaseline", "baseline", "config", lambda o: reason(o) == "WeakeningHeld",
                      timeout=RESYNC_SECONDS + 5, what="WeakeningHeld")
    message = condition(held, "Ready")["message"]
    assert all(entry in message for entry in RECORDING_ALLOWANCES), message
    recorder, _, _ = recorder_of(stack, WORKLOAD, OTHER)
    assert recorder["recordingGroup"]["allSupported"], "nothing written while held"

    stack.annotate("ConfigBaseline", "baseline", "config",
                   {"vigil.dev/allow-weakening": ",".join(RECORDING_ALLOWANCES)})
    stack.wait("ConfigBaseline", "baseline", "config", is_ready_and_compliant, timeout=RESYNC_SECONDS + 5,
               what="allowed and applied")
    for account in SCOPE:
        for region in REGIONS:
            recorder, recording, _ = recorder_of(stack, account, region)
            assert recorder["recordingGroup"] == {
                "allSupported": False, "includeGlobalResourceTypes": False,
                "recordingStrategy": {"useOnly": "EXCLUSION_BY_RESOURCE_TYPES"},
                "exclusionByResourceTypes": {"resourceTypes": ["AWS::EC2::Volume", *(
                    [] if region == HOME else IAM_TYPES)]}}
            assert recorder["recordingMode"] == RECORDING["recordingMode"]
            assert recording


def test_steady_state_resync_writes_nothing(stack: Stack, baseline: dict):
    calls = stack.calls()
    calls.reset()
    resynced(stack, times=2)  # the second one entirely after the reset
    recorded = calls.calls()
    assert [c for c in recorded if c.write] == []
    config_reads = [c for c in recorded if c.service == "config"]
    assert config_reads and not [c for c in config_reads if c.status >= 400]


def test_drift_is_corrected_within_one_resync(stack: Stack, baseline: dict):
    before = stack.get("ConfigBaseline", "baseline", "config")["status"]["driftCorrections"]
    stack.aws("config", WORKLOAD, OTHER).stop_configuration_recorder(ConfigurationRecorderName="default")
    elsewhere = stack.aws("s3", LOG_ARCHIVE)
    elsewhere.create_bucket(Bucket="acme-config-elsewhere", CreateBucketConfiguration={"LocationConstraint": HOME})
    elsewhere.put_bucket_policy(Bucket="acme-config-elsewhere", Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "config.amazonaws.com"},
         "Action": ["s3:GetBucketAcl", "s3:PutObject"], "Resource": ["arn:aws:s3:::acme-config-elsewhere",
                                                                     "arn:aws:s3:::acme-config-elsewhere/*"]}]}))
    stack.aws("config", LOG_ARCHIVE, HOME).put_delivery_channel(DeliveryChannel={
        "name": "default", "s3BucketName": "acme-config-elsewhere"})
    stack.aws("config", SECURITY, OTHER).delete_organization_config_rule(OrganizationConfigRuleName="encrypted-volumes")

    stopped, moved, admin = (stack.aws("config", WORKLOAD, OTHER), stack.aws("config", LOG_ARCHIVE, HOME),
                             stack.aws("config", SECURITY, OTHER))
    deadline = time.monotonic() + 2 * RESYNC_SECONDS + 4
    while time.monotonic() < deadline:
        recording = stopped.describe_configuration_recorder_status()["ConfigurationRecordersStatus"][0]["recording"]
        bucket = moved.describe_delivery_channels()["DeliveryChannels"][0]["s3BucketName"]
        rules = {r["OrganizationConfigRuleName"] for r in admin.describe_organization_config_rules()[
            "OrganizationConfigRules"]}
        fixed = (recording, bucket, "encrypted-volumes" in rules)
        if fixed == (True, "acme-log-archive", True):
            break
        time.sleep(0.25)
    assert fixed == (True, "acme-log-archive", True), "not corrected within one resync"
    # The restart and the channel count; the rule put back is a creation, which never counts. AWS is
    # right already; the status of that same reconcile lands a moment later.
    obj = stack.wait("ConfigBaseline", "baseline", "config",
                     lambda o: is_ready_and_compliant(o) and o["status"]["driftCorrections"] >= before + 2,
                     timeout=10, what="Compliant with the corrections counted")
    stack.wait_events("baseline", "config", lambda e: e["reason"] == "DriftCorrected", what="DriftCorrected")


def test_audit_reports_drift_and_never_writes(stack: Stack, baseline: dict):
    audited = stack.patch_spec("ConfigBaseline", "baseline", "config", {"managementPolicy": "Audit"})
    stack.wait("ConfigBaseline", "baseline", "config",
               lambda o: reconciled(o) and o["metadata"]["generation"] == audited["metadata"]["generation"], timeout=10,
               what="Audit observed")
    stack.aws("config", LOG_ARCHIVE, OTHER).stop_configuration_recorder(ConfigurationRecorderName="default")
    calls = stack.calls()
    calls.reset()
    drifted = stack.wait("ConfigBaseline", "baseline", "config", lambda o: reason(o, "Compliant") == "Drifted",
                         timeout=10, what="Compliant=False Drifted")
    assert condition(drifted, "Ready")["status"] == "True"
    failure = next(f for f in drifted["status"]["failures"] if f["target"] == f"{LOG_ARCHIVE}/{OTHER}/config-recorder")
    assert failure["reason"] == "Drifted" and "recording" in failure["message"]
    resynced(stack)  # another resync: still read-only
    assert [c for c in calls.calls() if c.write] == []
    _, recording, _ = recorder_of(stack, LOG_ARCHIVE, OTHER)
    assert not recording

    stack.patch_spec("ConfigBaseline", "baseline", "config", {"managementPolicy": "Enforce"})
    stack.wait("ConfigBaseline", "baseline", "config", is_ready_and_compliant, timeout=10, what="Enforce again")


def test_invalid_spec_is_refused_before_any_aws_call(stack: Stack, manifest):
    invalid = manifest("ConfigBaseline", "baseline", scope="Accounts")  # and no accountIds
    invalid["metadata"]["name"] = "config-invalid"
    message = stack.refusal(invalid)  # the CRD's CEL rule: the operator never sees it
    assert "spec.accountIds" in message and "accountIds is required" in message
    assert not stack.exists("ConfigBaseline", "baseline", "config-invalid")
