"""LogSubscriptionPolicy end to end: the real operator streams every workload log group to the log
archive (a Firehose per region, KMS-encrypted with the archive key, behind a CloudWatch Logs
destination that admits the organization); a steady-state resync reads and never writes; a new log
group is covered within one resync; a Vigil filter deleted out of band and a Firehose stripped of
its key are put back; a group whose two filter slots are someone else's is SubscriptionSlotsFull
and left as it is; Audit reports drift and writes nothing; invalid specs are refused; a new policy
subscribes each account by its account-level policy where the account allows it and group by group
where another's policy holds the slot (status.methods); delivery through a Kinesis data stream,
encrypted before anything writes to it, its encryption put back; deletionPolicy Delete removes what
Vigil created and keeps the logs.

The module's first policy is an object made while LogGroup was the default (method: LogGroup)."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import Any

import pytest

from vigil_sandbox.seed import FULL_SLOTS_FILTERS, FULL_SLOTS_LOG_GROUP, LOG_GROUPS
from vigil_sandbox.stack import wait_until as stack_wait_until
from vigil_sandbox.stack import Stack, condition, is_ready_and_compliant

pytestmark = pytest.mark.e2e
NS = "baseline"
NAME = "workload-logs"
VIGIL = f"vigil-{NS}-{NAME}"  # the filter, stream and destination names
ARCHIVE = "222222222222"
SHARED_NETWORK = "444444444444"
WORKLOADS = ("555555555555", "666666666666", "777777777777")
REGIONS = ("ca-central-1", "us-east-1")
HOME = REGIONS[0]
RESYNC_SECONDS = 3  # conftest.RESYNC
ONE_RESYNC = RESYNC_SECONDS + 5  # a resync, a timer tick and the reconcile itself
ARCHIVE_TARGETS = 2 + 2 * len(REGIONS)  # two roles; a stream and a destination per region
GROUPS = len(WORKLOADS) * len(REGIONS) * len(LOG_GROUPS)


_clients: dict[tuple[int, str, str | None, str], Any] = {}


def aws(stack: Stack, service: str, account: str | None = None, region: str = HOME) -> Any:
    """stack.aws, kept: a client per service x account x region saves a role assumption per look."""
    key = (id(stack), service, account, region)
    if key not in _clients:
        _clients[key] = stack.aws(service, account, region)
    return _clients[key]


def destination_arn(region: str, name: str = VIGIL) -> str:
    return f"arn:aws:logs:{region}:{ARCHIVE}:destination:{name}"


def filters(stack: Stack, account: str, group: str, region: str = HOME) -> list[dict[str, Any]]:
    return aws(stack, "logs", account, region).describe_subscription_filters(logGroupName=group)["subscriptionFilters"]


def ours(stack: Stack, account: str, group: str, region: str = HOME, name: str = VIGIL) -> dict[str, Any] | None:
    return next((f for f in filters(stack, account, group, region) if f["filterName"] == name), None)


def stream(stack: Stack, region: str = HOME) -> dict[str, Any]:
    described = aws(stack, "firehose", ARCHIVE, region).describe_delivery_stream(DeliveryStreamName=VIGIL)
    return described["DeliveryStreamDescription"]


def wait_until(what: str, check, timeout: float = ONE_RESYNC) -> None:
    stack_wait_until(what, check, timeout)


def policy(stack: Stack, namespace: str = NS, name: str = NAME) -> dict[str, Any]:
    return stack.get("LogSubscriptionPolicy", namespace, name)


@pytest.fixture(scope="module")
def baseline(stack: Stack, manifest) -> Stack:
    for kind in ("Organization", "LogArchive"):
        stack.apply(manifest(kind, NS))
    stack.apply(manifest("LogSubscriptionPolicy", NS, method="LogGroup"))
    for kind, name in (("Organization", "acme"), ("LogArchive", "central"), ("LogSubscriptionPolicy", NAME)):
        stack.wait(kind, NS, name, is_ready_and_compliant, timeout=60, what="Ready and Compliant")
    return stack


def test_every_workload_log_group_streams_to_the_archive(baseline: Stack):
    status = policy(baseline)["status"]
    total = ARCHIVE_TARGETS + GROUPS
    assert status["targets"] == {"total": total, "compliant": total, "failed": 0, "summary": f"{total}/{total}"}
    for account in WORKLOADS:
        for region in REGIONS:
            for group in LOG_GROUPS:
                found = ours(baseline, account, group, region)
                assert found and found["destinationArn"] == destination_arn(region), (account, region, group)
    assert ours(baseline, SHARED_NETWORK, "/app/web") is None, "outside the Workloads scope"
    key = baseline.get("LogArchive", NS, "central")["status"]["kmsKeyArn"]
    for region in REGIONS:
        s3 = stream(baseline, region)["Destinations"][0]["ExtendedS3DestinationDescription"]
        assert s3["BucketARN"] == "arn:aws:s3:::acme-log-archive" and s3["Prefix"] == f"cloudwatch-logs/{region}/"
        assert s3["EncryptionConfiguration"] == {"KMSEncryptionConfig": {"AWSKMSKeyARN": key}}
        assert s3["BufferingHints"]["IntervalInSeconds"] == 300
        [destination] = aws(baseline, "logs", ARCHIVE, region).describe_destinations(
            DestinationNamePrefix=VIGIL)["destinations"]
        statement = json.loads(destination["accessPolicy"])["Statement"][0]
        assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-vigilsandbox"}}
        assert destination["targetArn"] == stream(baseline, region)["DeliveryStreamARN"]


def last_reconcile(stack: Stack) -> str:
    return policy(stack)["status"]["lastReconcileTime"]


def test_steady_state_resync_reads_and_writes_nothing(baseline: Stack):
    """The calls between two status updates are exactly one resync's."""
    calls = baseline.calls()
    calls.reset()
    before = last_reconcile(baseline)
    wait_until("a resync", lambda: last_reconcile(baseline) != before)
    started, mark = last_reconcile(baseline), len(calls.calls())
    wait_until("the next resync", lambda: last_reconcile(baseline) != started)
    assert [c for c in calls.calls() if c.write] == []
    one = Counter(c.operation for c in calls.calls()[mark:] if c.service in ("logs", "firehose", "iam"))
    assert one == {
        "GetRole": 2, "GetRolePolicy": 2,  # the two roles
        "DescribeDeliveryStream": 2, "DescribeDestinations": 2,  # per region
        "DescribeLogGroups": 2 + len(WORKLOADS) * len(REGIONS),  # the stream's error log; each account x region
        "DescribeSubscriptionFilters": GROUPS,  # one per log group
    }, one


def test_a_new_log_group_is_covered_within_one_resync(baseline: Stack):
    account = WORKLOADS[0]
    aws(baseline, "logs", account).create_log_group(logGroupName="/app/new-service")
    wait_until("the new group subscribed", lambda: ours(baseline, account, "/app/new-service") is not None)
    total = ARCHIVE_TARGETS + GROUPS + 1
    baseline.wait("LogSubscriptionPolicy", NS, NAME, lambda o: is_ready_and_compliant(o)
                  and o["status"]["targets"]["total"] == total, timeout=ONE_RESYNC, what=f"{total} targets")


def test_a_filter_deleted_out_of_band_is_recreated(baseline: Stack):
    account, group = WORKLOADS[1], "/app/worker"
    corrections = policy(baseline)["status"]["driftCorrections"]
    aws(baseline, "logs", account).delete_subscription_filter(logGroupName=group, filterName=VIGIL)
    wait_until("the filter recreated", lambda: ours(baseline, account, group) is not None)
    # The filter is back in AWS a moment before the status that counts it.
    status = baseline.wait("LogSubscriptionPolicy", NS, NAME, lambda o: is_ready_and_compliant(o)
                           and o["status"]["driftCorrections"] > corrections, timeout=ONE_RESYNC,
                           what="Compliant again, the correction counted")["status"]
    assert status["driftCorrections"] == corrections + 1
    baseline.wait_events(NS, NAME, lambda e: e["reason"] == "DriftCorrected" and group in e["message"],
                         what="DriftCorrected")


def test_a_firehose_stripped_of_its_key_is_encrypted_again(baseline: Stack):
    region = REGIONS[1]
    described = stream(baseline, region)
    aws(baseline, "firehose", ARCHIVE, region).update_destination(
        DeliveryStreamName=VIGIL, CurrentDeliveryStreamVersionId=described["VersionId"],
        DestinationId=described["Destinations"][0]["DestinationId"],
        ExtendedS3DestinationUpdate={"EncryptionConfiguration": {"NoEncryptionConfig": "NoEncryption"}})

    def encrypted() -> bool:
        s3 = stream(baseline, region)["Destinations"][0]["ExtendedS3DestinationDescription"]
        return "KMSEncryptionConfig" in s3["EncryptionConfiguration"]

    wait_until("the archive key back on the stream", encrypted)
    baseline.wait("LogSubscriptionPolicy", NS, NAME, is_ready_and_compliant, timeout=ONE_RESYNC, what="Compliant")
    baseline.wait_events(NS, NAME, lambda e: e["reason"] == "DriftCorrected" and "kms_key_arn" in e["message"],
                         what="DriftCorrected")


def test_audit_reports_drift_and_never_writes(baseline: Stack, manifest):
    calls = baseline.calls()
    calls.reset()
    baseline.apply(manifest("Organization", "audit"))
    baseline.apply(manifest("LogArchive", "audit", managementPolicy="Audit"))
    baseline.apply(manifest("LogSubscriptionPolicy", "audit", managementPolicy="Audit", regions=[HOME],
                            method="LogGroup"))
    audited = baseline.wait("LogSubscriptionPolicy", "audit", NAME,
                            lambda o: condition(o, "Compliant").get("reason") == "Drifted", timeout=30,
                            what="Compliant=False Drifted")
    assert condition(audited, "Ready")["status"] == "True"
    status = audited["status"]
    groups = len(WORKLOADS) * len(LOG_GROUPS) + 1  # the home region's, and the one the test above made
    assert status["targets"]["total"] == 2 + 2 + groups and status["targets"]["compliant"] == 0
    drifted = {f["target"]: f["message"] for f in status["failures"] if f["reason"] == "Drifted"}
    assert f"{ARCHIVE}/{HOME}/destination/vigil-audit-{NAME}" in drifted
    assert f"{WORKLOADS[0]}/{HOME}/log-group:/app/web" in drifted
    web = drifted[f"{WORKLOADS[0]}/{HOME}/log-group:/app/web"]
    assert "subscription_filter: None -> 'vigil-audit-workload-logs to" in web
    time.sleep(RESYNC_SECONDS + 1)  # another resync: still read-only
    assert [c for c in calls.calls() if c.write] == []
    assert policy(baseline, "audit")["status"]["driftCorrections"] == 0


@pytest.mark.parametrize("name, spec, says", [
    ("elsewhere", {"regions": ["eu-west-1"]}, "spec.regions: eu-west-1"),
])
def test_invalid_spec_is_refused(baseline: Stack, manifest, name, spec, says):
    bad = manifest("LogSubscriptionPolicy", "audit", **spec)
    bad["metadata"]["name"] = name
    baseline.apply(bad)
    refused = baseline.wait("LogSubscriptionPolicy", "audit", name, lambda o: condition(o, "Ready").get("reason")
                            == "InvalidSpec", timeout=20, what="InvalidSpec")
    assert says in condition(refused, "Ready")["message"]


@pytest.mark.parametrize("spec, field", [
    ({"delivery": {"bufferIntervalSeconds": 901}}, "spec.delivery.bufferIntervalSeconds"),
    ({"scope": "Accounts"}, "spec.scope"),  # the kind has no accountIds to go with it
])
def test_the_api_refuses_what_the_schema_forbids(baseline: Stack, manifest, spec, field):
    with pytest.raises(Exception) as refused:
        baseline.apply(manifest("LogSubscriptionPolicy", "lifecycle", **spec))
    assert getattr(refused.value, "status", None) == 422 and field in str(refused.value)


def test_a_group_with_both_slots_taken_is_reported_and_left_alone(baseline: Stack, manifest):
    network = manifest("LogSubscriptionPolicy", NS, scope="SharedNetwork", regions=[HOME], method="LogGroup")
    network["metadata"]["name"] = "network-logs"
    baseline.apply(network)
    reported = baseline.wait("LogSubscriptionPolicy", NS, "network-logs",
                             lambda o: condition(o, "Compliant").get("reason") == "SubscriptionSlotsFull",
                             timeout=30, what="Compliant=False SubscriptionSlotsFull")
    status = reported["status"]
    target = f"{SHARED_NETWORK}/{HOME}/log-group:{FULL_SLOTS_LOG_GROUP}"
    assert status["failures"][0]["target"] == target and status["failures"][0]["reason"] == "SubscriptionSlotsFull"
    assert all(name in status["failures"][0]["message"] for name in FULL_SLOTS_FILTERS)
    assert target in condition(reported, "Compliant")["message"]
    assert status["targets"]["total"] == 2 + 2 + len(LOG_GROUPS) + 1 and status["targets"]["failed"] == 1
    assert [f["filterName"] for f in filters(baseline, SHARED_NETWORK, FULL_SLOTS_LOG_GROUP)] == list(
        FULL_SLOTS_FILTERS), "the network team's filters stay as they were"
    assert ours(baseline, SHARED_NETWORK, "/app/web", name="vigil-baseline-network-logs"), "its other groups: covered"
    baseline.delete("LogSubscriptionPolicy", NS, "network-logs")
    wait_until("network-logs gone", lambda: not baseline.exists("LogSubscriptionPolicy", NS, "network-logs"), 30)


def account_policies(stack: Stack, account: str, region: str = HOME) -> dict[str, dict[str, Any]]:
    found = aws(stack, "logs", account, region).describe_account_policies(
        policyType="SUBSCRIPTION_FILTER_POLICY")["accountPolicies"]
    return {p["policyName"]: p for p in found}


def test_a_new_policy_uses_the_account_policy_where_the_account_allows_it(baseline: Stack, manifest):
    """The default for a new object: each account's one subscription filter policy slot, where it is
    free; where another's policy holds it (a SIEM's), that policy stays and each group gets a filter."""
    name, theirs = "account-logs", WORKLOADS[2]
    vigil = f"vigil-{NS}-{name}"
    aws(baseline, "logs", theirs).put_account_policy(
        policyName="siem-all", policyType="SUBSCRIPTION_FILTER_POLICY", scope="ALL",
        policyDocument=json.dumps({"DestinationArn": destination_arn(HOME), "FilterPattern": ""}))
    policy_doc = manifest("LogSubscriptionPolicy", NS, regions=[HOME])
    policy_doc["metadata"]["name"] = name
    del policy_doc["spec"]["method"]  # the API server's default
    baseline.apply(policy_doc)
    done = baseline.wait("LogSubscriptionPolicy", NS, name, lambda o: is_ready_and_compliant(o)
                         and (o["status"].get("methods") or {}).get("accountPolicy") == 2, timeout=60,
                         what="Ready and Compliant, two accounts by policy")
    assert done["spec"]["method"] == "PreferAccountPolicy", "written into the object at its creation"
    methods = done["status"]["methods"]
    assert methods["logGroup"] == 1
    [fallback] = methods["fallbacks"]
    assert fallback["target"] == f"{theirs}/{HOME}" and fallback["reason"] == "AccountPolicyTaken"
    assert "siem-all" in fallback["message"]
    for account in WORKLOADS[:2]:
        document = json.loads(account_policies(baseline, account)[vigil]["policyDocument"])
        assert document["DestinationArn"] == destination_arn(HOME, vigil)
        assert ours(baseline, account, "/app/web", name=vigil) is None, "no filter where the policy covers"
    assert list(account_policies(baseline, theirs)) == ["siem-all"], "another's policy is never replaced"
    for group in LOG_GROUPS:
        assert ours(baseline, theirs, group, name=vigil), (theirs, group)
    total = 2 + 2 + 2 + len(LOG_GROUPS)  # roles; stream, destination; two policies; a filter per group
    assert done["status"]["targets"]["total"] == total
    baseline.delete("LogSubscriptionPolicy", NS, name)
    wait_until(f"{name} gone", lambda: not baseline.exists("LogSubscriptionPolicy", NS, name), 30)


def test_delivery_through_a_kinesis_data_stream(baseline: Stack, manifest):
    """CloudWatch Logs -> Kinesis Data Streams -> Firehose -> S3: the data stream encrypted before
    the destination writes to it, its encryption put back when stopped; Delete removes it."""
    name = "kinesis-logs"
    vigil = f"vigil-{NS}-{name}"
    kds = manifest("LogSubscriptionPolicy", NS, scope="SharedNetwork", regions=[HOME],
                   delivery={"type": "Kinesis"}, deletionPolicy="Delete")
    kds["metadata"]["name"] = name
    baseline.apply(kds)
    baseline.wait("LogSubscriptionPolicy", NS, name, is_ready_and_compliant, timeout=60, what="Ready and Compliant")
    kinesis = aws(baseline, "kinesis", ARCHIVE)
    summary = kinesis.describe_stream_summary(StreamName=vigil)["StreamDescriptionSummary"]
    assert (summary["StreamModeDetails"]["StreamMode"], summary["EncryptionType"], summary["KeyId"]) == (
        "ON_DEMAND", "KMS", "alias/aws/kinesis")
    owner = {t["Key"]: t["Value"] for t in kinesis.list_tags_for_stream(StreamName=vigil)["Tags"]}
    assert owner["vigil.dev/owner"] == f"{NS}/LogSubscriptionPolicy/{name}"
    reader = aws(baseline, "firehose", ARCHIVE).describe_delivery_stream(
        DeliveryStreamName=f"{vigil}-kds")["DeliveryStreamDescription"]
    assert reader["DeliveryStreamType"] == "KinesisStreamAsSource"
    assert reader["Source"]["KinesisStreamSourceDescription"]["KinesisStreamARN"] == summary["StreamARN"]
    s3 = reader["Destinations"][0]["ExtendedS3DestinationDescription"]
    key = baseline.get("LogArchive", NS, "central")["status"]["kmsKeyArn"]
    assert s3["BucketARN"] == "arn:aws:s3:::acme-log-archive"
    assert s3["EncryptionConfiguration"] == {"KMSEncryptionConfig": {"AWSKMSKeyARN": key}}
    [destination] = aws(baseline, "logs", ARCHIVE).describe_destinations(DestinationNamePrefix=vigil)["destinations"]
    assert destination["targetArn"] == summary["StreamARN"]
    document = json.loads(account_policies(baseline, SHARED_NETWORK)[vigil]["policyDocument"])
    assert document["DestinationArn"] == destination["arn"]

    kinesis.stop_stream_encryption(StreamName=vigil, EncryptionType="KMS", KeyId="alias/aws/kinesis")
    wait_until("the data stream encrypted again", lambda: kinesis.describe_stream_summary(
        StreamName=vigil)["StreamDescriptionSummary"]["EncryptionType"] == "KMS")
    baseline.wait("LogSubscriptionPolicy", NS, name, is_ready_and_compliant, timeout=ONE_RESYNC, what="Compliant")

    baseline.delete("LogSubscriptionPolicy", NS, name)
    wait_until(f"{name} gone", lambda: not baseline.exists("LogSubscriptionPolicy", NS, name), 30)
    assert vigil not in kinesis.list_streams()["StreamNames"]
    assert f"{vigil}-kds" not in aws(baseline, "firehose", ARCHIVE).list_delivery_streams()["DeliveryStreamNames"]
    assert vigil not in account_policies(baseline, SHARED_NETWORK)


def test_delete_policy_removes_what_vigil_created_and_keeps_the_logs(baseline: Stack):
    baseline.patch_spec("LogSubscriptionPolicy", NS, NAME, {"deletionPolicy": "Delete"})
    baseline.wait("LogSubscriptionPolicy", NS, NAME, lambda o: o["metadata"]["generation"] == 2
                  and is_ready_and_compliant(o), timeout=ONE_RESYNC, what="deletionPolicy applied")
    baseline.delete("LogSubscriptionPolicy", NS, NAME)
    wait_until("the policy gone", lambda: not baseline.exists("LogSubscriptionPolicy", NS, NAME), timeout=30)
    for account in WORKLOADS:
        for region in REGIONS:
            for group in LOG_GROUPS:
                assert ours(baseline, account, group, region) is None, (account, region, group)
    for region in REGIONS:
        logs = aws(baseline, "logs", ARCHIVE, region)
        assert logs.describe_destinations(DestinationNamePrefix=VIGIL)["destinations"] == []
        streams = aws(baseline, "firehose", ARCHIVE, region).list_delivery_streams()["DeliveryStreamNames"]
        assert VIGIL not in streams
        kept = logs.describe_log_groups(logGroupNamePrefix=f"/aws/kinesisfirehose/{VIGIL}")["logGroups"]
        assert len(kept) == 1, "the delivery error log stays: it is log data"
    roles = [r["RoleName"] for r in aws(baseline, "iam", ARCHIVE).list_roles()["Roles"]]
    assert not [r for r in roles if r.startswith(VIGIL)]
