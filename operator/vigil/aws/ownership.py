"""Reading the ownership tags of a resource, one reader per resource kind (planning.ownership.TAGGERS
writes them)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError

from ..planning.ownership import Resource
from .errors import is_code, or_default
from .session import AwsAccess


def _pairs(tags: list[dict[str, str]], key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {t[key]: t[value] for t in tags}


def _s3_bucket(client: Any, r: Resource) -> dict[str, str] | None:
    # Read only as the owner's: another account's bucket of that name is refused (403), never read.
    try:
        return _pairs(client.get_bucket_tagging(Bucket=r.identifier, ExpectedBucketOwner=r.account_id)["TagSet"])
    except ClientError as exc:
        if is_code(exc, "NoSuchTagSet"):
            return {}
        if is_code(exc, "NoSuchBucket"):
            return None
        raise


def _kms_key(client: Any, r: Resource) -> dict[str, str] | None:
    tags: dict[str, str] = {}
    for page in client.get_paginator("list_resource_tags").paginate(KeyId=r.identifier):
        tags.update(_pairs(page.get("Tags", []), "TagKey", "TagValue"))
    return tags


def _trail(client: Any, r: Resource) -> dict[str, str] | None:
    found = client.list_tags(ResourceIdList=[r.identifier])["ResourceTagList"]
    return {t["Key"]: t["Value"] for entry in found for t in entry.get("TagsList", [])}


def _log_group(client: Any, r: Resource) -> dict[str, str] | None:
    return or_default(lambda: client.list_tags_for_resource(resourceArn=r.identifier.removesuffix(":*")).get("tags", {}),
                      None, "ResourceNotFoundException")


def _stream(client: Any, r: Resource) -> dict[str, str] | None:
    tags = or_default(lambda: client.list_tags_for_delivery_stream(DeliveryStreamName=r.identifier)["Tags"], None,
                      "ResourceNotFoundException")
    return None if tags is None else {t["Key"]: t.get("Value", "") for t in tags}


def _data_stream(client: Any, r: Resource) -> dict[str, str] | None:
    tags: dict[str, str] = {}
    query: dict[str, Any] = {"StreamName": r.identifier}
    while True:  # 50 tags a page at most: Vigil's three fit in one
        page = or_default(lambda: client.list_tags_for_stream(**query), None, "ResourceNotFoundException")
        if page is None:
            return None
        tags.update(_pairs(page.get("Tags", [])))
        if not page.get("HasMoreTags") or not page.get("Tags"):
            return tags
        query["ExclusiveStartTagKey"] = page["Tags"][-1]["Key"]


def _role(client: Any, r: Resource) -> dict[str, str] | None:
    role = or_default(lambda: client.get_role(RoleName=r.identifier)["Role"], None, "NoSuchEntity")
    return None if role is None else _pairs(role.get("Tags", []))


def _hub(client: Any, r: Resource) -> dict[str, str] | None:
    return or_default(lambda: client.list_tags_for_resource(ResourceArn=r.identifier).get("Tags", {}), None,
                      "ResourceNotFoundException", "InvalidAccessException")


def _aggregator(client: Any, r: Resource) -> dict[str, str] | None:
    tags = or_default(lambda: client.list_tags_for_resource(ResourceArn=r.identifier)["Tags"], None,
                      "ResourceNotFoundException")
    return None if tags is None else _pairs(tags)


def _ssm_document(client: Any, r: Resource) -> dict[str, str] | None:
    return or_default(lambda: _pairs(client.list_tags_for_resource(
        ResourceType="Document", ResourceId=r.identifier).get("TagList", [])), None, "InvalidResourceId")


def _organization_policy(client: Any, r: Resource) -> dict[str, str] | None:
    tags = or_default(lambda: client.list_tags_for_resource(ResourceId=r.identifier)["Tags"], None,
                      "TargetNotFoundException", "PolicyNotFoundException")
    return None if tags is None else _pairs(tags)


READERS: dict[str, tuple[str, Callable[[Any, Resource], dict[str, str] | None]]] = {
    "s3-bucket": ("s3", _s3_bucket),
    "kms-key": ("kms", _kms_key),
    "cloudtrail-trail": ("cloudtrail", _trail),
    "logs-log-group": ("logs", _log_group),
    "logs-destination": ("logs", _log_group),  # the same tagging API, by ARN
    "firehose-stream": ("firehose", _stream),
    "kinesis-stream": ("kinesis", _data_stream),
    "iam-role": ("iam", _role),
    "ssm-document": ("ssm", _ssm_document),
    "securityhub-hub": ("securityhub", _hub),
    "securityhub-configuration-policy": ("securityhub", _hub),  # the same tagging API, by the policy's ARN
    "config-aggregator": ("config", _aggregator),
    "organizations-policy": ("organizations", _organization_policy),
}


def read_tags(access: AwsAccess, resource: Resource) -> dict[str, str] | None:
    """The resource's tags; None when it does not exist (any more)."""
    service, reader = READERS[resource.kind]
    return reader(access.client(service, resource.account_id, resource.region), resource)
