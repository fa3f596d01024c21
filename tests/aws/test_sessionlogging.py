"""Session logging against the sandbox: the gaps of vigil_sandbox.gaps.logs (a log group's KMS key:
AssociateKmsKey, DisassociateKmsKey, the key CreateLogGroup takes) and .ssm (Session document
content), each against plain moto (without_gaps()) and the sandbox; the SSM document round trip
Vigil relies on (content back as written, versions, the default); and the adapters vigil.aws.ssm
and vigil.aws.logs: what the SessionLogging planner writes reads back as in sync, in five reads;
the preferences composite puts back a version SSM will not duplicate; deletion takes only the
document Vigil created.

A region no other test uses keeps this module's state its own."""

from __future__ import annotations

import itertools
import json

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from vigil.api.sessionlogging import SessionLoggingSpec
from vigil.aws import logs as aws_logs
from vigil.aws import ssm as aws_ssm
from vigil.aws.apply import execute
from vigil.aws.logarchive import observe_key
from vigil.planning.ownership import Owner
from vigil.planning.sessionlogging import (SESSION_KEY_ALIAS, SessionTarget, desired_preferences, document_content,
                                           plan_document, plan_key, plan_log_group)
from vigil_sandbox.gaps import without_gaps
from vigil.state.sessionlogging import PREFERENCES_DOCUMENT

REGION = "eu-west-3"
NO_SUCH_KEY = f"arn:aws:kms:{REGION}:666666666666:key/00000000-0000-0000-0000-000000000000"
OTHER_REGION = "eu-north-1"
WORKLOAD = "666666666666"
NO_RETRIES = Config(retries={"total_max_attempts": 1})
SPEC = SessionLoggingSpec.model_validate({"organizationRef": {"name": "acme"}, "logArchiveRef": {"name": "central"}})
TARGET = SessionTarget(WORKLOAD, REGION, "acme-log-archive", Owner("tests", "SessionLogging", "session-logging"))
_numbers = itertools.count()


def error_code(call) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"]


def client(aws, service: str, region: str = REGION):
    return aws.client(service, WORKLOAD, region, config=NO_RETRIES)


def key_policy(*services: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{WORKLOAD}:root"}, "Action": "kms:*", "Resource": "*"},
        *({"Effect": "Allow", "Principal": {"Service": s}, "Action": "kms:GenerateDataKey*", "Resource": "*"}
          for s in services)]})


def make_key(aws, *services: str, region: str = REGION) -> str:
    return client(aws, "kms", region).create_key(Policy=key_policy(*services))["KeyMetadata"]["Arn"]


@pytest.fixture(scope="module")
def logs_key(aws) -> str:
    """A key CloudWatch Logs of the region may use."""
    return make_key(aws, f"logs.{REGION}.amazonaws.com")


@pytest.fixture
def group(aws):
    """A fresh, unencrypted log group."""
    name = f"/vigil/tests/group-{next(_numbers)}"
    client(aws, "logs").create_log_group(logGroupName=name)
    return name


def group_key(aws, name: str) -> str | None:
    [found] = [g for g in client(aws, "logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
               if g["logGroupName"] == name]
    return found.get("kmsKeyId")


# --- CloudWatch Logs gaps ------------------------------------------------------------------------

def test_associate_and_disassociate_a_key(aws, group, logs_key):
    logs = client(aws, "logs")
    with without_gaps():
        with pytest.raises(ClientError):
            logs.associate_kms_key(logGroupName=group, kmsKeyId=logs_key)
        with pytest.raises(ClientError):
            logs.disassociate_kms_key(logGroupName=group)

    logs.associate_kms_key(logGroupName=group, kmsKeyId=logs_key)
    assert group_key(aws, group) == logs_key
    logs.disassociate_kms_key(logGroupName=group)
    assert group_key(aws, group) is None
    arn = f"arn:aws:logs:{REGION}:{WORKLOAD}:log-group:{group}"
    logs.associate_kms_key(resourceIdentifier=arn, kmsKeyId=logs_key)
    assert group_key(aws, group) == logs_key


@pytest.mark.parametrize("which, code", [
    ("a key whose policy does not name CloudWatch Logs", "AccessDeniedException"),
    ("a key that does not exist", "AccessDeniedException"),
    ("a key of another region", "InvalidParameterException"),
    ("an alias instead of an ARN", "InvalidParameterException"),
])
def test_a_key_logs_cannot_use_is_refused(aws, group, which, code):
    key = {
        "a key whose policy does not name CloudWatch Logs": lambda: make_key(aws),
        "a key that does not exist": lambda: NO_SUCH_KEY,
        "a key of another region": lambda: make_key(aws, f"logs.{OTHER_REGION}.amazonaws.com", region=OTHER_REGION),
        "an alias instead of an ARN": lambda: "alias/aws/logs",
    }[which]()
    logs = client(aws, "logs")
    assert error_code(lambda: logs.associate_kms_key(logGroupName=group, kmsKeyId=key)) == code
    assert error_code(lambda: logs.create_log_group(logGroupName=group + "-new", kmsKeyId=key)) == code
    assert group_key(aws, group) is None


def test_create_log_group_takes_only_a_usable_key(aws, logs_key):
    logs = client(aws, "logs")
    with without_gaps():
        logs.create_log_group(logGroupName="/vigil/tests/moto-takes-any-key", kmsKeyId=NO_SUCH_KEY)
    logs.create_log_group(logGroupName="/vigil/tests/encrypted", kmsKeyId=logs_key)
    assert group_key(aws, "/vigil/tests/encrypted") == logs_key


def test_a_missing_group_is_not_found(aws, logs_key):
    logs = client(aws, "logs")
    assert error_code(lambda: logs.associate_kms_key(logGroupName="/nope", kmsKeyId=logs_key)) == \
        "ResourceNotFoundException"
    assert error_code(lambda: logs.disassociate_kms_key(logGroupName="/nope")) == "ResourceNotFoundException"


# --- SSM gap and round trip ----------------------------------------------------------------------

def session_document(**inputs) -> str:
    return json.dumps({"schemaVersion": "1.0", "description": "test", "sessionType": "Standard_Stream",
                       "inputs": {"s3BucketName": "b", "s3EncryptionEnabled": True, "idleSessionTimeout": "20",
                                  **inputs}})


@pytest.mark.parametrize("content, complaint", [
    (session_document().replace("Standard_Stream", "Standard_Steam"), "sessionType"),
    (session_document(s3EncryptionEnabled="false"), "s3EncryptionEnabled must be a boolean"),
    (session_document(idleSessionTimeout=20), "idleSessionTimeout"),
    (session_document(idleSessionTimeout="90"), "idleSessionTimeout"),
    (session_document(s3BucketName=["a"]), "s3BucketName must be a string"),
])
def test_session_documents_follow_the_session_schema(aws, content, complaint):
    ssm = client(aws, "ssm")
    name = f"Vigil-Test-Bad-{next(_numbers)}"
    with without_gaps():
        ssm.create_document(Name=name, Content=content, DocumentType="Session")
    with pytest.raises(ClientError) as refused:
        ssm.update_document(Name=name, Content=content + " ", DocumentVersion="$LATEST")
    assert refused.value.response["Error"]["Code"] == "InvalidDocumentContent"
    assert complaint in refused.value.response["Error"]["Message"]
    with pytest.raises(ClientError, match="InvalidDocumentContent"):
        ssm.create_document(Name=name + "-2", Content=content, DocumentType="Session")


def test_a_command_document_is_not_held_to_the_session_schema(aws):
    ssm = client(aws, "ssm")
    ssm.create_document(Name="Vigil-Test-Command", DocumentType="Command", Content=json.dumps({
        "schemaVersion": "2.2", "description": "x", "mainSteps": [
            {"action": "aws:runShellScript", "name": "x", "inputs": {"runCommand": ["true"]}}]}))


def test_the_document_round_trip_vigil_relies_on(aws):
    """No gap needed: content comes back byte for byte; UpdateDocument adds a version that is not
    the default until UpdateDocumentDefaultVersion; a version's content cannot be duplicated."""
    ssm = client(aws, "ssm")
    name = "Vigil-Test-RoundTrip"
    first, second = session_document(), session_document(s3EncryptionEnabled=False)
    created = ssm.create_document(Name=name, Content=first, DocumentType="Session", DocumentFormat="JSON")
    assert created["DocumentDescription"]["DocumentType"] == "Session"
    got = ssm.get_document(Name=name, DocumentFormat="JSON")
    assert (got["Content"], got["DocumentVersion"], got["DocumentType"]) == (first, "1", "Session")
    updated = ssm.update_document(Name=name, Content=second, DocumentVersion="$LATEST")["DocumentDescription"]
    assert (updated["DocumentVersion"], updated["LatestVersion"], updated["DefaultVersion"]) == ("2", "2", "1")
    assert ssm.get_document(Name=name)["Content"] == first, "the default version is still the first"
    ssm.update_document_default_version(Name=name, DocumentVersion="2")
    assert ssm.get_document(Name=name)["Content"] == second
    assert error_code(lambda: ssm.update_document(Name=name, Content=first, DocumentVersion="$LATEST")) == \
        "DuplicateDocumentContent"
    assert error_code(lambda: ssm.get_document(Name="Vigil-Test-Missing")) == "InvalidDocument"


# --- Adapters ------------------------------------------------------------------------------------

def test_what_the_planner_writes_reads_back_in_sync_in_five_reads(access, aws, call_log):
    a, r = WORKLOAD, REGION
    assert not observe_key(access, a, r, SESSION_KEY_ALIAS).exists
    for action in plan_key(SPEC, TARGET, observe_key(access, a, r, SESSION_KEY_ALIAS)):
        execute(access, action)
    key = observe_key(access, a, r, SESSION_KEY_ALIAS)
    assert key.exists and key.arn
    group = aws_logs.observe_log_group(access, a, r, SPEC.cloud_watch.log_group_name)
    for action in plan_log_group(SPEC, TARGET, key.arn, group):
        execute(access, action)
    document = aws_ssm.observe_session_document(access, a, r)
    assert not document.exists
    for action in plan_document(SPEC, TARGET, key.arn, document):
        execute(access, action)

    call_log.reset()
    key = observe_key(access, a, r, SESSION_KEY_ALIAS)
    group = aws_logs.observe_log_group(access, a, r, SPEC.cloud_watch.log_group_name)
    document = aws_ssm.observe_session_document(access, a, r)
    assert plan_key(SPEC, TARGET, key) == []
    assert plan_log_group(SPEC, TARGET, key.arn, group) == []
    assert plan_document(SPEC, TARGET, key.arn, document) == []
    assert sorted(c.operation for c in call_log.calls()) == [
        "DescribeKey", "DescribeLogGroups", "GetDocument", "GetKeyPolicy", "GetKeyRotationStatus"]
    assert group.kms_key_id == key.arn and group.retention_days == 365
    assert document.document_type == "Session" and document.preferences.kms_key_id == key.arn


def test_preferences_put_back_after_an_edit_reuse_the_version_ssm_will_not_duplicate(access, aws):
    """Someone saves preferences with S3 encryption off (a new default version); putting Vigil's
    back is refused as a duplicate of version 1 by SSM, so version 1 becomes the default again."""
    a, r = WORKLOAD, REGION
    key_arn = observe_key(access, a, r, SESSION_KEY_ALIAS).arn or ""
    ssm = client(aws, "ssm")
    before = ssm.get_document(Name=PREFERENCES_DOCUMENT)
    edited = json.loads(before["Content"])
    edited["inputs"]["s3EncryptionEnabled"] = False
    new = ssm.update_document(Name=PREFERENCES_DOCUMENT, Content=json.dumps(edited),
                              DocumentVersion="$LATEST")["DocumentDescription"]["DocumentVersion"]
    ssm.update_document_default_version(Name=PREFERENCES_DOCUMENT, DocumentVersion=new)

    document = aws_ssm.observe_session_document(access, a, r)
    [update] = plan_document(SPEC, TARGET, key_arn, document)
    assert [(c.path, c.before, c.after) for c in update.changes] == [("s3_encryption_enabled", False, True)]
    execute(access, update)
    after = aws_ssm.observe_session_document(access, a, r)
    assert after.version == before["DocumentVersion"] and after.preferences.s3_encryption_enabled is True
    assert plan_document(SPEC, TARGET, key_arn, after) == []

    # New preferences (another timeout) are a new version, made the default.
    longer = SPEC.model_copy(update={"idle_session_timeout_minutes": 45})
    [update] = plan_document(longer, TARGET, key_arn, after)
    execute(access, update)
    latest = aws_ssm.observe_session_document(access, a, r)
    assert int(latest.version or 0) == int(new) + 1 and latest.preferences.idle_session_timeout == "45"
    assert document_content(desired_preferences(longer, TARGET, key_arn), latest.content) == \
        ssm.get_document(Name=PREFERENCES_DOCUMENT)["Content"]


def test_only_the_document_vigil_created_is_deleted(access, aws):
    a, r = WORKLOAD, REGION
    assert aws_ssm.observe_session_document(access, a, r).exists
    assert not aws_ssm.delete_owned_document(access, a, r, Owner("someone", "SessionLogging", "else"))
    assert aws_ssm.observe_session_document(access, a, r).exists
    assert aws_ssm.delete_owned_document(access, a, r, TARGET.owner)
    assert not aws_ssm.observe_session_document(access, a, r).exists
    assert not aws_ssm.delete_owned_document(access, a, r, TARGET.owner), "nothing left to delete"
    client(aws, "ssm").create_document(Name=PREFERENCES_DOCUMENT, DocumentType="Session", Content=session_document())
    assert not aws_ssm.delete_owned_document(access, a, r, TARGET.owner), "an untagged document is adopted"
    assert aws_ssm.observe_session_document(access, a, r).exists
