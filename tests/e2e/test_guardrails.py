"""Guardrails end to end, with the real operator on the whole example baseline and the sandbox
evaluating the SCPs and RCPs as AWS does (vigil_sandbox.organization_policies):

- the baseline converges with the guardrails in place, and not one of Vigil's calls is denied;
- a member account's principal is denied StopLogging on the trail, DeleteBucketPolicy on the
  archive, ScheduleKeyDeletion on its key, DisableSecurityHub and DeleteDetector; Vigil's own role
  is denied StopLogging; the break-glass role is allowed (and Vigil then restores what it did);
- a policy detached behind Vigil's back is attached again within a resync, counted as drift;
- a landing zone's guardrail with the same effect is recognized, and Vigil's own statements
  give way to it (and come back when it goes);
- a configuration beyond AWS's limits is refused with the figures, and nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from vigil_sandbox import examples
from vigil_sandbox.stack import Stack, condition, is_ready_and_compliant, wait_until

pytestmark = pytest.mark.e2e
NS, NAME = "baseline", "guardrails"
RESYNC_SECONDS = 3  # conftest.RESYNC
ONE_RESYNC = RESYNC_SECONDS + 20  # a resync, a timer tick, and the margin two shared cores need
BASELINE = [(doc["kind"], doc["metadata"]["name"]) for doc in examples.objects()]
ROOT, ARCHIVE_BUCKET = "r-vigl", "acme-log-archive"
SCP, RCP = "SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"
DEVELOPER, BREAK_GLASS, VIGIL_ROLE = "Developer", "VigilBreakGlass", "OrganizationAccountAccessRole"
DENIED_CODES = {"AccessDenied", "AccessDeniedException"}


def guardrails(stack: Stack) -> dict[str, Any]:
    return stack.get("Guardrails", NS, NAME)


def vigil_policies(stack: Stack, policy_type: str) -> dict[str, dict[str, Any]]:
    """Vigil's policies of a type: name -> {id, content, targets}."""
    org = stack.aws("organizations")
    found = {}
    for summary in org.list_policies(Filter=policy_type)["Policies"]:
        if summary["Name"].startswith(f"vigil-{NS}-{NAME}-"):
            targets = [t["TargetId"] for t in org.list_targets_for_policy(PolicyId=summary["Id"])["Targets"]]
            content = org.describe_policy(PolicyId=summary["Id"])["Policy"]["Content"]
            found[summary["Name"]] = {"id": summary["Id"], "content": content, "targets": targets}
    return found


def denial(call) -> str:  # type: ignore[no-untyped-def]
    """What AWS (the sandbox) answered: the error code and message of a refused call."""
    with pytest.raises(ClientError) as refused:
        call()
    error = refused.value.response["Error"]
    assert error["Code"] in DENIED_CODES, error
    return error["Message"]


@pytest.fixture(scope="module")
def baseline(stack: Stack, manifest) -> Iterator[Stack]:
    for kind, _ in BASELINE:
        stack.apply(manifest(kind, NS))
    for kind, name in BASELINE:
        stack.wait(kind, NS, name, is_ready_and_compliant, timeout=240, what="Ready and Compliant")
    org = stack.organization
    for account in (org["log_archive"], org["workloads"][0]):
        for role in (DEVELOPER, BREAK_GLASS):
            stack.make_role(account, role)
    yield stack


def test_scps_and_rcps_are_attached_to_the_root(baseline: Stack):
    status = guardrails(baseline)["status"]
    assert status["targets"]["summary"] == "2/2"
    kinds = {p["type"] for p in status["policies"]}
    assert kinds == {SCP, RCP}
    assert all(p["attachedTo"] == [ROOT] and p["characters"] <= 5120 for p in status["policies"])
    assert any(p.startswith("OrgTrail org-trail") for p in status["protections"])
    for policy_type in (SCP, RCP):
        assert all(p["targets"] == [ROOT] for p in vigil_policies(baseline, policy_type).values())


def test_the_whole_baseline_converged_without_one_access_denied(baseline: Stack):
    denied = [c for c in baseline.calls().calls() if c.denied or c.status == 403]
    assert denied == []
    for kind, name in BASELINE:
        obj = baseline.get(kind, NS, name)
        assert [f for f in obj["status"].get("failures") or [] if f["reason"] == "AccessDenied"] == [], kind


def test_a_member_accounts_principal_is_denied_switching_the_controls_off(baseline: Stack):
    org = baseline.organization
    archive, workload, home = org["log_archive"], org["workloads"][0], org["regions"][0]
    trail = baseline.get("OrgTrail", NS, "org-trail")["status"]["trailArn"]
    key = baseline.get("LogArchive", NS, "central")["status"]["kmsKeyArn"]
    since = len(baseline.calls().calls())

    def as_developer(service: str, account: str) -> Any:
        return baseline.aws(service, account, home, role=DEVELOPER)

    messages = [
        denial(lambda: as_developer("cloudtrail", workload).stop_logging(Name=trail)),
        denial(lambda: as_developer("s3", archive).delete_bucket_policy(Bucket=ARCHIVE_BUCKET)),
        denial(lambda: as_developer("kms", archive).schedule_key_deletion(KeyId=key, PendingWindowInDays=7)),
        denial(lambda: as_developer("securityhub", workload).disable_security_hub()),
    ]
    guardduty = as_developer("guardduty", workload)
    [detector] = guardduty.list_detectors()["DetectorIds"]
    messages.append(denial(lambda: guardduty.delete_detector(DetectorId=detector)))
    assert all("explicit deny in a service control policy" in m for m in messages), messages
    assert f"role/{DEVELOPER}/" in messages[0] and "cloudtrail:StopLogging" in messages[0]
    denied = {c.operation: c.denied for c in baseline.calls().calls(since) if c.denied}
    assert set(denied) == {"StopLogging", "DeleteBucketPolicy", "ScheduleKeyDeletion", "DisableSecurityHub",
                           "DeleteDetector"}
    assert all("vigil-baseline-guardrails-scp-" in why for why in denied.values()), denied
    # Nothing was switched off.
    assert baseline.aws("cloudtrail").get_trail_status(Name=trail)["IsLogging"] is True
    assert baseline.aws("kms", archive).describe_key(KeyId=key)["KeyMetadata"]["KeyState"] == "Enabled"


def test_vigils_own_role_is_denied_what_vigil_never_does(baseline: Stack):
    org = baseline.organization
    trail = baseline.get("OrgTrail", NS, "org-trail")["status"]["trailArn"]
    cloudtrail = baseline.aws("cloudtrail", org["workloads"][0], org["regions"][0], role=VIGIL_ROLE)
    message = denial(lambda: cloudtrail.stop_logging(Name=trail))
    assert f"role/{VIGIL_ROLE}/" in message and "explicit deny in a service control policy" in message
    # Deleting archived objects too, whoever asks, Vigil included: the RCP says so as well.
    s3 = baseline.aws("s3", org["log_archive"], org["regions"][0], role=VIGIL_ROLE)
    denial(lambda: s3.delete_object(Bucket=ARCHIVE_BUCKET, Key="cloudtrail/anything.json.gz"))


def test_the_break_glass_role_is_allowed_and_vigil_restores_after_it(baseline: Stack):
    org = baseline.organization
    archive, home = org["log_archive"], org["regions"][0]
    s3 = baseline.aws("s3", archive, home, role=BREAK_GLASS)
    before = int(baseline.get("LogArchive", NS, "central")["status"].get("driftCorrections") or 0)
    s3.delete_bucket_policy(Bucket=ARCHIVE_BUCKET)  # allowed: the one exemption from everything

    def policy_back() -> bool:
        try:
            return bool(baseline.aws("s3", archive, home).get_bucket_policy(Bucket=ARCHIVE_BUCKET)["Policy"])
        except ClientError:
            return False

    wait_until("the archive's bucket policy put back by Vigil", policy_back, ONE_RESYNC)
    baseline.wait("LogArchive", NS, "central",
                  lambda o: int(o["status"].get("driftCorrections") or 0) > before, timeout=ONE_RESYNC,
                  what="the correction counted")


def test_a_policy_detached_behind_vigils_back_is_attached_again_as_drift(baseline: Stack):
    before = int(guardrails(baseline)["status"].get("driftCorrections") or 0)
    [(name, scp)] = vigil_policies(baseline, SCP).items()
    baseline.aws("organizations").detach_policy(PolicyId=scp["id"], TargetId=ROOT)
    wait_until(f"{name} attached to the root again",
               lambda: vigil_policies(baseline, SCP)[name]["targets"] == [ROOT], ONE_RESYNC)
    found = baseline.wait("Guardrails", NS, NAME, lambda o: int(o["status"].get("driftCorrections") or 0) > before,
                          timeout=ONE_RESYNC, what="the re-attachment counted as drift")
    assert is_ready_and_compliant(found) or condition(found, "Ready").get("status") == "True"


def test_a_landing_zones_equivalent_guardrail_is_recognized_not_duplicated(baseline: Stack):
    org = baseline.aws("organizations")
    lz = org.create_policy(Name="landing-zone-guardduty", Type=SCP, Description="a landing zone's guardrail",
                           Content=json.dumps({"Version": "2012-10-17", "Statement": [
                               {"Sid": "GuardDutyUntouchable", "Effect": "Deny", "Action": "guardduty:*",
                                "Resource": "*"}]}))["Policy"]["PolicySummary"]
    org.attach_policy(PolicyId=lz["Id"], TargetId=ROOT)
    try:
        found = baseline.wait("Guardrails", NS, NAME, lambda o: bool(o["status"].get("recognized")),
                              timeout=ONE_RESYNC, what="the landing zone's guardrail recognized")
        assert {(r["policyName"], r["statement"]) for r in found["status"]["recognized"]} == {
            ("landing-zone-guardduty", "GuardDutyUntouchable")}
        wait_until("Vigil's SCP without its GuardDuty statements",
                   lambda: all("guardduty:" not in p["content"] for p in vigil_policies(baseline, SCP).values()),
                   ONE_RESYNC)
        assert not guardrails(baseline)["status"].get("allowedWeakenings")  # giving way is no weakening
    finally:
        org.detach_policy(PolicyId=lz["Id"], TargetId=ROOT)
        org.delete_policy(PolicyId=lz["Id"])
    wait_until("Vigil's GuardDuty statements back",
               lambda: any("guardduty:DeleteDetector" in p["content"] for p in vigil_policies(baseline, SCP).values()),
               ONE_RESYNC)


def test_a_configuration_beyond_aws_limits_is_refused_with_the_figures(baseline: Stack):
    org = baseline.aws("organizations")
    others = []
    for i in range(3):
        made = org.create_policy(Name=f"landing-zone-{i}", Type=SCP, Description="another tool's SCP",
                                 Content=json.dumps({"Version": "2012-10-17", "Statement": [
                                     {"Effect": "Deny", "Action": f"ec2:Action{i}", "Resource": "*"}]}))
        others.append(made["Policy"]["PolicySummary"]["Id"])
        org.attach_policy(PolicyId=others[-1], TargetId=ROOT)
    roles = [f"Role{i:02d}WithAQuiteLongNameForBreakGlassAccess" for i in range(10)]
    try:
        since = len(baseline.calls().calls())
        baseline.patch_spec("Guardrails", NS, NAME, {"breakGlassRoleNames": roles})
        found = baseline.wait("Guardrails", NS, NAME,
                              lambda o: condition(o, "Ready").get("reason") == "InvalidSpec", timeout=ONE_RESYNC,
                              what="InvalidSpec")
        message = condition(found, "Ready")["message"]
        assert "need 3 service control policies on r-vigl" in message, message
        assert "already has 4 others attached (FullAWSAccess, landing-zone-0, landing-zone-1, landing-zone-2)" \
            in message, message
        assert "AWS allows 5 per target" in message
        assert [c for c in baseline.calls().writes(since) if c.service == "organizations"] == []
    finally:
        baseline.patch_spec("Guardrails", NS, NAME, {"breakGlassRoleNames": [BREAK_GLASS]})
        for policy in others:
            org.detach_policy(PolicyId=policy, TargetId=ROOT)
            org.delete_policy(PolicyId=policy)
    baseline.wait("Guardrails", NS, NAME, is_ready_and_compliant, timeout=ONE_RESYNC, what="Ready again")
