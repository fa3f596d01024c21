"""Carry out planned actions: one AWS call each, or a few for the composite ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore import xform_name
from botocore.exceptions import ClientError

from ..planning.actions import Action
from . import ec2, guardduty, guardrails, journal, securityhub, ssm
from .errors import is_code
from .session import AwsAccess


def _create_key_with_alias(client: Any, params: dict[str, Any]) -> None:
    """CreateKey leaves a key with no name; the alias follows at once. CreateKey has no client
    token, so it is sent once (see NOT_RETRIED) with the owner's tags: if its answer is lost, the
    next pass finds the key by those tags and only names it. Rotation is on from the start."""
    key = client.create_key(Description=params["Description"], Policy=params["Policy"], Tags=params["Tags"],
                            KeyUsage="ENCRYPT_DECRYPT", KeySpec="SYMMETRIC_DEFAULT")["KeyMetadata"]
    client.create_alias(AliasName=params["AliasName"], TargetKeyId=key["KeyId"])
    client.enable_key_rotation(KeyId=key["KeyId"])


def _create_bucket(client: Any, params: dict[str, Any]) -> None:
    """When CreateBucket's answer is lost, botocore sends it again and S3 answers the retry
    BucketAlreadyOwnedByYou (us-east-1 answers 200). The bucket was planned only because none
    was observed, so it is this create's: the writes after it (its owner tags first) go on."""
    try:
        client.create_bucket(**params)
    except ClientError as exc:
        if not is_code(exc, "BucketAlreadyOwnedByYou"):
            raise


# Operations that take more than one call, or whose failures come back inside a successful answer,
# by (service, operation): two services may share an operation name (CreateMembers).
_COMPOSITES: dict[tuple[str, str], Callable[[Any, dict[str, Any]], None]] = {
    ("kms", "CreateKeyWithAlias"): _create_key_with_alias,
    ("kms", "CreateSigningKeyWithAlias"): journal.create_signing_key_with_alias,
    ("s3", "CreateBucket"): _create_bucket,
    # Flow log writes report failure per resource in the answer; these raise it instead.
    ("ec2", "CreateFlowLogs"): ec2.create_flow_logs,
    ("ec2", "DeleteFlowLogs"): ec2.delete_flow_logs,
    # So do GuardDuty's and Security Hub's member writes.
    ("guardduty", "CreateMembers"): guardduty.create_members,
    ("guardduty", "StartMonitoringMembers"): guardduty.start_monitoring_members,
    ("securityhub", "CreateMembers"): securityhub.create_members,
    ("securityhub", "BatchEnableStandards"): securityhub.batch_enable_standards,
    # A new version of the Session Manager preferences is in effect only once it is the default.
    ("ssm", "UpdateSessionPreferences"): ssm.update_session_preferences,
    # A new policy is attached as soon as it exists: an unattached guardrail guards nothing.
    ("organizations", "CreatePolicyAndAttach"): guardrails.create_and_attach,
}


# Creates without a client token: a retry after a lost answer would create a second resource.
NOT_RETRIED = {("kms", "CreateKeyWithAlias"), ("kms", "CreateSigningKeyWithAlias")}


def execute(access: AwsAccess, action: Action) -> None:
    client = access.client(action.service, action.account_id, action.region,
                           retries=(action.service, action.operation) not in NOT_RETRIED)
    composite = _COMPOSITES.get((action.service, action.operation))
    if composite is not None:
        composite(client, action.params)
    else:
        getattr(client, xform_name(action.operation))(**action.params)
