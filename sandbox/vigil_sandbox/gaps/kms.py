"""KMS gaps: GetKeyPolicy and PutKeyPolicy without PolicyName, as AWS has taken since 2023; no
alias under alias/aws/, which AWS reserves for its managed keys."""

from __future__ import annotations

from typing import Any

from moto.kms.responses import KmsResponse

from ._core import AwsError, Gap

# --- Wire ----------------------------------------------------------------------------------------


def _get_key_policy(self: KmsResponse, params: dict[str, Any]) -> dict[str, Any]:
    _require_default_key_policy_name(params)
    self._validate_cmk_id(params["KeyId"])
    return {"Policy": self.kms_backend.get_key_policy(params["KeyId"]), "PolicyName": "default"}


def _put_key_policy(self: KmsResponse, params: dict[str, Any]) -> dict[str, Any]:
    _require_default_key_policy_name(params)
    self._validate_cmk_id(params["KeyId"])
    self.kms_backend.put_key_policy(params["KeyId"], params["Policy"])
    return {}


def _create_alias(self: KmsResponse, params: dict[str, Any]) -> None:
    # KMS API Reference, CreateAlias: the alias/aws/ prefix is reserved for AWS managed keys. moto
    # refuses only the aliases of the AWS managed keys it knows (alias/aws/s3, ...).
    if params["AliasName"].startswith("alias/aws/"):
        raise AwsError("InvalidAliasNameException", "The alias/aws/ prefix is reserved for AWS managed keys.")


def _require_default_key_policy_name(params: dict[str, Any]) -> None:
    # PolicyName became optional in 2023; "default" is the only key policy there is.
    if params.get("PolicyName", "default") != "default":
        raise AwsError("NotFoundException", "No such policy exists")


GAPS: tuple[Gap, ...] = (
    Gap(
        "kms", "CreateAlias", "guard", KmsResponse, _create_alias,
        moto="refuses only the aliases of the AWS managed keys it knows, so alias/aws/vigil names a customer key",
        sandbox="any alias under alias/aws/ is InvalidAliasNameException (the error botocore's model gives "
                "CreateAlias)",
    ),
    Gap(
        "kms", "GetKeyPolicy", "fix", KmsResponse, _get_key_policy,
        moto="NotFoundException without PolicyName",
        sandbox="PolicyName defaults to 'default'",
    ),
    Gap(
        "kms", "PutKeyPolicy", "fix", KmsResponse, _put_key_policy,
        moto="NotFoundException without PolicyName",
        sandbox="PolicyName defaults to 'default'",
    ),
)
