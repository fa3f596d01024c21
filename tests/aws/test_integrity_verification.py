"""Integrity verification against the sandbox (vigil.aws.integrity, `vigil verify-trail`): digest
chains written to S3 with their signature metadata, CloudTrail's public key from ListPublicKeys;
every tampered variant found as exactly its own finding (a gzip member appended to a log file or a
digest included); backfill digests verified, and tampering with them found; a 48-hour chain of 3
accounts x 2 regions verifies clean; the calls it makes are reads; an unreadable bucket is an
error, not a finding. `vigil verify-trail` finds where a trail delivers from the trail itself, and
looking anywhere else (a wrong prefix, no organization id) is a finding, not "nothing to verify".
Where `make tools` installed awscli, its `validate-logs` accepts the sandbox's chain too."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from vigil import cli
from vigil.aws.integrity import Reader, judge_continuity, trail_events, verify_trail
from vigil.planning.integrity import APPENDED, DigestLayout, FindingKind, Window
from vigil_sandbox.digests import (SANDBOX_TRAIL_BUCKET, ChainWriter, ClientStore, MotoStore, Signer,
                                   reader_policy, sandbox_layout)
from vigil_sandbox.faults import Fault, Faults
from vigil_sandbox.gaps.cloudtrail import find_trail, register_public_key
from vigil_sandbox.integrity_bench import installed_awscli

HOME = "ca-central-1"
REGIONS = ("ca-central-1", "us-east-1")
BUCKET = "vigil-test-integrity"


@pytest.fixture(scope="module")
def bucket(aws, organization) -> str:
    aws.client("s3", organization.log_archive).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": HOME})
    return BUCKET


def layout_for(organization, prefix: str) -> DigestLayout:
    return DigestLayout(BUCKET, prefix, "vigil-org-trail", HOME, organization.organization_id)


def run(access, organization, layout, accounts, regions=REGIONS[:1], hours: int = 8, expect_since=None):
    window = Window.lookback(datetime.now(timezone.utc), timedelta(hours=hours))
    return verify_trail(access, Reader(organization.log_archive, HOME), layout, accounts, regions, window, 16,
                        expect_since=expect_since)


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
    "gzip member appended to a log": FindingKind.LOG_FILE_MODIFIED,
    "gzip member appended to a digest": FindingKind.DIGEST_MODIFIED,
    "empty hour": None,
}
STOP_LOGGING = json.dumps({"Records": [{"eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging"}]})


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
        "gzip member appended to a log": lambda: writer.append_gzip_member(
            log := writer.log_keys(keys[2])[1], STOP_LOGGING.encode()) or log,
        "gzip member appended to a digest": lambda: writer.append_gzip_member(keys[2], b'{"logFiles": []}') or keys[2],
        "empty hour": lambda: None,
    }[variant]()
    result = run(access, organization, layout, [account])
    assert result.errors == []
    expected = [] if VARIANTS[variant] is None else [(VARIANTS[variant], f"{BUCKET}/{where}")]
    assert [(f.kind, f.location) for f in result.tally.findings] == expected, [str(f) for f in result.tally.findings]
    assert result.tally.digests == 6 - (variant == "deleted digest")
    if variant.startswith("gzip member appended"):
        assert result.tally.findings[0].message == APPENDED


def test_backfill_digests_are_verified_and_tampering_with_them_is_found(access, aws, organization, bucket):
    layout = layout_for(organization, "backfill")
    account = organization.workloads[0]
    writer = ChainWriter(ClientStore(aws.client("s3", organization.log_archive)), layout, Signer.from_seed())
    writer.write(account, HOME, start(6), 6)
    backfill = writer.write(account, HOME, start(6) + timedelta(hours=1), 3, backfill=True)
    assert all(key.endswith("_backfill.json.gz") for key in backfill)
    clean = run(access, organization, layout, [account], expect_since=start(6))
    assert clean.verified and (clean.tally.digests, clean.tally.log_files) == (6 + 3, (6 + 3) * 2)

    log = writer.log_keys(backfill[1])[0]
    writer.flip_log_byte(log)
    writer.hide_log_in_digest(backfill[2])  # the newest: nothing after it tells modified from re-signed
    found = run(access, organization, layout, [account], expect_since=start(6)).tally.findings
    assert [(f.kind, f.location) for f in found] == [
        (FindingKind.LOG_FILE_MODIFIED, f"{BUCKET}/{log}"),
        (FindingKind.DIGEST_SIGNATURE_INVALID, f"{BUCKET}/{backfill[2]}")], [str(f) for f in found]


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


def test_a_read_refused_part_way_leaves_its_day_unread_not_a_finding(access, organization, sandbox, bucket):
    """Objects are read by a pool apart from the unit judging them: a refusal there is still the
    unit's error (its day unread), and the rest of the chain is verified."""
    layout = layout_for(organization, "refused")
    account = organization.workloads[0]
    writer = ChainWriter(MotoStore(organization.log_archive), layout, Signer.from_seed())
    writer.write(account, HOME, start(3), 3)
    faults = Faults(sandbox.endpoint)
    refused = Fault(operations=("GetObject",), services=("s3",), times=1, status=403, code="AccessDenied")
    with faults.injecting(error=refused):
        result = run(access, organization, layout, [account])
    assert result.tally.findings == [] and not result.verified
    [error] = result.errors
    assert error.unit.startswith(f"{account}/{HOME}/") and "GetObject" in error.message, error


def test_vigil_verify_trail_reports_and_exits_1_on_a_finding(aws, organization, capsys):
    """`vigil-sandbox` seeded a clean chain; the command verifies it, then finds a tampered log."""
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


# --- Where verify-trail looks --------------------------------------------------------------------

CLOUDTRAIL = "cloudtrail.amazonaws.com"
LOCATED_TRAIL = "vigil-test-located-trail"
LOCATED_BUCKET = "vigil-test-located"
LOCATED_PREFIX = "org/audit"


def logging_since(organization, trail: str, at: datetime) -> None:
    """The trail started logging at ``at``: moto's clock for it, naive UTC as moto keeps it."""
    find_trail(organization.management, HOME, trail).status.started = at.astimezone(timezone.utc).replace(tzinfo=None)


@pytest.fixture(scope="module")
def located(aws, organization) -> Iterator[DigestLayout]:
    """An organization trail of the management account delivering to the log-archive account's
    bucket under a prefix, logging for 8 hours, a clean chain of every active account in its home
    region where it delivers; the trail deleted and trusted access put back afterwards."""
    s3 = aws.client("s3", organization.log_archive)
    s3.create_bucket(Bucket=LOCATED_BUCKET, CreateBucketConfiguration={"LocationConstraint": HOME})
    policy = json.loads(reader_policy(LOCATED_BUCKET, organization.management))  # verify-trail reads as it
    policy["Statement"].append({"Effect": "Allow", "Principal": {"Service": CLOUDTRAIL},
                                "Action": ["s3:GetBucketAcl", "s3:PutObject"],
                                "Resource": [f"arn:aws:s3:::{LOCATED_BUCKET}", f"arn:aws:s3:::{LOCATED_BUCKET}/*"]})
    s3.put_bucket_policy(Bucket=LOCATED_BUCKET, Policy=json.dumps(policy))
    org = aws.client("organizations")
    trusted = CLOUDTRAIL in {s["ServicePrincipal"] for s in
                             org.list_aws_service_access_for_organization()["EnabledServicePrincipals"]}
    org.enable_aws_service_access(ServicePrincipal=CLOUDTRAIL)
    cloudtrail = aws.client("cloudtrail")
    arn = cloudtrail.create_trail(Name=LOCATED_TRAIL, S3BucketName=LOCATED_BUCKET, S3KeyPrefix=LOCATED_PREFIX,
                                  IsOrganizationTrail=True, IsMultiRegionTrail=True,
                                  EnableLogFileValidation=True)["TrailARN"]
    cloudtrail.start_logging(Name=arn)
    logging_since(organization, LOCATED_TRAIL, datetime.now(timezone.utc) - timedelta(hours=8))
    layout = DigestLayout(LOCATED_BUCKET, LOCATED_PREFIX, LOCATED_TRAIL, HOME, organization.organization_id)
    writer = ChainWriter(MotoStore(organization.log_archive), layout, Signer.from_seed(), logs_per_hour=1,
                         events_per_log=1)
    writer.write_trail((organization.management, *organization.members), [HOME], start(4), 4)
    try:
        yield layout
    finally:
        cloudtrail.delete_trail(Name=arn)
        if not trusted:
            org.disable_aws_service_access(ServicePrincipal=CLOUDTRAIL)


def verify_json(capsys, *args: str) -> tuple[int, dict]:
    code = cli.main(["verify-trail", "--home-region", HOME, "--lookback", "6h", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_verify_trail_finds_where_the_trail_delivers_from_its_name_alone(organization, located, capsys):
    code, report = verify_json(capsys, "--trail", LOCATED_TRAIL)
    assert report["location"] == {"bucket": LOCATED_BUCKET, "prefix": LOCATED_PREFIX,
                                  "organizationId": organization.organization_id, "trail": LOCATED_TRAIL,
                                  "homeRegion": HOME, "notes": []}
    accounts = 1 + len(organization.members)
    assert (report["chains"], report["digestsVerified"], report["failures"]) == (accounts, accounts * 4, 0)
    assert code == 0


@pytest.mark.parametrize("given, contradiction", [
    (["--prefix", "audit"], "--prefix 'audit' contradicts trail vigil-test-located-trail, which has 'org/audit'"),
    (["--organization-id", ""], "--organization-id 'none' contradicts trail vigil-test-located-trail, which has 'o-"),
])
def test_looking_where_the_trail_does_not_deliver_is_a_finding(organization, located, capsys, given, contradiction):
    code, report = verify_json(capsys, "--trail", LOCATED_TRAIL, *given)
    assert code == 1
    assert len(report["location"]["notes"]) == 1 and report["location"]["notes"][0].startswith(contradiction)
    looked = DigestLayout(LOCATED_BUCKET, report["location"]["prefix"], LOCATED_TRAIL, HOME,
                          report["location"]["organizationId"])
    accounts = (organization.management, *organization.members)
    assert report["digestsVerified"] == 0 and report["failures"] == len(accounts)
    assert sorted((f["kind"], f["object"]) for f in report["findings"]) == sorted(
        ("DigestMissing", f"s3://{LOCATED_BUCKET}/{looked.digest_folder(account, HOME)}") for account in accounts)
    assert "not where the trail delivers" in report["findings"][0]["message"]

    assert cli.main(["verify-trail", "--home-region", HOME, "--lookback", "6h", "--trail", LOCATED_TRAIL,
                     *given]) == 1
    text = capsys.readouterr().out
    assert f"  NOTE     {contradiction}" in text
    assert f"no digest in s3://{LOCATED_BUCKET}/{looked.digest_folder('<account>', '<region>')}: " \
           "is that where the trail delivers?" in text


AWSCLI = installed_awscli()


@pytest.mark.skipif(AWSCLI is None, reason="awscli is not installed: `make tools` installs it in .venv-awscli")
def test_awscli_validate_logs_accepts_the_sandbox_chain(organization, located):
    """AWS's own verifier (`aws cloudtrail validate-logs`, the bench's yardstick) reads the sandbox
    as it reads AWS: the trail, CloudTrail's key (PKCS#1 DER), the digests' metadata and chain."""
    trail_arn = f"arn:aws:cloudtrail:{HOME}:{organization.management}:trail/{LOCATED_TRAIL}"
    since = (datetime.now(timezone.utc) - timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
    env = {**os.environ, "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    done = subprocess.run([str(AWSCLI), "cloudtrail", "validate-logs", "--trail-arn", trail_arn, "--start-time", since,
                           "--account-id", organization.management, "--region", HOME],
                          capture_output=True, text=True, env=env, timeout=120)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    assert "4/4 digest files valid" in done.stdout and "4/4 log files valid" in done.stdout, done.stdout


def test_nothing_where_a_young_trail_delivers_is_not_a_verification_either(organization, located, capsys):
    logging_since(organization, LOCATED_TRAIL, datetime.now(timezone.utc) - timedelta(minutes=30))
    try:
        code, report = verify_json(capsys, "--trail", LOCATED_TRAIL, "--prefix", "audit")
    finally:
        logging_since(organization, LOCATED_TRAIL, datetime.now(timezone.utc) - timedelta(hours=8))
    assert (code, report["failures"], report["digestsVerified"]) == (3, 0, 0)  # nothing verified: no verdict (exit_codes.ERROR)


def test_a_missing_organization_id_is_a_finding_where_the_trail_cannot_be_read(organization, capsys):
    """The sandbox's seeded chain has no trail in CloudTrail: verify-trail looks where it is told,
    and without the organization id finds no digest, which is a finding, where it says it looked."""
    code, report = verify_json(capsys, "--trail", "vigil-org-trail", "--bucket", SANDBOX_TRAIL_BUCKET,
                               "--prefix", "cloudtrail")
    assert code == 1
    assert report["location"]["organizationId"] is None
    assert "trail vigil-org-trail was not found in ca-central-1" in report["location"]["notes"][0]
    assert report["digestsVerified"] == 0 and report["failures"] == 1 + len(organization.members)
    assert {f["object"] for f in report["findings"]} == {
        f"s3://{SANDBOX_TRAIL_BUCKET}/cloudtrail/AWSLogs/{account}/CloudTrail-Digest/{HOME}/"
        for account in (organization.management, *organization.members)}

    code, report = verify_json(capsys, "--trail", "vigil-org-trail", "--bucket", SANDBOX_TRAIL_BUCKET,
                               "--prefix", "cloudtrail", "--organization-id", organization.organization_id)
    assert (code, report["failures"]) == (0, 0) and report["digestsVerified"] == 3 * (1 + len(organization.members))


def test_a_trail_that_cannot_be_found_needs_a_bucket(capsys):
    assert cli.main(["verify-trail", "--home-region", HOME, "--trail", "vigil-test-no-such-trail"]) == 3  # exit_codes.ERROR
    assert "trail vigil-test-no-such-trail was not found in ca-central-1" in capsys.readouterr().err


# --- Continuity: gaps, stops, keys ------------------------------------------------------------------

def test_a_restart_no_stop_explains_is_digest_missing_with_its_range(access, aws, organization, bucket):
    layout = layout_for(organization, "restart")
    account = organization.workloads[0]
    writer = ChainWriter(ClientStore(aws.client("s3", organization.log_archive)), layout, Signer.from_seed())
    writer.write(account, HOME, start(8), 3)
    again = writer.write(account, HOME, start(8) + timedelta(hours=5), 3)  # digests of hours 3 to 5 gone
    result = run(access, organization, layout, [account], hours=10)
    judge_continuity(access, organization.management, HOME, "vigil-org-trail", result)
    assert result.errors == []
    [finding] = result.tally.findings
    assert (finding.kind, finding.location) == (FindingKind.DIGEST_MISSING, f"{BUCKET}/{again[0]}")
    [gap] = result.gaps
    assert (gap.account, gap.region, gap.reason) == (account, HOME, "DigestMissing")
    assert finding.message.startswith(f"no digest from {gap.since} to {gap.until}: the chain starts again here")
    assert datetime.fromisoformat(gap.until) - datetime.fromisoformat(gap.since) == timedelta(hours=2)
    [chain] = result.coverage
    assert datetime.fromisoformat(chain.last) - datetime.fromisoformat(chain.first) == timedelta(hours=8)


def test_the_event_history_names_who_stopped_the_trail_and_who_started_it(access, aws, organization, located):
    management = organization.management
    iam = aws.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"AWS": f"arn:aws:iam::{management}:root"}}]}
    iam.create_role(RoleName="vigil-test-ops", AssumeRolePolicyDocument=json.dumps(trust))
    credentials = aws.client("sts").assume_role(RoleArn=f"arn:aws:iam::{management}:role/vigil-test-ops",
                                                RoleSessionName="mallory")["Credentials"]
    import boto3

    ops = boto3.client("cloudtrail", region_name=HOME, aws_access_key_id=credentials["AccessKeyId"],
                       aws_secret_access_key=credentials["SecretAccessKey"],
                       aws_session_token=credentials["SessionToken"])
    ops.stop_logging(Name=LOCATED_TRAIL)
    time.sleep(1.1)  # CloudTrail's event times are to the second
    aws.client("cloudtrail").start_logging(Name=LOCATED_TRAIL)
    window = Window.lookback(datetime.now(timezone.utc), timedelta(hours=1))
    events = trail_events(access, management, HOME, LOCATED_TRAIL, window)
    names = [(e.name, e.who) for e in sorted(events, key=lambda e: e.time)]
    assert ("StopLogging", f"arn:aws:sts::{management}:assumed-role/vigil-test-ops/mallory") in names
    assert names[-1] == ("StartLogging", f"arn:aws:iam::{management}:root")
    assert trail_events(access, management, HOME, "vigil-test-another-trail", window) == []

    history = aws.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "StopLogging"}], MaxResults=1)
    assert len(history["Events"]) == 1 and history["Events"][0]["Username"] == "mallory"
    with pytest.raises(aws.client("cloudtrail").exceptions.InvalidLookupAttributesException):
        aws.client("cloudtrail").lookup_events(LookupAttributes=[
            {"AttributeKey": "EventName", "AttributeValue": "StopLogging"},
            {"AttributeKey": "Username", "AttributeValue": "mallory"}])

    result = verify_trail(access, Reader(management, HOME), located, [management], [HOME], window, 4)
    judge_continuity(access, management, HOME, LOCATED_TRAIL, result)
    stopped = [g for g in result.gaps if g.reason == "LoggingStopped"]
    assert stopped and stopped[-1].until is not None
    assert f"by arn:aws:sts::{management}:assumed-role/vigil-test-ops/mallory; started again" in stopped[-1].message
    assert result.tally.failures == 0, "a stop is evidence, not a finding"


def test_stopping_a_trail_outside_its_home_region_is_refused(aws):
    with pytest.raises(aws.client("cloudtrail", region="us-east-1").exceptions.InvalidHomeRegionException):
        aws.client("cloudtrail", region="us-east-1").stop_logging(Name=LOCATED_TRAIL)


def test_a_chain_across_a_key_rotation_verifies_with_both_keys_listed(access, aws, organization, bucket):
    rotated = Signer.from_seed("vigil-sandbox-cloudtrail-rotated")
    now = datetime.now(timezone.utc)
    layout = layout_for(organization, "rotation")
    account = organization.workloads[0]
    writer = ChainWriter(ClientStore(aws.client("s3", organization.log_archive)), layout, Signer.from_seed())
    keys = writer.write(account, HOME, start(6), 6, rotations={3: rotated})
    unlisted = run(access, organization, layout, [account])
    # A day's digests are judged together, so across midnight the findings are not in hour order.
    assert sorted((f.kind, f.location) for f in unlisted.tally.findings) == [
        (FindingKind.DIGEST_KEY_UNKNOWN, f"{BUCKET}/{key}") for key in sorted(keys[3:])]
    register_public_key(HOME, rotated.public_der(), now - timedelta(hours=4), now + timedelta(days=1))
    assert run(access, organization, layout, [account]).verified
