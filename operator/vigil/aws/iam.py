"""IAM: the service roles Vigil creates."""

from __future__ import annotations

from urllib.parse import unquote

from ..state.cloudtrail import RoleState
from ..planning.ownership import Owner, created_by
from ..state.documents import canonical
from .errors import or_default
from .session import AwsAccess


def observe_role(access: AwsAccess, account_id: str, role_name: str, policy_name: str) -> RoleState:
    iam = access.client("iam", account_id, "global")
    role = or_default(lambda: iam.get_role(RoleName=role_name)["Role"], None, "NoSuchEntity")
    if role is None:
        return RoleState(exists=False)
    inline = or_default(lambda: iam.get_role_policy(RoleName=role_name, PolicyName=policy_name)["PolicyDocument"],
                        None, "NoSuchEntity")
    return RoleState(exists=True, arn=role["Arn"], trust_policy=_document(role.get("AssumeRolePolicyDocument")),
                     inline_policy=_document(inline))


def delete_owned_role(access: AwsAccess, account_id: str, role_name: str, policy_name: str, owner: Owner) -> bool:
    """Delete the role (and its inline policy) only if ``owner`` owns it."""
    iam = access.client("iam", account_id, "global")
    role = or_default(lambda: iam.get_role(RoleName=role_name)["Role"], None, "NoSuchEntity")
    if role is None or not created_by({t["Key"]: t["Value"] for t in role.get("Tags", [])}, owner):
        return False
    or_default(lambda: iam.delete_role_policy(RoleName=role_name, PolicyName=policy_name), None, "NoSuchEntity")
    iam.delete_role(RoleName=role_name)
    return True


def _document(document: object) -> object:
    # IAM returns policy documents URL-encoded on the wire; boto3 decodes some of them, not all.
    if isinstance(document, str):
        return canonical(unquote(document))
    return canonical(document)  # type: ignore[arg-type]
