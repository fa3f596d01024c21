"""The organization's service and resource control policies, applied by the sandbox
(vigil_sandbox.organization_policies) to real requests: who is denied, who is exempt, who never is;
the implicit deny of an allow list; condition keys absent from a request; what the sandbox refuses
to guess; the Organizations gaps around policies (size, syntax, enabled types, attachments), each
against plain moto; and, at the end, the pure policy language.

Policies are organization-wide state shared by the session: every test enables what it needs
through the ``policies`` fixture, which detaches, deletes and disables it all again afterwards.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from vigil_sandbox.contract import SandboxContractError
from vigil_sandbox.gaps import without_gaps
from vigil_sandbox.iam_actions import iam_action
from vigil_sandbox.policy_language import (
    RESOURCE_CONTROL_POLICY,
    SERVICE_CONTROL_POLICY,
    MalformedPolicy,
    RequestContext,
    parse_policy,
)

HOME = "ca-central-1"
SCP = SERVICE_CONTROL_POLICY
RCP = RESOURCE_CONTROL_POLICY
NO_RETRIES = Config(retries={"total_max_attempts": 1})
TRUST_MANAGEMENT = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}]})
# The exemption Vigil's guardrails carry: its own roles may do what everyone else may not.
EXEMPT_VIGIL = {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/vigil-*"}}


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def refusal(call) -> ClientError:
    with pytest.raises(ClientError) as raised:
        call()
    return raised.value


class OrganizationPolicies:
    """Policy types enabled, policies created and attached for one test, all undone by ``undo``."""

    def __init__(self, organizations: Any, root_id: str) -> None:
        self.organizations = organizations
        self.root_id = root_id
        self._enabled: list[str] = []
        self._created: list[str] = []
        self._attached: list[tuple[str, str]] = []
        self._detached: list[tuple[str, str]] = []

    def enable(self, *policy_types: str) -> None:
        enabled = {t["Type"] for t in self.organizations.list_roots()["Roots"][0]["PolicyTypes"]}
        for policy_type in policy_types:
            if policy_type not in enabled:
                self.organizations.enable_policy_type(RootId=self.root_id, PolicyType=policy_type)
                self._enabled.append(policy_type)

    def disable(self, policy_type: str) -> None:
        self.organizations.disable_policy_type(RootId=self.root_id, PolicyType=policy_type)
        if policy_type in self._enabled:
            self._enabled.remove(policy_type)

    def create(self, policy_type: str, content: str, name: str | None = None) -> str:
        name = name or f"vigil-test-{uuid.uuid4().hex[:8]}"
        created = self.organizations.create_policy(Name=name, Description="a test's", Type=policy_type,
                                                   Content=content)["Policy"]["PolicySummary"]["Id"]
        self._created.append(created)
        return created

    def attach(self, policy_id: str, target_id: str) -> None:
        self.organizations.attach_policy(PolicyId=policy_id, TargetId=target_id)
        self._attached.append((policy_id, target_id))

    def detach(self, policy_id: str, target_id: str) -> None:
        self.organizations.detach_policy(PolicyId=policy_id, TargetId=target_id)
        self._detached.append((policy_id, target_id))

    def attach_new(self, policy_type: str, content: str, target_id: str) -> str:
        policy_id = self.create(policy_type, content)
        self.attach(policy_id, target_id)
        return policy_id

    def undo(self) -> None:
        for policy_id, target_id in reversed(self._detached):  # the managed policies back first
            if policy_id not in self._attached_to(target_id):
                self.organizations.attach_policy(PolicyId=policy_id, TargetId=target_id)
        for policy_id, target_id in reversed(self._attached):
            if policy_id in self._attached_to(target_id):
                self.organizations.detach_policy(PolicyId=policy_id, TargetId=target_id)
        for policy_type in self._enabled:  # detaches whatever else of the type is left
            self.organizations.disable_policy_type(RootId=self.root_id, PolicyType=policy_type)
        for policy_id in self._created:
            self.organizations.delete_policy(PolicyId=policy_id)

    def _attached_to(self, target_id: str) -> set[str]:
        listed = self.organizations.list_policies_for_target
        return {p["Id"] for policy_type in (SCP, RCP)
                for p in listed(TargetId=target_id, Filter=policy_type)["Policies"]}


@pytest.fixture
def policies(aws, organization) -> Iterator[OrganizationPolicies]:
    changes = OrganizationPolicies(aws.client("organizations"), organization.root_id)
    try:
        yield changes
    finally:
        changes.undo()


class Roles:
    """Clients acting as a role of a member account, assumed by the management account."""

    def __init__(self) -> None:
        self._session = boto3.Session()
        self._keys: dict[str, dict[str, str]] = {}

    def client(self, role_arn: str, service: str, region: str = HOME, config: Config | None = None) -> Any:
        if role_arn not in self._keys:
            credentials = self._session.client("sts").assume_role(
                RoleArn=role_arn, RoleSessionName="vigil-policy-tests")["Credentials"]
            self._keys[role_arn] = {"aws_access_key_id": credentials["AccessKeyId"],
                                    "aws_secret_access_key": credentials["SecretAccessKey"],
                                    "aws_session_token": credentials["SessionToken"]}
        return self._session.client(service, region_name=region, config=config, **self._keys[role_arn])


@pytest.fixture(scope="module")
def member_roles(aws, organization) -> Iterator[dict[str, str]]:
    """In a workload account and the log-archive account: ``vigil-guardian`` (exempt from the test
    guardrails by name) and ``app-admin`` (not), both trusting the management account."""
    arns = {}
    for label, account in (("workload", organization.workloads[-1]), ("log-archive", organization.log_archive)):
        iam = aws.client("iam", account)
        for role in ("vigil-guardian", "app-admin"):
            arns[f"{label}/{role}"] = iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST_MANAGEMENT)[
                "Role"]["Arn"]
    yield arns
    for label, account in (("workload", organization.workloads[-1]), ("log-archive", organization.log_archive)):
        for role in ("vigil-guardian", "app-admin"):
            aws.client("iam", account).delete_role(RoleName=role)


@pytest.fixture(scope="module")
def roles() -> Roles:
    return Roles()


# --- Service control policies ----------------------------------------------------------------------


def guardrail(*actions: str, resource: str = "*", condition: dict | None = None) -> str:
    statement = {"Sid": "ProtectLogging", "Effect": "Deny", "Action": list(actions), "Resource": resource}
    return document({**statement, "Condition": condition or EXEMPT_VIGIL})


def test_an_scp_denies_a_member_principal_and_exempts_vigils_roles(aws, organization, policies, member_roles,
                                                                   roles, call_log):
    workload = organization.workloads[-1]
    group = f"/vigil-test/{uuid.uuid4().hex[:8]}"
    aws.client("logs", workload).create_log_group(logGroupName=group)
    policies.enable(SCP)
    policy_id = policies.attach_new(SCP, guardrail("logs:DeleteLogGroup", "cloudtrail:StopLogging"),
                                    organization.organizational_units["Workloads"])

    admin = roles.client(member_roles["workload/app-admin"], "logs")
    denied = refusal(lambda: admin.delete_log_group(logGroupName=group))
    assert denied.response["Error"]["Code"] == "AccessDeniedException"
    assert denied.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    message = denied.response["Error"]["Message"]
    assert message.startswith(f"User: arn:aws:sts::{workload}:assumed-role/app-admin/vigil-policy-tests is not "
                              f"authorized to perform: logs:DeleteLogGroup on resource: "
                              f"arn:aws:logs:{HOME}:{workload}:log-group:{group} with an explicit deny in a "
                              "service control policy: ")
    assert message.endswith(f"/service_control_policy/{policy_id}")
    assert aws.client("logs", workload).describe_log_groups(logGroupNamePrefix=group)["logGroups"]  # not applied

    # The organization's own access role is no exception either; Vigil's roles are.
    assert refusal(lambda: aws.client("logs", workload).delete_log_group(logGroupName=group)).response[
        "Error"]["Code"] == "AccessDeniedException"
    roles.client(member_roles["workload/vigil-guardian"], "logs").delete_log_group(logGroupName=group)

    denials = call_log.denied()
    assert [(c.service, c.operation, c.account, c.status) for c in denials] == [
        ("logs", "DeleteLogGroup", workload, 400)] * 2
    policy_name = aws.client("organizations").describe_policy(PolicyId=policy_id)["Policy"]["PolicySummary"]["Name"]
    assert {c.denied for c in denials} == {f"service control policy {policy_id} ({policy_name})"}
    assert [c for c in call_log.calls() if c.operation == "DeleteLogGroup"][-1].denied is None


def test_each_protocol_answers_its_own_access_denied(aws, organization, policies, member_roles, roles):
    workload = organization.workloads[-1]
    policies.enable(SCP)
    policies.attach_new(SCP, guardrail("s3:PutBucketPolicy", "s3:ListBucket", "ec2:DeleteFlowLogs", "iam:DeleteRole",
                                       "guardduty:DeleteDetector"),
                        organization.organizational_units["Workloads"])
    admin = member_roles["workload/app-admin"]
    answers = {
        "s3": refusal(lambda: roles.client(admin, "s3").put_bucket_policy(Bucket="vigil-test-any", Policy="{}")),
        "ec2": refusal(lambda: roles.client(admin, "ec2").delete_flow_logs(FlowLogIds=["fl-0123456789abcdef0"])),
        "iam": refusal(lambda: roles.client(admin, "iam").delete_role(RoleName="vigil-guardian")),
        "guardduty": refusal(lambda: roles.client(admin, "guardduty").delete_detector(DetectorId="d" * 32)),
    }
    seen = {service: (error.response["ResponseMetadata"]["HTTPStatusCode"], error.response["Error"]["Code"])
            for service, error in answers.items()}
    assert seen == {"s3": (403, "AccessDenied"), "ec2": (403, "UnauthorizedOperation"),
                    "iam": (403, "AccessDenied"), "guardduty": (403, "AccessDeniedException")}
    assert f"on resource: arn:aws:ec2:{HOME}:{workload}:vpc-flow-log/fl-0123456789abcdef0" in \
        answers["ec2"].response["Error"]["Message"]
    assert f"on resource: arn:aws:iam::{workload}:role/vigil-guardian" in answers["iam"].response["Error"]["Message"]
    assert aws.client("iam", workload).get_role(RoleName="vigil-guardian")  # not applied
    # HeadBucket is s3:ListBucket; a HEAD answer has no body, so botocore has the status alone.
    head = refusal(lambda: roles.client(admin, "s3").head_bucket(Bucket="vigil-test-any"))
    assert (head.response["ResponseMetadata"]["HTTPStatusCode"], head.response["Error"]["Code"]) == (403, "403")


def test_the_management_account_is_never_denied(aws, organization, policies):
    group = f"/vigil-test/{uuid.uuid4().hex[:8]}"
    logs = aws.client("logs")
    logs.create_log_group(logGroupName=group)
    policies.enable(SCP)
    policies.attach_new(SCP, document({"Effect": "Deny", "Action": "logs:*", "Resource": "*"}), organization.root_id)
    policies.attach_new(SCP, document({"Effect": "Deny", "Action": "*", "Resource": "*"}), organization.management)

    logs.delete_log_group(logGroupName=group)
    denied = refusal(lambda: aws.client("logs", organization.security).describe_log_groups())
    assert denied.response["Error"]["Code"] == "AccessDeniedException"


def test_an_scp_applies_only_while_its_type_is_enabled(aws, organization, policies):
    workload = organization.workloads[-1]
    policies.enable(SCP)
    policies.attach_new(SCP, document({"Effect": "Deny", "Action": "logs:DescribeLogGroups", "Resource": "*"}),
                        organization.organizational_units["Workloads"])
    logs = aws.client("logs", workload)
    refusal(lambda: logs.describe_log_groups())

    policies.disable(SCP)
    assert logs.describe_log_groups()["logGroups"]


def test_without_full_aws_access_an_ou_is_limited_to_what_its_scps_allow(aws, organization, policies):
    workloads = organization.organizational_units["Workloads"]
    policies.enable(SCP)
    policies.attach_new(SCP, document({"Effect": "Allow", "Action": ["logs:Describe*", "sts:*"], "Resource": "*"}),
                        workloads)
    policies.detach("p-FullAWSAccess", workloads)
    logs = aws.client("logs", organization.workloads[-1])

    assert logs.describe_log_groups()["logGroups"]
    denied = refusal(lambda: logs.create_log_group(logGroupName="/vigil-test/never"))
    assert denied.response["Error"]["Message"].endswith(
        "because no service control policy allows the logs:CreateLogGroup action")
    # Another OU still has FullAWSAccess at every level.
    security = aws.client("logs", organization.security)
    security.create_log_group(logGroupName="/vigil-test/allowed")
    security.delete_log_group(logGroupName="/vigil-test/allowed")


def test_the_implicit_deny_is_recorded_with_the_level_that_allows_nothing(aws, organization, policies, call_log):
    workloads = organization.organizational_units["Workloads"]
    policies.enable(SCP)
    policies.attach_new(SCP, document({"Effect": "Allow", "Action": "sts:*", "Resource": "*"}), workloads)
    policies.detach("p-FullAWSAccess", workloads)
    refusal(lambda: aws.client("kms", organization.workloads[-1]).list_keys())
    assert [c.denied for c in call_log.denied()] == [
        f"service control policy: none allows kms:ListKeys at {workloads}"]


# --- Resource control policies ---------------------------------------------------------------------


@pytest.fixture
def archive_bucket(aws, organization) -> Iterator[str]:
    """A bucket in the log-archive account that the workload account may read and delete from."""
    name = f"vigil-test-archive-{uuid.uuid4().hex[:8]}"
    s3 = aws.client("s3", organization.log_archive)
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": HOME})
    s3.put_bucket_policy(Bucket=name, Policy=document({
        "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{organization.workloads[-1]}:root"},
        "Action": ["s3:GetObject", "s3:DeleteObject"], "Resource": f"arn:aws:s3:::{name}/*"}))
    for key in ("logs/a.json.gz", "logs/b.json.gz", "scratch/c.txt"):
        s3.put_object(Bucket=name, Key=key, Body=b"{}")
    yield name
    for entry in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=entry["Key"])
    s3.delete_bucket(Bucket=name)


def archive_rcp(bucket: str) -> str:
    return document({"Sid": "KeepTheArchive", "Effect": "Deny", "Principal": "*",
                     "Action": ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutBucketPolicy"],
                     "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/logs/*"],
                     "Condition": EXEMPT_VIGIL})


# Resource fixtures come before ``policies``: torn down after it, once nothing protects them.
def test_an_rcp_denies_everyone_on_the_log_archive_buckets_objects(aws, organization, archive_bucket, policies,
                                                                    member_roles, roles, call_log):
    policies.enable(RCP)
    policy_id = policies.attach_new(RCP, archive_rcp(archive_bucket), organization.organizational_units["Security"])
    key = "logs/a.json.gz"

    # A principal of another account, whom the bucket policy lets in.
    outsider = roles.client(member_roles["workload/app-admin"], "s3")
    denied = refusal(lambda: outsider.delete_object(Bucket=archive_bucket, Key=key))
    assert denied.response["Error"]["Code"] == "AccessDenied"
    assert denied.response["Error"]["Message"].startswith(
        f"User: arn:aws:sts::{organization.workloads[-1]}:assumed-role/app-admin/vigil-policy-tests is not "
        f"authorized to perform: s3:DeleteObject on resource: arn:aws:s3:::{archive_bucket}/{key} with an "
        "explicit deny in a resource control policy: ")
    # The bucket's own account, and even the management account.
    refusal(lambda: aws.client("s3", organization.log_archive).delete_object(Bucket=archive_bucket, Key=key))
    refusal(lambda: aws.client("s3").delete_object(Bucket=archive_bucket, Key=key))
    assert aws.client("s3", organization.log_archive).get_object(Bucket=archive_bucket, Key=key)["Body"].read() == b"{}"

    assert {c.denied for c in call_log.denied()} == {f"resource control policy {policy_id} ({_name(aws, policy_id)})"}
    # Outside the protected prefix, and for Vigil's role, the RCP does not apply.
    outsider.delete_object(Bucket=archive_bucket, Key="scratch/c.txt")
    roles.client(member_roles["log-archive/vigil-guardian"], "s3").delete_object(Bucket=archive_bucket, Key=key)


def _name(aws, policy_id: str) -> str:
    return aws.client("organizations").describe_policy(PolicyId=policy_id)["Policy"]["PolicySummary"]["Name"]


def test_delete_objects_refuses_only_the_objects_an_rcp_protects(aws, organization, archive_bucket, policies,
                                                                  call_log):
    policies.enable(RCP)
    policies.attach_new(RCP, archive_rcp(archive_bucket), organization.organizational_units["Security"])
    s3 = aws.client("s3", organization.log_archive)

    answer = s3.delete_objects(Bucket=archive_bucket, Delete={"Objects": [
        {"Key": "logs/a.json.gz"}, {"Key": "scratch/c.txt"}, {"Key": "logs/b.json.gz"}]})
    assert [d["Key"] for d in answer["Deleted"]] == ["scratch/c.txt"]
    assert [(e["Key"], e["Code"]) for e in answer["Errors"]] == [
        ("logs/a.json.gz", "AccessDenied"), ("logs/b.json.gz", "AccessDenied")]
    assert "explicit deny in a resource control policy" in answer["Errors"][0]["Message"]
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=archive_bucket)["Contents"]) == [
        "logs/a.json.gz", "logs/b.json.gz"]
    every_one = s3.delete_objects(Bucket=archive_bucket, Delete={"Objects": [{"Key": "logs/a.json.gz"}]})
    assert not every_one.get("Deleted") and every_one["Errors"][0]["Key"] == "logs/a.json.gz"
    assert [(c.operation, c.status) for c in call_log.denied()] == [("DeleteObjects", 200)] * 2


def test_an_rcp_reads_a_kms_keys_tags_through_its_alias_and_spares_the_management_account(
        aws, organization, policies):
    tagged = {"Tags": [{"TagKey": "vigil:protected", "TagValue": "true"}]}
    archive_kms = aws.client("kms", organization.log_archive)
    protected = archive_kms.create_key(**tagged)["KeyMetadata"]["KeyId"]
    alias = f"alias/vigil-test-{uuid.uuid4().hex[:8]}"
    archive_kms.create_alias(AliasName=alias, TargetKeyId=protected)
    unprotected = archive_kms.create_key()["KeyMetadata"]["KeyId"]
    own = aws.client("kms").create_key(**tagged)["KeyMetadata"]["KeyId"]
    policies.enable(RCP)
    policies.attach_new(RCP, document({
        "Effect": "Deny", "Principal": "*", "Action": ["kms:ScheduleKeyDeletion", "kms:DisableKey"], "Resource": "*",
        "Condition": {"StringEquals": {"aws:ResourceTag/vigil:protected": "true"}}}), organization.root_id)

    denied = refusal(lambda: archive_kms.schedule_key_deletion(KeyId=alias, PendingWindowInDays=7))
    assert denied.response["Error"]["Code"] == "AccessDeniedException"
    assert f"on resource: arn:aws:kms:{HOME}:{organization.log_archive}:key/{protected}" in \
        denied.response["Error"]["Message"]
    archive_kms.schedule_key_deletion(KeyId=unprotected, PendingWindowInDays=7)
    kms = aws.client("kms")
    kms.schedule_key_deletion(KeyId=own, PendingWindowInDays=7)  # the management account's resources
    kms.cancel_key_deletion(KeyId=own)
    archive_kms.cancel_key_deletion(KeyId=unprotected)


def test_an_rcp_on_sts_applies_to_the_management_account_assuming_a_member_role(aws, organization, member_roles,
                                                                                policies):
    policies.enable(RCP)
    policies.attach_new(RCP, document({
        "Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/app-admin"}),
        organization.organizational_units["Security"])
    sts = aws.client("sts")
    denied = refusal(lambda: sts.assume_role(RoleArn=member_roles["log-archive/app-admin"], RoleSessionName="denied"))
    assert (denied.response["ResponseMetadata"]["HTTPStatusCode"], denied.response["Error"]["Code"]) == (
        403, "AccessDenied")
    assert "with an explicit deny in a resource control policy" in denied.response["Error"]["Message"]
    # The same role name in the Workloads OU, and another role of the log-archive account.
    sts.assume_role(RoleArn=member_roles["workload/app-admin"], RoleSessionName="allowed")
    sts.assume_role(RoleArn=member_roles["log-archive/vigil-guardian"], RoleSessionName="allowed")


@pytest.fixture
def service_linked_role(aws, organization) -> Iterator[str]:
    """A service-linked role of a workload account, and keys for it (AWS lets only its service assume
    it; plain moto issues keys for any role, which stands in for the service here)."""
    iam = aws.client("iam", organization.workloads[-1])
    arn = iam.create_service_linked_role(AWSServiceName="access-analyzer.amazonaws.com")["Role"]["Arn"]
    yield arn
    iam.delete_service_linked_role(RoleName=arn.rsplit("/", 1)[-1])


def test_a_service_linked_role_is_never_limited(aws, organization, service_linked_role, policies):
    assert ":role/aws-service-role/" in service_linked_role
    with without_gaps():
        credentials = aws.client("sts").assume_role(RoleArn=service_linked_role,
                                                    RoleSessionName="analyzer")["Credentials"]
    logs = boto3.Session().client("logs", region_name=HOME, aws_access_key_id=credentials["AccessKeyId"],
                                  aws_secret_access_key=credentials["SecretAccessKey"],
                                  aws_session_token=credentials["SessionToken"])
    policies.enable(SCP, RCP)
    policies.attach_new(SCP, document({"Effect": "Deny", "Action": "logs:*", "Resource": "*"}),
                        organization.organizational_units["Workloads"])
    policies.attach_new(RCP, document({"Effect": "Deny", "Principal": "*", "Action": "logs:*", "Resource": "*"}),
                        organization.organizational_units["Workloads"])
    assert logs.describe_log_groups()["logGroups"]
    refusal(lambda: aws.client("logs", organization.workloads[-1]).describe_log_groups())


# --- Condition keys ---------------------------------------------------------------------------------


@pytest.fixture
def flow_logs(aws, organization) -> Iterator[dict[str, str]]:
    """Two flow logs in a workload account: one tagged protected=yes, one untagged."""
    account = organization.workloads[-1]
    ec2 = aws.client("ec2", account)
    s3 = aws.client("s3", account)
    bucket = f"vigil-test-flows-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": HOME})
    vpc = ec2.create_vpc(CidrBlock="10.98.0.0/16")["Vpc"]["VpcId"]
    made = {}
    for name, tags in (("protected", [{"Key": "protected", "Value": "yes"}]), ("plain", [])):
        spec = [{"ResourceType": "vpc-flow-log", "Tags": tags}] if tags else []
        made[name] = ec2.create_flow_logs(ResourceType="VPC", ResourceIds=[vpc], LogDestinationType="s3",
                                          LogDestination=f"arn:aws:s3:::{bucket}/{name}", TrafficType="ALL",
                                          TagSpecifications=spec)["FlowLogIds"][0]
    yield made
    left = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc]}])["FlowLogs"]
    if left:
        ec2.delete_flow_logs(FlowLogIds=[f["FlowLogId"] for f in left])
    ec2.delete_vpc(VpcId=vpc)
    s3.delete_bucket(Bucket=bucket)


def test_resource_tags_and_tag_keys_decide_an_ec2_guardrail(aws, organization, flow_logs, policies):
    policies.enable(SCP)
    policies.attach_new(SCP, document(
        {"Effect": "Deny", "Action": "ec2:DeleteFlowLogs", "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceTag/protected": "yes"}}},
        {"Effect": "Deny", "Action": ["ec2:CreateTags", "ec2:DeleteTags"], "Resource": "*",
         "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["protected"]}}}),
        organization.organizational_units["Workloads"])
    ec2 = aws.client("ec2", organization.workloads[-1])

    assert refusal(lambda: ec2.delete_flow_logs(FlowLogIds=[flow_logs["protected"]])).response[
        "Error"]["Code"] == "UnauthorizedOperation"
    refusal(lambda: ec2.delete_tags(Resources=[flow_logs["protected"]], Tags=[{"Key": "protected"}]))
    refusal(lambda: ec2.create_tags(Resources=[flow_logs["plain"]], Tags=[{"Key": "protected", "Value": "yes"}]))
    ec2.create_tags(Resources=[flow_logs["plain"]], Tags=[{"Key": "team", "Value": "apps"}])
    # One request, two flow logs: the one denied denies the request, and nothing is deleted.
    both = [flow_logs["plain"], flow_logs["protected"]]
    refusal(lambda: ec2.delete_flow_logs(FlowLogIds=both))
    assert len(ec2.describe_flow_logs(FlowLogIds=both)["FlowLogs"]) == 2
    # A key the flow log lacks: StringEquals does not match it, so the untagged one goes.
    ec2.delete_flow_logs(FlowLogIds=[flow_logs["plain"]])


def test_if_exists_and_negated_operators_pass_an_absent_key(aws, organization, policies):
    # aws:ResourceTag/owner is absent from a log group request (the sandbox reads no log group tags):
    # StringNotEquals and StringEqualsIfExists both match it, StringEquals does not.
    logs = aws.client("logs", organization.workloads[-1])
    workloads = organization.organizational_units["Workloads"]
    policies.enable(SCP)
    for operator, denied in (("StringEquals", False), ("StringNotEquals", True), ("StringEqualsIfExists", True),
                             ("StringNotEqualsIfExists", True)):
        policy_id = policies.attach_new(SCP, document({
            "Effect": "Deny", "Action": "logs:DescribeLogGroups", "Resource": "*",
            "Condition": {operator: {"aws:ResourceTag/owner": "vigil"}}}), workloads)
        if denied:
            refusal(lambda: logs.describe_log_groups())
        else:
            logs.describe_log_groups()
        aws.client("organizations").detach_policy(PolicyId=policy_id, TargetId=workloads)


def test_a_condition_key_of_the_principal_exempts_by_organization(aws, organization, archive_bucket, policies):
    # The data-perimeter RCP: nobody outside the organization. Every caller here is inside.
    policies.enable(RCP)
    policies.attach_new(RCP, document({
        "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
        "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": organization.organization_id},
                      "BoolIfExists": {"aws:PrincipalIsAWSService": "false"}}}), organization.root_id)
    assert aws.client("s3", organization.workloads[-1]).get_object(
        Bucket=archive_bucket, Key="logs/a.json.gz")["Body"].read() == b"{}"


# --- What the sandbox refuses to guess ---------------------------------------------------------------


def test_an_operator_outside_the_subset_fails_loudly(aws, organization, policies, call_log):
    policies.enable(SCP)
    # AWS takes this policy; the sandbox cannot evaluate it, and says so instead of allowing.
    policies.attach_new(SCP, document({"Effect": "Deny", "Action": "logs:DeleteLogGroup", "Resource": "*",
                                       "Condition": {"StringEqualsIgnoreCase": {"aws:PrincipalTag/team": "ops"}}}),
                        organization.organizational_units["Workloads"])
    logs = aws.client("logs", organization.workloads[-1], config=NO_RETRIES)
    error = refusal(lambda: logs.describe_log_groups())
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert error.response["Error"]["Code"] == "SandboxContractError"
    assert "StringEqualsIgnoreCase" in error.response["Error"]["Message"]
    assert [(c.operation, c.status, c.denied) for c in call_log.calls()][-1] == ("DescribeLogGroups", 500, None)


def test_a_resource_the_sandbox_cannot_name_fails_loudly_under_a_statement_naming_resources(
        aws, organization, policies):
    policies.enable(SCP)
    policies.attach_new(SCP, document({"Effect": "Deny", "Action": "config:StopConfigurationRecorder",
                                       "Resource": "arn:aws:config:*:*:configuration-recorder/*"}),
                        organization.organizational_units["Workloads"])
    config = aws.client("config", organization.workloads[-1], config=NO_RETRIES)
    error = refusal(lambda: config.stop_configuration_recorder(ConfigurationRecorderName="default"))
    assert error.response["Error"]["Code"] == "SandboxContractError"
    assert "config:StopConfigurationRecorder" in error.response["Error"]["Message"]
    # An action the statement does not name is evaluated as usual.
    aws.client("config", organization.workloads[-1]).describe_configuration_recorders()


# --- The Organizations gaps around policies -----------------------------------------------------------


def test_a_policy_larger_than_5120_characters_is_refused(aws, policies):
    organizations = aws.client("organizations")
    padded = document({"Sid": "x" * 5200, "Effect": "Deny", "Action": "s3:*", "Resource": "*"})
    with without_gaps():
        plain = organizations.create_policy(Name="vigil-test-too-big", Description="", Type=SCP, Content=padded)
    organizations.delete_policy(PolicyId=plain["Policy"]["PolicySummary"]["Id"])

    error = refusal(lambda: policies.create(SCP, padded))
    assert error.response["Error"]["Code"] == "ConstraintViolationException"
    assert error.response["Reason"] == "POLICY_CONTENT_LIMIT_EXCEEDED"


@pytest.mark.parametrize(("policy_type", "content"), [
    (SCP, "not a policy"),
    (SCP, json.dumps({"Statement": [{"Effect": "Maybe", "Action": "*", "Resource": "*"}]})),
    (SCP, json.dumps({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]})),
    (RCP, json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]})),
])
def test_a_malformed_policy_is_refused(aws, policies, policy_type, content):
    assert refusal(lambda: policies.create(policy_type, content)).response["Error"]["Code"] == (
        "MalformedPolicyDocumentException")


def test_a_policy_attaches_only_while_its_type_is_enabled(aws, organization, policies):
    organizations = aws.client("organizations")
    policy_id = policies.create(SCP, guardrail("s3:PutBucketPolicy"))
    security = organization.organizational_units["Security"]
    with without_gaps():
        organizations.attach_policy(PolicyId=policy_id, TargetId=security)
        organizations.detach_policy(PolicyId=policy_id, TargetId=security)
    assert refusal(lambda: policies.attach(policy_id, security)).response["Error"]["Code"] == (
        "PolicyTypeNotEnabledException")

    policies.enable(SCP)
    policies.attach(policy_id, security)
    assert refusal(lambda: organizations.attach_policy(PolicyId=policy_id, TargetId=security)).response[
        "Error"]["Code"] == "DuplicatePolicyAttachmentException"


def test_at_most_five_policies_of_a_type_attach_to_a_target(aws, organization, policies):
    policies.enable(SCP)
    security = organization.organizational_units["Security"]
    for n in range(4):  # beside FullAWSAccess
        policies.attach_new(SCP, guardrail(f"s3:PutBucketPolicy{n}"), security)
    extra = policies.create(SCP, guardrail("s3:PutBucketAcl"))
    error = refusal(lambda: policies.attach(extra, security))
    assert error.response["Error"]["Code"] == "ConstraintViolationException"
    assert error.response["Reason"] == "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"


def test_a_targets_last_scp_and_rcp_full_aws_access_stay_attached(aws, organization, policies):
    policies.enable(SCP, RCP)
    organizations = aws.client("organizations")
    security = organization.organizational_units["Security"]
    with without_gaps():
        organizations.detach_policy(PolicyId="p-FullAWSAccess", TargetId=security)
        organizations.attach_policy(PolicyId="p-FullAWSAccess", TargetId=security)
    for policy_id in ("p-FullAWSAccess", "p-RCPFullAWSAccess"):
        error = refusal(lambda: organizations.detach_policy(PolicyId=policy_id, TargetId=security))
        assert error.response["Reason"] == "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"
    guard = policies.create(SCP, guardrail("s3:PutBucketPolicy"))
    assert refusal(lambda: organizations.detach_policy(PolicyId=guard, TargetId=security)).response[
        "Error"]["Code"] == "PolicyNotAttachedException"


def test_enabling_a_type_attaches_its_managed_policy_everywhere_and_disabling_detaches_the_type(
        aws, organization, policies):
    organizations = aws.client("organizations")
    targets = [organization.root_id, *organization.organizational_units.values(), *organization.members]
    policies.enable(RCP)
    for target in targets:
        attached = organizations.list_policies_for_target(TargetId=target, Filter=RCP)["Policies"]
        assert [p["Name"] for p in attached] == ["RCPFullAWSAccess"]
    guard = policies.attach_new(RCP, archive_rcp("vigil-test-any"), organization.organizational_units["Security"])
    with without_gaps():  # moto keeps the type's policies attached, to apply again once re-enabled
        organizations.disable_policy_type(RootId=organization.root_id, PolicyType=RCP)
        assert organizations.list_targets_for_policy(PolicyId=guard)["Targets"]
        organizations.enable_policy_type(RootId=organization.root_id, PolicyType=RCP)

    organizations.disable_policy_type(RootId=organization.root_id, PolicyType=RCP)
    assert not organizations.list_targets_for_policy(PolicyId=guard)["Targets"]
    organizations.enable_policy_type(RootId=organization.root_id, PolicyType=RCP)
    assert [p["Name"] for p in organizations.list_policies_for_target(
        TargetId=organization.organizational_units["Security"], Filter=RCP)["Policies"]] == ["RCPFullAWSAccess"]


def test_policies_are_managed_from_the_management_account_only(aws, organization):
    member = aws.client("organizations", organization.security, config=NO_RETRIES)
    with without_gaps():  # moto looks for an organization in the member's own backend, and fails
        assert refusal(lambda: member.create_policy(Name="vigil-test-member", Description="", Type=SCP,
                                                    Content=guardrail("s3:*"))).response[
            "ResponseMetadata"]["HTTPStatusCode"] == 500
    error = refusal(lambda: member.create_policy(Name="vigil-test-member", Description="", Type=SCP,
                                                 Content=guardrail("s3:*")))
    assert error.response["Error"]["Code"] == "AccessDeniedException"
    assert refusal(lambda: member.attach_policy(PolicyId="p-FullAWSAccess", TargetId=organization.security)).response[
        "Error"]["Code"] == "AccessDeniedException"


# --- The policy language, without a sandbox ------------------------------------------------------------


def context(action: str = "s3:PutBucketPolicy", resource: str | None = "arn:aws:s3:::bucket") -> RequestContext:
    return RequestContext(action, resource, {})


def deny(condition: dict[str, Any] | None = None, **statement: Any) -> Any:
    defaults = {"Action": "s3:*", "Resource": "*"}
    body = {"Effect": "Deny", **{k: v for k, v in defaults.items() if f"Not{k}" not in statement}, **statement}
    if condition is not None:
        body["Condition"] = condition
    return parse_policy(document(body), SCP)


def denies(policy, ctx: RequestContext) -> bool:
    return policy.denying(ctx) is not None


def test_actions_match_case_insensitively_and_resources_case_sensitively():
    policy = deny(Action="S3:put*", Resource="arn:aws:s3:::Logs-?/*")
    assert denies(policy, context("s3:PutObject", "arn:aws:s3:::Logs-1/key"))
    assert not denies(policy, context("s3:PutObject", "arn:aws:s3:::logs-1/key"))
    assert not denies(policy, context("s3:GetObject", "arn:aws:s3:::Logs-1/key"))
    brackets = deny(Resource="arn:aws:s3:::[ab]")  # fnmatch would read a character class
    assert denies(brackets, context(resource="arn:aws:s3:::[ab]")) and not denies(brackets, context(
        resource="arn:aws:s3:::a"))


def test_not_action_and_not_resource():
    policy = deny(NotAction=["s3:Get*", "s3:List*"], Resource="*")
    assert denies(policy, context("s3:PutObject")) and not denies(policy, context("s3:GetObject"))
    spared = deny(NotResource="arn:aws:s3:::scratch/*")
    assert not denies(spared, context(resource="arn:aws:s3:::scratch/x")) and denies(spared, context())


def keyed(**keys: Any) -> RequestContext:
    return RequestContext("s3:PutBucketPolicy", "arn:aws:s3:::bucket", {k.lower(): v for k, v in keys.items()})


@pytest.mark.parametrize(("operator", "absent", "other", "same"), [
    ("StringEquals", False, False, True),
    ("StringNotEquals", True, True, False),
    ("StringEqualsIfExists", True, False, True),
    ("StringNotEqualsIfExists", True, True, False),
    ("StringLike", False, False, True),
    ("StringNotLike", True, True, False),
    ("ForAnyValue:StringEquals", False, False, True),
    ("ForAllValues:StringEquals", True, False, True),
])
def test_operators_on_an_absent_a_different_and_the_same_value(operator, absent, other, same):
    policy = deny({operator: {"aws:PrincipalAccount": "111122223333"}})
    assert denies(policy, keyed()) is absent
    assert denies(policy, keyed(**{"aws:PrincipalAccount": "444455556666"})) is other
    assert denies(policy, keyed(**{"aws:PrincipalAccount": "111122223333"})) is same


def test_null_tests_whether_a_key_is_there():
    policy = deny({"Null": {"aws:ResourceTag/owner": "true"}})
    assert denies(policy, keyed()) and not denies(policy, keyed(**{"aws:resourcetag/owner": "x"}))
    assert denies(deny({"Null": {"aws:ResourceTag/owner": "false"}}), keyed(**{"aws:resourcetag/owner": "x"}))


def test_keys_are_anded_values_ored_and_negated_values_nored():
    policy = deny({"StringEquals": {"aws:PrincipalAccount": ["1", "2"], "aws:RequestedRegion": "ca-central-1"},
                   "ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/vigil-*", "arn:aws:iam::*:role/ops"]}})
    inside = {"aws:PrincipalAccount": "2", "aws:RequestedRegion": "ca-central-1",
              "aws:PrincipalArn": "arn:aws:iam::2:role/app"}
    assert denies(policy, keyed(**inside))
    assert not denies(policy, keyed(**{**inside, "aws:RequestedRegion": "us-east-1"}))
    assert not denies(policy, keyed(**{**inside, "aws:PrincipalArn": "arn:aws:iam::2:role/ops"}))
    assert not denies(policy, keyed(**{**inside, "aws:PrincipalArn": "arn:aws:iam::2:role/vigil-x"}))


def test_arn_operators_match_part_by_part_and_bool_ignores_case():
    arn = deny({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/*"}})
    assert denies(arn, keyed(**{"aws:PrincipalArn": "arn:aws:iam::1:role/a/b"}))
    assert not denies(arn, keyed(**{"aws:PrincipalArn": "arn:aws:sts::1:assumed-role/a"}))
    boolean = deny({"Bool": {"aws:PrincipalIsAWSService": False}})
    assert denies(boolean, keyed(**{"aws:PrincipalIsAWSService": "FALSE"}))


def test_set_operators_on_a_multivalued_key():
    any_of = deny({"ForAnyValue:StringLike": {"aws:TagKeys": ["vigil:*"]}})
    all_of = deny({"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "env"]}})
    assert denies(any_of, keyed(**{"aws:TagKeys": ("team", "vigil:owner")}))
    assert not denies(any_of, keyed(**{"aws:TagKeys": ("team",)})) and not denies(any_of, keyed())
    assert denies(all_of, keyed(**{"aws:TagKeys": ("team",)})) and denies(all_of, keyed())
    assert not denies(all_of, keyed(**{"aws:TagKeys": ("team", "cost")}))


@pytest.mark.parametrize("condition", [
    {"StringEqualsIgnoreCase": {"aws:PrincipalAccount": "1"}},
    {"NumericLessThan": {"s3:max-keys": "10"}},
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"StringEquals": {"aws:PrincipalArn": "${aws:PrincipalAccount}"}},
    {"StringEquals": {"aws:TagKeys": "team"}},
    {"ForAnyValue:Bool": {"aws:SecureTransport": "true"}},
])
def test_what_the_sandbox_cannot_evaluate_is_a_contract_error(condition):
    with pytest.raises(SandboxContractError):
        deny(condition)


def test_a_statement_naming_resources_needs_the_requests_resource():
    specific = deny(Resource="arn:aws:s3:::logs/*")
    with pytest.raises(SandboxContractError, match="cannot name the resource"):
        specific.denying(context(resource=None))
    assert denies(deny(), context(resource=None))  # "*": whatever it is
    assert not denies(specific, context(resource="*"))  # an action acting on no particular resource


@pytest.mark.parametrize("content", [
    "[]", json.dumps({"Statement": []}), json.dumps({"Statement": [{"Effect": "Deny", "Resource": "*"}]}),
    json.dumps({"Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*", "NotResource": "*"}]}),
    json.dumps({"Statement": [{"Effect": "Deny", "Action": "nocolon", "Resource": "*"}]}),
])
def test_what_aws_refuses_is_malformed(content):
    with pytest.raises(MalformedPolicy):
        parse_policy(content, SCP)


def test_rcps_take_principal_star_only():
    assert parse_policy(document({"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*"}), RCP)
    with pytest.raises(MalformedPolicy):
        parse_policy(document({"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "s3:*"}), RCP)


@pytest.mark.parametrize(("service", "operation", "version", "action"), [
    ("s3", "ListObjectsV2", False, "s3:ListBucket"),
    ("s3", "HeadObject", False, "s3:GetObject"),
    ("s3", "PutBucketLifecycleConfiguration", False, "s3:PutLifecycleConfiguration"),
    ("s3", "DeleteBucketEncryption", False, "s3:PutEncryptionConfiguration"),
    ("s3", "PutObjectLockConfiguration", False, "s3:PutBucketObjectLockConfiguration"),
    ("s3", "DeleteObject", True, "s3:DeleteObjectVersion"),
    ("s3", "PutPublicAccessBlock", False, "s3:PutBucketPublicAccessBlock"),
    ("accessanalyzer", "DeleteAnalyzer", False, "access-analyzer:DeleteAnalyzer"),
    ("cloudtrail", "StopLogging", False, "cloudtrail:StopLogging"),
])
def test_iam_actions(service, operation, version, action):
    assert iam_action(service, operation, version) == action
