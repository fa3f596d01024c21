"""The IAM Vigil needs, generated from vigil.aws.permissions; `vigil iam` writes it to deploy/iam/.

- ``<policy>.json`` for each permissions.Role (operator, member, log-archive, security): one
  statement per control (its Sid is the control's name), narrowed where that is simple and safe:
  the member role, Vigil's own roles, the roles passed to services, the service-linked roles;
- ``<policy>-audit.json``: the same with the reads only, for Audit mode;
- ``member-role.yaml``: a CloudFormation template for a StackSet that makes the member role in
  every account, trusting the operator role only (and asking for the external id when there is
  one), with the member policy and, in the log-archive and security accounts, theirs too;
- ``README.md``: which file goes where, and the options they were made with.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from .api.common import IAM_ROLE_NAME_PATTERN
from .api.organization import AccessSettings
from .aws.permissions import CARRIED, ROLE_PREFIX, Grant, Role, duties

POLICY_VERSION = "2012-10-17"
TEMPLATE = "member-role.yaml"
README = "README.md"
DEFAULT_ROLE_NAME = str(AccessSettings.model_fields["role_name"].default)
EXAMPLE_ORGANIZATION_ID = "o-exampleorgid"  # AWS's own example: a policy made with it allows no AssumeRole
# AWS's patterns for these (Organizations' Organization Id, STS AssumeRole's ExternalId).
ORGANIZATION_ID_PATTERN = r"^o-[a-z0-9]{10,32}$"
_EXTERNAL_ID = r"[\w+=,.@:/-]{2,1224}"
EXTERNAL_ID_PATTERN = f"^{_EXTERNAL_ID}$"
# An IAM policy's variables (${aws:username}) are left alone; only Vigil's placeholders are filled.
_PLACEHOLDER = re.compile(r"\{(role_name|organization_id)\}")


@dataclass(frozen=True)
class IamSettings:
    """What the generated files name: the member role and the organization (the operator role may
    assume that role in that organization's accounts only) and the external id the role asks for."""

    role_name: str = DEFAULT_ROLE_NAME
    organization_id: str = EXAMPLE_ORGANIZATION_ID
    external_id: str | None = None

    def fill(self, text: str) -> str:
        return _PLACEHOLDER.sub(lambda m: str(getattr(self, m.group(1))), text)


def file_name(role: Role, audit: bool = False) -> str:
    return f"{role.value}{'-audit' if audit else ''}.json"


@dataclass
class _Statement:
    actions: set[str] = field(default_factory=set)
    resources: tuple[str, ...] = ()
    conditions: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def add(self, sid: str, grant: Grant, settings: IamSettings) -> None:
        resources = tuple(sorted(settings.fill(r) for r in grant.on.resources))
        conditions = {(op, key): {settings.fill(v) for v in values} for op, key, values in grant.on.conditions}
        if self.actions and (resources != self.resources or conditions.keys() != self.conditions.keys()):
            # Two grants of one Sid must differ in actions or condition values only: a catalogue bug.
            raise ValueError(f"statement {sid}: grants on different resources or condition keys")
        self.actions.update(grant.actions)
        self.resources = resources
        for key, values in conditions.items():
            self.conditions.setdefault(key, set()).update(values)

    def document(self, sid: str) -> dict[str, Any]:
        made: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": sorted(self.actions),
                                "Resource": _one_or_list(self.resources)}
        if self.conditions:
            made["Condition"] = {}
            for (op, key), values in sorted(self.conditions.items()):
                made["Condition"].setdefault(op, {})[key] = _one_or_list(sorted(values))
        return made


def _one_or_list(values: tuple[str, ...] | list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)


def policy(role: Role, settings: IamSettings = IamSettings(), audit: bool = False) -> dict[str, Any]:
    """The policy document of ``role``: every grant of its duties (the reads only, for Audit)."""
    statements: dict[str, _Statement] = {}
    for duty in duties(role):
        for operation in duty.operations:
            if audit and not operation.read:
                continue
            for grant in operation.grants:
                sid = duty.control + grant.on.name
                statements.setdefault(sid, _Statement()).add(sid, grant, settings)
    return {"Version": POLICY_VERSION, "Statement": [s.document(sid) for sid, s in sorted(statements.items())]}


def actions(document: dict[str, Any]) -> set[str]:
    """Every action a generated policy document allows."""
    return {a for s in document["Statement"] for a in s["Action"]}


# The member role's policies in the template: (logical id, policy, audit, condition).
_MEMBER_POLICIES = (
    ("MemberPolicy", Role.MEMBER, False, "Enforces"),
    ("MemberAuditPolicy", Role.MEMBER, True, "AuditOnly"),
    ("LogArchivePolicy", Role.LOG_ARCHIVE, False, "LogArchiveEnforces"),
    ("LogArchiveAuditPolicy", Role.LOG_ARCHIVE, True, "LogArchiveAudits"),
    ("SecurityPolicy", Role.SECURITY, False, "SecurityEnforces"),
    ("SecurityAuditPolicy", Role.SECURITY, True, "SecurityAudits"),
)


def member_role_template(settings: IamSettings = IamSettings()) -> dict[str, Any]:
    """A CloudFormation template for a StackSet: the member role in each account it is deployed to."""
    def ref(name: str) -> dict[str, str]:
        return {"Ref": name}

    def both(*conditions: str) -> dict[str, Any]:
        return {"Fn::And": [{"Condition": c} for c in conditions]}

    trust = {"Version": POLICY_VERSION, "Statement": [{
        "Sid": "VigilOperator", "Effect": "Allow", "Principal": {"AWS": ref("OperatorRoleArn")},
        "Action": "sts:AssumeRole",
        "Condition": {"Fn::If": ["HasExternalId", {"StringEquals": {"sts:ExternalId": ref("ExternalId")}},
                                 ref("AWS::NoValue")]}}]}
    resources: dict[str, Any] = {"MemberRole": {"Type": "AWS::IAM::Role", "Properties": {
        "RoleName": ref("RoleName"),
        "Description": "Vigil's member role: the operator reconciles this account's logging and monitoring "
                       "baseline through it",
        "MaxSessionDuration": 3600,  # Organization.spec.access.sessionDurationSeconds is at most 3600
        "AssumeRolePolicyDocument": trust}}}
    for logical_id, role, audit, condition in _MEMBER_POLICIES:
        resources[logical_id] = {"Type": "AWS::IAM::ManagedPolicy", "Condition": condition, "Properties": {
            "ManagedPolicyName": {"Fn::Sub": f"${{RoleName}}-{file_name(role, audit).removesuffix('.json')}"},
            "Description": f"Vigil's {role.value} policy{' for Audit mode: reads only' if audit else ''} "
                           f"(deploy/iam/{file_name(role, audit)})",
            "Roles": [ref("MemberRole")],
            "PolicyDocument": policy(role, settings, audit)}}
    account_id = {"Type": "String", "AllowedPattern": r"^\d{12}$"}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Vigil's member role, for a StackSet over the organization's accounts: trusted by the "
                       "operator role, with the policies of the account it is in (vigil iam writes this file).",
        "Parameters": {
            "OperatorRoleArn": {"Type": "String", "AllowedPattern": r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$",
                                "Description": "The operator role in the management account: the one principal "
                                               "the member role trusts."},
            "RoleName": {"Type": "String", "Default": settings.role_name,
                         "AllowedPattern": f"^(?!{ROLE_PREFIX}){IAM_ROLE_NAME_PATTERN.removeprefix('^')}",
                         "Description": "Organization.spec.access.roleName. Accounts the organization created "
                                        "already have OrganizationAccountAccessRole: choose another name for "
                                        f"this role. Never one starting with {ROLE_PREFIX}, the names of "
                                        "the roles Vigil manages."},
            "ExternalId": {"Type": "String", "Default": settings.external_id or "",
                           "AllowedPattern": f"^({_EXTERNAL_ID})?$",
                           "Description": "The value of the Secret Organization.spec.access.externalIdSecretRef "
                                          "names; when set, AssumeRole must pass it. Empty: none asked."},
            "LogArchiveAccountId": {**account_id, "Description": "Organization.spec.accounts.logArchive."},
            "SecurityAccountId": {**account_id, "Description": "Organization.spec.accounts.security."},
            "ReadOnly": {"Type": "String", "AllowedValues": ["false", "true"], "Default": "false",
                         "Description": "true: the Audit policies, reads only (every Vigil object of the "
                                        "organization in managementPolicy: Audit)."},
        },
        "Conditions": {
            "HasExternalId": {"Fn::Not": [{"Fn::Equals": [ref("ExternalId"), ""]}]},
            "AuditOnly": {"Fn::Equals": [ref("ReadOnly"), "true"]},
            "Enforces": {"Fn::Not": [{"Condition": "AuditOnly"}]},
            "InLogArchive": {"Fn::Equals": [ref("AWS::AccountId"), ref("LogArchiveAccountId")]},
            "InSecurity": {"Fn::Equals": [ref("AWS::AccountId"), ref("SecurityAccountId")]},
            "LogArchiveEnforces": both("InLogArchive", "Enforces"),
            "LogArchiveAudits": both("InLogArchive", "AuditOnly"),
            "SecurityEnforces": both("InSecurity", "Enforces"),
            "SecurityAudits": both("InSecurity", "AuditOnly"),
        },
        "Resources": resources,
        "Outputs": {"RoleArn": {"Description": "What the operator assumes in this account",
                                "Value": {"Fn::GetAtt": ["MemberRole", "Arn"]}}},
    }


# Where each policy goes, as the README's table says it.
_ATTACH = {
    Role.OPERATOR: "the operator role, in the management account",
    Role.MEMBER: "the member role in every account; the operator role too (a scope may cover the management "
                 "account)",
    Role.LOG_ARCHIVE: "the member role in the log-archive account",
    Role.SECURITY: "the member role in the security account",
}
GENERATED = "Generated by `vigil iam` from operator/vigil/aws/permissions.py: do not edit."


def readme(settings: IamSettings, documents: dict[str, dict[str, Any]]) -> str:
    rows = "\n".join(
        f"| `{file_name(role)}`, `{file_name(role, True)}` | {_ATTACH[role]} | "
        f"{len(actions(documents[file_name(role)]))}, {len(actions(documents[file_name(role, True)]))} |"
        for role in Role)
    carried = "\n".join(f"- {account} account: {' + '.join(f'`{file_name(r)}`' for r in roles)}"
                        for account, roles in CARRIED.items())
    external = f"`{settings.external_id}`" if settings.external_id else "none"
    return f"""# IAM for Vigil

{GENERATED}

`operator/vigil/aws/permissions.py` lists every AWS operation Vigil calls, by control and by the
account it calls it in, with the IAM actions AWS checks for it; these are the least-privilege
policies that follow. `vigil iam --check` (and a unit test) fails when a file here is stale. How to
deploy them: [docs/deployment.md](../../docs/deployment.md#the-aws-identity).

| policy (Enforce, Audit) | attach to | actions (Enforce, Audit) |
| --- | --- | --- |
{rows}
| `{TEMPLATE}` | a CloudFormation StackSet over the organization: the member role, with the policies of each account | |

What Vigil's identity carries in each account:

{carried}

Made with: member role `{settings.role_name}`, organization `{settings.organization_id}`, external
id {external}. The operator policy lets the operator role assume the member role only, and only in
that organization's accounts; the organization id here is AWS's example, which matches none. Make
yours, with your Organization's `spec.access.roleName`:

```sh
vigil iam --organization-id o-a1b2c3d4e5 --role-name VigilMember --output my-iam/
```
"""


def iam_files(settings: IamSettings = IamSettings()) -> dict[str, str]:
    """Every file `vigil iam` writes, by name: deterministic, so a stale one is found."""
    documents = {file_name(role, audit): policy(role, settings, audit) for role in Role for audit in (False, True)}
    files = {name: json.dumps(document, indent=2) + "\n" for name, document in documents.items()}
    files[TEMPLATE] = f"# {GENERATED}\n" + yaml.safe_dump(member_role_template(settings), sort_keys=False, width=110)
    files[README] = readme(settings, documents)
    return files
