"""What a request asks to do, as AWS's authorization sees it: one or more targets, each an IAM
action on a resource (its ARN), the account owning that resource and the condition keys it brings
(``aws:ResourceTag/<key>``, ``aws:ResourceAccount``); and the request's own keys (``aws:TagKeys``).

Read from the request and from moto's state (bucket owners and tags, KMS keys and aliases, EC2 tags,
IAM roles). Resources are named for:

- S3: buckets (``arn:aws:s3:::bucket``) and objects (``arn:aws:s3:::bucket/key``), the source of a
  copy too; DeleteObjects is one target per object; the owner is the bucket's account;
- KMS: KeyId and TargetKeyId (a key id, key ARN, alias name or alias ARN, resolved in the key's
  account and Region to ``arn:aws:kms:<region>:<account>:key/<id>``), AliasName for the alias
  operations;
- CloudTrail: Name, TrailName, ResourceId(List) (a name is the caller's trail in the Region);
- EC2: DeleteFlowLogs' FlowLogIds, CreateTags' and DeleteTags' resources (by their id's prefix);
- SSM: the document operations' Name; CloudWatch Logs: logGroupName, logGroupIdentifier,
  resourceIdentifier; GuardDuty: the detector in the path; IAM: RoleName; STS: AssumeRole's RoleArn.

Any other request's resource is ``*`` when its action acts on no particular resource
(iam_actions.RESOURCELESS_ACTIONS), else unnamed (None): a statement naming resources then makes
the evaluation fail loudly (policy_language).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from moto.ec2.models import ec2_backends
from moto.iam.exceptions import IAMException
from moto.iam.models import iam_backends
from moto.kms.models import kms_backends
from moto.s3.models import s3_backends

from vigil_sandbox.iam_actions import iam_action, is_resourceless
from vigil_sandbox.s3_batch_delete import entries as delete_entries

Keys = Mapping[str, "str | tuple[str, ...]"]


@dataclass(frozen=True)
class WireRequest:
    """An AWS request as the sandbox received it, once its account and operation are known."""

    account: str
    service: str  # botocore's name
    operation: str  # botocore's name
    region: str
    access_key: str
    method: str
    path: str  # decoded; for S3 always path-style: /bucket/key
    params: Mapping[str, list[str]]  # the query string and, for query protocols, the form body
    headers: Mapping[str, str]  # lower-case names
    read_body: Callable[[], bytes] = field(repr=False)

    @functools.cached_property
    def json_body(self) -> dict[str, Any]:
        try:
            document = json.loads(self.read_body() or b"{}")
        except ValueError:
            return {}
        return document if isinstance(document, dict) else {}

    def param(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[0] if values else None

    def indexed(self, name: str) -> list[str]:
        """A list the query protocols flatten as Name.1, Name.2, ... in its order."""
        found = re.compile(rf"^{re.escape(name)}\.(\d+)$")
        numbered = [(int(m.group(1)), values[0]) for key, values in self.params.items()
                    if (m := found.match(key)) and values]
        return [value for _, value in sorted(numbered)]

    def indexed_tags(self) -> list[tuple[str, str]]:
        """EC2's tag lists, flattened as Tag.N.Key and Tag.N.Value: (key, value) in their order."""
        found = re.compile(r"^Tag\.(\d+)\.Key$")
        numbered = sorted((int(m.group(1)), values[0]) for key, values in self.params.items()
                          if (m := found.match(key)) and values)
        return [(key, self.param(f"Tag.{n}.Value") or "") for n, key in numbered]


@dataclass(frozen=True)
class Target:
    """One action on one resource that the request needs allowed."""

    action: str
    resource: str | None  # an ARN; "*" for no particular resource; None when the sandbox cannot name it
    owner: str | None = None  # the account owning the resource, when known
    keys: Keys = field(default_factory=dict)  # the resource's condition keys, lower-case names


def _resource_keys(owner: str | None, tags: Mapping[str, str] | None = None) -> dict[str, Any]:
    keys: dict[str, Any] = {f"aws:resourcetag/{k.lower()}": v for k, v in (tags or {}).items()}
    if owner:
        keys["aws:resourceaccount"] = owner
    return keys


def _unnamed(request: WireRequest, action: str | None = None) -> list[Target]:
    action = action or iam_action(request.service, request.operation)
    return [Target(action, "*" if is_resourceless(action) else None, None)]


def _arn_account(arn: str) -> str | None:
    parts = arn.split(":", 5)
    return (parts[4] or None) if len(parts) == 6 else None


# --- S3 ------------------------------------------------------------------------------------------


def _bucket_owner(name: str) -> str | None:
    """The account of an existing bucket: bucket names are global."""
    found = s3_backends.bucket_accounts.get(name)
    return found[1] if found else None


def _bucket_tags(name: str) -> dict[str, str]:
    partition, owner = s3_backends.bucket_accounts[name]
    backend = s3_backends[owner][partition]
    bucket = backend.buckets.get(name)
    return dict(backend.tagger.get_tag_dict_for_resource(bucket.arn)) if bucket is not None else {}


def _object_target(operation: str, bucket: str, key: str, version: bool) -> Target:
    owner = _bucket_owner(bucket)
    return Target(iam_action("s3", operation, version), f"arn:aws:s3:::{bucket}/{key}", owner, _resource_keys(owner))


def _delete_objects(request: WireRequest, bucket: str) -> list[Target]:
    return [_object_target("DeleteObject", bucket, key, version is not None)
            for key, version in delete_entries(request.read_body())]


def _s3(request: WireRequest) -> list[Target]:
    bucket, _, key = request.path.lstrip("/").partition("/")
    if not bucket:
        return _unnamed(request)  # ListBuckets
    if request.operation == "DeleteObjects":
        return _delete_objects(request, bucket)
    version = "versionId" in request.params
    if key:
        targets = [_object_target(request.operation, bucket, key, version)]
    else:
        owner = _bucket_owner(bucket)
        tags = _bucket_tags(bucket) if owner else {}
        if owner is None and request.operation == "CreateBucket":
            owner = request.account  # the new bucket's; anything else on a missing bucket is NoSuchBucket
        targets = [Target(iam_action("s3", request.operation), f"arn:aws:s3:::{bucket}", owner,
                          _resource_keys(owner, tags))]
    source = request.headers.get("x-amz-copy-source")
    if source:  # CopyObject, UploadPartCopy: the source object is read
        path, _, query = unquote(source).lstrip("/").partition("?")
        source_bucket, _, source_key = path.partition("/")
        targets.append(_object_target("GetObject", source_bucket, source_key, "versionId=" in query))
    return targets


# --- KMS -----------------------------------------------------------------------------------------


def _kms_key(request: WireRequest, action: str, reference: str) -> Target:
    """The key a KeyId names, in the key's account and Region; an alias is resolved to its key."""
    region, account = request.region, request.account
    if reference.startswith("arn:"):
        parts = reference.split(":", 5)
        if len(parts) == 6:
            region, account, reference = parts[3], parts[4], parts[5]
            reference = reference.removeprefix("key/")
    try:
        backend = kms_backends[account][region]
    except KeyError:
        backend = None
    if reference.startswith("alias/"):
        # Not moto's get_key_id_from_alias: it creates AWS managed keys for their aliases.
        key = next((k for k in list(backend.keys.values()) if reference in k.aliases), None) if backend else None
        if key is None:  # no such alias: moto answers NotFoundException
            return Target(action, f"arn:aws:kms:{region}:{account}:{reference}", account, _resource_keys(account))
    else:
        key = backend.keys.get(reference) if backend else None
    key_id = key.id if key is not None else reference
    tags = backend.tagger.get_tag_dict_for_resource(key.id) if key is not None and backend else {}
    return Target(action, f"arn:aws:kms:{region}:{account}:key/{key_id}", account, _resource_keys(account, tags))


def _kms(request: WireRequest) -> list[Target]:
    action = iam_action("kms", request.operation)
    body = request.json_body
    targets = [_kms_key(request, action, body[name]) for name in ("KeyId", "TargetKeyId")
               if isinstance(body.get(name), str)]
    alias = body.get("AliasName")
    if isinstance(alias, str) and request.operation in ("CreateAlias", "UpdateAlias", "DeleteAlias"):
        alias_arn = alias if alias.startswith("arn:") else f"arn:aws:kms:{request.region}:{request.account}:{alias}"
        targets.append(Target(action, alias_arn, request.account, _resource_keys(request.account)))
        if request.operation == "DeleteAlias":  # the key it points to is authorized too
            key = _kms_key(request, action, alias)
            if ":key/" in (key.resource or ""):
                targets.append(key)
    return targets or _unnamed(request, action)


# --- CloudTrail, SSM, CloudWatch Logs, GuardDuty, IAM, STS ---------------------------------------


def _arn_target(action: str, arn: str) -> Target:
    owner = _arn_account(arn)
    return Target(action, arn, owner, _resource_keys(owner))


def _cloudtrail(request: WireRequest) -> list[Target]:
    action = iam_action("cloudtrail", request.operation)
    body = request.json_body
    names = [body[n] for n in ("Name", "TrailName", "ResourceId") if isinstance(body.get(n), str)]
    names += [n for n in body.get("ResourceIdList") or () if isinstance(n, str)]
    if not names:
        return _unnamed(request, action)
    return [_arn_target(action, name if name.startswith("arn:")
                        else f"arn:aws:cloudtrail:{request.region}:{request.account}:trail/{name}")
            for name in names]


def _ssm(request: WireRequest) -> list[Target]:
    name = request.json_body.get("Name")
    if "Document" not in request.operation or not isinstance(name, str):
        return _unnamed(request)
    arn = name if name.startswith("arn:") else f"arn:aws:ssm:{request.region}:{request.account}:document/{name}"
    return [_arn_target(iam_action("ssm", request.operation), arn)]


def _logs(request: WireRequest) -> list[Target]:
    body = request.json_body
    group = next((body[n] for n in ("logGroupName", "logGroupIdentifier", "resourceIdentifier")
                  if isinstance(body.get(n), str)), None)
    if group is None:
        return _unnamed(request)
    arn = group.removesuffix(":*") if group.startswith("arn:") else \
        f"arn:aws:logs:{request.region}:{request.account}:log-group:{group}"
    return [_arn_target(iam_action("logs", request.operation), arn)]


_DETECTOR_PATH = re.compile(r"^/detector/([^/]+)")


def _guardduty(request: WireRequest) -> list[Target]:
    detector = _DETECTOR_PATH.match(request.path)
    if detector is None:
        return _unnamed(request)
    arn = f"arn:aws:guardduty:{request.region}:{request.account}:detector/{detector.group(1)}"
    return [_arn_target(iam_action("guardduty", request.operation), arn)]


def _iam(request: WireRequest) -> list[Target]:
    name = request.param("RoleName")
    if name is None:
        return _unnamed(request)
    try:
        arn = iam_backends[request.account]["global"].get_role(name).arn
    except IAMException:  # CreateRole, or a role that is not there (moto answers NoSuchEntity)
        arn = f"arn:aws:iam::{request.account}:role{request.param('Path') or '/'}{name}"
    return [_arn_target(iam_action("iam", request.operation), arn)]


def _sts(request: WireRequest) -> list[Target]:
    role = request.param("RoleArn")
    return [_arn_target(iam_action("sts", request.operation), role)] if role else _unnamed(request)


# --- EC2 -----------------------------------------------------------------------------------------

# Resource id prefix -> the resource type in its ARN. Snapshots and images have no account in it.
EC2_RESOURCE_TYPES = {
    "fl": "vpc-flow-log", "vpc": "vpc", "subnet": "subnet", "i": "instance", "vol": "volume",
    "sg": "security-group", "eni": "network-interface", "igw": "internet-gateway", "rtb": "route-table",
    "acl": "network-acl", "eipalloc": "elastic-ip", "vpce": "vpc-endpoint", "nat": "natgateway",
    "tgw": "transit-gateway", "dopt": "dhcp-options", "lt": "launch-template", "key": "key-pair",
    "pcx": "vpc-peering-connection", "snap": "snapshot", "ami": "image",
}


def _ec2_target(request: WireRequest, action: str, resource_id: str) -> Target:
    kind = EC2_RESOURCE_TYPES.get(resource_id.rsplit("-", 1)[0])
    if kind is None:
        return Target(action, None)
    account = "" if kind in ("snapshot", "image") else request.account
    try:
        tags = dict(ec2_backends[request.account][request.region].tags.get(resource_id, {}))
    except KeyError:
        tags = {}
    owner = account or None
    return Target(action, f"arn:aws:ec2:{request.region}:{account}:{kind}/{resource_id}", owner,
                  _resource_keys(owner, tags))


def _ec2(request: WireRequest) -> list[Target]:
    action = iam_action("ec2", request.operation)
    ids = (request.indexed("FlowLogId") if request.operation == "DeleteFlowLogs"
           else request.indexed("ResourceId") if request.operation in ("CreateTags", "DeleteTags") else [])
    return [_ec2_target(request, action, i) for i in ids] or _unnamed(request, action)


RESOLVERS: dict[str, Callable[[WireRequest], list[Target]]] = {
    "s3": _s3, "kms": _kms, "cloudtrail": _cloudtrail, "ssm": _ssm, "logs": _logs,
    "guardduty": _guardduty, "iam": _iam, "sts": _sts, "ec2": _ec2,
}


def targets(request: WireRequest) -> list[Target]:
    """The actions and resources the request needs allowed, one target each, in request order."""
    resolver = RESOLVERS.get(request.service)
    return resolver(request) if resolver else _unnamed(request)


def request_keys(request: WireRequest) -> dict[str, Any]:
    """The request's own condition keys: the tags EC2 CreateTags/DeleteTags would set or remove."""
    if request.service == "ec2" and request.operation in ("CreateTags", "DeleteTags"):
        tag_keys = request.indexed_tags()
        keys: dict[str, Any] = {"aws:tagkeys": tuple(k for k, _ in tag_keys)} if tag_keys else {}
        if request.operation == "CreateTags":
            keys.update({f"aws:requesttag/{k.lower()}": v for k, v in tag_keys})
        return keys
    return {}
