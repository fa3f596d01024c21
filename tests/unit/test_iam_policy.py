"""The IAM policies `vigil iam` writes (vigil.iam_policies, from the list of operations in
vigil.aws.permissions): each operation authorized as the sandbox's own mapping names it, every
action and condition key in AWS's Service Authorization Reference (as policy_sentry carries it),
the actions AWS checks along with them granted and nothing else, Audit's policies reads only,
parliament and cfn-lint content; and deploy/iam/ as `vigil iam` writes it."""

from __future__ import annotations

import importlib.resources
import json
import re
import shutil
import sys
import types
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.api import lint_all
from policy_sentry.querying.actions import get_action_data

from vigil.aws.permissions import CARRIED, DUTIES, ROLE_PREFIX, Role, duties
from vigil.cli import main
from vigil.iam_policies import (README, TEMPLATE, IamSettings, actions, file_name, iam_files, member_role_template,
                                policy)
from vigil.planning import guardrail_catalogue as guardrails
from vigil.planning.config import AGGREGATOR_ROLE_NAME
from vigil.planning.logsubscription import Names
from vigil.planning.orgtrail import CLOUDWATCH_ROLE_NAME
from vigil.workstation.exit_codes import NOT_COMPLIANT, USAGE
from vigil_sandbox.iam_actions import iam_action
from vigil_sandbox.awsserver import SeenOperation
from vigil_sandbox.iam_coverage import NEEDS_NO_PERMISSION, uncovered

ROOT = Path(__file__).resolve().parents[2]
DEPLOYED = ROOT / "deploy" / "iam"
DOCUMENTS = [file_name(role, audit) for role in Role for audit in (False, True)]
# An AWS managed policy holds at most 6,144 characters, white space not counted (IAM quotas).
MANAGED_POLICY_LIMIT = 6144


@cache
def reference(action: str) -> tuple[dict[str, Any], ...]:
    """The Service Authorization Reference's entries for an action (one per resource type)."""
    prefix, name = action.split(":")
    return tuple(e for e in (get_action_data(prefix, name) or {}).get(prefix, []) if e["action"] == action)


def dependents(action: str) -> set[str]:
    return {d for entry in reference(action) for d in entry["dependent_actions"]}


def access_levels(action: str) -> set[str]:
    return {entry["access_level"] for entry in reference(action)}


def operations(role: Role, audit: bool = False) -> list[Any]:
    return [op for duty in duties(role) for op in duty.operations if op.read or not audit]


# --- each operation, authorized as AWS names it -------------------------------------------------


def test_each_operation_is_authorized_as_the_sandbox_maps_it():
    """The sandbox maps a request to its IAM action by itself (vigil_sandbox.iam_actions): the two
    lists must agree, operation by operation."""
    for duty in DUTIES:
        for op in duty.operations:
            if not op.grants:
                assert (op.service, op.name) in NEEDS_NO_PERMISSION
                continue
            assert op.grants[0].actions == (iam_action(op.service, op.name),), f"{duty.control} {op.service} {op.name}"


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_action_is_in_the_service_authorization_reference(name: str):
    unknown = sorted(a for a in actions(policy_document(name)) if not reference(a))
    assert not unknown, f"{name}: not actions AWS knows (spelled as the reference spells them): {unknown}"


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_condition_key_is_one_aws_documents_for_its_actions(name: str):
    for statement in policy_document(name)["Statement"]:
        for operator, keys in statement.get("Condition", {}).items():
            for key in keys:
                if key.startswith("aws:"):
                    continue  # global condition keys apply to every action
                for action in statement["Action"]:
                    documented = {k for entry in reference(action) for k in entry["condition_keys"]}
                    assert key in documented, f"{name} {statement['Sid']}: {action} takes no {key}"


def policy_document(name: str) -> dict[str, Any]:
    role, audit = Role(name.removesuffix(".json").removesuffix("-audit")), name.endswith("-audit.json")
    return policy(role, IamSettings(), audit)


# --- the actions AWS checks along with each, and nothing more ------------------------------------

# Dependent actions the reference lists for uses Vigil does not make of an action.
NOT_NEEDED = {
    # A role is passed only for flow logs to CloudWatch Logs, ECS read only for ECS flow logs: Vigil
    # makes VPC flow logs to S3.
    "ec2:CreateFlowLogs": {"iam:PassRole", "ecs:ListClusters", "ecs:ListContainerInstances", "ecs:ListServices",
                           "ecs:ListTaskDefinitions", "ecs:ListTasks"},
    # Multi-Region keys and custom key stores only: Vigil makes single-Region symmetric keys.
    "kms:CreateKey": {"iam:CreateServiceLinkedRole"},
    # Only with roleArn, to a stream in the same account: Vigil subscribes log groups to another
    # account's destination, which holds its own role.
    "logs:PutSubscriptionFilter": {"iam:PassRole"},
    # Automation documents that name a role to assume: Vigil makes a Session document.
    "ssm:CreateDocument": {"iam:PassRole"},
}

# Actions AWS's service guides name for a call beyond the reference's dependent actions and the
# tags given in a create (checked as the service's Tagging action).
DOCUMENTED = {
    # Amazon S3 API reference, CreateBucket: Object Lock enabled at creation.
    ("s3", "CreateBucket"): {"s3:PutBucketObjectLockConfiguration", "s3:PutBucketVersioning"},
    # Amazon VPC User Guide, flow logs to S3: the principal that creates them makes the delivery.
    ("ec2", "CreateFlowLogs"): {"logs:CreateLogDelivery", "logs:DeleteLogDelivery"},
    ("ec2", "DeleteFlowLogs"): {"logs:DeleteLogDelivery"},
    # CloudWatch Logs API reference, PutAccountPolicy and DeleteAccountPolicy: a subscription filter
    # policy is checked as a subscription filter too.
    ("logs", "PutAccountPolicy"): {"logs:PutSubscriptionFilter"},
    ("logs", "DeleteAccountPolicy"): {"logs:DeleteSubscriptionFilter"},
    # GuardDuty User Guide, designating a delegated administrator.
    ("guardduty", "EnableOrganizationAdminAccount"): {
        "organizations:DescribeAccount", "organizations:DescribeOrganization",
        "organizations:DescribeOrganizationalUnit", "organizations:EnableAWSServiceAccess",
        "organizations:ListAWSServiceAccessForOrganization", "organizations:ListDelegatedAdministrators",
        "organizations:RegisterDelegatedAdministrator"},
    # Security Hub's and GuardDuty's guides, service-linked roles: made when the service is enabled
    # (GuardDuty's Malware Protection has one of its own).
    ("securityhub", "EnableSecurityHub"): {"iam:CreateServiceLinkedRole"},
    ("guardduty", "CreateDetector"): {"iam:CreateServiceLinkedRole"},
    ("guardduty", "UpdateDetector"): {"iam:CreateServiceLinkedRole"},
    # The role handed to the service: CloudTrail's CloudWatch Logs role, Firehose's.
    ("cloudtrail", "CreateTrail"): {"iam:PassRole"},
    ("cloudtrail", "UpdateTrail"): {"iam:PassRole"},
    ("firehose", "CreateDeliveryStream"): {"iam:PassRole"},
    ("firehose", "UpdateDestination"): {"iam:PassRole"},
}


@pytest.mark.parametrize("audit", [False, True], ids=["enforce", "audit"])
@pytest.mark.parametrize("account", sorted(CARRIED))
def test_the_actions_aws_checks_along_are_granted_where_the_action_is(account: str, audit: bool):
    granted = set().union(*(actions(policy(role, IamSettings(), audit)) for role in CARRIED[account]))
    missing = {f"{action} needs {d}" for action in granted for d in dependents(action) - NOT_NEEDED.get(action, set())
               if d not in granted}
    assert not missing, f"{account}{' (audit)' if audit else ''}: {sorted(missing)}"


@pytest.mark.parametrize("name", DOCUMENTS)
def test_nothing_is_granted_beyond_the_operations_and_what_aws_checks_along(name: str):
    role, audit = Role(name.removesuffix(".json").removesuffix("-audit")), name.endswith("-audit.json")
    derived: set[str] = set()
    for op in operations(role, audit):
        own = iam_action(op.service, op.name)
        explained = {own} | dependents(own) | DOCUMENTED.get((op.service, op.name), set())
        unexplained = {a for a in op.actions - explained if "Tagging" not in access_levels(a)}
        assert not unexplained, f"{op.service} {op.name}: {sorted(unexplained)} is neither what AWS checks for it " \
                                "nor a tag given in a create"
        derived |= op.actions
    assert actions(policy(role, IamSettings(), audit)) == derived


def test_guardrails_leave_vigil_what_its_policies_grant():
    """The guardrails deny everyone but Vigil these actions: Vigil's policies must grant them."""
    exceptions = {Role.LOG_ARCHIVE: guardrails.ARCHIVE_BUCKET_VIGIL + guardrails.ARCHIVE_KEY_VIGIL,
                  Role.OPERATOR: guardrails.TRAIL_VIGIL,
                  Role.SECURITY: guardrails.GUARDDUTY_VIGIL + guardrails.SECURITYHUB_VIGIL,
                  Role.MEMBER: guardrails.CONFIG_VIGIL + guardrails.FLOW_LOGS_VIGIL + guardrails.SESSION_VIGIL}
    for role, needed in exceptions.items():
        assert set(needed) <= actions(policy(role)), role


# --- Audit: reads only ---------------------------------------------------------------------------

# AssumeRole writes nothing: it is how the operator reads a member account at all.
AUDIT_NEEDS = {"sts:AssumeRole"}


@pytest.mark.parametrize("role", list(Role))
def test_audit_policies_grant_no_write(role: Role):
    audit = actions(policy(role, audit=True))
    writes = {a: access_levels(a) for a in audit - AUDIT_NEEDS if not access_levels(a) <= {"List", "Read"}}
    assert not writes, f"{file_name(role, True)} grants more than reads: {writes}"
    assert audit <= actions(policy(role))


# --- narrowed where it is simple and safe --------------------------------------------------------


def test_the_operator_assumes_only_the_member_role_in_its_organization():
    document = policy(Role.OPERATOR, IamSettings(role_name="VigilMember", organization_id="o-a1b2c3d4e5"))
    [statement] = [s for s in document["Statement"] if "sts:AssumeRole" in s["Action"]]
    assert statement["Action"] == ["sts:AssumeRole"]
    assert statement["Resource"] == "arn:aws:iam::*:role/VigilMember"
    assert statement["Condition"] == {"StringEquals": {"aws:ResourceOrgID": "o-a1b2c3d4e5"}}


def test_role_writes_reach_only_the_roles_vigil_creates():
    long = Names.of("n" * 63, "m" * 253)  # cut to IAM's 64 characters, with a hash
    for name in (CLOUDWATCH_ROLE_NAME, AGGREGATOR_ROLE_NAME, Names.of("team", "logs").firehose_role,
                 Names.of("team", "logs").logs_role, long.firehose_role, long.logs_role):
        assert name.startswith(ROLE_PREFIX), name
    role_writes = {"iam:CreateRole", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy",
                   "iam:DeleteRole", "iam:DeleteRolePolicy", "iam:TagRole", "iam:PassRole"}
    reached = {role: {r for s in policy(role)["Statement"] if role_writes & set(s["Action"])
                      for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])}
               for role in Role}
    role = "arn:aws:iam::*:role/"
    # By exact name where the operator role (in the management account) could be named vigil-...;
    # by the prefix only in the log-archive account, whose member role may not be.
    assert reached == {Role.OPERATOR: {role + CLOUDWATCH_ROLE_NAME},
                       Role.SECURITY: {role + AGGREGATOR_ROLE_NAME},
                       Role.LOG_ARCHIVE: {f"{role}{ROLE_PREFIX}*"},
                       Role.MEMBER: {role + "aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"}}
    pattern = member_role_template()["Parameters"]["RoleName"]["AllowedPattern"]
    assert re.match(pattern, "VigilMember") and not re.match(pattern, f"{ROLE_PREFIX}member")


def test_the_member_role_cannot_be_named_as_vigils_own(capsys):
    """Vigil may write roles named vigil-*: the role it assumes must not be one."""
    with pytest.raises(SystemExit) as exited:
        main(["iam", "--role-name", f"{ROLE_PREFIX}member"])
    assert exited.value.code == USAGE
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


@pytest.mark.parametrize("name", DOCUMENTS)
def test_each_policy_fits_an_aws_managed_policy(name: str):
    text = iam_files()[name]
    assert len(re.sub(r"\s", "", text)) <= MANAGED_POLICY_LIMIT


# --- linters -------------------------------------------------------------------------------------

# What parliament (with its community auditors) says of these policies above LOW severity, and why
# it is so by design. Its action data lags AWS's (an action it does not know is a LOW finding, and
# some auditors then pass over the policy), so an entry is not required to fire.
ACCEPTED = {
    # s3:PutBucketPolicy and s3:PutLifecycleConfiguration without object writes: Vigil writes the
    # archive bucket's policy and lifecycle, never its objects (the guardrails deny those writes to
    # everyone else).
    ("log-archive.json", "RESOURCE_POLICY_PRIVILEGE_ESCALATION"),
    # Vigil creates its delivery roles and the key and bucket policies, and passes roles to services:
    # each narrowed to Vigil's own roles (vigil-*) or the services that take them.
    ("operator.json", "PERMISSIONS_MANAGEMENT_ACTIONS"),
    ("member.json", "PERMISSIONS_MANAGEMENT_ACTIONS"),
    ("log-archive.json", "PERMISSIONS_MANAGEMENT_ACTIONS"),
    ("security.json", "PERMISSIONS_MANAGEMENT_ACTIONS"),
    # sts:AssumeRole is how Vigil reaches the member accounts: the member role only, in the organization.
    ("operator.json", "CREDENTIALS_EXPOSURE"),
    ("operator-audit.json", "CREDENTIALS_EXPOSURE"),
    # Role writes beside sts:AssumeRole, paired without looking at resources: the writes reach only
    # roles named vigil-*, AssumeRole only the member role, which may not be named so (see above).
    ("operator.json", "PRIVILEGE_ESCALATION"),
    # parliament's action data predates organizations:PolicyType on TagResource, which the reference
    # lists (test_every_condition_key_is_one_aws_documents_for_its_actions).
    ("operator.json", "UNKNOWN_CONDITION_FOR_ACTION"),
}


@cache
def parliament() -> Any:
    """parliament 1.6.4, its latest, reads its data files with pkg_resources, which setuptools 81
    removed: it is given the one function it calls while it loads."""
    shim = types.ModuleType("pkg_resources")
    shim.resource_filename = lambda package, name: str(importlib.resources.files(package) / name)  # type: ignore[attr-defined]
    sys.modules.setdefault("pkg_resources", shim)
    try:
        import parliament as loaded
    finally:
        if sys.modules.get("pkg_resources") is shim:
            del sys.modules["pkg_resources"]
    # The severities of the community auditors' findings, as `parliament --include-community-auditors` sets them.
    loaded.override_config(str(importlib.resources.files(loaded) / "community_auditors" / "config_override.yaml"))
    return loaded


@pytest.mark.parametrize("name", DOCUMENTS)
def test_parliament_finds_nothing_above_low(name: str):
    linter = parliament()
    findings = [linter.enhance_finding(f) for f in
                linter.analyze_policy_string(iam_files()[name], include_community_auditors=True).findings]
    above = {(name, f.issue) for f in findings if f.severity not in ("LOW", "INFO")}
    assert above <= ACCEPTED, [f"{f.issue}: {f.detail}" for f in findings if (name, f.issue) in above - ACCEPTED]


def test_the_template_passes_cfn_lint():
    matches = lint_all(iam_files()[TEMPLATE])
    # Informational rules (I...) ask for metadata, not correctness; errors and warnings fail.
    assert not [str(m) for m in matches if m.rule.id[0] in "EW"]


def test_the_template_asks_for_the_external_id_only_when_one_is_given():
    def default(settings: IamSettings) -> str:
        return member_role_template(settings)["Parameters"]["ExternalId"]["Default"]

    assert default(IamSettings()) == ""
    assert default(IamSettings(external_id="vigil-7f3a")) == "vigil-7f3a"
    [trust] = member_role_template()["Resources"]["MemberRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"]["Fn::If"][0] == "HasExternalId"
    assert yaml.safe_load(iam_files()[TEMPLATE]) == member_role_template()


# --- deploy/iam/ ---------------------------------------------------------------------------------


def test_deploy_iam_is_what_vigil_iam_writes():
    assert {p.name for p in DEPLOYED.iterdir()} == set(iam_files())
    assert main(["iam", "--check", "--output", str(DEPLOYED)]) == 0


def test_iam_check_names_a_stale_file_in_one_line(tmp_path: Path, capsys):
    shutil.copytree(DEPLOYED, tmp_path / "iam")
    member = tmp_path / "iam" / file_name(Role.MEMBER)
    document = json.loads(member.read_text())
    document["Statement"][0]["Action"].append("ec2:RunInstances")
    member.write_text(json.dumps(document, indent=2) + "\n")

    assert main(["iam", "--check", "--output", str(tmp_path / "iam")]) == NOT_COMPLIANT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(member) in err[0] and "vigil iam" in err[0]
    assert (tmp_path / "iam" / README).exists()


# --- the end-to-end coverage check (vigil_sandbox.iam_coverage) ---------------------------------


def test_the_coverage_check_names_what_the_policies_of_the_account_do_not_allow():
    organization = {"management": "123456789012", "log_archive": "222222222222", "security": "333333333333"}
    seen = [SeenOperation("222222222222", "s3", "ListObjectsV2", True),  # log-archive.json: s3:ListBucket
            SeenOperation("555555555555", "s3", "ListObjectsV2", True),  # a workload account: member.json only
            SeenOperation("555555555555", "s3", "ListObjectsV2", False),  # a test's own call
            SeenOperation("555555555555", "sts", "GetCallerIdentity", True),
            SeenOperation("123456789012", "sts", "AssumeRole", True)]
    assert uncovered(seen, organization, DEPLOYED) == [
        "Vigil called s3 ListObjectsV2 in account 555555555555 (member), as s3:ListBucket, which member.json "
        "does not allow"]
