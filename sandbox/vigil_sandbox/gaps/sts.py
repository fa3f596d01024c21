"""STS gaps: AssumeRole checks the role exists and trusts the caller's account."""

from __future__ import annotations

from typing import Any

from moto.core.exceptions import AccessDeniedError
from moto.iam.exceptions import NotFoundException as IAMNotFoundException
from moto.iam.models import iam_backends
from moto.sts.responses import TokenResponse

from ._core import Gap
from ._policies import trust_allows_account

# --- Domain --------------------------------------------------------------------------------------


def assume_role_refusal(caller_account: str, role_arn: str) -> str | None:
    """Why AWS would refuse the caller this role, or None if it would not."""
    parts = role_arn.split(":")
    if len(parts) < 6 or not parts[5].startswith("role/"):
        return "not a role ARN"
    iam = iam_backends[parts[4]][parts[1]]
    try:
        role = iam.get_role_by_arn(role_arn)
    except IAMNotFoundException:
        return "the role does not exist"
    if not trust_allows_account(role.assume_role_policy_document, caller_account):
        return "the role's trust policy does not allow the caller's account"
    return None


# --- Wire ----------------------------------------------------------------------------------------


def _assume_role(self: TokenResponse, params: dict[str, Any]) -> None:
    role_arn = params["RoleArn"]
    refusal = assume_role_refusal(self.current_account, role_arn)
    if refusal:
        _, caller_arn, _ = self.backend.get_caller_identity(self.get_access_key(), self.region)
        raise AccessDeniedError(caller_arn, f"sts:AssumeRole on resource: {role_arn} ({refusal})")


GAPS: tuple[Gap, ...] = (
    Gap(
        "sts", "AssumeRole", "guard", TokenResponse, _assume_role,
        moto="issues credentials for any role ARN",
        sandbox="AccessDenied unless the role exists and trusts the caller's account",
    ),
)
