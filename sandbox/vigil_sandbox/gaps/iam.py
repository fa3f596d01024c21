"""IAM gaps: service-linked roles under the names AWS gives them, and AWS managed policies that
can be attached without loading all of them into every account.

moto loads AWS's managed policies (over a thousand) into every account only when
MOTO_IAM_LOAD_MANAGED_POLICIES is set, which the sandbox's ten-odd accounts cannot afford; the
guard here loads the one policy an AttachRolePolicy names, from moto's own copy.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.models import AWSManagedPolicy, IAMBackend
from moto.iam.responses import IamResponse

from ._core import AwsError, Gap

# --- Domain --------------------------------------------------------------------------------------

# Service principal -> the role name AWS gives its service-linked role; moto derives a name
# from the principal ("AWSServiceRoleForconfig"), which is right for some services only.
SERVICE_LINKED_ROLE_NAMES = {
    "config.amazonaws.com": "AWSServiceRoleForConfig",
    "guardduty.amazonaws.com": "AWSServiceRoleForAmazonGuardDuty",
    "securityhub.amazonaws.com": "AWSServiceRoleForSecurityHub",
    "access-analyzer.amazonaws.com": "AWSServiceRoleForAccessAnalyzer",
    "ssm.amazonaws.com": "AWSServiceRoleForAmazonSSM",
}


def create_service_linked_role(backend: IAMBackend, service: str, description: str, suffix: str) -> Any:
    name = SERVICE_LINKED_ROLE_NAMES.get(service)
    if name is None:
        raise AwsError("InvalidInput", f"vigil-sandbox: no service-linked role name known for {service}; "
                                       "add it to SERVICE_LINKED_ROLE_NAMES")
    if suffix:
        name = f"{name}_{suffix}"
    if name in {role.name for role in backend.roles.values()}:
        raise AwsError("InvalidInput", f"Service role name {name} has been taken in this account, "
                                       "please try a different suffix.")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": [service]}, "Action": ["sts:AssumeRole"]}]}
    return backend.create_role(name, json.dumps(trust), f"/aws-service-role/{service}/", permissions_boundary=None,
                               description=description, tags=[], max_session_duration="3600",
                               linked_service=service)


@functools.cache
def _aws_managed_policies() -> dict[str, Any]:
    return json.loads(aws_managed_policies_data)


def ensure_aws_managed_policy(backend: IAMBackend, policy_arn: str) -> None:
    """Make an AWS managed policy known to the account, as it always is in AWS."""
    prefix = f"arn:{backend.partition}:iam::aws:policy/"
    if not policy_arn.startswith(prefix) or policy_arn in backend.managed_policies:
        return
    data = _aws_managed_policies().get(policy_arn.rsplit("/", 1)[-1])
    if data is None:
        return  # moto answers as AWS does for a policy that does not exist
    policy = AWSManagedPolicy.from_data(policy_arn.rsplit("/", 1)[-1], backend.account_id, backend.region_name, data)
    if policy.arn == policy_arn:
        backend.managed_policies[policy.arn] = policy


# --- Wire ----------------------------------------------------------------------------------------


def _create_service_linked_role(self: IamResponse, params: dict[str, Any]) -> dict[str, Any]:
    role = create_service_linked_role(self.backend, params["AWSServiceName"], params.get("Description", ""),
                                      params.get("CustomSuffix", ""))
    view = {"Path": role.path, "RoleName": role.name, "RoleId": role.id, "Arn": role.arn,
            "CreateDate": role.create_date, "AssumeRolePolicyDocument": role.assume_role_policy_document,
            "MaxSessionDuration": int(role.max_session_duration)}
    if role.description:
        view["Description"] = role.description
    return {"Role": view}


def _attach_role_policy(self: IamResponse, params: dict[str, Any]) -> None:
    ensure_aws_managed_policy(self.backend, params["PolicyArn"])


GAPS: tuple[Gap, ...] = (
    Gap(
        "iam", "CreateServiceLinkedRole", "fix", IamResponse, _create_service_linked_role,
        moto="derives the role name from the principal (AWSServiceRoleForconfig); a second call fails as "
             "EntityAlreadyExists",
        sandbox="the name AWS gives (AWSServiceRoleForConfig, ...); InvalidInput when it is taken",
    ),
    Gap(
        "iam", "AttachRolePolicy", "guard", IamResponse, _attach_role_policy,
        moto="NoSuchEntity for AWS managed policies unless all of them are loaded into every account",
        sandbox="loads the named AWS managed policy into the account from moto's copy, then lets moto attach it",
    ),
)
