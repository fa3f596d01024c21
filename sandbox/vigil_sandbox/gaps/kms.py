"""KMS gaps: GetKeyPolicy and PutKeyPolicy without PolicyName, as AWS has taken since 2023; no
alias under alias/aws/, which AWS reserves for its managed keys; Sign with MessageType DIGEST."""

from __future__ import annotations

import base64
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils

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


# Sign's algorithms by the hash they use, and the digest length AWS requires of MessageType DIGEST.
_DIGESTS = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}


def _sign(self: KmsResponse, params: dict[str, Any]) -> dict[str, Any]:
    # KMS API Reference, Sign: with MessageType DIGEST the message is the hash itself, signed as it
    # is; moto ignores MessageType and hashes it again, so no verifier outside KMS accepts the
    # signature. RAW is signed by moto's backend, as moto does.
    algorithm = params["SigningAlgorithm"]
    digest = _DIGESTS.get(algorithm.rsplit("_", 1)[-1])
    message = params["Message"]
    message = base64.b64decode(message) if isinstance(message, str) else message
    if params.get("MessageType", "RAW") != "DIGEST":
        arn, raw, _ = self.kms_backend.sign(key_id=params["KeyId"], message=message, signing_algorithm=algorithm)
        return {"KeyId": arn, "Signature": raw, "SigningAlgorithm": algorithm}
    key = self.kms_backend.describe_key(params["KeyId"])
    if key.key_usage != "SIGN_VERIFY" or algorithm not in (key.signing_algorithms or []):
        raise AwsError("InvalidKeyUsageException" if key.key_usage != "SIGN_VERIFY" else "ValidationException",
                       f"{algorithm} is not valid for key {key.arn}")
    if digest is None or len(message) != digest.digest_size:
        raise AwsError("ValidationException", f"Digest is invalid length for algorithm {algorithm}.")
    private = key.private_key.private_key  # moto's wrapper holds cryptography's key
    prehashed = utils.Prehashed(digest)
    if algorithm.startswith("ECDSA"):
        signature = private.sign(message, ec.ECDSA(prehashed))
    elif algorithm.startswith("RSASSA_PSS"):
        signature = private.sign(message, padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size),
                                 prehashed)
    else:
        signature = private.sign(message, padding.PKCS1v15(), prehashed)
    return {"KeyId": key.arn, "Signature": signature, "SigningAlgorithm": algorithm}


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
    Gap(
        "kms", "Sign", "fix", KmsResponse, _sign,
        moto="ignores MessageType DIGEST: hashes the digest again, so the signature verifies outside KMS for no one",
        sandbox="with MessageType DIGEST the message must be the algorithm's digest length, and is signed as that "
                "digest; RAW is moto's",
    ),
)
