"""CloudWatch Logs gaps: a log group's name and KMS key.

Moto lacks AssociateKmsKey and DisassociateKmsKey, and its CreateLogGroup takes any name of up to
512 characters and any kmsKeyId. AWS names groups of a-z, A-Z, 0-9 and _ - / . #, never beginning
with aws/ (InvalidParameterException), and takes only the ARN of a key in the group's region whose
key policy lets CloudWatch Logs of that region use it: an alias, or a key of another region, is
InvalidParameterException; a key that does not exist or does not admit the service is
AccessDeniedException (AWS does not say which).

(Subscriptions, destinations and account policies are in ``logs_subscriptions``.)
"""

from __future__ import annotations

import re
from typing import Any

from moto.kms.models import kms_backends
from moto.logs.models import LogGroup, LogsBackend
from moto.logs.responses import LogsResponse

from ._core import AwsError, Gap
from ._policies import policy_allows_service

# --- Domain: the key a log group is encrypted with ----------------------------------------------


def require_usable_key(region: str, group_arn: str, key_arn: str) -> None:
    parts = key_arn.split(":")
    if len(parts) != 6 or parts[2] != "kms" or not parts[5].startswith("key/"):
        raise AwsError("InvalidParameterException", f"{key_arn} is not the ARN of a KMS key.")
    if parts[3] != region:
        raise AwsError("InvalidParameterException",
                       f"The KMS key {key_arn} is not in {region}, the log group's region.")
    key = kms_backends[parts[4]][region].keys.get(parts[5].removeprefix("key/"))
    if key is None or key.key_state != "Enabled" or not policy_allows_service(
            key.policy, f"logs.{region}.amazonaws.com", "kms:GenerateDataKey"):
        raise AwsError("AccessDeniedException", f"The specified KMS key does not exist or is not allowed to be "
                                                f"used with Arn '{group_arn}'")


def find_group(backend: LogsBackend, params: dict[str, Any]) -> LogGroup:
    """By logGroupName, or by resourceIdentifier (the group's ARN)."""
    name = params.get("logGroupName")
    if name is None:
        identifier = params.get("resourceIdentifier", "")
        name = identifier.split(":log-group:", 1)[-1].removesuffix(":*") if ":log-group:" in identifier else None
    group = backend.groups.get(name or "")
    if group is None:
        raise AwsError("ResourceNotFoundException", "The specified log group does not exist.")
    return group


# --- Wire ----------------------------------------------------------------------------------------


# CloudWatch Logs API Reference, CreateLogGroup: the characters of a name, and the reserved prefix.
_LOG_GROUP_NAME = re.compile(r"[.\-_/#A-Za-z0-9]{1,512}")


def check_log_group_name(name: str) -> None:
    if _LOG_GROUP_NAME.fullmatch(name) is None or name.startswith("aws/"):
        raise AwsError("InvalidParameterException",
                       f"Log group name {name!r} is not valid: use a-z, A-Z, 0-9, '_', '-', '/', '.' and '#', and "
                       "do not begin with aws/.")


def _create_log_group(self: LogsResponse, params: dict[str, Any]) -> None:
    check_log_group_name(params["logGroupName"])
    key = params.get("kmsKeyId")
    if key:
        arn = f"arn:aws:logs:{self.region}:{self.current_account}:log-group:{params['logGroupName']}"
        require_usable_key(self.region, arn, key)


def _associate_kms_key(self: LogsResponse, params: dict[str, Any]) -> dict[str, Any]:
    group = find_group(self.logs_backend, params)
    require_usable_key(self.region, group.arn, params["kmsKeyId"])
    group.kms_key_id = params["kmsKeyId"]
    return {}


def _disassociate_kms_key(self: LogsResponse, params: dict[str, Any]) -> dict[str, Any]:
    find_group(self.logs_backend, params).kms_key_id = None
    return {}


GAPS: tuple[Gap, ...] = (
    Gap(
        "logs", "CreateLogGroup", "guard", LogsResponse, _create_log_group,
        moto="takes any name of up to 512 characters and any kmsKeyId",
        sandbox="names of a-z, A-Z, 0-9, _ - / . # not beginning with aws/ (InvalidParameterException); a key ARN "
                "of the group's region (InvalidParameterException), existing and admitting "
                "logs.<region>.amazonaws.com (AccessDeniedException)",
    ),
    Gap(
        "logs", "AssociateKmsKey", "addition", LogsResponse, _associate_kms_key,
        moto="not implemented",
        sandbox="by logGroupName or the group's ARN; the key checked as at CreateLogGroup",
    ),
    Gap(
        "logs", "DisassociateKmsKey", "addition", LogsResponse, _disassociate_kms_key,
        moto="not implemented",
        sandbox="by logGroupName or the group's ARN; ResourceNotFoundException",
    ),
)
