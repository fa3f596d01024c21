"""Carry out planned actions: one AWS call each, or a few for the composite ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore import xform_name

from ..planning.actions import Action
from .session import AwsAccess


def _create_key_with_alias(client: Any, params: dict[str, Any]) -> None:
    """CreateKey leaves a key with no name; the alias follows at once so a retry finds the key
    by alias instead of creating a second one. Rotation is on from the start."""
    key = client.create_key(Description=params["Description"], Policy=params["Policy"], Tags=params["Tags"],
                            KeyUsage="ENCRYPT_DECRYPT", KeySpec="SYMMETRIC_DEFAULT")["KeyMetadata"]
    client.create_alias(AliasName=params["AliasName"], TargetKeyId=key["KeyId"])
    client.enable_key_rotation(KeyId=key["KeyId"])


_COMPOSITES: dict[str, Callable[[Any, dict[str, Any]], None]] = {
    "CreateKeyWithAlias": _create_key_with_alias,
}


def execute(access: AwsAccess, action: Action) -> None:
    client = access.client(action.service, action.account_id, action.region)
    composite = _COMPOSITES.get(action.operation)
    if composite is not None:
        composite(client, action.params)
    else:
        getattr(client, xform_name(action.operation))(**action.params)
