"""LogSubscriptionPolicy planner, table-driven: a log group's subscription filter (created, rewritten
in place, adopted, or refused when both slots are someone else's), the account-level policy and
which method PreferAccountPolicy chooses where, the archive end (roles, Firehose stream, its error
log, the destination and its policy; with delivery type Kinesis the data stream, encrypted before
anything writes to it, and the Firehose reading it), which log groups are selected, and the names
Vigil derives from the policy."""

from __future__ import annotations

import json

import pytest

from vigil.api.logsubscription import LogSubscriptionPolicySpec
from vigil.controls.base import TargetReport
from vigil.controls.logsubscription import _slots_condition
from vigil.aws.errors import TargetError
from vigil.planning.logsubscription import (ACCOUNT_POLICY_TAKEN, DELIVERY_LOG_RETENTION_DAYS,
                                            DELIVERY_STREAM_MISMATCH, OWN_LOG_GROUP_PREFIX, SLOTS_FULL,
                                            TOO_MANY_EXCLUSIONS, Archive, CoverageError, Names, Source, bounded,
                                            choose_method, data_stream_ready, delivery_stream_name,
                                            desired_stream_settings, destination_policy, destination_target,
                                            excluded_names, excluded_prefixes, firehose_role_policy,
                                            firehose_trust_policy, logs_role_policy, plan_account_policy,
                                            plan_data_stream, plan_delivery_log_group, plan_delivery_stream,
                                            plan_destination, plan_log_group, plan_role, s3_prefix, selection_criteria,
                                            selects)
from vigil.planning.weakening import classify
from vigil.planning.actions import Action
from vigil.state.cloudtrail import LogGroupState, RoleState
from vigil.planning.ownership import Owner
from vigil.state.documents import canonical
from vigil.state.logsubscription import (AccountPolicy, DataStreamState, DeliveryStreamState, DestinationSettings,
                                         DestinationState, SubscriptionFilter, SubscriptionFilterSettings)

NAMES = Names.of("baseline", "workload-logs")
KEY = "arn:aws:kms:ca-central-1:222222222222:key/abc"
OWNER = Owner("baseline", "LogSubscriptionPolicy", "workload-logs")
ARCHIVE = Archive("222222222222", "ca-central-1", "acme-log-archive", KEY, "o-vigilsandbox", OWNER, NAMES)
REGION = "us-east-1"
DESTINATION = ARCHIVE.destination_arn(REGION)
SOURCE = Source("555555555555", REGION, DESTINATION)
GROUP = "/app/web"
SIEM = "arn:aws:kinesis:us-east-1:555555555555:stream/siem"


def spec(**fields) -> LogSubscriptionPolicySpec:
    return LogSubscriptionPolicySpec.model_validate(
        {"organizationRef": {"name": "acme"}, "logArchiveRef": {"name": "central"}, **fields})


def filter_(name: str, destination: str = DESTINATION, pattern: str = "") -> SubscriptionFilter:
    return SubscriptionFilter(name=name, settings=SubscriptionFilterSettings(destination_arn=destination,
                                                                             filter_pattern=pattern))


def ops(actions: list[Action]) -> list[str]:
    return [a.operation for a in actions]


# --- names and selection -------------------------------------------------------------------------


def test_names_derive_from_the_policy_and_fit_aws_limits():
    assert NAMES.subscription_filter == NAMES.stream == NAMES.destination == "vigil-baseline-workload-logs"
    assert NAMES.firehose_role == "vigil-baseline-workload-logs-firehose"
    assert NAMES.log_group == "/aws/kinesisfirehose/vigil-baseline-workload-logs"
    assert NAMES.log_group.startswith(OWN_LOG_GROUP_PREFIX)
    long = Names.of("n" * 63, "x" * 200)
    assert len(long.stream) == len(long.firehose_role) == len(long.logs_role) == 64
    assert long.firehose_role != long.logs_role
    assert bounded("a" * 70, 64) != bounded("a" * 71, 64), "two long names stay distinct"


@pytest.mark.parametrize("case, exclude, group, selected", [
    ("default spec skips Vigil's delivery logs", None, "/aws/kinesisfirehose/vigil-baseline-x", False),
    ("default spec takes the rest", None, "/app/web", True),
    ("an empty exclusion list still skips Vigil's own", [], "/aws/kinesisfirehose/vigil-other", False),
    ("another Firehose's logs are ordinary", [], "/aws/kinesisfirehose/team-stream", True),
    ("excluded prefix", ["/app/"], "/app/worker", False),
    ("prefix is literal, not a pattern", ["/app/."], "/app/worker", True),
])
def test_selection(case, exclude, group, selected):
    fields = {} if exclude is None else {"logGroupSelector": {"excludePrefixes": exclude}}
    assert selects(spec(**fields), group) is selected, case


def test_excluded_prefixes_drop_what_a_shorter_prefix_covers():
    s = spec(logGroupSelector={"excludePrefixes": ["/aws/", "/aws/lambda/", "/app/web"]})
    assert excluded_prefixes(s) == ("/app/web", "/aws/")


# --- method LogGroup -----------------------------------------------------------------------------

OURS = NAMES.subscription_filter


@pytest.mark.parametrize("case, spec_fields, filters, expected, creates", [
    ("no filter: subscribe", {}, [], ["PutSubscriptionFilter"], True),
    ("ours and right: nothing", {}, [filter_(OURS)], [], None),
    ("ours with another pattern: rewritten in place", {"filterPattern": "ERROR"}, [filter_(OURS)],
     ["PutSubscriptionFilter"], False),
    ("ours to another destination: rewritten in place", {}, [filter_(OURS, destination=SIEM)],
     ["PutSubscriptionFilter"], False),
    ("ours next to someone's: nothing", {}, [filter_("siem", SIEM), filter_(OURS)], [], None),
    ("ours wrong next to someone's: rewritten (no slot needed)", {},
     [filter_("siem", SIEM), filter_(OURS, pattern="x")], ["PutSubscriptionFilter"], False),
    ("one slot taken by someone: the other is ours", {}, [filter_("siem", SIEM)], ["PutSubscriptionFilter"], True),
    ("someone already streams it to the archive as the spec says: adopted", {},
     [filter_("legacy-archive"), filter_("siem", SIEM)], [], None),
])
def test_log_group_filter(case, spec_fields, filters, expected, creates):
    actions = plan_log_group(spec(**spec_fields), SOURCE, NAMES, GROUP, filters)
    assert ops(actions) == expected, case
    for action in actions:
        assert action.params["filterName"] == OURS and action.params["destinationArn"] == DESTINATION
        assert action.params["logGroupName"] == GROUP and action.creates is creates
        assert action.target == f"555555555555/{REGION}/log-group:{GROUP}" and action.changes


@pytest.mark.parametrize("new_group, creates", [(True, True), (False, False)])
def test_a_missing_filter_on_an_older_group_is_a_correction_not_a_creation(new_group, creates):
    """An older group had Vigil's filter at the last reconcile: someone removed it."""
    [action] = plan_log_group(spec(), SOURCE, NAMES, GROUP, [], new_group=new_group)
    assert action.creates is creates


def test_both_slots_taken_by_others_is_refused_naming_them():
    with pytest.raises(CoverageError) as refused:
        plan_log_group(spec(), SOURCE, NAMES, GROUP, [filter_("siem", SIEM), filter_("alerts", SIEM, "ERROR")])
    assert refused.value.reason == SLOTS_FULL
    assert "siem" in str(refused.value) and "alerts" in str(refused.value)


def test_a_changed_filter_names_the_field_and_both_values():
    [action] = plan_log_group(spec(filterPattern="ERROR"), SOURCE, NAMES, GROUP, [filter_(OURS)])
    assert [str(c) for c in action.changes] == ["filter_pattern: '' -> 'ERROR'"]


# --- method AccountPolicy ------------------------------------------------------------------------

POLICY = NAMES.account_policy
OWN_GROUP = "/aws/kinesisfirehose/vigil-baseline-workload-logs"


def account_policy(name: str = POLICY, destination: str = DESTINATION, pattern: str = "",
                   criteria: str = "", scope: str = "ALL") -> AccountPolicy:
    return AccountPolicy(name=name, document={"DestinationArn": destination, "FilterPattern": pattern,
                                              "Distribution": "ByLogStream"},
                         selection_criteria=criteria, scope=scope)


@pytest.mark.parametrize("case, observed, excluded, expected", [
    ("none: create", [], [], ["PutAccountPolicy"]),
    ("ours and right: nothing", [account_policy()], [], []),
    ("ours, right exclusions in another order: nothing",
     [account_policy(criteria='LogGroupName NOT IN ["/b", "/a"]')], ["/a", "/b"], []),
    ("a new group under an excluded prefix: criteria rewritten",
     [account_policy(criteria='LogGroupName NOT IN ["/a"]')], ["/a", "/b"], ["PutAccountPolicy"]),
    ("another destination: rewritten", [account_policy(destination=SIEM)], [], ["PutAccountPolicy"]),
    ("criteria Vigil cannot read: rewritten", [account_policy(criteria="LogGroupName IN [x")], [],
     ["PutAccountPolicy"]),
])
def test_account_policy(case, observed, excluded, expected):
    actions = plan_account_policy(spec(method="AccountPolicy"), SOURCE, NAMES, observed, excluded)
    assert ops(actions) == expected, case
    for action in actions:
        assert action.params["policyType"] == "SUBSCRIPTION_FILTER_POLICY" and action.params["scope"] == "ALL"
        assert json.loads(action.params["policyDocument"]) == {"DestinationArn": DESTINATION, "FilterPattern": ""}
        assert excluded_names(action.params.get("selectionCriteria", "")) == sorted(excluded)


def test_account_policy_slot_held_by_someone_else_is_refused():
    with pytest.raises(CoverageError) as refused:
        plan_account_policy(spec(method="AccountPolicy"), SOURCE, NAMES, [account_policy(name="siem-all")], [])
    assert refused.value.reason == ACCOUNT_POLICY_TAKEN and "siem-all" in str(refused.value)


def test_account_policy_excludes_at_most_fifty_names():
    with pytest.raises(CoverageError) as refused:
        plan_account_policy(spec(method="AccountPolicy"), SOURCE, NAMES, [], [f"/g/{n}" for n in range(51)])
    assert refused.value.reason == TOO_MANY_EXCLUSIONS


def test_selection_criteria_round_trip():
    assert selection_criteria([]) == ""
    assert selection_criteria(["/b", "/a", "/a"]) == 'LogGroupName NOT IN ["/a", "/b"]'
    assert excluded_names(selection_criteria(["/b", "/a"])) == ["/a", "/b"]
    assert excluded_names("") == [] and excluded_names("LogGroupName IN [\"/a\"]") is None


# --- the archive end -----------------------------------------------------------------------------


def test_stream_prefix_is_per_region_under_the_spec_prefix():
    assert s3_prefix(spec(), REGION) == "cloudwatch-logs/us-east-1/"
    assert s3_prefix(spec(delivery={"s3KeyPrefix": ""}), REGION) == "us-east-1/"


def stream(**settings) -> DeliveryStreamState:
    right = desired_stream_settings(spec(), ARCHIVE, REGION)
    return DeliveryStreamState(exists=True, arn=ARCHIVE.stream_arn(REGION), status=settings.pop("status", "ACTIVE"),
                               version_id="3", destination_id="destinationId-000000000001",
                               settings=right.model_copy(update=settings))


@pytest.mark.parametrize("case, spec_fields, observed, expected, changed", [
    ("absent: create", {}, DeliveryStreamState(exists=False), ["CreateDeliveryStream"], ["delivery_stream"]),
    ("right: nothing", {}, stream(), [], []),
    ("still creating: wait", {}, stream(status="CREATING", kms_key_arn=""), [], []),
    ("key removed: updated", {}, stream(kms_key_arn=""), ["UpdateDestination"], ["kms_key_arn"]),
    ("buffer interval from the spec", {"delivery": {"bufferIntervalSeconds": 60}}, stream(),
     ["UpdateDestination"], ["buffer_interval_seconds"]),
    ("another prefix and bucket", {}, stream(prefix="x/", bucket_arn="arn:aws:s3:::other"),
     ["UpdateDestination"], ["bucket_arn", "prefix"]),
])
def test_delivery_stream(case, spec_fields, observed, expected, changed):
    actions = plan_delivery_stream(spec(**spec_fields), ARCHIVE, REGION, observed)
    assert ops(actions) == expected, case
    assert sorted(c.path for a in actions for c in a.changes) == changed
    for action in actions:
        s3 = action.params.get("ExtendedS3DestinationConfiguration") or action.params["ExtendedS3DestinationUpdate"]
        assert s3["EncryptionConfiguration"] == {"KMSEncryptionConfig": {"AWSKMSKeyARN": KEY}}
        assert s3["BucketARN"] == "arn:aws:s3:::acme-log-archive" and s3["Prefix"] == "cloudwatch-logs/us-east-1/"
        assert s3["RoleARN"] == f"arn:aws:iam::222222222222:role/{NAMES.firehose_role}"
        assert s3["CloudWatchLoggingOptions"]["LogGroupName"] == NAMES.log_group
    if expected == ["UpdateDestination"]:
        assert actions[0].params["CurrentDeliveryStreamVersionId"] == "3" and not actions[0].creates
    if expected == ["CreateDeliveryStream"]:
        assert actions[0].params["Tags"] == [{"Key": "vigil.dev/owner", "Value": "baseline/LogSubscriptionPolicy/workload-logs"},
                                             {"Key": "vigil.dev/installation", "Value": "default"}]


@pytest.mark.parametrize("case, observed, expected", [
    ("absent: group, retention, stream", LogGroupState(exists=False),
     ["CreateLogGroup", "PutRetentionPolicy", "CreateLogStream"]),
    ("right: nothing", LogGroupState(exists=True, retention_days=DELIVERY_LOG_RETENTION_DAYS), []),
    ("retention changed", LogGroupState(exists=True, retention_days=1), ["PutRetentionPolicy"]),
])
def test_delivery_log_group(case, observed, expected):
    assert ops(plan_delivery_log_group(ARCHIVE, REGION, observed)) == expected, case


RIGHT_DESTINATION = DestinationState(
    exists=True, arn=DESTINATION, access_policy=canonical(destination_policy(ARCHIVE, REGION)),
    settings=DestinationSettings(target_arn=ARCHIVE.stream_arn(REGION),
                                 role_arn=ARCHIVE.role_arn(NAMES.logs_role)))


@pytest.mark.parametrize("case, observed, expected", [
    ("absent: create, then admit the organization", DestinationState(exists=False),
     ["PutDestination", "PutDestinationPolicy"]),
    ("right: nothing", RIGHT_DESTINATION, []),
    ("pointed elsewhere: put again", RIGHT_DESTINATION.model_copy(update={
        "settings": DestinationSettings(target_arn=SIEM, role_arn=ARCHIVE.role_arn(NAMES.logs_role))}),
     ["PutDestination"]),
    ("policy removed", RIGHT_DESTINATION.model_copy(update={"access_policy": None}), ["PutDestinationPolicy"]),
    ("policy narrowed to one account", RIGHT_DESTINATION.model_copy(update={"access_policy": canonical(
        {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "555555555555"}}]})}), ["PutDestinationPolicy"]),
])
def test_destination(case, observed, expected):
    actions = plan_destination(ARCHIVE, REGION, observed)
    assert ops(actions) == expected, case
    for action in actions:
        assert action.params["destinationName"] == NAMES.destination
        if action.operation == "PutDestination":
            assert action.params["targetArn"] == ARCHIVE.stream_arn(REGION)
            assert ("tags" in action.params) is action.creates
        else:
            assert action.params.get("forceUpdate", False) is (observed.access_policy is not None)


def test_destination_policy_admits_the_organization_to_subscribe():
    [statement] = destination_policy(ARCHIVE, REGION)["Statement"]
    assert statement["Principal"] == "*" and statement["Resource"] == DESTINATION
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-vigilsandbox"}}
    assert set(statement["Action"]) == {"logs:PutSubscriptionFilter", "logs:PutAccountPolicy"}


def test_firehose_role_writes_only_under_the_prefix_with_the_archive_key():
    statements = {s["Sid"]: s for s in firehose_role_policy(spec(), ARCHIVE)["Statement"]}
    assert "arn:aws:s3:::acme-log-archive/cloudwatch-logs/*" in statements["VigilArchiveWrite"]["Resource"]
    assert statements["VigilArchiveKey"]["Resource"] == KEY


@pytest.mark.parametrize("case, observed, expected", [
    ("absent: create with its policy", RoleState(exists=False), ["CreateRole", "PutRolePolicy"]),
    ("right: nothing", RoleState(exists=True, trust_policy=canonical(firehose_trust_policy(ARCHIVE)),
                                 inline_policy=canonical(firehose_role_policy(spec(), ARCHIVE))), []),
    ("trust edited", RoleState(exists=True, trust_policy=canonical({"Statement": []}),
                               inline_policy=canonical(firehose_role_policy(spec(), ARCHIVE))),
     ["UpdateAssumeRolePolicy"]),
])
def test_role(case, observed, expected):
    actions = plan_role(ARCHIVE, NAMES.firehose_role, firehose_trust_policy(ARCHIVE),
                        firehose_role_policy(spec(), ARCHIVE), observed)
    assert ops(actions) == expected, case
    assert all(a.region == "global" and a.account_id == "222222222222" for a in actions)


# --- Compliant when only full slots stand in the way ---------------------------------------------


def report(target: str, error: str | None = None, drifted: bool = False) -> TargetReport:
    planned = [Action(target, "1", "r", "logs", "PutSubscriptionFilter")] if drifted else []
    return TargetReport(target, planned=planned, error=TargetError(error, "m") if error else None)


@pytest.mark.parametrize("case, reports, reason", [
    ("full slots only", [report("a"), report("b", SLOTS_FULL)], SLOTS_FULL),
    ("nothing wrong", [report("a")], None),
    ("drift besides: the summary's Drifted stands", [report("a", drifted=True), report("b", SLOTS_FULL)], None),
    ("another failure besides: the summary stands", [report("a", "AccessDenied"), report("b", SLOTS_FULL)], None),
])
def test_compliant_reason_for_full_slots(case, reports, reason):
    conditions = _slots_condition(reports)
    assert [c[2] for c in conditions] == ([reason] if reason else []), case
    if reason:
        assert conditions[0][:2] == ("Compliant", "False") and "b" in conditions[0][3]


# --- method PreferAccountPolicy: the account policy where the account allows it --------------------


def test_prefer_account_policy_is_the_default_for_a_new_object():
    assert spec().method == "PreferAccountPolicy"
    assert spec(method="LogGroup").method == "LogGroup", "an object the API server filled with LogGroup keeps it"


@pytest.mark.parametrize("case, method, observed, excluded, chosen, fallback", [
    ("a free slot: the policy", "PreferAccountPolicy", [], [], "AccountPolicy", None),
    ("Vigil's own policy: kept", "PreferAccountPolicy", [account_policy()], [], "AccountPolicy", None),
    ("another's policy: never replaced, groups one by one", "PreferAccountPolicy",
     [account_policy(name="siem-all")], [], "LogGroup", ACCOUNT_POLICY_TAKEN),
    ("more than 50 to exclude: groups one by one", "PreferAccountPolicy", [], [f"/g/{n}" for n in range(51)],
     "LogGroup", TOO_MANY_EXCLUSIONS),
    ("Vigil's own, now with too many to exclude: kept, its trouble reported", "PreferAccountPolicy",
     [account_policy()], [f"/g/{n}" for n in range(51)], "AccountPolicy", None),
    ("AccountPolicy never falls back", "AccountPolicy", [account_policy(name="siem-all")], [], "AccountPolicy",
     None),
    ("LogGroup is LogGroup", "LogGroup", [], [], "LogGroup", None),
])
def test_choose_method(case, method, observed, excluded, chosen, fallback):
    choice = choose_method(spec(method=method), NAMES, observed, excluded)
    assert choice.method == chosen, case
    assert (choice.fallback.reason if choice.fallback else None) == fallback, case


# --- delivery.type Kinesis ------------------------------------------------------------------------

KINESIS = {"delivery": {"type": "Kinesis"}}
DATA_STREAM = f"arn:aws:kinesis:{REGION}:222222222222:stream/vigil-baseline-workload-logs"


def test_kinesis_names_and_what_the_destination_writes_to():
    assert NAMES.data_stream == "vigil-baseline-workload-logs"
    assert NAMES.kinesis_stream == "vigil-baseline-workload-logs-kds", "a Firehose name of its own"
    assert ARCHIVE.data_stream_arn(REGION) == DATA_STREAM
    assert destination_target(spec(**KINESIS), ARCHIVE, REGION) == DATA_STREAM
    assert destination_target(spec(), ARCHIVE, REGION) == ARCHIVE.stream_arn(REGION)
    assert delivery_stream_name(spec(**KINESIS), NAMES) == NAMES.kinesis_stream
    assert delivery_stream_name(spec(), NAMES) == NAMES.stream
    assert len(Names.of("n" * 63, "x" * 200).kinesis_stream) == 64


@pytest.mark.parametrize("case, observed, created, expected, creates", [
    ("absent: on demand, tagged", DataStreamState(exists=False), False, ["CreateStream"], True),
    ("new and ACTIVE: encrypted, finishing the create", DataStreamState(exists=True, status="ACTIVE"), True,
     ["StartStreamEncryption"], True),
    ("still CREATING: Kinesis encrypts only an ACTIVE stream", DataStreamState(exists=True, status="CREATING"),
     True, [], None),
    ("encryption stopped out of band: put back", DataStreamState(exists=True, status="ACTIVE"), False,
     ["StartStreamEncryption"], False),
    ("a customer key of the team's own: kept", DataStreamState(exists=True, status="ACTIVE",
                                                               encryption_type="KMS", key_id="alias/team"), False, [],
     None),
])
def test_data_stream(case, observed, created, expected, creates):
    actions = plan_data_stream(ARCHIVE, REGION, observed, created)
    assert ops(actions) == expected, case
    for action in actions:
        assert action.creates is creates and action.params["StreamName"] == NAMES.data_stream, case
        if action.operation == "CreateStream":
            assert action.params["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}
            assert action.params["Tags"] == OWNER.tags()
        else:
            assert action.params == {"StreamName": NAMES.data_stream, "EncryptionType": "KMS",
                                     "KeyId": "alias/aws/kinesis"}
            assert classify(action) == [], "encrypting weakens nothing"


def test_the_destination_writes_to_a_data_stream_only_once_it_is_active_and_encrypted():
    assert not data_stream_ready(DataStreamState(exists=False))
    assert not data_stream_ready(DataStreamState(exists=True, status="ACTIVE"))
    assert not data_stream_ready(DataStreamState(exists=True, status="UPDATING", encryption_type="KMS"))
    assert data_stream_ready(DataStreamState(exists=True, status="ACTIVE", encryption_type="KMS"))


def test_a_kinesis_firehose_reads_the_data_stream_into_the_bucket():
    [create] = plan_delivery_stream(spec(**KINESIS), ARCHIVE, REGION, DeliveryStreamState(exists=False))
    assert create.params["DeliveryStreamName"] == NAMES.kinesis_stream
    assert create.params["DeliveryStreamType"] == "KinesisStreamAsSource"
    assert create.params["KinesisStreamSourceConfiguration"] == {
        "KinesisStreamARN": DATA_STREAM, "RoleARN": ARCHIVE.role_arn(NAMES.firehose_role)}
    assert create.params["ExtendedS3DestinationConfiguration"]["EncryptionConfiguration"] == {
        "KMSEncryptionConfig": {"AWSKMSKeyARN": KEY}}
    reading = stream().model_copy(update={"stream_type": "KinesisStreamAsSource", "source_stream_arn": DATA_STREAM})
    assert plan_delivery_stream(spec(**KINESIS), ARCHIVE, REGION, reading) == []
    [direct] = plan_delivery_stream(spec(), ARCHIVE, REGION, DeliveryStreamState(exists=False))
    assert direct.params["DeliveryStreamType"] == "DirectPut" and "KinesisStreamSourceConfiguration" not in \
        direct.params
    for wanted, found in ((spec(**KINESIS), stream()), (spec(), reading),
                          (spec(**KINESIS), reading.model_copy(update={"source_stream_arn": SIEM}))):
        with pytest.raises(CoverageError) as refused:
            plan_delivery_stream(wanted, ARCHIVE, REGION, found)
        assert refused.value.reason == DELIVERY_STREAM_MISMATCH and "cannot change" in str(refused.value)


def test_a_destination_moved_to_the_data_stream_is_one_put_and_no_weakening():
    right = DestinationState(exists=True, arn=DESTINATION, settings=DestinationSettings(
        target_arn=ARCHIVE.stream_arn(REGION), role_arn=ARCHIVE.role_arn(NAMES.logs_role)),
        access_policy=canonical(destination_policy(ARCHIVE, REGION)))
    [moved] = plan_destination(ARCHIVE, REGION, right, DATA_STREAM)
    assert moved.operation == "PutDestination" and moved.params["targetArn"] == DATA_STREAM
    assert classify(moved) == []


def test_the_roles_of_the_kinesis_path_read_and_write_only_the_data_stream():
    firehose = {s["Sid"]: s for s in firehose_role_policy(spec(**KINESIS), ARCHIVE)["Statement"]}
    assert firehose["VigilReadDataStream"]["Resource"] == "arn:aws:kinesis:*:222222222222:stream/" + NAMES.data_stream
    assert "kinesis:GetRecords" in firehose["VigilReadDataStream"]["Action"]
    assert "VigilReadDataStream" not in {s["Sid"] for s in firehose_role_policy(spec(), ARCHIVE)["Statement"]}
    [write] = logs_role_policy(ARCHIVE, spec(**KINESIS))["Statement"]
    assert write["Action"] == ["kinesis:PutRecord", "kinesis:PutRecords"]
    assert write["Resource"] == "arn:aws:kinesis:*:222222222222:stream/" + NAMES.data_stream
    assert logs_role_policy(ARCHIVE, spec()) == logs_role_policy(ARCHIVE)
