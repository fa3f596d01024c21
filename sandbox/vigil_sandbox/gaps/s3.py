"""S3 gaps: GetObjectLockConfiguration returns only the retention period that was set;
PutObjectLockConfiguration turns Object Lock on for an existing versioned bucket, objects and all, as
S3 does now; a bucket policy's statements conditioned on plain HTTP do not apply to the sandbox's
requests; a bucket answers only its owner, another account its policy lets in, and a caller
expecting its owner; CreateBucket takes only the names S3's naming rules allow."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import xmltodict
from moto.s3.exceptions import InvalidBucketName, InvalidBucketState, S3AccessDeniedError
from moto.s3.models import FakeBucket, S3Backend, s3_backends
from moto.s3.responses import S3Response

from vigil_sandbox.awsserver import operation_for

from ._core import Gap
from ._policies import _as_list, policy_allows_account

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


# --- Domain: Object Lock on an existing bucket ------------------------------------------------------


def put_object_lock_configuration(self: S3Backend, bucket_name: str, lock_enabled: bool, mode: str | None = None,
                                  days: int | None = None, years: int | None = None) -> None:
    """Object Lock as S3 has applied it since November 2023: it can be turned on for an existing
    bucket, whatever it holds, once versioning is Enabled (InvalidBucketState otherwise), and never
    off. moto still refused it on a bucket holding any object (InvalidBucket "Bucket needs to be
    empty"), so the default retention of an archive that holds logs could not even be changed."""
    bucket = self.get_bucket(bucket_name)
    if bucket.versioning_status != "Enabled":
        raise InvalidBucketState("Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration")
    bucket.object_lock_enabled = bucket.object_lock_enabled or lock_enabled
    bucket.default_lock_mode = mode
    bucket.default_lock_days = days
    bucket.default_lock_years = years


# --- Domain: bucket names ----------------------------------------------------------------------------

# Amazon S3 User Guide, "General purpose bucket naming rules". moto checks the length only.
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_ADDRESS = re.compile(r"[0-9]+(\.[0-9]+){3}")
RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_allowed(name: str) -> bool:
    """Whether S3 takes ``name`` for a new general purpose bucket."""
    return (_BUCKET_NAME.fullmatch(name) is not None and ".." not in name and _IP_ADDRESS.fullmatch(name) is None
            and not name.startswith(RESERVED_BUCKET_PREFIXES) and not name.endswith(RESERVED_BUCKET_SUFFIXES))


# --- Domain: who may address a bucket --------------------------------------------------------------

# Operations on a bucket's own configuration (its policy, encryption, versioning, ...): AWS lets
# only the owner's account make them. Coarse: AWS lets a bucket policy grant another account a few
# of these (GetBucketAcl, PutBucketTagging, ...); the sandbox never reads a policy for them.
OWNER_ONLY_PREFIXES = ("GetBucket", "PutBucket", "DeleteBucket", "ListBucket")
OWNER_ONLY_SUFFIXES = ("PublicAccessBlock", "ObjectLockConfiguration")
# Read by other accounts as any object operation is: what the policy must grant them.
GRANTABLE_BUCKET_READS = ("GetBucketLocation",)

# The IAM action a bucket policy grants for an operation, where it is not s3:<operation>.
POLICY_ACTIONS = {
    "HeadBucket": "s3:ListBucket", "ListObjects": "s3:ListBucket", "ListObjectsV2": "s3:ListBucket",
    "ListObjectVersions": "s3:ListBucketVersions", "ListMultipartUploads": "s3:ListBucketMultipartUploads",
    "ListParts": "s3:ListMultipartUploadParts", "HeadObject": "s3:GetObject", "DeleteObjects": "s3:DeleteObject",
    "CopyObject": "s3:PutObject", "CreateMultipartUpload": "s3:PutObject", "UploadPart": "s3:PutObject",
    "UploadPartCopy": "s3:PutObject", "CompleteMultipartUpload": "s3:PutObject",
}


def bucket_owner(bucket_name: str) -> str | None:
    """The account that owns a bucket, wherever it is: bucket names are global."""
    found = s3_backends.bucket_accounts.get(bucket_name)
    return found[1] if found else None


def owner_only(operation: str) -> bool:
    return operation not in GRANTABLE_BUCKET_READS and (
        operation.startswith(OWNER_ONLY_PREFIXES) or operation.endswith(OWNER_ONLY_SUFFIXES))


def bucket_refuses(caller: str, bucket_name: str, operation: str, expected_owner: str | None) -> bool:
    """Whether S3 answers AccessDenied to a request addressing a bucket.

    moto resolves a bucket name in any account (its global ``bucket_accounts``) and serves it to
    every caller, whatever the ExpectedBucketOwner header says. AWS checks the expected owner
    first, then lets the owner's account in, and another account only as the bucket policy allows.
    A bucket that does not exist is left to moto (NoSuchBucket), as is CreateBucket: a taken name
    is BucketAlreadyExists (409), from any account.
    """
    owner = bucket_owner(bucket_name)
    if owner is None or operation == "CreateBucket":
        return False
    if expected_owner is not None and expected_owner != owner:
        return True
    if caller == owner:
        return False
    if owner_only(operation):
        return True
    partition = s3_backends.bucket_accounts[bucket_name][0]
    bucket = s3_backends[owner][partition].get_bucket(bucket_name)
    policy = bucket.policy.decode() if bucket.policy else None
    return not policy_allows_account(policy, caller, POLICY_ACTIONS.get(operation, f"s3:{operation}"))


def _copy_source_bucket(copy_source: str) -> str:
    """The bucket of an x-amz-copy-source header: [/]bucket/key[?versionId=...], URL-encoded."""
    return unquote(copy_source).lstrip("/").split("/", 1)[0]


# --- Wire ----------------------------------------------------------------------------------------


def _check_bucket_access(self: S3Response, request: Any, full_url: str) -> str | None:
    """InvalidBucketName (400) for a CreateBucket S3 refuses the name of, and AccessDenied (403) for
    a request its bucket would refuse, before moto answers. Returns the operation."""
    if not self.bucket_name:
        return None  # ListBuckets addresses no bucket
    url = urlsplit(full_url)
    headers = {name.lower(): value for name, value in request.headers.items()}
    operation = operation_for("s3", request.method, url.netloc, url.path,
                              parse_qs(url.query, keep_blank_values=True), headers)
    if operation == "CreateBucket" and not bucket_name_allowed(self.bucket_name):
        raise InvalidBucketName()
    refused = bucket_refuses(self.current_account, self.bucket_name, operation,
                             headers.get("x-amz-expected-bucket-owner"))
    if "x-amz-copy-source" in headers:  # CopyObject, UploadPartCopy: the source is read too
        refused = refused or bucket_refuses(self.current_account, _copy_source_bucket(headers["x-amz-copy-source"]),
                                            "GetObject", headers.get("x-amz-source-expected-bucket-owner"))
    if refused:
        raise S3AccessDeniedError()
    return operation


def _checking_access(moto_method: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: S3Response, request: Any, full_url: str) -> Any:
        operation = _check_bucket_access(self, request, full_url)
        answer = moto_method(self, request, full_url)
        if operation == "CreateBucket":
            _tag_on_create(self)
        return answer
    method.__name__ = moto_method.__name__
    return method


def _tag_on_create(self: S3Response) -> None:
    """CreateBucket's CreateBucketConfiguration.Tags (botocore's model has them; moto ignores
    them): the bucket is created with its tags, in one request, as S3 does."""
    if not self.body:
        return
    configuration = xmltodict.parse(self.body).get("CreateBucketConfiguration") or {}
    tags = ((configuration.get("Tags") or {}).get("Tag")) or []
    tags = tags if isinstance(tags, list) else [tags]
    if tags and self.bucket_name in self.backend.buckets:
        self.backend.put_bucket_tagging(self.bucket_name, {t["Key"]: t.get("Value") or "" for t in tags})


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

# moto checks a bucket's policy before it dispatches an object operation, and resolves the bucket
# of every bucket and object operation, where no operation's handler reaches: those methods
# themselves are replaced. (class, method, replacement)
PATCHES: tuple[tuple[type, str, Callable[..., Any]], ...] = (
    (FakeBucket, "get_permission", _bucket_permission),
    # moto answers PutObjectLockConfiguration inside its bucket PUT handler: its domain method is replaced.
    (S3Backend, "put_object_lock_configuration", put_object_lock_configuration),
    (S3Response, "_bucket_response", _checking_access(S3Response.__dict__["_bucket_response"])),
    (S3Response, "_key_response", _checking_access(S3Response.__dict__["_key_response"])),
)
