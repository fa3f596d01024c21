"""The IAM action a request is authorized as: ``<service prefix>:<action>``, in one place.

Mostly the botocore service name and operation name (``kms:ScheduleKeyDeletion``), except where the
Service Authorization Reference ("Actions, resources, and condition keys for AWS services") names
them otherwise: a few service prefixes, and S3, whose actions are named for permissions rather than
for its REST operations (Amazon S3 User Guide, "Required permissions for Amazon S3 API operations").
"""

from __future__ import annotations

from vigil_sandbox.policy_language import glob_matches

# botocore service name -> IAM service prefix, where they differ.
IAM_PREFIXES = {
    "accessanalyzer": "access-analyzer",
    "apigatewayv2": "apigateway",
    "elb": "elasticloadbalancing",
    "elbv2": "elasticloadbalancing",
    "opensearch": "es",
    "opensearchserverless": "aoss",
    "sesv2": "ses",
    "stepfunctions": "states",
}

# S3 operation -> IAM action, where it is not s3:<operation>.
S3_ACTIONS = {
    "ListBuckets": "s3:ListAllMyBuckets",
    "ListObjects": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket",
    "ListObjectVersions": "s3:ListBucketVersions",
    "ListMultipartUploads": "s3:ListBucketMultipartUploads",
    "ListParts": "s3:ListMultipartUploadParts",
    "HeadObject": "s3:GetObject",
    "GetObjectAttributes": "s3:GetObjectAttributes",
    "CopyObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "UploadPartCopy": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "DeleteObjects": "s3:DeleteObject",
    "PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
    "PutBucketLifecycle": "s3:PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "s3:PutLifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "GetBucketLifecycle": "s3:GetLifecycleConfiguration",
    "PutBucketEncryption": "s3:PutEncryptionConfiguration",
    "DeleteBucketEncryption": "s3:PutEncryptionConfiguration",
    "GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "PutObjectLockConfiguration": "s3:PutBucketObjectLockConfiguration",
    "GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
    "PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "DeleteBucketPolicy": "s3:DeleteBucketPolicy",
    "DeleteBucketTagging": "s3:PutBucketTagging",
    "DeleteBucketOwnershipControls": "s3:PutBucketOwnershipControls",
    "PutBucketReplication": "s3:PutReplicationConfiguration",
    "DeleteBucketReplication": "s3:PutReplicationConfiguration",
    "GetBucketReplication": "s3:GetReplicationConfiguration",
    "PutBucketNotificationConfiguration": "s3:PutBucketNotification",
    "GetBucketNotificationConfiguration": "s3:GetBucketNotification",
    "PutBucketCors": "s3:PutBucketCORS",
    "DeleteBucketCors": "s3:PutBucketCORS",
    "GetBucketCors": "s3:GetBucketCORS",
    "PutBucketAccelerateConfiguration": "s3:PutAccelerateConfiguration",
    "GetBucketAccelerateConfiguration": "s3:GetAccelerateConfiguration",
    "PutBucketAnalyticsConfiguration": "s3:PutAnalyticsConfiguration",
    "GetBucketAnalyticsConfiguration": "s3:GetAnalyticsConfiguration",
    "PutBucketInventoryConfiguration": "s3:PutInventoryConfiguration",
    "GetBucketInventoryConfiguration": "s3:GetInventoryConfiguration",
    "PutBucketMetricsConfiguration": "s3:PutMetricsConfiguration",
    "GetBucketMetricsConfiguration": "s3:GetMetricsConfiguration",
    "PutBucketIntelligentTieringConfiguration": "s3:PutIntelligentTieringConfiguration",
    "GetBucketIntelligentTieringConfiguration": "s3:GetIntelligentTieringConfiguration",
}
# S3 object actions that name a version when the request has a versionId.
S3_VERSION_ACTIONS = {
    "s3:GetObject": "s3:GetObjectVersion",
    "s3:DeleteObject": "s3:DeleteObjectVersion",
    "s3:GetObjectAcl": "s3:GetObjectVersionAcl",
    "s3:PutObjectAcl": "s3:PutObjectVersionAcl",
    "s3:GetObjectTagging": "s3:GetObjectVersionTagging",
    "s3:PutObjectTagging": "s3:PutObjectVersionTagging",
    "s3:DeleteObjectTagging": "s3:DeleteObjectVersionTagging",
    "s3:GetObjectAttributes": "s3:GetObjectVersionAttributes",
}

# Actions that act on no particular resource (the Service Authorization Reference lists no resource
# type for them): their resource is "*", which a statement naming resources does not match. A short
# list on purpose: for another action whose resource the sandbox cannot name, such a statement is
# an error (policy_language), not a silent miss.
RESOURCELESS_ACTIONS = (
    "ec2:Describe*",
    "s3:ListAllMyBuckets",
    "kms:CreateKey", "kms:ListKeys", "kms:ListAliases", "kms:GenerateRandom",
    "sts:GetCallerIdentity",
    "cloudtrail:DescribeTrails", "cloudtrail:ListTrails", "cloudtrail:LookupEvents", "cloudtrail:ListPublicKeys",
    "guardduty:CreateDetector", "guardduty:ListDetectors",
    "ssm:ListDocuments",
)


def service_prefix(service: str) -> str:
    """The IAM prefix of a botocore service name."""
    return IAM_PREFIXES.get(service, service)


def iam_action(service: str, operation: str, version: bool = False) -> str:
    """The IAM action of a botocore operation; ``version``: an S3 object request naming a versionId."""
    if service == "s3":
        action = S3_ACTIONS.get(operation, f"s3:{operation}")
        return S3_VERSION_ACTIONS.get(action, action) if version else action
    return f"{service_prefix(service)}:{operation}"


def is_resourceless(action: str) -> bool:
    return any(glob_matches(pattern, action, ignore_case=True) for pattern in RESOURCELESS_ACTIONS)
