"""SessionLogging planner, table-driven: the preferences document (created, left alone when it
means the same, rewritten with the changed inputs named, a team's own inputs kept), the session
log group (created encrypted, key re-associated, retention), the Vigil-managed key and its
policy; reading a hand-written document for its meaning; the spec checks the schema cannot make."""

from __future__ import annotations

import json

import pytest

from vigil.api.sessionlogging import SessionLoggingSpec
from vigil.planning import policies
from vigil.planning.sessionlogging import (SESSION_KEY_ALIAS, UPDATE_PREFERENCES, SessionTarget, check_document_type,
                                           desired_preferences, document_content, key_region_error, plan_document,
                                           plan_key, plan_log_group, session_key_policy)
from vigil.state.cloudtrail import LogGroupState
from vigil.planning.ownership import Owner
from vigil.state.logarchive import KeySettings, KeyState
from vigil.state.sessionlogging import SessionDocumentState, parse_content, preferences_of

ACCOUNT, REGION = "555555555555", "ca-central-1"
OWNER = Owner("baseline", "SessionLogging", "session-logging", "default", "uid-7")
# What the owner writes in every create call: the object, the installation, the uid.
TAGS = {"vigil.dev/owner": "baseline/SessionLogging/session-logging", "vigil.dev/installation": "default",
        "vigil.dev/uid": "uid-7"}
TARGET = SessionTarget(ACCOUNT, REGION, "acme-log-archive", OWNER)
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/99999999-12ab-34cd-56ef-1234567890ab"
GROUP = "/vigil/ssm-sessions"


def spec(**fields) -> SessionLoggingSpec:
    return SessionLoggingSpec.model_validate(
        {"organizationRef": {"name": "acme"}, "logArchiveRef": {"name": "central"}, **fields})


def right_inputs(**overrides) -> dict:
    inputs = {"s3BucketName": "acme-log-archive", "s3KeyPrefix": "ssm-sessions", "s3EncryptionEnabled": True,
              "cloudWatchLogGroupName": GROUP, "cloudWatchEncryptionEnabled": True,
              "cloudWatchStreamingEnabled": True, "kmsKeyId": KEY, "idleSessionTimeout": "20"}
    return {**inputs, **overrides}


def document(inputs: dict, session_type: str = "Standard_Stream", **top) -> SessionDocumentState:
    content = {"schemaVersion": "1.0", "description": "x", "sessionType": session_type, "inputs": inputs, **top}
    return SessionDocumentState(exists=True, document_type="Session", version="1", content=content,
                                preferences=preferences_of(content))


def changed(actions) -> list[tuple[str, list[str]]]:
    return [(a.operation, [c.path for c in a.changes]) for a in actions]


# --- the preferences document ----------------------------------------------------------------------

@pytest.mark.parametrize("case, spec_fields, observed, expected", [
    ("missing: created", {}, SessionDocumentState(exists=False), [("CreateDocument", ["document"])]),
    ("right: nothing", {}, document(right_inputs()), []),
    ("right, written loosely (strings for booleans, a number for the timeout): nothing", {},
     document(right_inputs(s3EncryptionEnabled="true", cloudWatchEncryptionEnabled="TRUE",
                           cloudWatchStreamingEnabled="true", idleSessionTimeout=20)), []),
    ("S3 encryption turned off", {}, document(right_inputs(s3EncryptionEnabled=False)),
     [(UPDATE_PREFERENCES, ["s3_encryption_enabled"])]),
    ("CloudWatch encryption turned off, as a string", {}, document(right_inputs(cloudWatchEncryptionEnabled="false")),
     [(UPDATE_PREFERENCES, ["cloud_watch_encryption_enabled"])]),
    ("an unreadable switch is not on", {}, document(right_inputs(s3EncryptionEnabled="yes")),
     [(UPDATE_PREFERENCES, ["s3_encryption_enabled"])]),
    ("the console's defaults: logging nowhere", {},
     document({"s3BucketName": "", "s3KeyPrefix": "", "s3EncryptionEnabled": True, "cloudWatchLogGroupName": "",
               "cloudWatchEncryptionEnabled": True, "cloudWatchStreamingEnabled": False, "kmsKeyId": "",
               "idleSessionTimeout": "20", "runAsEnabled": False}),
     [(UPDATE_PREFERENCES, ["s3_bucket_name", "s3_key_prefix", "cloud_watch_log_group_name",
                            "cloud_watch_streaming_enabled", "kms_key_id"])]),
    ("another key and timeout", {"idleSessionTimeoutMinutes": 45}, document(right_inputs(kmsKeyId=OTHER_KEY)),
     [(UPDATE_PREFERENCES, ["kms_key_id", "idle_session_timeout"])]),
    ("not a Standard_Stream document", {}, document(right_inputs(), session_type="Port"),
     [(UPDATE_PREFERENCES, ["session_type"])]),
    ("CloudWatch off: a team's own log group is theirs", {"cloudWatch": {"enabled": False}},
     document(right_inputs(cloudWatchLogGroupName="/team/sessions", cloudWatchEncryptionEnabled=False,
                           cloudWatchStreamingEnabled=False)), []),
    ("another prefix", {"s3KeyPrefix": "sessions/acme"}, document(right_inputs()),
     [(UPDATE_PREFERENCES, ["s3_key_prefix"])]),
])
def test_plan_document(case, spec_fields, observed, expected):
    assert changed(plan_document(spec(**spec_fields), TARGET, KEY, observed)) == expected, case


def test_a_new_document_is_a_tagged_session_document_with_every_preference():
    [create] = plan_document(spec(), TARGET, KEY, SessionDocumentState(exists=False))
    assert create.creates and create.service == "ssm"
    assert create.params["Name"] == "SSM-SessionManagerRunShell" and create.params["DocumentType"] == "Session"
    assert create.params["Tags"] == [{"Key": k, "Value": v} for k, v in TAGS.items()]
    content = json.loads(create.params["Content"])
    assert content["schemaVersion"] == "1.0" and content["sessionType"] == "Standard_Stream"
    assert content["inputs"] == right_inputs()


def test_a_rewrite_keeps_the_teams_own_inputs_and_names_what_changed():
    observed = document(right_inputs(s3EncryptionEnabled=False, runAsEnabled=True, runAsDefaultUser="ops",
                                     shellProfile={"linux": "exec bash", "windows": ""}),
                        description="Acme's preferences")
    [update] = plan_document(spec(), TARGET, KEY, observed)
    assert not update.creates
    assert update.params["DocumentVersion"] == "$LATEST" and update.params["DocumentFormat"] == "JSON"
    content = json.loads(update.params["Content"])
    assert content["description"] == "Acme's preferences"
    assert content["inputs"]["runAsDefaultUser"] == "ops" and content["inputs"]["shellProfile"]["linux"] == "exec bash"
    assert content["inputs"]["s3EncryptionEnabled"] is True
    [change] = update.changes
    assert (change.path, change.before, change.after) == ("s3_encryption_enabled", False, True)


def test_the_same_preferences_are_written_as_the_same_bytes():
    """SSM refuses a version whose content another version has; Vigil finds that version by it."""
    observed = document(right_inputs(s3EncryptionEnabled=False))
    first = document_content(desired_preferences(spec(), TARGET, KEY), observed.content)
    again = document_content(desired_preferences(spec(), TARGET, KEY), json.loads(json.dumps(observed.content)))
    assert first == again


@pytest.mark.parametrize("text, expected", [
    ('{"inputs": {"s3EncryptionEnabled": "True", "idleSessionTimeout": " 020 "}}', (True, "20")),
    ('{"inputs": {"s3EncryptionEnabled": 1, "idleSessionTimeout": "abc"}}', (None, "abc")),
    ('{"inputs": []}', (None, None)),
    ("not json", (None, None)),
    ("[1, 2]", (None, None)),
    ("", (None, None)),
])
def test_a_document_is_read_for_its_meaning(text, expected):
    preferences = preferences_of(parse_content(text))
    assert (preferences.s3_encryption_enabled, preferences.idle_session_timeout) == expected


def test_a_document_of_another_type_cannot_hold_preferences():
    command = SessionDocumentState(exists=True, document_type="Command")
    assert "Command document" in (check_document_type(command) or "")
    assert check_document_type(document(right_inputs())) is None
    assert check_document_type(SessionDocumentState(exists=False)) is None


# --- the log group ---------------------------------------------------------------------------------

RIGHT_GROUP = LogGroupState(exists=True, arn="arn", retention_days=365, kms_key_id=KEY)


@pytest.mark.parametrize("case, spec_fields, observed, expected", [
    ("missing: created encrypted, then retention", {}, LogGroupState(exists=False),
     [("CreateLogGroup", ["log_group"]), ("PutRetentionPolicy", ["retention_days"])]),
    ("right: nothing", {}, RIGHT_GROUP, []),
    ("key removed: associated again", {}, RIGHT_GROUP.model_copy(update={"kms_key_id": None}),
     [("AssociateKmsKey", ["kms_key_id"])]),
    ("another key: ours associated", {}, RIGHT_GROUP.model_copy(update={"kms_key_id": OTHER_KEY}),
     [("AssociateKmsKey", ["kms_key_id"])]),
    ("retention shortened", {}, RIGHT_GROUP.model_copy(update={"retention_days": 1}),
     [("PutRetentionPolicy", ["retention_days"])]),
    ("never expiring is not the spec either", {"cloudWatch": {"retentionDays": 731}},
     RIGHT_GROUP.model_copy(update={"retention_days": None}), [("PutRetentionPolicy", ["retention_days"])]),
    ("CloudWatch off: no group wanted, none touched", {"cloudWatch": {"enabled": False}},
     LogGroupState(exists=False), []),
])
def test_plan_log_group(case, spec_fields, observed, expected):
    actions = plan_log_group(spec(**spec_fields), TARGET, KEY, observed)
    assert changed(actions) == expected, case
    assert all(a.params["logGroupName"] == GROUP for a in actions)
    assert all(a.operation != "DeleteLogGroup" for a in actions)


def test_a_new_log_group_is_encrypted_and_tagged_from_the_start():
    create, retention = plan_log_group(spec(), TARGET, KEY, LogGroupState(exists=False))
    assert create.params == {"logGroupName": GROUP, "kmsKeyId": KEY, "tags": TAGS}
    assert retention.params == {"logGroupName": GROUP, "retentionInDays": 365}
    assert create.creates and retention.creates
    [associate] = plan_log_group(spec(), TARGET, KEY, RIGHT_GROUP.model_copy(update={"kms_key_id": None}))
    assert associate.params == {"logGroupName": GROUP, "kmsKeyId": KEY} and not associate.creates


# --- the key ---------------------------------------------------------------------------------------

POLICY = policies.canonical(session_key_policy(ACCOUNT, REGION))


@pytest.mark.parametrize("case, spec_fields, observed, expected", [
    ("missing: created with its alias", {}, KeyState(exists=False), ["CreateKeyWithAlias"]),
    ("right: nothing", {}, KeyState(exists=True, arn=KEY, key_id="k", settings=KeySettings(
        policy=POLICY, rotation_enabled=True)), []),
    ("policy changed and rotation off: both put back", {}, KeyState(
        exists=True, arn=KEY, key_id="k", settings=KeySettings(policy={"Statement": []}, rotation_enabled=False)),
     ["PutKeyPolicy", "EnableKeyRotation"]),
    ("the user's key: never touched", {"kms": {"keyArn": KEY}}, KeyState(exists=False), []),
])
def test_plan_key(case, spec_fields, observed, expected):
    assert [a.operation for a in plan_key(spec(**spec_fields), TARGET, observed)] == expected, case


def test_the_key_lets_cloudwatch_logs_of_the_region_use_it_for_the_accounts_groups_only():
    [create] = plan_key(spec(), TARGET, KeyState(exists=False))
    assert create.params["AliasName"] == SESSION_KEY_ALIAS
    assert create.params["Tags"] == [{"TagKey": k, "TagValue": v} for k, v in TAGS.items()]
    statements = {s["Sid"]: s for s in json.loads(create.params["Policy"])["Statement"]}
    logs = statements["VigilCloudWatchLogsEncrypt"]
    assert logs["Principal"] == {"Service": f"logs.{REGION}.amazonaws.com"}
    assert logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"] == \
        f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:*"
    assert statements["VigilAccountAdministers"]["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}


# --- spec checks -----------------------------------------------------------------------------------

@pytest.mark.parametrize("key_arn, regions, refused", [
    ("", ["ca-central-1", "us-east-1"], False),
    (KEY, ["ca-central-1"], False),
    (KEY, ["ca-central-1", "us-east-1"], True),
    (KEY.replace(REGION, "us-east-1"), ["ca-central-1"], True),
])
def test_a_named_key_must_be_in_every_target_region(key_arn, regions, refused):
    error = key_region_error(spec(kms={"keyArn": key_arn}), regions)
    assert bool(error) == refused
    if refused:
        assert "kms.keyArn" in error


@pytest.mark.parametrize("fields, message", [
    ({"scope": "Accounts"}, "accountIds is required"),
    ({"accountIds": [ACCOUNT]}, "accountIds is required"),
    ({"kms": {"keyArn": "alias/mine"}}, "kms.keyArn"),
    ({"cloudWatch": {"retentionDays": 42}}, "cloudWatch.retentionDays"),
    ({"idleSessionTimeoutMinutes": 61}, "idleSessionTimeoutMinutes"),
])
def test_specs_the_api_refuses(fields, message):
    with pytest.raises(ValueError, match=message):
        spec(**fields)
