"""The journal against the AWS sandbox: the signing key made as the LogArchive control makes it
(ECC_NIST_P256, SIGN_VERIFY), records appended by the operator's writer (KMS Sign with MessageType
DIGEST, S3 PutObject with IfNoneMatch), and `vigil evidence` reading them back: it verifies and
writes the bundle; it refuses a journal with one record edited, and one with a record deleted,
naming the record. Also the kms Sign gap on its own."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.hazmat.primitives.serialization import load_der_public_key

from vigil.aws.journal import create_signing_key_with_alias, signing_key_arn
from vigil.cli import main
from vigil.controls.journal import JournalPlace, JournalWriter
from vigil.planning.journal import Verdict, build_record, plan_signing_key
from vigil.planning.ownership import Owner

from .conftest import HOME_REGION

BUCKET = "vigil-journal-test-archive"
ALIAS = "alias/vigil-journal-test"
START = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def place(access, organization) -> JournalPlace:
    account = organization.log_archive
    access.client("s3", account, HOME_REGION).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": HOME_REGION})
    (action,) = plan_signing_key("label", account, HOME_REGION, ALIAS, "o-test", Owner("vigil", "LogArchive", "a"),
                                 exists=False)
    create_signing_key_with_alias(access.client("kms", account, HOME_REGION), action.params)
    arn = signing_key_arn(access, account, HOME_REGION, ALIAS)
    assert arn is not None
    return JournalPlace(BUCKET, account, HOME_REGION, "vigil-journal", arn, "org")


def append(access, place, namespace: str, verdicts: list[bool]) -> list[str]:
    """Records at START, +5 min, ... written through the operator's writer; their keys."""
    clock = iter([START + n * timedelta(minutes=5) for n in range(len(verdicts)) for _ in range(2)])
    writer = JournalWriter(now=lambda: next(clock))
    keys = []
    for compliant in verdicts:
        def make(head, at, compliant=compliant):
            return build_record(head, at, namespace, "FlowLogPolicy", "flows", 1, "Enforce", {"trafficType": "ALL"},
                                {"status": "True", "reason": "Reconciled"},
                                [Verdict(f"{place.account_id}/{HOME_REGION}", compliant, "InSync")], 300)
        keys.append(writer.append(access, place, namespace, make).key)
    return keys


def evidence(place, namespace: str, out: Path, capsys) -> tuple[int, str]:
    code = main(["evidence", "--from", "2025-03-01", "--to", "2025-03-01", "--bucket", place.bucket,
                 "--home-region", HOME_REGION, "--account", place.account_id, "--namespace", namespace,
                 "-o", str(out)])
    return code, capsys.readouterr().out


def test_sign_with_message_type_digest_signs_the_digest(aws, place):
    kms = aws.client("kms", place.account_id)
    digest = hashlib.sha256(b"record").digest()
    signature = kms.sign(KeyId=place.key_arn, Message=digest, MessageType="DIGEST",
                         SigningAlgorithm="ECDSA_SHA_256")["Signature"]
    key = load_der_public_key(kms.get_public_key(KeyId=place.key_arn)["PublicKey"])
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(signature, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    with pytest.raises(ClientError, match="Digest is invalid length"):
        kms.sign(KeyId=place.key_arn, Message=b"short", MessageType="DIGEST", SigningAlgorithm="ECDSA_SHA_256")


def test_a_record_is_never_overwritten(access, place):
    (key,) = append(access, place, "overwrite", [True])
    s3 = access.client("s3", place.account_id, HOME_REGION)
    with pytest.raises(ClientError, match="PreconditionFailed"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"{}", IfNoneMatch="*")


def test_a_restarted_writer_continues_the_chain(access, place):
    first = append(access, place, "restart", [True, True])
    clock = START + timedelta(minutes=30)
    writer = JournalWriter(now=lambda: clock)
    head = writer.append(access, place, "restart", lambda head, at: build_record(
        head, at, "restart", "FlowLogPolicy", "flows", 1, "Enforce", {}, {"status": "True"}, [], 300))
    assert head.seq == 2
    body = json.loads(access.client("s3", place.account_id, HOME_REGION).get_object(
        Bucket=BUCKET, Key=head.key)["Body"].read())
    assert body["record"]["previous"]["key"] == first[-1]


def test_evidence_verifies_the_journal_and_writes_the_bundle(access, place, tmp_path, capsys):
    append(access, place, "clean", [False, True, True, True])
    code, out = evidence(place, "clean", tmp_path, capsys)
    assert code == 0, out
    assert "verified: 4 records (seq 0 to 3)" in out
    content = (tmp_path / "bundle.json").read_bytes()
    assert f"{hashlib.sha256(content).hexdigest()}  {tmp_path / 'bundle.json'}" in out
    (row,) = json.loads(content)["controls"]
    assert row["compliant"] and row["continuouslyCompliantSince"] == "2025-03-01T12:05:00Z"
    assert (tmp_path / "bundle.html").exists()


def test_evidence_refuses_a_journal_with_an_edited_record(aws, access, place, tmp_path, capsys):
    keys = append(access, place, "edited", [True, False, True])
    s3 = aws.client("s3", place.account_id)  # the tamperer's own client, not Vigil's trimmed one
    body = json.loads(s3.get_object(Bucket=BUCKET, Key=keys[1])["Body"].read())
    body["record"]["verdicts"][0]["compliant"] = True  # hide the failure
    s3.put_object(Bucket=BUCKET, Key=keys[1], Body=json.dumps(body).encode())
    code, out = evidence(place, "edited", tmp_path, capsys)
    assert code == 1 and "REFUSED" in out and f"record 1 ({keys[1]})" in out
    assert not (tmp_path / "bundle.json").exists()


def test_evidence_refuses_a_journal_with_a_deleted_record(aws, access, place, tmp_path, capsys):
    keys = append(access, place, "deleted", [True, False, True, True])
    aws.client("s3", place.account_id).delete_object(Bucket=BUCKET, Key=keys[1])
    code, out = evidence(place, "deleted", tmp_path, capsys)
    assert code == 1 and "REFUSED" in out and f"record 1 ({keys[1]}): is missing" in out
    assert not (tmp_path / "bundle.json").exists()
