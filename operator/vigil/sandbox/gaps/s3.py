"""S3 gaps: GetObjectLockConfiguration returns only the retention period that was set; a bucket
policy's statements conditioned on plain HTTP do not apply to the sandbox's requests."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.s3.models import FakeBucket
from moto.s3.responses import S3Response

from ._core import Gap
from ._policies import _as_list

# --- Domain: bucket policies over TLS --------------------------------------------------------------


def policy_over_tls(policy: str) -> str:
    """The policy as AWS applies it to a request made over TLS: the statements conditioned on
    aws:SecureTransport being false (the usual "deny plain HTTP") do not apply.

    The sandbox stands in for AWS's HTTPS endpoints, which is all an SDK talks to: every request
    it answers counts as TLS. moto ignores conditions, so such a Deny refused every object request.
    """
    document = json.loads(policy)
    statements = [s for s in _as_list(document.get("Statement")) if not _plain_http_only(s)]
    return json.dumps({**document, "Statement": statements})


def _plain_http_only(statement: dict[str, Any]) -> bool:
    condition = statement.get("Condition") or {}
    return any(str(value).lower() == "false"
               for operator in ("Bool", "BoolIfExists")
               for value in _as_list((condition.get(operator) or {}).get("aws:SecureTransport")))


def _bucket_permission(self: FakeBucket, action: str, resource: str) -> Any:
    from moto.iam.access_control import IAMPolicy, PermissionResult

    if self.policy is None:
        return PermissionResult.NEUTRAL
    return IAMPolicy(policy_over_tls(self.policy.decode())).is_action_permitted(action, resource)


# --- Wire ----------------------------------------------------------------------------------------


def _get_object_lock_configuration(self: S3Response, params: dict[str, Any]) -> dict[str, Any]:
    enabled, mode, days, years = self.backend.get_object_lock_configuration(params["Bucket"])
    config: dict[str, Any] = {"ObjectLockEnabled": "Enabled" if enabled else "Disabled"}
    if mode:
        # AWS returns the one period that was set; moto adds the other as 0.
        retention = {"Mode": mode, **({"Days": days} if days else {"Years": years})}
        config["Rule"] = {"DefaultRetention": retention}
    self.data["Action"] = "GetObjectLockConfiguration"  # moto's S3 serializer looks it up here
    return {"ObjectLockConfiguration": config}


GAPS: tuple[Gap, ...] = (
    Gap(
        "s3", "GetObjectLockConfiguration", "fix", S3Response, _get_object_lock_configuration,
        moto="returns Days and Years, the unset one as 0",
        sandbox="returns the period that was set",
    ),
)

# moto checks a bucket's policy before it dispatches an object operation, where no operation's
# handler reaches: the domain method itself is replaced. (class, method, replacement)
PATCHES: tuple[tuple[type, str, Callable[..., Any]], ...] = (
    (FakeBucket, "get_permission", _bucket_permission),
)
