"""Failures isolated per account, and AWS errors that say what to do, end to end with the real
operator on the whole example baseline:

- one of seven accounts unreachable (its role no longer trusts the management account): every
  kind stays Ready for the other six within one resync, the account is listed with its reason
  (`status.accounts.unreachable`, `status.failures`), and once its role is back it is enforced
  within one resync;
- a write AWS refuses with ValidationException is sent at most once per resync interval and once
  per spec change (counted on the sandbox's call record over three intervals), while the archive
  converges through 30% throttling;
- access denied, no credentials, an endpoint that does not answer: each status message is the
  sentence that says what to do, never a Python exception's name.
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Callable
from typing import Any

import botocore.exceptions
import pytest

from vigil_sandbox import examples, states
from vigil_sandbox.faults import Fault, Faults
from vigil_sandbox.stack import Stack, condition, is_ready_and_compliant, reconciled, wait_until

pytestmark = pytest.mark.e2e
NS = "baseline"
RESYNC_SECONDS = 3  # conftest.RESYNC
ONE_RESYNC = RESYNC_SECONDS + 20  # one resync, and the margin two shared cores need
ROLE = "OrganizationAccountAccessRole"
BREAK_GLASS = next(doc["spec"]["breakGlassRoleNames"][0] for doc in examples.objects() if doc["kind"] == "Guardrails")
TRAIL = "vigil-org-trail"
BASELINE = [(doc["kind"], doc["metadata"]["name"]) for doc in examples.objects()]
# Kinds that work inside every (workload) account: an unreachable one is theirs to report.
IN_EVERY_ACCOUNT = {"ConfigBaseline", "SessionLogging", "LogSubscriptionPolicy", "SecurityHubBaseline"}
PYTHON_NAMES = {n for n in dir(botocore.exceptions) if n.endswith(("Error", "Exception"))} | {
    "TypeError", "KeyError", "ValueError", "AttributeError", "RuntimeError", "Traceback"}
NOBODY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::210987654321:root"}, "Action": "sts:AssumeRole"}]})


def ready(obj: dict[str, Any]) -> bool:
    return condition(obj, "Ready").get("status") == "True" and reconciled(obj)


def failures(obj: dict[str, Any]) -> list[dict[str, str]]:
    return (obj.get("status") or {}).get("failures") or []


def python_names(text: str) -> set[str]:
    return set(re.findall(r"[A-Za-z_]+", text)) & PYTHON_NAMES


def all_objects(stack: Stack) -> list[dict[str, Any]]:
    return [stack.get(kind, NS, name) for kind, name in BASELINE]


def wait_all(stack: Stack, predicate: Callable[[dict[str, Any]], bool], timeout: float, what: str) -> None:
    for kind, name in BASELINE:
        stack.wait(kind, NS, name, predicate, timeout=timeout, what=what)


@pytest.fixture(scope="module")
def baseline(stack: Stack, manifest) -> Stack:
    for kind, _ in BASELINE:
        stack.apply(manifest(kind, NS))
    wait_all(stack, is_ready_and_compliant, timeout=240, what="Ready and Compliant")
    return stack


def test_one_unreachable_account_holds_back_only_its_own_targets(baseline: Stack):
    stack, org = baseline, baseline.organization
    account, home = org["workloads"][1], org["regions"][0]
    # Clients made while the role still lets the management account in keep their session. The
    # guardrails let only the break-glass role stop a recorder: the tamperer holds it.
    stack.make_role(account, BREAK_GLASS)
    iam, config = stack.aws("iam", account), stack.aws("config", account, role=BREAK_GLASS)
    trust = iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    iam.update_assume_role_policy(RoleName=ROLE, PolicyDocument=NOBODY)
    try:
        def isolated(obj: dict[str, Any]) -> bool:
            mine = [f for f in failures(obj) if f["target"].startswith(account)]
            return ready(obj) and (obj["kind"] not in IN_EVERY_ACCOUNT and obj["kind"] != "Organization"
                                   or bool(mine) and all(f["reason"] == "AccountUnreachable" for f in mine))
        wait_all(stack, isolated, timeout=ONE_RESYNC, what=f"Ready, with only {account} out of reach")

        states.record("account-unreachable", stack.get("ConfigBaseline", NS, "config"))
        status = stack.get("Organization", NS, "acme")["status"]
        assert status["accounts"] == {"total": 7, "reachable": 6, "summary": "6/7", "unreachable": [
            {"accountId": account, "reason": "AccountUnreachable"}]}
        [reported] = [f for f in status["failures"] if f["target"] == account]
        assert reported["message"].startswith(f"Vigil cannot assume arn:aws:iam::{account}:role/{ROLE} (AccessDenied:")
        assert "every other account is enforced" in reported["message"]
        for obj in all_objects(stack):
            assert not [f for f in failures(obj) if f["reason"] != "AccountUnreachable"], obj["kind"]
            assert obj["status"]["targets"]["failed"] == len(failures(obj))
        stack.wait_events(NS, "config", lambda e: e["reason"] == "AccountUnreachable", what="AccountUnreachable")

        # While Vigil cannot reach it, someone stops the account's Config recorder.
        [recorder] = config.describe_configuration_recorders()["ConfigurationRecorders"]
        config.stop_configuration_recorder(ConfigurationRecorderName=recorder["name"])
    finally:
        iam.update_assume_role_policy(RoleName=ROLE, PolicyDocument=trust if isinstance(trust, str)
                                      else json.dumps(trust))

    wait_all(stack, lambda o: is_ready_and_compliant(o) and not failures(o), timeout=ONE_RESYNC,
             what=f"{account} enforced again")
    [recording] = config.describe_configuration_recorder_status()["ConfigurationRecordersStatus"]
    assert recording["recording"] is True, f"{account}/{home}: the recorder was started again"


def test_a_refused_write_is_sent_once_per_resync_and_per_spec_change_while_throttling_converges(baseline: Stack):
    stack, org = baseline, baseline.organization
    faults, calls = Faults(stack.aws_endpoint), stack.calls()
    interval = 5  # longer than the operator's retry period (2 s), so a retry loop would show
    stack.patch_spec("OrgTrail", NS, "org-trail", {"resyncInterval": f"{interval}s"})
    stack.wait("OrgTrail", NS, "org-trail", is_ready_and_compliant, timeout=ONE_RESYNC, what="generation 2 Ready")
    archive = stack.aws("s3", org["log_archive"])

    def refused(since: int = 0) -> list[Any]:
        return [c for c in calls.calls(since) if c.operation == "StartLogging" and c.fault == "error"]

    calls.reset()
    refusal = Fault(operations=("StartLogging",), status=400, code="ValidationException")
    faults.set(error=refusal)
    try:
        stack.aws("cloudtrail").stop_logging(Name=TRAIL)
        archive.delete_public_access_block(Bucket="acme-log-archive")
        # Throttled: the two objects at work here (the other seven would only queue for the same cores).
        faults.set(seed=13, error=refusal, throttle=Fault(rate=0.3, services=("cloudtrail", "s3")))
        held = stack.wait("OrgTrail", NS, "org-trail", lambda o: condition(o, "Ready").get("reason") == "AWSError",
                          timeout=2 * ONE_RESYNC, what="StartLogging refused")
        message = condition(held, "Ready")["message"]
        assert (f"AWS refused cloudtrail:StartLogging in account {org['management']}, {org['regions'][0]} "
                "(ValidationException: ") in message
        assert "Not sent again before " in message and "unless the spec changes" in message
        # Everything else converges through 30% throttling.
        wait_until("the archive's public access block put back", lambda: blocked(archive), timeout=2 * ONE_RESYNC)
        stack.wait("LogArchive", NS, "central", is_ready_and_compliant, timeout=ONE_RESYNC, what="archive Ready")

        first, since = time.monotonic(), len(calls.calls())
        time.sleep(3 * interval)
        sent = len(refused(since))
        assert 1 <= sent <= 4, f"{sent} StartLogging calls in {time.monotonic() - first:.0f} s: at most one per resync"

        # A spec change sends it again at once, and once. Made just after a refusal, so that the
        # old generation's hold has a whole resync to run: nothing of that generation is due.
        sent = len(refused())
        # (A pass can take several seconds through the throttling: botocore backs off between tries.)
        wait_until("a refusal", lambda: len(refused()) > sent, timeout=4 * interval)
        sent = len(refused())
        stack.patch_spec("OrgTrail", NS, "org-trail", {"resyncInterval": f"{interval - 1}s"})
        wait_until("StartLogging sent after the spec change", lambda: len(refused()) > sent, timeout=ONE_RESYNC)
        after_change = len(refused())
        assert after_change == sent + 1
        assert faults.injected()["throttle"] > 5, "throttling was on the way throughout"
        throttled = [stack.metric("vigil_aws_throttles_total", service=s) or 0 for s in ("cloudtrail", "s3")]
        assert sum(throttled) > 5, f"each throttled attempt counted, retried ones too: {throttled}"
    finally:
        faults.clear()
    stack.wait("OrgTrail", NS, "org-trail", is_ready_and_compliant, timeout=ONE_RESYNC + interval,
               what="logging again once AWS accepts")
    assert stack.aws("cloudtrail").get_trail_status(Name=TRAIL)["IsLogging"] is True


def blocked(s3: Any) -> bool:
    try:
        return all(s3.get_public_access_block(Bucket="acme-log-archive")["PublicAccessBlockConfiguration"].values())
    except botocore.exceptions.ClientError:
        return False


def test_access_denied_names_the_action_and_the_role(baseline: Stack):
    stack, org = baseline, baseline.organization
    account, home = org["workloads"][0], org["regions"][0]
    faults = Faults(stack.aws_endpoint)
    with faults.injecting(error=Fault(operations=("GetDocument",), services=("ssm",), status=400,
                                      code="AccessDeniedException")):
        denied = stack.wait("SessionLogging", NS, "session-logging",
                            lambda o: condition(o, "Ready").get("reason") == "AccessDenied", timeout=ONE_RESYNC,
                            what="AccessDenied")
    states.record("access-denied", denied)
    [failure] = [f for f in failures(denied) if f["target"].startswith(f"{account}/{home}")]
    role = f"arn:aws:iam::{account}:role/{ROLE}"
    assert failure["message"] == (
        f"AWS denied ssm:GetDocument in account {account}, {home} to {role} (AccessDeniedException: "
        "AccessDeniedException (an error fault of the Vigil sandbox)). Allow ssm:GetDocument in the policies of "
        f"{role} (docs/deployment.md lists what Vigil needs); Vigil tries again when the spec changes or at the "
        "next resync.")
    own = [f for f in failures(denied) if f["target"].startswith(org["management"])]
    assert own and "to the operator's own AWS identity (arn:aws:" in own[0]["message"]
    for text in [condition(denied, "Ready")["message"], *(f["message"] for f in failures(denied))]:
        assert not python_names(text), text
    stack.wait("SessionLogging", NS, "session-logging", is_ready_and_compliant, timeout=ONE_RESYNC, what="allowed")


def restart(stack: Stack, **env: str) -> None:
    stack.stop_operator()
    stack.operator_env = dict(env)
    stack.start_operator()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def organization_says(stack: Stack, reason: str) -> str:
    org = stack.wait("Organization", NS, "acme", lambda o: condition(o, "Ready").get("reason") == reason,
                     timeout=ONE_RESYNC, what=f"Ready reason {reason}")
    message = condition(org, "Ready")["message"]
    for obj in all_objects(stack):
        for text in [condition(obj, "Ready").get("message", ""), *(f["message"] for f in failures(obj))]:
            assert not python_names(text), f"{obj['kind']}: {text}"
    return message


def test_no_credentials_and_an_endpoint_that_does_not_answer_say_what_to_do(baseline: Stack):
    stack = baseline
    try:
        restart(stack, AWS_ACCESS_KEY_ID="", AWS_SECRET_ACCESS_KEY="", AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
                AWS_CONFIG_FILE="/nonexistent")
        message = organization_says(stack, "NoCredentials")
        assert message.startswith("Vigil found no AWS credentials to make sts:GetCallerIdentity")
        for where in ("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", "AWS_WEB_IDENTITY_TOKEN_FILE",
                      "EKS Pod Identity", "AWS_PROFILE", "the instance metadata service",
                      "Give the operator's ServiceAccount an IAM role"):
            assert where in message, message

        endpoint = f"http://127.0.0.1:{closed_port()}"
        restart(stack, AWS_ENDPOINT_URL=endpoint, AWS_MAX_ATTEMPTS="2")
        message = organization_says(stack, "EndpointUnreachable")
        assert message.startswith(f"The AWS endpoint {endpoint}/ did not answer ")
        assert "(could not connect) through every retry. Check that the operator can reach it" in message
    finally:
        restart(stack)
    wait_all(stack, is_ready_and_compliant, timeout=ONE_RESYNC * 2, what="Ready again with credentials")
