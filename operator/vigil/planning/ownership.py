"""Who owns an AWS resource: the one place that decides it, for every control.

Ownership is recorded in AWS itself, as tags, so it survives the cluster: ``vigil.dev/owner``
names the object (``<namespace>/<Kind>/<name>``), ``vigil.dev/installation`` the Vigil that
manages it (two clusters pointed at one organization are told apart), ``vigil.dev/uid`` the
object's ``metadata.uid`` for the audit trail. Tags are set in the create call itself wherever
the API takes them, so a crash between create and tag never leaves Vigil's own resource unowned.

Pure: the tags come in, a verdict goes out. Reading tags is ``vigil.aws.ownership``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from .actions import Action, Change

OWNER_TAG = "vigil.dev/owner"
INSTALLATION_TAG = "vigil.dev/installation"
UID_TAG = "vigil.dev/uid"
# The spec generation that created the resource. Not part of who owns it: it tells an unfinished
# create (the spec unchanged since) from a setting the spec later asks for (see controls.guard).
GENERATION_TAG = "vigil.dev/generation"
# On a resource that existed before Vigil and was adopted: deletionPolicy Delete leaves it, since
# it was someone's before and deleting it would take away more than Vigil ever added.
ADOPTED_TAG = "vigil.dev/adopted"
DEFAULT_INSTALLATION = "default"


@dataclass(frozen=True)
class Owner:
    """A Vigil object, as it signs what it manages."""

    namespace: str
    kind: str
    name: str
    installation: str = DEFAULT_INSTALLATION
    uid: str = ""
    generation: int | None = None

    @property
    def value(self) -> str:
        """The owner tag's value: ``team-a/OrgTrail/org-trail``."""
        return f"{self.namespace}/{self.kind}/{self.name}"

    @property
    def legacy_value(self) -> str:
        """What Vigil wrote before owners named their kind: ``team-a/org-trail``."""
        return f"{self.namespace}/{self.name}"

    def tags(self) -> dict[str, str]:
        tags = {OWNER_TAG: self.value, INSTALLATION_TAG: self.installation}
        if self.uid:
            tags[UID_TAG] = self.uid
        if self.generation is not None:
            tags[GENERATION_TAG] = str(self.generation)
        return tags

    def tag_list(self, key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
        """The tags as most AWS APIs take them: ``[{"Key": ..., "Value": ...}]`` (KMS: TagKey/TagValue)."""
        return [{key: k, value: v} for k, v in self.tags().items()]

    def __str__(self) -> str:
        return self.value


class Holding(str, Enum):
    ABSENT = "Absent"  # the resource does not exist: creating it is safe
    MINE = "Mine"
    MINE_TO_RETAG = "MineToRetag"  # mine, recorded the old way (or for an older uid): retag, then write
    UNOWNED = "Unowned"  # exists, nobody's: adopted only on the object's explicit opt-in
    OTHERS = "Others"  # another object or another installation: never written


@dataclass(frozen=True)
class Verdict:
    holding: Holding
    holder: str = ""  # who holds it, as a user reads it: "team-a/OrgTrail/org-trail"

    @property
    def mine(self) -> bool:
        return self.holding in (Holding.MINE, Holding.MINE_TO_RETAG)


def judge(tags: dict[str, str] | None, me: Owner) -> Verdict:
    """Whose resource this is, from its tags (None: the resource does not exist)."""
    if tags is None:
        return Verdict(Holding.ABSENT)
    value = tags.get(OWNER_TAG)
    if not value:
        return Verdict(Holding.UNOWNED)
    installation = tags.get(INSTALLATION_TAG)
    if installation is None:
        # Written before installations were recorded: Vigil's tag, from this object or another.
        if value in (me.value, me.legacy_value):
            return Verdict(Holding.MINE_TO_RETAG, value)
        return Verdict(Holding.OTHERS, value)
    if installation != me.installation:
        return Verdict(Holding.OTHERS, f"{value} (installation {installation})")
    if value != me.value:
        return Verdict(Holding.OTHERS, value)
    if me.uid and tags.get(UID_TAG) != me.uid:
        return Verdict(Holding.MINE_TO_RETAG, value)  # the object was recreated under the same name
    return Verdict(Holding.MINE, value)


def owns(tags: dict[str, str] | None, me: Owner) -> bool:
    return judge(tags, me).mine


def created_by(tags: dict[str, str] | None, me: Owner) -> bool:
    """For deletion: only what this object owns, and did not adopt, is ever deleted."""
    return owns(tags, me) and not (tags or {}).get(ADOPTED_TAG)


@dataclass(frozen=True)
class Resource:
    """An AWS resource a control writes to, named so its tags can be read and written.

    ``kind`` picks the tagging API (see ``TAGGERS``); ``identifier`` is what that API takes (an
    ARN, a name, an id); ``label`` is how status names it. ``exists`` False means the planned
    actions create it, with the owner's tags in the create call.
    """

    kind: str
    account_id: str
    region: str
    identifier: str
    label: str
    exists: bool = True


# Resource kind -> (service, tagging operation, how its parameters are built from the identifier
# and the tags). S3's tagging replaces the whole set, so the existing tags are merged in first.
def _s3_bucket(ident: str, tags: dict[str, str]) -> dict[str, Any]:
    return {"Bucket": ident, "Tagging": {"TagSet": [{"Key": k, "Value": v} for k, v in sorted(tags.items())]}}


def _with_bucket_owner(resource: Resource, params: dict[str, Any]) -> dict[str, Any]:
    """Every S3 write names the account that must own the bucket."""
    return {**params, "ExpectedBucketOwner": resource.account_id} if resource.kind == "s3-bucket" else params


TAGGERS: dict[str, tuple[str, str, Any]] = {
    "s3-bucket": ("s3", "PutBucketTagging", _s3_bucket),
    "kms-key": ("kms", "TagResource", lambda i, t: {
        "KeyId": i, "Tags": [{"TagKey": k, "TagValue": v} for k, v in t.items()]}),
    "cloudtrail-trail": ("cloudtrail", "AddTags", lambda i, t: {
        "ResourceId": i, "TagsList": [{"Key": k, "Value": v} for k, v in t.items()]}),
    "logs-log-group": ("logs", "TagResource", lambda i, t: {"resourceArn": i.removesuffix(":*"), "tags": t}),
    "logs-destination": ("logs", "TagResource", lambda i, t: {"resourceArn": i, "tags": t}),
    "firehose-stream": ("firehose", "TagDeliveryStream", lambda i, t: {
        "DeliveryStreamName": i, "Tags": [{"Key": k, "Value": v} for k, v in t.items()]}),
    "kinesis-stream": ("kinesis", "AddTagsToStream", lambda i, t: {"StreamName": i, "Tags": t}),
    "iam-role": ("iam", "TagRole", lambda i, t: {"RoleName": i, "Tags": [{"Key": k, "Value": v} for k, v in t.items()]}),
    "guardduty-detector": ("guardduty", "TagResource", lambda i, t: {"ResourceArn": i, "Tags": t}),
    "securityhub-hub": ("securityhub", "TagResource", lambda i, t: {"ResourceArn": i, "Tags": t}),
    "securityhub-configuration-policy": ("securityhub", "TagResource", lambda i, t: {"ResourceArn": i, "Tags": t}),
    "config-aggregator": ("config", "TagResource", lambda i, t: {
        "ResourceArn": i, "Tags": [{"Key": k, "Value": v} for k, v in t.items()]}),
    "ssm-document": ("ssm", "AddTagsToResource", lambda i, t: {
        "ResourceType": "Document", "ResourceId": i, "Tags": [{"Key": k, "Value": v} for k, v in t.items()]}),
    "organizations-policy": ("organizations", "TagResource", lambda i, t: {
        "ResourceId": i, "Tags": [{"Key": k, "Value": v} for k, v in t.items()]}),
}


def tag_action(resource: Resource, me: Owner, existing: dict[str, str], adopting: bool = False) -> Action:
    """The write that records ``me`` as the owner (adoption, or migrating an old record)."""
    service, operation, params = TAGGERS[resource.kind]
    mine = {**me.tags(), **({ADOPTED_TAG: "true"} if adopting else {})}
    tags = {**existing, **mine} if resource.kind == "s3-bucket" else mine
    return Action(resource.label, resource.account_id, resource.region, service, operation,
                  _with_bucket_owner(resource, params(resource.identifier, tags)),
                  (Change("owner", existing.get(OWNER_TAG), me.value),), creates=True)
