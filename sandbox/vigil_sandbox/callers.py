"""Who is asking: the principal behind a request's access key, as moto issued the key.

moto maps a key to an account only (``get_account_id_from``); organization policies need the
principal itself. Keys issued by STS AssumeRole carry the role they were issued for, keys of IAM
users the user; the default credentials ("testing") and any key moto did not issue act as the
account's root user, in the account moto decided (``awsserver._account_for``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from moto.iam.exceptions import IAMException
from moto.iam.models import AccessKey, iam_backends
from moto.sts.models import sts_backends

SERVICE_LINKED_PATH = ":role/aws-service-role/"


@dataclass(frozen=True)
class Caller:
    """The principal of a request, as the request context names it."""

    account: str
    principal_arn: str  # aws:PrincipalArn: a role (not its session), a user, or the account root
    arn: str  # as AWS's errors name the caller: the assumed-role session, the user, the root
    principal_type: str  # aws:PrincipalType: AssumedRole, User or Account

    @property
    def service_linked(self) -> bool:
        """A service-linked role: neither SCPs nor RCPs apply to it ("SCP effects on permissions")."""
        return SERVICE_LINKED_PATH in self.principal_arn


def _issued_key(access_key: str) -> tuple[str, AccessKey] | None:
    # As moto's get_account_id_from, over the backends that exist only (it creates the others).
    for account, backends in list(iam_backends.items()):
        for backend in list(dict.values(backends)):
            key = backend.access_keys.get(access_key)
            if key is not None:
                return account, key
    return None


def _backend(backends: Any, account: str, partition: str) -> Any:
    # Read as plain dicts: moto's BackendDict takes a lock and copies its keys on every look-up.
    return dict.get(dict.get(backends, account) or {}, partition)


def _role_arn(account: str, partition: str, role_arn: str) -> str:
    """The role's own ARN (its path included), or the ARN the key was issued for if it is gone."""
    iam = _backend(iam_backends, account, partition)
    # Snapshots (list) throughout: other server threads change moto's state meanwhile.
    role = next((r for r in list(iam.roles.values()) if r.arn == role_arn), None) if iam is not None else None
    return role.arn if role is not None else role_arn


def _session_arn(account: str, partition: str, access_key: str, role_arn: str) -> str:
    sts = _backend(sts_backends, account, partition)
    for assumed in sts.assumed_roles if sts is not None else ():
        if assumed.access_key_id == access_key:
            return assumed.arn
    return f"arn:{partition}:sts::{account}:assumed-role/{role_arn.rsplit('/', 1)[-1]}/unknown-session"


def caller_of(access_key: str, account: str, partition: str = "aws") -> Caller:
    """The principal acting with ``access_key`` in ``account`` (the account moto acts in)."""
    root = f"arn:{partition}:iam::{account}:root"
    issued = _issued_key(access_key)
    if issued is None or issued[0] != account:
        return Caller(account, root, root, "Account")
    _, key = issued
    if key.role_arn:
        role = _role_arn(account, partition, key.role_arn)
        return Caller(account, role, _session_arn(account, partition, access_key, key.role_arn), "AssumedRole")
    if key.user_name:
        try:
            user = iam_backends[account][partition].get_user(key.user_name).arn
        except IAMException:
            user = f"arn:{partition}:iam::{account}:user/{key.user_name}"
        return Caller(account, user, user, "User")
    return Caller(account, root, root, "Account")
