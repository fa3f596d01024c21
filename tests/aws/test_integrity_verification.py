"""Integrity verification against the sandbox (vigil.aws.integrity, `vigil verify-trail`): digest
chains written to S3 with their signature metadata, CloudTrail's public key from ListPublicKeys;
every tampered variant found as exactly its own finding; a 48-hour chain of 3 accounts x 2 regions
verifies clean; the calls it makes are reads; an unreadable bucket is an error, not a finding."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from vigil import cli
from vigil.aws.integrity import Reader, verify_trail
from vigil.aws.session import AccessSettings, AwsAccess
from vigil.planning.integrity import DigestLayout, FindingKind, Window
from vigil.sandbox.digests import (SANDBOX_TRAIL_BUCKET, ChainWriter, ClientStore, MotoStore, Signer,
                                   sandbox_layout)

HOME = "ca-central-1"
REGIONS = ("ca-central-1", "us-east-1")
BUCKET = "vigil-test-integrity"


@pytest.fixture(scope="module")
def bucket(aws, organization) -> str:
    aws.client("s3", organization.log_archive).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": HOME})
    return BUCKET


@pytest.fixture(scope="module")
def access(sandbox) -> AwsAccess:
    return AwsAccess(AccessSettings(home_region=HOME))


def layout_for(organization, prefix: str) -> DigestLayout:
    return DigestLayout(BUCKET, prefix, "vigil-org-trail", HOME, organization.organization_id)


def run(access, organization, layout, accounts, regions=REGIONS[:1], hours: int = 8):
    window = Window.lookback(datetime.now(timezone.utc), timedelta(hours=hours))
    return verify_trail(access, Reader(organization.log_archive, HOME), layout, accounts, regions, window, 16)


def start(hours: int) -> datetime:
    return datetime.now(timezone.utc) - timedelta(hours=hours + 1)


def test_the_sandbox_serves_its_signing_key_from_list_public_keys(aws):
    now = datetime.now(timezone.utc)
    for region in REGIONS:
        keys = aws.client("cloudtrail", region=region).list_public_keys(
            StartTime=now - timedelta(hours=1), EndTime=now)["PublicKeyList"]
        assert {k["Fingerprint"]: k["Value"] for k in keys}[Signer.from_seed().fingerprint] == \
            Signer.from_seed().public_der()


def test_a_clean_chain_of_48_hours_3_accounts_2_regions_verifies(access, aws, organization, bucket):
    layout = layout_for(organization, "clean")
    accounts = (organization.management, organization.log_archive, organization.workloads[0])
    writer = ChainWriter(MotoStore(organization.log_archive), layout, Signer.from_seed(), logs_per_hour=1,
                         events_per_log=1)
    writer.write_trail(accounts, REGIONS, start(48), 48)
    result = run(access, organization, layout, accounts, REGIONS, hours=50)
    assert result.tally.findings == [] and result.errors == []
    assert (result.tally.digests, result.tally.log_files) == (48 * 6, 48 * 6)
    assert result.verified


VARIANTS = {
    "flipped byte in a log": FindingKind.LOG_FILE_MODIFIED,
    "deleted log": FindingKind.LOG_FILE_MISSING,
    "deleted digest": FindingKind.DIGEST_MISSING,
    "moved digest": FindingKind.DIGEST_MOVED,
    "re-signed digest": FindingKind.DIGEST_SIGNATURE_INVALID,
    "modified digest": FindingKind.DIGEST_MODIFIED,
    "broken chain": FindingKind.CHAIN_BROKEN,
    "empty hour": None,
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_each_tampered_variant_is_found_and_nothing_else(access, aws, organization, bucket, variant):
    layout = layout_for(organization, "variants/" + variant.replace(" ", "-"))
    account = organization.workloads[1]
    writer = ChainWriter(ClientStore(aws.client("s3", organization.log_archive)), layout, Signer.from_seed())
    keys = writer.write(account, HOME, start(6), 6, empty_hours={3} if variant == "empty hour" else ())
    where = {
        "flipped byte in a log": lambda: writer.flip_log_byte(log := writer.log_keys(keys[2])[1]) or log,
        "deleted log": lambda: writer.delete(log := writer.log_keys(keys[2])[0]) or log,
        "deleted digest": lambda: writer.delete(keys[2]) or keys[2],
        "moved digest": lambda: writer.move_digest(keys[2]),
        "re-signed digest": lambda: writer.resign_digest(keys[2], Signer.from_seed("not cloudtrail")) or keys[2],
        "modified digest": lambda: writer.hide_log_in_digest(keys[2]) and keys[2],
        "broken chain": lambda: writer.break_chain(keys, 2) or keys[2],
        "empty hour": lambda: None,
    }[variant]()
    result = run(access, organization, layout, [account])
    assert result.errors == []
    expected = [] if VARIANTS[variant] is None else [(VARIANTS[variant], f"{BUCKET}/{where}")]
    assert [(f.kind, f.location) for f in result.tally.findings] == expected, [str(f) for f in result.tally.findings]
    assert result.tally.digests == 6 - (variant == "deleted digest")


def test_verification_only_reads(access, aws, organization, bucket, call_log):
    layout = layout_for(organization, "reads")
    writer = ChainWriter(MotoStore(organization.log_archive), layout, Signer.from_seed(), logs_per_hour=2)
    writer.write(organization.security, HOME, start(3), 3)
    call_log.reset()
    result = run(access, organization, layout, [organization.security])
    assert result.verified and result.tally.log_files == 6
    calls = call_log.calls()
    assert [c for c in calls if c.write] == []
    gets = [c for c in calls if c.operation == "GetObject"]
    assert len(gets) == 3 + 6 and {c.account for c in gets} == {organization.log_archive}
    assert {c.operation for c in calls} <= {"ListPublicKeys", "ListObjectsV2", "GetObject", "AssumeRole",
                                            "GetCallerIdentity"}


def test_an_unreadable_bucket_is_an_error_not_a_finding(access, organization):
    layout = DigestLayout("vigil-no-such-bucket", "", "vigil-org-trail", HOME)
    result = run(access, organization, layout, [organization.management])
    assert result.tally.findings == [] and not result.verified
    assert result.errors and result.errors[0].reason == "AWSError" and "NoSuchBucket" in result.errors[0].message


def test_vigil_verify_trail_reports_and_exits_1_on_a_finding(aws, organization, capsys):
    """`vigil sandbox` seeded a clean chain; the command verifies it, then finds a tampered log."""
    args = ["verify-trail", "--bucket", SANDBOX_TRAIL_BUCKET, "--prefix", "cloudtrail", "--trail", "vigil-org-trail",
            "--home-region", HOME, "--organization-id", organization.organization_id,
            "--regions", ",".join(REGIONS), "--lookback", "6h"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    accounts = 1 + len(organization.members)
    assert f"in {accounts * 2} chains" in out and "every digest and log file is as CloudTrail delivered it" in out

    layout = sandbox_layout(SANDBOX_TRAIL_BUCKET, organization.organization_id, HOME)
    writer = ChainWriter(ClientStore(aws.client("s3", organization.log_archive)), layout, Signer.from_seed())
    digest = sorted(k for (b, k) in _keys(aws, organization, layout.digest_folder(organization.management, HOME)))[0]
    log = writer.log_keys(digest)[0]
    writer.flip_log_byte(log)
    try:
        assert cli.main(args + ["--json"]) == 1
        report = json.loads(capsys.readouterr().out)
        assert report["failures"] == 1 and report["findings"][0]["kind"] == "LogFileModified"
        assert report["findings"][0]["object"] == f"s3://{SANDBOX_TRAIL_BUCKET}/{log}"
    finally:
        writer.flip_log_byte(log)  # the same byte back: the sandbox's chain is clean again


def _keys(aws, organization, prefix: str):
    page = aws.client("s3", organization.log_archive).list_objects_v2(Bucket=SANDBOX_TRAIL_BUCKET, Prefix=prefix)
    return [(SANDBOX_TRAIL_BUCKET, item["Key"]) for item in page.get("Contents", [])]
