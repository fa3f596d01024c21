"""AWS's request rates, enforced: a token bucket per account, Region, service and operation, so
that a run against the sandbox takes the time AWS's throttling would give it, not the time of an
infinitely fast stand-in.

Each bucket holds ``burst`` tokens and refills at ``per_second``; a request takes one token, and
a request that finds none is answered with the service's own throttling error (the one botocore
retries, vigil_sandbox.faults.throttling_error) and not applied, as AWS does. A throttled request
takes no token. AWS's documented figures are in RATES, one entry per quota with its source; where
AWS publishes none the entry says so and holds a conservative pick. An operation without an entry
of its own has its service's read or write rate; a service without any, DEFAULT_READS and
DEFAULT_WRITES.

Off unless asked for (``vigil-sandbox --rate-limits aws``, ``VIGIL_SANDBOX_RATE_LIMITS=aws``,
``Stack(rate_limits="aws")``): the tests that do not measure time keep an unthrottled sandbox.
The limits apply once the organization is seeded. The clock is injectable, for tests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

MODES = ("off", "aws")
ENVIRONMENT_VARIABLE = "VIGIL_SANDBOX_RATE_LIMITS"

READS, WRITES = "*reads", "*writes"  # a service's rate for the operations without one of their own


@dataclass(frozen=True)
class Rate:
    """A token bucket: ``burst`` tokens at most, ``per_second`` added back each second."""

    per_second: float
    burst: float


# (service, operation), or (service, READS / WRITES) for the rest of a service's reads / writes.
# A read is as awsserver.is_write says (Describe*, Get*, List*, ...); S3's are its GETs and HEADs.
RATES: dict[tuple[str, str], Rate] = {
    # EC2, "Request throttling for the Amazon EC2 API", table "Request token bucket sizes and
    # refill rates" (docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html): a bucket
    # per API; non-mutating actions 100 tokens refilled at 20/s, mutating actions 50 at 5/s.
    # ("Unfiltered and unpaginated" DescribeInstances/DescribeVolumes/... draw on 50 at 10/s:
    # not modelled, such calls get the larger bucket.)
    ("ec2", READS): Rate(20, 100),
    ("ec2", WRITES): Rate(5, 50),
    # Same table, "Uncategorized actions": CreateTags and DeleteTags 100 at 10/s; CreateVolume
    # and DeleteVolume 100 at 5/s.
    ("ec2", "CreateTags"): Rate(10, 100),
    ("ec2", "DeleteTags"): Rate(10, 100),
    ("ec2", "CreateVolume"): Rate(5, 100),
    ("ec2", "DeleteVolume"): Rate(5, 100),
    # CloudTrail, "Quotas in AWS CloudTrail" (awscloudtrail/latest/userguide/WhatIsCloudTrail-Limits.html):
    # Get, describe and list APIs 10 TPS, LookupEvents 2 TPS, all other APIs 1 TPS, none
    # adjustable. No burst is published: a bucket of one second's worth.
    ("cloudtrail", READS): Rate(10, 10),
    ("cloudtrail", "LookupEvents"): Rate(2, 2),
    ("cloudtrail", WRITES): Rate(1, 1),
    # Security Hub, the API Reference's introduction ("The following throttling limits apply"):
    # GetFindings 3/s burst 6, UpdateFindings and UpdateStandardsControl 1/s burst 5,
    # BatchEnableStandards 1/s burst 1, BatchImportFindings and BatchUpdateFindings 10/s burst 30
    # (also the Partner Guide, "Guidelines for using the BatchImportFindings API"), every other
    # operation 10/s burst 30.
    ("securityhub", READS): Rate(10, 30),
    ("securityhub", WRITES): Rate(10, 30),
    ("securityhub", "GetFindings"): Rate(3, 6),
    ("securityhub", "UpdateFindings"): Rate(1, 5),
    ("securityhub", "UpdateStandardsControl"): Rate(1, 5),
    ("securityhub", "BatchEnableStandards"): Rate(1, 1),
    # Account Management, "Quotas for AWS Account Management" (accounts/latest/reference/quotas.html):
    # ListRegions and GetRegionOptStatus 5/s, burst 5.
    ("account", "ListRegions"): Rate(5, 5),
    ("account", "GetRegionOptStatus"): Rate(5, 5),
    # STS: 600 requests per second per account per Region, shared by AssumeRole,
    # GetCallerIdentity and the other STS calls. Cited to "IAM and AWS STS quotas" (IAM User Guide,
    # reference_iam-quotas) by several third parties; the live page could not be read from here and
    # the archived copy has no request rates: unconfirmed. No burst published.
    ("sts", READS): Rate(600, 600),
    ("sts", WRITES): Rate(600, 600),
    # KMS, "Request quotas" (kms/latest/developerguide/requests-per-second.html), per operation:
    # DescribeKey 2,000/s; ListResourceTags 2,000/s; GetKeyPolicy, GetKeyRotationStatus 1,000/s;
    # ListAliases, ListKeys 500/s; PutKeyPolicy, EnableKeyRotation, ScheduleKeyDeletion 15/s;
    # CreateKey, CreateAlias, UpdateAlias, UntagResource 5/s; TagResource 10/s. Symmetric
    # cryptographic operations share one quota (KMS_CRYPTOGRAPHIC): 10,000/s, 20,000 or 100,000 in
    # the busiest Regions; the lowest is modelled.
    ("kms", "DescribeKey"): Rate(2000, 2000),
    ("kms", "ListResourceTags"): Rate(2000, 2000),
    ("kms", "GetKeyPolicy"): Rate(1000, 1000),
    ("kms", "GetKeyRotationStatus"): Rate(1000, 1000),
    ("kms", "ListAliases"): Rate(500, 500),
    ("kms", "ListKeys"): Rate(500, 500),
    ("kms", "PutKeyPolicy"): Rate(15, 15),
    ("kms", "EnableKeyRotation"): Rate(15, 15),
    ("kms", "ScheduleKeyDeletion"): Rate(15, 15),
    ("kms", "TagResource"): Rate(10, 10),
    ("kms", "cryptographic"): Rate(10000, 10000),
    ("kms", READS): Rate(100, 100),  # other reads: not listed; lower than any read the table lists
    ("kms", WRITES): Rate(5, 5),
    # CloudWatch Logs, "CloudWatch Logs quotas" (AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html),
    # transactions per second per account and Region: DescribeLogGroups 10, CreateLogGroup 10,
    # CreateLogStream 50; PutRetentionPolicy, PutSubscriptionFilter, DescribeSubscriptionFilters,
    # PutDestination, PutDestinationPolicy, DescribeDestinations, ListTagsForResource,
    # ListTagsLogGroup 5. Not listed (DescribeAccountPolicies, PutAccountPolicy): 5.
    ("logs", READS): Rate(5, 5),
    ("logs", WRITES): Rate(5, 5),
    ("logs", "DescribeLogGroups"): Rate(10, 10),
    ("logs", "CreateLogGroup"): Rate(10, 10),
    ("logs", "CreateLogStream"): Rate(50, 50),
    # Data Firehose, "Amazon Data Firehose Quota" (firehose/latest/dev/limits.html): each control
    # plane operation, DescribeDeliveryStream included, up to five invocations per second, a hard
    # limit.
    ("firehose", READS): Rate(5, 5),
    ("firehose", WRITES): Rate(5, 5),
    # Kinesis Data Streams, "Quotas and limits" (streams/latest/dev/service-sizes-and-limits.html,
    # "KDS Control Plane API Limits"): DescribeStreamSummary 20 TPS, DescribeStream 10, CreateStream,
    # DeleteStream and most others 5 per account (a few are per stream; counted per account here,
    # the stricter).
    ("kinesis", READS): Rate(5, 5),
    ("kinesis", WRITES): Rate(5, 5),
    ("kinesis", "DescribeStreamSummary"): Rate(20, 20),
    ("kinesis", "DescribeStream"): Rate(10, 10),
    # S3, "Best practices design patterns: optimizing Amazon S3 performance"
    # (AmazonS3/latest/userguide/optimizing-performance.html): 3,500 PUT/COPY/POST/DELETE and
    # 5,500 GET/HEAD requests per second per partitioned prefix. Counted per bucket (a bucket's
    # prefixes are not split until S3 scales out), whoever calls; no burst published.
    ("s3", READS): Rate(5500, 5500),
    ("s3", WRITES): Rate(3500, 3500),
    # Organizations: its quotas page ("Quotas and service limits for AWS Organizations") publishes
    # no request rate for the API, only that it throttles (TooManyRequestsException). A
    # conservative pick, for the management account's calls that every account fans into.
    ("organizations", READS): Rate(10, 20),
    ("organizations", WRITES): Rate(2, 5),
    # IAM: the AWS Security Blog ("How to monitor and query IAM resources at scale, part 2") says
    # IAM throttles each API with token buckets but publishes no figure. A conservative pick.
    ("iam", READS): Rate(10, 20),
    ("iam", WRITES): Rate(5, 10),
    # GuardDuty, Config, Systems Manager (its document APIs), IAM Access Analyzer: no published
    # request rate for the operations Vigil calls; DEFAULT_READS and DEFAULT_WRITES.
}
# The conservative pick for a service or operation AWS publishes no rate for.
DEFAULT_READS = Rate(10, 20)
DEFAULT_WRITES = Rate(5, 10)

# KMS: the symmetric cryptographic operations, one shared quota ("Cryptographic operations
# (symmetric) request rate").
KMS_CRYPTOGRAPHIC = frozenset({"Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
                               "GenerateMac", "GenerateRandom", "ReEncrypt", "VerifyMac"})

# Every so many requests, buckets full again are forgotten (an absent bucket is a full one): the
# table stays as large as the traffic of the last few seconds, not of every account ever called.
_PRUNE_EVERY = 4096


@dataclass(frozen=True)
class Request:
    """What a request is counted by."""

    account: str
    region: str
    service: str
    operation: str
    write: bool
    bucket: str | None = None  # S3's bucket, for S3 requests


def rate_of(service: str, operation: str, write: bool) -> tuple[str, Rate]:
    """The bucket an operation draws on within its account and Region (its name), and its rate."""
    if service == "kms" and operation in KMS_CRYPTOGRAPHIC:
        return "cryptographic", RATES[("kms", "cryptographic")]
    own = RATES.get((service, operation))
    if own is not None:
        return operation, own
    rest = RATES.get((service, WRITES if write else READS))
    return operation, rest if rest is not None else (DEFAULT_WRITES if write else DEFAULT_READS)


def _key(request: Request) -> tuple[tuple[str, ...], Rate]:
    if request.service == "s3":
        side = WRITES if request.write else READS
        return ("s3", request.bucket or "", side), RATES[("s3", side)]
    name, rate = rate_of(request.service, request.operation, request.write)
    return (request.account, request.region, request.service, name), rate


class RateLimits:
    """The buckets, filled as AWS fills them; thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, ...], tuple[float, float, Rate]] = {}  # key -> (tokens, at, rate)
        self._admitted = 0

    def admit(self, request: Request) -> bool:
        """Whether the request is within its rate (and takes its token), or is throttled."""
        key, rate = _key(request)
        with self._lock:
            now = self._clock()
            tokens = self._level(key, rate, now)
            if tokens < 1:
                self._buckets[key] = (tokens, now, rate)
                return False
            self._buckets[key] = (tokens - 1, now, rate)
            self._admitted += 1
            if self._admitted % _PRUNE_EVERY == 0:
                self._prune(now)
            return True

    def _level(self, key: tuple[str, ...], rate: Rate, now: float) -> float:
        if key not in self._buckets:
            return rate.burst
        tokens, at, _ = self._buckets[key]
        return min(rate.burst, tokens + (now - at) * rate.per_second)

    def _prune(self, now: float) -> None:
        full = [key for key, (tokens, at, rate) in self._buckets.items()
                if tokens + (now - at) * rate.per_second >= rate.burst]
        for key in full:
            del self._buckets[key]

    def tracked(self) -> int:
        """How many buckets are below full (the others are not kept)."""
        with self._lock:
            return len(self._buckets)


def from_mode(mode: str, clock: Callable[[], float] = time.monotonic) -> RateLimits | None:
    """The limits a mode names: None for "off", AWS's for "aws"; ValueError for another."""
    if mode not in MODES:
        raise ValueError(f"rate limits must be one of {', '.join(MODES)}, not {mode!r}")
    return RateLimits(clock) if mode == "aws" else None
