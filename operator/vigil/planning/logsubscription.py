"""LogSubscriptionPolicy: every selected CloudWatch log group streams to the LogArchive bucket,
desired vs observed (pure).

The path, from a log group to the archive:

    log group --subscription filter--> CloudWatch Logs destination --role--> Firehose --role--> S3
    (target account x region)          (log-archive account, same region)          (LogArchive bucket,
    or the account's subscription                                                   LogArchive key)
    filter policy

With ``delivery.type: Kinesis`` the destination writes to a Kinesis data stream instead, which the
Firehose stream reads (the Centralized Logging pattern: CloudWatch Logs -> Kinesis Data Streams ->
Firehose -> S3); other readers (a SIEM) may read the data stream too.

A destination must be in the region of the log groups it serves, so the log-archive account gets
one destination, and one Firehose stream behind it, per target region; the streams all write into
the one bucket, under ``s3KeyPrefix/<region>/``. The destination's policy admits every account of
the organization (aws:PrincipalOrgID), so a new account needs no change at the archive end.

AWS gives a log group two subscription filter slots. Vigil names its filter after the policy and
only ever writes that one: a filter of another name is someone else's and is never replaced or
removed, so a group whose two slots are taken by others cannot be covered (SubscriptionSlotsFull).
AWS gives an account one subscription filter policy per region: another's is never replaced either;
``method: PreferAccountPolicy`` subscribes that account's groups one by one instead.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from ..api.logsubscription import DeliveryType, LogSubscriptionPolicySpec, SubscriptionMethod
from ..state.cloudtrail import LogGroupState, RoleState
from ..state.documents import canonical
from ..state.logsubscription import (AccountPolicy, DataStreamState, DeliveryStreamSettings, DeliveryStreamState,
                                     DestinationSettings, DestinationState, SubscriptionFilter,
                                     SubscriptionFilterSettings)
from . import policies
from .ownership import Owner
from .weakening import entries, token
from .actions import Action, Change, diff

# Where Vigil's Firehose streams log their delivery errors. Never subscribed, whatever the spec's
# selector says: a delivery error would be delivered, fail, and be logged again.
OWN_LOG_GROUP_PREFIX = "/aws/kinesisfirehose/vigil"
DELIVERY_LOG_STREAM = "S3Delivery"
DELIVERY_LOG_RETENTION_DAYS = 365
FILTER_SLOTS = 2
# CloudWatch Logs sends Firehose gzip-compressed batches; compressing again gains nothing.
COMPRESSION_FORMAT = "UNCOMPRESSED"
BUFFER_SIZE_MB = 5
ROLE_POLICY_NAME = "vigil-log-subscription"
SUBSCRIPTION_FILTER_POLICY = "SUBSCRIPTION_FILTER_POLICY"
# selectionCriteria takes names only (no prefixes), at most this many.
MAX_EXCLUDED_NAMES = 50
# delivery.type Kinesis: an on-demand stream (no shards to size), encrypted with the AWS managed key,
# which needs no key policy and no KMS permission for CloudWatch Logs to write nor Firehose to read.
DATA_STREAM_MODE = "ON_DEMAND"
KINESIS_MANAGED_KEY = "alias/aws/kinesis"
KINESIS_SOURCE = "KinesisStreamAsSource"
DIRECT_PUT = "DirectPut"

# Reasons a target cannot be covered: status.failures[].reason.
SLOTS_FULL = "SubscriptionSlotsFull"
ACCOUNT_POLICY_TAKEN = "AccountPolicyTaken"
TOO_MANY_EXCLUSIONS = "TooManyExclusions"
DELIVERY_STREAM_MISMATCH = "DeliveryStreamMismatch"


class CoverageError(ValueError):
    """A target Vigil cannot cover without touching what is not its own."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


# --- names ---------------------------------------------------------------------------------------


def bounded(text: str, limit: int) -> str:
    """``text`` if it fits, else cut with a hash of the whole, so two long names stay distinct."""
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"{text[:limit - 9]}-{digest}"


@dataclass(frozen=True)
class Names:
    """What Vigil calls the resources of one LogSubscriptionPolicy: derived from namespace and name,
    so they are the same at every resync and distinct between policies."""

    base: str
    stream: str
    destination: str
    subscription_filter: str
    account_policy: str
    firehose_role: str
    logs_role: str
    log_group: str
    data_stream: str  # delivery.type Kinesis: the Kinesis data stream
    kinesis_stream: str  # delivery.type Kinesis: the Firehose stream that reads it (a name of its own, so a
    #                      policy moving between the two types never meets a stream of the other type)

    @classmethod
    def of(cls, namespace: str, name: str) -> "Names":
        base = f"vigil-{namespace}-{name}"
        stream = bounded(base, 64)
        return cls(base=base, stream=stream, destination=bounded(base, 512), subscription_filter=bounded(base, 512),
                   account_policy=bounded(base, 256), firehose_role=bounded(f"{base}-firehose", 64),
                   logs_role=bounded(f"{base}-logs", 64), log_group=f"/aws/kinesisfirehose/{stream}",
                   data_stream=bounded(base, 128), kinesis_stream=bounded(f"{base}-kds", 64))


@dataclass(frozen=True)
class Archive:
    """The log-archive end: where the destinations and streams live, and what they write into."""

    account_id: str
    home_region: str  # the bucket's and the key's region
    bucket: str
    kms_key_arn: str
    organization_id: str
    owner: Owner  # who signs what Vigil creates (planning.ownership)
    names: Names

    @property
    def bucket_arn(self) -> str:
        return f"arn:aws:s3:::{self.bucket}"

    def label(self, region: str, what: str) -> str:
        return f"{self.account_id}/{region}/{what}"

    def role_arn(self, role_name: str) -> str:
        return f"arn:aws:iam::{self.account_id}:role/{role_name}"

    def stream_arn(self, region: str, name: str | None = None) -> str:
        return f"arn:aws:firehose:{region}:{self.account_id}:deliverystream/{name or self.names.stream}"

    def data_stream_arn(self, region: str) -> str:
        return f"arn:aws:kinesis:{region}:{self.account_id}:stream/{self.names.data_stream}"

    def destination_arn(self, region: str) -> str:
        return f"arn:aws:logs:{region}:{self.account_id}:destination:{self.names.destination}"


@dataclass(frozen=True)
class Source:
    """One account x region whose log groups are subscribed."""

    account_id: str
    region: str
    destination_arn: str  # the region's destination in the log-archive account

    @property
    def label(self) -> str:
        return f"{self.account_id}/{self.region}"

    def group_label(self, log_group: str) -> str:
        return f"{self.account_id}/{self.region}/log-group:{log_group}"

    def policy_label(self, policy_name: str) -> str:
        return f"{self.account_id}/{self.region}/account-policy:{policy_name}"


def through_kinesis(spec: LogSubscriptionPolicySpec) -> bool:
    return spec.delivery.type == DeliveryType.KINESIS.value


def delivery_stream_name(spec: LogSubscriptionPolicySpec, names: Names) -> str:
    """The Firehose stream into the bucket: its own name when it reads a Kinesis data stream."""
    return names.kinesis_stream if through_kinesis(spec) else names.stream


def destination_target(spec: LogSubscriptionPolicySpec, archive: Archive, region: str) -> str:
    """What the region's destination writes to: the Kinesis data stream, or the Firehose stream."""
    return archive.data_stream_arn(region) if through_kinesis(spec) else archive.stream_arn(region)


# --- roles ---------------------------------------------------------------------------------------


def firehose_trust_policy(archive: Archive) -> dict[str, Any]:
    """Firehose assumes the role with the account id as external id, as AWS's own setup does."""
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "firehose.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": archive.account_id}}}]}


def s3_prefix(spec: LogSubscriptionPolicySpec, region: str) -> str:
    """Each region's stream writes under its own folder, so objects never collide across regions."""
    prefix = spec.delivery.s3_key_prefix
    return f"{prefix}/{region}/" if prefix else f"{region}/"


def firehose_role_policy(spec: LogSubscriptionPolicySpec, archive: Archive) -> dict[str, Any]:
    """Write objects under the prefix, encrypted with the archive key (through S3 only), and log
    delivery errors."""
    prefix = spec.delivery.s3_key_prefix
    objects = f"{archive.bucket_arn}/{prefix}/*" if prefix else f"{archive.bucket_arn}/*"
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "VigilArchiveWrite", "Effect": "Allow",
         "Action": ["s3:AbortMultipartUpload", "s3:GetBucketLocation", "s3:GetObject", "s3:ListBucket",
                    "s3:ListBucketMultipartUploads", "s3:PutObject"],
         "Resource": [archive.bucket_arn, objects]},
        {"Sid": "VigilArchiveKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
         "Resource": archive.kms_key_arn,
         "Condition": {"StringEquals": {"kms:ViaService": f"s3.{archive.home_region}.amazonaws.com"},
                       "StringLike": {"kms:EncryptionContext:aws:s3:arn": objects}}},
        {"Sid": "VigilDeliveryErrors", "Effect": "Allow", "Action": "logs:PutLogEvents",
         "Resource": f"arn:aws:logs:*:{archive.account_id}:log-group:{archive.names.log_group}:log-stream:*"},
        *([{"Sid": "VigilReadDataStream", "Effect": "Allow",
            "Action": ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords",
                       "kinesis:GetShardIterator", "kinesis:ListShards"],
            "Resource": f"arn:aws:kinesis:*:{archive.account_id}:stream/{archive.names.data_stream}"}]
          if through_kinesis(spec) else []),
    ]}


def logs_trust_policy(archive: Archive) -> dict[str, Any]:
    """CloudWatch Logs assumes the destination's role on behalf of the subscribing accounts, all of
    them in the organization."""
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceOrgID": archive.organization_id}}}]}


def logs_role_policy(archive: Archive, spec: LogSubscriptionPolicySpec | None = None) -> dict[str, Any]:
    """What the destination's role writes: the Firehose stream, or the Kinesis data stream."""
    if spec is not None and through_kinesis(spec):
        return {"Version": "2012-10-17", "Statement": [{
            "Sid": "VigilToKinesis", "Effect": "Allow", "Action": ["kinesis:PutRecord", "kinesis:PutRecords"],
            "Resource": f"arn:aws:kinesis:*:{archive.account_id}:stream/{archive.names.data_stream}"}]}
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "VigilToFirehose", "Effect": "Allow", "Action": ["firehose:PutRecord", "firehose:PutRecordBatch"],
        "Resource": f"arn:aws:firehose:*:{archive.account_id}:deliverystream/{archive.names.stream}"}]}


def plan_role(archive: Archive, role_name: str, trust: dict[str, Any], inline: dict[str, Any],
              observed: RoleState) -> list[Action]:
    label = archive.label("global", f"role/{role_name}")
    a = archive.account_id
    actions = []
    if not observed.exists:
        actions.append(Action(label, a, "global", "iam", "CreateRole", {
            "RoleName": role_name, "AssumeRolePolicyDocument": policies.to_json(trust),
            "Tags": archive.owner.tag_list()},
            (Change("role", None, role_name),), creates=True))
    elif observed.trust_policy != canonical(trust):
        actions.append(Action(label, a, "global", "iam", "UpdateAssumeRolePolicy", {
            "RoleName": role_name, "PolicyDocument": policies.to_json(trust)},
            (Change("trust_policy", observed.trust_policy, canonical(trust)),)))
    if observed.inline_policy != canonical(inline):
        actions.append(Action(label, a, "global", "iam", "PutRolePolicy", {
            "RoleName": role_name, "PolicyName": ROLE_POLICY_NAME, "PolicyDocument": policies.to_json(inline)},
            (Change("inline_policy", observed.inline_policy, canonical(inline)),), creates=not observed.exists))
    return actions


# --- the delivery stream and its error log -------------------------------------------------------


def plan_delivery_log_group(archive: Archive, region: str, observed: LogGroupState) -> list[Action]:
    """The stream's error log. Kept on delete, as every log group: it holds log data."""
    name = archive.names.log_group
    label = archive.label(region, f"log-group:{name}")
    a = archive.account_id
    actions = []
    if not observed.exists:
        actions.append(Action(label, a, region, "logs", "CreateLogGroup", {
            "logGroupName": name, "tags": archive.owner.tags()}, (Change("log_group", None, name),),
            creates=True))
    if observed.retention_days != DELIVERY_LOG_RETENTION_DAYS:
        actions.append(Action(label, a, region, "logs", "PutRetentionPolicy", {
            "logGroupName": name, "retentionInDays": DELIVERY_LOG_RETENTION_DAYS},
            (Change("retention_days", observed.retention_days, DELIVERY_LOG_RETENTION_DAYS),),
            creates=not observed.exists))
    if not observed.exists:
        actions.append(Action(label, a, region, "logs", "CreateLogStream", {
            "logGroupName": name, "logStreamName": DELIVERY_LOG_STREAM},
            (Change("log_stream", None, DELIVERY_LOG_STREAM),), creates=True))
    return actions


def desired_stream_settings(spec: LogSubscriptionPolicySpec, archive: Archive, region: str) -> DeliveryStreamSettings:
    return DeliveryStreamSettings(
        role_arn=archive.role_arn(archive.names.firehose_role),
        bucket_arn=archive.bucket_arn,
        prefix=s3_prefix(spec, region),
        buffer_interval_seconds=spec.delivery.buffer_interval_seconds,
        buffer_size_mb=BUFFER_SIZE_MB,
        compression_format=COMPRESSION_FORMAT,
        kms_key_arn=archive.kms_key_arn,
        error_logging=True,
        error_log_group=archive.names.log_group,
        error_log_stream=DELIVERY_LOG_STREAM,
    )


def s3_destination(settings: DeliveryStreamSettings) -> dict[str, Any]:
    """The ExtendedS3 configuration (or update: the same fields) that holds ``settings``."""
    return {
        "RoleARN": settings.role_arn,
        "BucketARN": settings.bucket_arn,
        "Prefix": settings.prefix,
        "BufferingHints": {"IntervalInSeconds": settings.buffer_interval_seconds,
                           "SizeInMBs": settings.buffer_size_mb},
        "CompressionFormat": settings.compression_format,
        "EncryptionConfiguration": {"KMSEncryptionConfig": {"AWSKMSKeyARN": settings.kms_key_arn}},
        "CloudWatchLoggingOptions": {"Enabled": settings.error_logging, "LogGroupName": settings.error_log_group,
                                     "LogStreamName": settings.error_log_stream},
    }


def plan_data_stream(archive: Archive, region: str, observed: DataStreamState, created: bool = False) -> list[Action]:
    """delivery.type Kinesis: the region's data stream, on demand, encrypted. Kinesis encrypts only
    an ACTIVE stream, so a new one is encrypted once it is (``created``: in the pass that made it,
    which finishes the create rather than correcting drift)."""
    name = archive.names.data_stream
    label = archive.label(region, f"data-stream/{name}")
    a = archive.account_id
    if not observed.exists:
        return [Action(label, a, region, "kinesis", "CreateStream", {
            "StreamName": name, "StreamModeDetails": {"StreamMode": DATA_STREAM_MODE}, "Tags": archive.owner.tags()},
            (Change("data_stream", None, name),), creates=True)]
    if observed.status != "ACTIVE" or observed.encryption_type == "KMS":
        return []  # any KMS key will do: a customer key of the team's own is no weakening
    return [Action(label, a, region, "kinesis", "StartStreamEncryption", {
        "StreamName": name, "EncryptionType": "KMS", "KeyId": KINESIS_MANAGED_KEY},
        (Change("encryption_type", observed.encryption_type, "KMS"),), creates=created)]


def data_stream_ready(observed: DataStreamState) -> bool:
    """A destination is pointed at the data stream only once it is ACTIVE and encrypted: no event
    is ever written to it in the clear."""
    return observed.exists and observed.status == "ACTIVE" and observed.encryption_type == "KMS"


def plan_delivery_stream(spec: LogSubscriptionPolicySpec, archive: Archive, region: str,
                         observed: DeliveryStreamState) -> list[Action]:
    """The Firehose stream into the bucket: written to directly (Firehose), or reading the data
    stream (Kinesis). Raises CoverageError for a stream of the name whose source is not the one
    wanted, which Firehose cannot change."""
    name = delivery_stream_name(spec, archive.names)
    label = archive.label(region, f"delivery-stream/{name}")
    desired = desired_stream_settings(spec, archive, region)
    a = archive.account_id
    source = archive.data_stream_arn(region) if through_kinesis(spec) else ""
    stream_type = KINESIS_SOURCE if source else DIRECT_PUT
    if not observed.exists:
        reading = {"KinesisStreamSourceConfiguration": {"KinesisStreamARN": source, "RoleARN": desired.role_arn}}
        return [Action(label, a, region, "firehose", "CreateDeliveryStream", {
            "DeliveryStreamName": name, "DeliveryStreamType": stream_type, **(reading if source else {}),
            "ExtendedS3DestinationConfiguration": s3_destination(desired), "Tags": archive.owner.tag_list()},
            (Change("delivery_stream", None, name),), creates=True)]
    if (observed.stream_type, observed.source_stream_arn) != (stream_type, source):
        raise CoverageError(DELIVERY_STREAM_MISMATCH, f"Firehose stream {name} reads "
                                                      f"{observed.source_stream_arn or 'direct writes'}, not "
                                                      f"{source or 'direct writes'}, and Firehose cannot change a "
                                                      f"stream's source: delete the stream and Vigil makes it again")
    if observed.status == "CREATING":
        return []  # Firehose takes no update until the stream is ACTIVE: the next resync looks again
    changes = diff(desired, observed.settings)
    if not changes:
        return []
    return [Action(label, a, region, "firehose", "UpdateDestination", {
        "DeliveryStreamName": name, "CurrentDeliveryStreamVersionId": observed.version_id,
        "DestinationId": observed.destination_id, "ExtendedS3DestinationUpdate": s3_destination(desired)},
        tuple(changes))]


# --- the destination -----------------------------------------------------------------------------


def destination_policy(archive: Archive, region: str) -> dict[str, Any]:
    """Any account of the organization may subscribe a log group (PutSubscriptionFilter) or a whole
    account (PutAccountPolicy); nobody outside it."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "VigilOrganizationSubscribes", "Effect": "Allow", "Principal": "*",
        "Action": ["logs:PutAccountPolicy", "logs:PutSubscriptionFilter"],
        "Resource": archive.destination_arn(region),
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": archive.organization_id}}}]}


def plan_destination(archive: Archive, region: str, observed: DestinationState,
                     target_arn: str | None = None) -> list[Action]:
    """The region's destination, writing to ``target_arn`` (destination_target: the Firehose stream
    by default)."""
    name = archive.names.destination
    label = archive.label(region, f"destination/{name}")
    a = archive.account_id
    desired = DestinationSettings(target_arn=target_arn or archive.stream_arn(region),
                                  role_arn=archive.role_arn(archive.names.logs_role))
    actions = []
    params = {"destinationName": name, "targetArn": desired.target_arn, "roleArn": desired.role_arn}
    if not observed.exists:
        actions.append(Action(label, a, region, "logs", "PutDestination",
                              {**params, "tags": archive.owner.tags()},
                              (Change("destination", None, name),), creates=True))
    else:
        changes = diff(desired, observed.settings)
        if changes:
            actions.append(Action(label, a, region, "logs", "PutDestination", params, tuple(changes)))
    policy = destination_policy(archive, region)
    if observed.access_policy != canonical(policy):
        put: dict[str, Any] = {"destinationName": name, "accessPolicy": policies.to_json(policy)}
        if observed.access_policy is not None:
            put["forceUpdate"] = True  # AWS asks for it when a policy moves to an organization condition
        actions.append(Action(label, a, region, "logs", "PutDestinationPolicy", put,
                              (Change("access_policy", observed.access_policy, canonical(policy)),),
                              creates=not observed.exists))
    return actions


# --- which log groups ----------------------------------------------------------------------------


def excluded_prefixes(spec: LogSubscriptionPolicySpec) -> tuple[str, ...]:
    """The spec's exclusions and Vigil's own delivery logs, without a prefix another one covers."""
    wanted = sorted({*spec.log_group_selector.exclude_prefixes, OWN_LOG_GROUP_PREFIX})
    kept: list[str] = []
    for prefix in wanted:  # sorted: a covering prefix comes before what it covers
        if not any(prefix.startswith(k) for k in kept):
            kept.append(prefix)
    return tuple(kept)


def selects(spec: LogSubscriptionPolicySpec, log_group: str) -> bool:
    return not log_group.startswith(excluded_prefixes(spec))


# --- method LogGroup: a filter per log group -----------------------------------------------------


def desired_filter(spec: LogSubscriptionPolicySpec, source: Source) -> SubscriptionFilterSettings:
    return SubscriptionFilterSettings(destination_arn=source.destination_arn, filter_pattern=spec.filter_pattern)


def plan_log_group(spec: LogSubscriptionPolicySpec, source: Source, names: Names, log_group: str,
                   filters: list[SubscriptionFilter], new_group: bool = True) -> list[Action]:
    """Vigil's filter on the group, written in place when it differs. Raises CoverageError when
    both slots are taken by filters of other names.

    ``new_group``: the group was created since the last reconcile, so subscribing it builds the
    baseline; a missing filter on an older group was removed by someone, and putting it back is a
    drift correction."""
    label = source.group_label(log_group)
    desired = desired_filter(spec, source)
    params = {"logGroupName": log_group, "filterName": names.subscription_filter,
              "filterPattern": desired.filter_pattern, "destinationArn": desired.destination_arn}

    def put(changes: tuple[Change, ...], creates: bool = False) -> list[Action]:
        return [Action(label, source.account_id, source.region, "logs", "PutSubscriptionFilter", params, changes,
                       creates=creates)]

    ours = next((f for f in filters if f.name == names.subscription_filter), None)
    if ours is not None:
        changes = diff(desired, ours.settings)
        return put(tuple(changes)) if changes else []
    if any(f.settings == desired for f in filters):
        return []  # someone already streams this group to the archive as the spec says: adopted as it is
    if len(filters) >= FILTER_SLOTS:
        taken = ", ".join(f"{f.name} (to {f.settings.destination_arn})" for f in filters)
        raise CoverageError(SLOTS_FULL, f"both subscription filter slots are taken by filters Vigil did not "
                                        f"create: {taken}; Vigil replaces none of them")
    return put((Change("subscription_filter", None, f"{names.subscription_filter} to {desired.destination_arn}"),),
               creates=new_group)


# --- method AccountPolicy: one account-level policy per account x region ------------------------


def selection_criteria(excluded: list[str]) -> str:
    return f"LogGroupName NOT IN {json.dumps(sorted(set(excluded)))}" if excluded else ""


_NOT_IN = re.compile(r"^\s*LogGroupName\s+NOT\s+IN\s*(\[.*\])\s*$", re.IGNORECASE | re.DOTALL)


def excluded_names(criteria: str) -> list[str] | None:
    """The names a ``LogGroupName NOT IN [...]`` criteria excludes; None for anything else."""
    if not criteria.strip():
        return []
    match = _NOT_IN.match(criteria)
    if match is None:
        return None
    try:
        names = json.loads(match.group(1))
    except ValueError:
        return None
    return sorted(set(names)) if isinstance(names, list) and all(isinstance(n, str) for n in names) else None


def policy_document(spec: LogSubscriptionPolicySpec, source: Source) -> dict[str, Any]:
    return {"DestinationArn": source.destination_arn, "FilterPattern": spec.filter_pattern}


def account_policy_obstacle(names: Names, observed: list[AccountPolicy], excluded: list[str]) -> CoverageError | None:
    """What keeps Vigil's account policy out of an account x region, if anything: the one slot AWS
    gives taken by another's policy (never replaced), or more groups to exclude than a policy names."""
    excluded = sorted(set(excluded))
    if len(excluded) > MAX_EXCLUDED_NAMES:
        return CoverageError(TOO_MANY_EXCLUSIONS, f"{len(excluded)} log groups match logGroupSelector.excludePrefixes; "
                                                  f"an account policy excludes at most {MAX_EXCLUDED_NAMES} by name")
    others = [p for p in observed if p.name != names.account_policy]
    if others and len(others) == len(observed):  # another's, and none of Vigil's
        return CoverageError(ACCOUNT_POLICY_TAKEN, f"the account's subscription filter policy is {others[0].name}, "
                                                   "not Vigil's; AWS allows one per account and region")
    return None


@dataclass(frozen=True)
class MethodChoice:
    """How one account x region is subscribed, and, where the spec preferred the account policy and
    the account does not allow it, why not."""

    method: str  # SubscriptionMethod: AccountPolicy | LogGroup
    fallback: CoverageError | None = None


def choose_method(spec: LogSubscriptionPolicySpec, names: Names, observed: list[AccountPolicy],
                  excluded: list[str]) -> MethodChoice:
    """``method: PreferAccountPolicy``: the account policy where the account allows it, else a
    filter per group. Vigil's own policy, once there, is kept whatever else happens (its trouble is
    reported, never answered by a second way of delivering the same events)."""
    if spec.method != SubscriptionMethod.PREFER_ACCOUNT_POLICY.value:
        return MethodChoice(spec.method)
    ours = any(p.name == names.account_policy for p in observed)
    obstacle = None if ours else account_policy_obstacle(names, observed, excluded)
    if obstacle is None:
        return MethodChoice(SubscriptionMethod.ACCOUNT_POLICY.value)
    return MethodChoice(SubscriptionMethod.LOG_GROUP.value, obstacle)


def plan_account_policy(spec: LogSubscriptionPolicySpec, source: Source, names: Names,
                        observed: list[AccountPolicy], excluded: list[str]) -> list[Action]:
    """The account's subscription filter policy, covering every log group but the excluded ones
    (named: selectionCriteria takes no prefix, so the names are those the prefixes match today).
    Raises CoverageError when the account's one policy slot is someone else's."""
    name = names.account_policy
    label = source.policy_label(name)
    excluded = sorted(set(excluded))
    obstacle = account_policy_obstacle(names, observed, excluded)
    if obstacle is not None:
        raise obstacle
    ours = next((p for p in observed if p.name == name), None)
    document = policy_document(spec, source)
    criteria = selection_criteria(excluded)
    params: dict[str, Any] = {"policyName": name, "policyType": SUBSCRIPTION_FILTER_POLICY,
                              "policyDocument": json.dumps(document, separators=(",", ":")), "scope": "ALL"}
    if criteria:
        params["selectionCriteria"] = criteria

    def act(changes: tuple[Change, ...], creates: bool = False) -> list[Action]:
        return [Action(label, source.account_id, source.region, "logs", "PutAccountPolicy", params, changes,
                       creates=creates)]

    if ours is None:
        return act((Change("account_policy", None, f"{name} to {source.destination_arn}"),), creates=True)
    have = ours.document if isinstance(ours.document, dict) else {}
    changes = [Change(f"policy_document.{key}", have.get(key), want) for key, want in document.items()
               if have.get(key) != want]
    if excluded_names(ours.selection_criteria) != excluded:
        # The names follow the spec's prefixes: allowing the prefixes that now exclude more groups
        # allows the groups they match (named as admission names an added prefix).
        newly = set(excluded) - set(excluded_names(ours.selection_criteria) or [])
        prefixes = sorted(spec.log_group_selector.exclude_prefixes)
        named = [p for p in prefixes if any(n.startswith(p) for n in newly)]
        changes.append(Change("selection_criteria", ours.selection_criteria, criteria,
                              entries("spec.logGroupSelector.excludePrefixes", "+", named) or
                              f"spec.logGroupSelector.excludePrefixes={token(prefixes)}"))
    if ours.scope != "ALL":
        changes.append(Change("scope", ours.scope, "ALL"))
    return act(tuple(changes)) if changes else []
