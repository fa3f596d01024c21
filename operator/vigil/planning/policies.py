"""The IAM policy documents Vigil writes."""

from __future__ import annotations

import json
from typing import Any

from ..state.documents import canonical

__all__ = ["canonical", "to_json"]

LOG_DELIVERY_SERVICES = ("cloudtrail.amazonaws.com", "config.amazonaws.com", "delivery.logs.amazonaws.com")
# GuardDuty exports findings without the bucket-owner-full-control ACL the others send, and checks
# the bucket's location first: it gets a statement of its own.
FINDINGS_SERVICES = ("guardduty.amazonaws.com",)


def to_json(policy: dict[str, Any]) -> str:
    return json.dumps(policy, separators=(",", ":"))


def log_archive_bucket_policy(bucket: str, organization_id: str) -> dict[str, Any]:
    """TLS only; the log delivery services may write, but only on behalf of this organization;
    principals of the organization (Session Manager, Firehose roles) may write encrypted objects."""
    bucket_arn = f"arn:aws:s3:::{bucket}"
    objects = f"{bucket_arn}/*"
    from_org = {"aws:SourceOrgID": organization_id}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "VigilDenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": [bucket_arn, objects], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            {"Sid": "VigilDeliveryAclCheck", "Effect": "Allow",
             "Principal": {"Service": [*LOG_DELIVERY_SERVICES, *FINDINGS_SERVICES]},
             "Action": ["s3:GetBucketAcl", "s3:ListBucket", "s3:GetBucketLocation"], "Resource": bucket_arn,
             "Condition": {"StringEquals": from_org}},
            {"Sid": "VigilDeliveryWrite", "Effect": "Allow",
             "Principal": {"Service": list(LOG_DELIVERY_SERVICES)},
             "Action": "s3:PutObject", "Resource": objects,
             "Condition": {"StringEquals": {**from_org, "s3:x-amz-acl": "bucket-owner-full-control"}}},
            {"Sid": "VigilFindingsWrite", "Effect": "Allow", "Principal": {"Service": list(FINDINGS_SERVICES)},
             "Action": "s3:PutObject", "Resource": objects, "Condition": {"StringEquals": from_org}},
            {"Sid": "VigilOrganizationWrite", "Effect": "Allow", "Principal": {"AWS": "*"},
             "Action": "s3:PutObject", "Resource": objects,
             "Condition": {"StringEquals": {"aws:PrincipalOrgID": organization_id,
                                            "s3:x-amz-server-side-encryption": "aws:kms"}}},
        ],
    }


def log_archive_key_policy(account_id: str, organization_id: str) -> dict[str, Any]:
    """The account administers the key; delivery services and the organization's principals may
    encrypt with it, only for this organization."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "VigilAccountAdministers", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"}, "Action": "kms:*", "Resource": "*"},
            {"Sid": "VigilDeliveryEncrypt", "Effect": "Allow",
             "Principal": {"Service": [*LOG_DELIVERY_SERVICES, *FINDINGS_SERVICES, "logs.amazonaws.com"]},
             "Action": ["kms:GenerateDataKey*", "kms:Encrypt", "kms:DescribeKey"], "Resource": "*",
             "Condition": {"StringEquals": {"aws:SourceOrgID": organization_id}}},
            {"Sid": "VigilOrganizationUse", "Effect": "Allow", "Principal": {"AWS": "*"},
             "Action": ["kms:GenerateDataKey*", "kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"], "Resource": "*",
             "Condition": {"StringEquals": {"aws:PrincipalOrgID": organization_id}}},
        ],
    }


def service_trust_policy(service: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}
