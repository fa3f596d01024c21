"""CloudTrail gaps: the checks AWS makes on trails, trails found by name or ARN across regions,
event selectors as AWS keeps them, ListPublicKeys over the digest-signing keys registered
here with ``register_public_key()``, and the event history (LookupEvents) of the trail's own
management calls, each with the principal who made it."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from moto.cloudtrail.exceptions import TrailNotFoundException
from moto.cloudtrail.models import Trail, cloudtrail_backends
from moto.cloudtrail.responses import CloudTrailResponse
from moto.iam.exceptions import NotFoundException as IAMNotFoundException
from moto.iam.models import iam_backends
from moto.kms.models import kms_backends
from moto.logs.models import logs_backends
from moto.organizations.models import organizations_backends
from moto.s3.exceptions import MissingBucket
from moto.s3.models import s3_backends

from vigil_sandbox.callers import caller_of

from ._core import AwsError, Gap
from ._policies import policy_allows_service

# --- Domain: trails ------------------------------------------------------------------------------

CLOUDTRAIL = "cloudtrail.amazonaws.com"

# What a trail logs when nobody has called PutEventSelectors: all management events.
DEFAULT_EVENT_SELECTOR = {
    "ReadWriteType": "All",
    "IncludeManagementEvents": True,
    "DataResources": [],
    "ExcludeManagementEventSources": [],
}


def account_trails(account: str) -> list[Trail]:
    backends = cloudtrail_backends[account].values()
    return [trail for backend in backends for trail in backend.trails.values()]


def find_trail(account: str, region: str, name_or_arn: str) -> Trail:
    """A trail by ARN, or by name if it is homed in the region or is a multi-region trail."""
    for trail in account_trails(account):
        if trail.arn == name_or_arn:
            return trail
        in_region = trail.region_name == region or trail.is_multi_region
        if trail.trail_name == name_or_arn and in_region:
            return trail
    raise TrailNotFoundException(account_id=account, name=name_or_arn)


def require_home_region(trail: Trail, region: str) -> None:
    if trail.region_name != region:
        raise AwsError(
            "InvalidHomeRegionException",
            f"This operation must be called from the trail's home region, {trail.region_name}.",
        )


def trail_view(trail: Trail) -> dict[str, Any]:
    """A trail as DescribeTrails and GetTrail show it."""
    described = trail.description(include_region=True).items()
    view = {key: value for key, value in described if value is not None}
    view["HasCustomEventSelectors"] = bool(trail.event_selectors or trail.advanced_event_selectors)
    return view


def check_organization_trail(account: str, partition: str) -> None:
    """What AWS requires before an organization trail: the management account, trusted access."""
    organizations = organizations_backends[account][partition]
    if organizations.org is None:
        if account in organizations_backends.master_accounts:
            raise AwsError(
                "NotOrganizationMasterAccountException",
                "The request was rejected because the account is not the management account "
                "of the organization.",
            )
        raise AwsError(
            "OrganizationsNotInUseException", "This account is not a member of an organization."
        )
    if organizations.org.feature_set != "ALL":
        raise AwsError(
            "OrganizationNotInAllFeaturesModeException",
            "All features must be enabled in the organization to create an organization trail.",
        )
    if not any(service["ServicePrincipal"] == CLOUDTRAIL for service in organizations.services):
        raise AwsError(
            "CloudTrailAccessNotEnabledException",
            "Trusted access for cloudtrail.amazonaws.com is not enabled in AWS Organizations.",
        )


def check_trail_bucket(account: str, partition: str, bucket_name: str) -> None:
    """The bucket must exist (in any account) and let CloudTrail write to it."""
    try:
        bucket = s3_backends[account][partition].get_bucket(bucket_name)
    except MissingBucket:
        raise AwsError(
            "S3BucketDoesNotExistException", f"S3 bucket {bucket_name} does not exist!"
        ) from None
    policy = bucket.policy.decode() if bucket.policy else None
    needed = ("s3:GetBucketAcl", "s3:PutObject")
    if not all(policy_allows_service(policy, CLOUDTRAIL, action) for action in needed):
        raise AwsError(
            "InsufficientS3BucketPolicyException",
            f"Incorrect S3 bucket policy is detected for bucket: {bucket_name}",
        )


def check_trail_key(account: str, region: str, key_id: str) -> None:
    """The KMS key must exist and its policy let CloudTrail encrypt with it."""
    if key_id.startswith("arn:"):
        _, _, _, region, account, _ = key_id.split(":", 5)
    kms = kms_backends[account][region]
    if key_id.startswith("alias/") or ":alias/" in key_id:
        raw_id = kms.get_key_id_from_alias(kms.get_alias_name(key_id))
    else:
        raw_id = kms.get_key_id(key_id)
    key = kms.keys.get(raw_id) if raw_id else None
    if key is None:
        raise AwsError("KmsKeyNotFoundException", f"KMS key {key_id} does not exist.")
    if not policy_allows_service(key.policy, CLOUDTRAIL, "kms:GenerateDataKey"):
        raise AwsError(
            "InsufficientEncryptionPolicyException",
            f"Insufficient permissions to access S3 bucket or KMS key {key_id}.",
        )


def check_trail_log_delivery(
    account: str, partition: str, log_group_arn: str, role_arn: str
) -> None:
    """CloudWatch Logs delivery needs both an existing log group and an existing role."""
    if bool(log_group_arn) != bool(role_arn):
        raise AwsError(
            "InvalidCloudWatchLogsLogGroupArnException",
            "CloudWatchLogsLogGroupArn and CloudWatchLogsRoleArn must be given together.",
        )
    if not log_group_arn:
        return
    parts = log_group_arn.split(":", 6)
    is_group_arn = len(parts) == 7 and parts[5] == "log-group"
    group_name = parts[6].removesuffix(":*") if is_group_arn else None
    if group_name is None or group_name not in logs_backends[parts[4]][parts[3]].groups:
        raise AwsError(
            "InvalidCloudWatchLogsLogGroupArnException",
            f"Log group {log_group_arn} does not exist.",
        )
    try:
        iam_backends[account][partition].get_role_by_arn(role_arn)
    except IAMNotFoundException:
        raise AwsError(
            "InvalidCloudWatchLogsRoleArnException", f"Role {role_arn} does not exist."
        ) from None


# --- Domain: digest-signing public keys ----------------------------------------------------------


@dataclass(frozen=True)
class PublicKey:
    """A CloudTrail digest-signing public key, as ListPublicKeys returns it."""

    value: bytes  # DER
    valid_from: datetime
    valid_to: datetime

    @property
    def fingerprint(self) -> str:
        return hashlib.md5(self.value).hexdigest()


_public_keys: dict[str, list[PublicKey]] = {}
_public_keys_lock = threading.Lock()


def register_public_key(
    region: str, der: bytes, valid_from: datetime, valid_to: datetime
) -> PublicKey:
    """Make a public key known to ListPublicKeys in a region (as AWS keys are per region).

    Returns it with its fingerprint, which digest files name as digestPublicKeyFingerprint.
    """
    key = PublicKey(der, valid_from, valid_to)
    with _public_keys_lock:
        _public_keys.setdefault(region, []).append(key)
    return key


def clear_public_keys() -> None:
    with _public_keys_lock:
        _public_keys.clear()


def public_keys_between(region: str, start: datetime, end: datetime) -> list[PublicKey]:
    """The region's keys valid at some point of [start, end]."""
    with _public_keys_lock:
        keys = list(_public_keys.get(region, []))
    return [key for key in keys if key.valid_from <= end and key.valid_to >= start]


# --- Domain: the event history -------------------------------------------------------------------

# The calls recorded, as CloudTrail's event history records them: write management events of
# cloudtrail.amazonaws.com itself. Kept on moto's backend of the account and region, so that a
# reset forgets them with everything else.
EVENT_SOURCE = CLOUDTRAIL
LOOKUP_MAX_RESULTS = 50


def _events(account: str, region: str) -> list[dict[str, Any]]:
    backend = cloudtrail_backends[account][region]
    return backend.__dict__.setdefault("_vigil_events", [])


def record_event(response: CloudTrailResponse, name: str, params: dict[str, Any], trail_name: str) -> None:
    """Record a call as CloudTrail would: who made it (the principal behind its access key), when,
    with its request parameters."""
    caller = caller_of(response.get_access_key(), response.current_account, response.partition)
    now = datetime.now(timezone.utc)
    event_id = str(uuid.uuid4())
    identity = {"type": caller.principal_type, "arn": caller.arn, "accountId": caller.account,
                "accessKeyId": response.get_access_key()}
    detail = {"eventVersion": "1.11", "userIdentity": identity, "eventTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
              "eventSource": EVENT_SOURCE, "eventName": name, "awsRegion": response.region,
              # CloudTrail names request parameters in camelCase: {"name": ...} for Name.
              "requestParameters": {k[:1].lower() + k[1:]: v for k, v in params.items()}, "responseElements": None, "eventID": event_id, "readOnly": False,
              "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": caller.account,
              "eventCategory": "Management"}
    _events(response.current_account, response.region).append({
        "EventId": event_id, "EventName": name, "ReadOnly": "false", "AccessKeyId": response.get_access_key(),
        "EventTime": now, "EventSource": EVENT_SOURCE, "Username": caller.arn.rsplit("/", 1)[-1],
        "Resources": [{"ResourceType": "AWS::CloudTrail::Trail", "ResourceName": trail_name}],
        "CloudTrailEvent": json.dumps(detail)})


def _matches(event: dict[str, Any], key: str, value: str) -> bool:
    if key in ("ResourceType", "ResourceName"):
        return any(r.get(key) == value for r in event["Resources"])
    return event.get(key) == value


# --- Wire ----------------------------------------------------------------------------------------


# CloudTrail User Guide, "Naming requirements for CloudTrail resources": moto checks the
# characters, the length and the first and last character, not these two.
_ADJACENT_PUNCTUATION = re.compile(r"[._-]{2}")
_IP_ADDRESS = re.compile(r"[0-9]+(\.[0-9]+){3}")


def check_trail_name(name: str) -> None:
    if _ADJACENT_PUNCTUATION.search(name) or _IP_ADDRESS.fullmatch(name):
        raise AwsError("InvalidTrailNameException",
                       "Trail name must not have adjacent periods, underscores or dashes, nor be formatted as an "
                       "IP address.")


def _create_trail(self: CloudTrailResponse, params: dict[str, Any]) -> None:
    name = params["Name"]
    check_trail_name(name)
    if any(
        trail.trail_name == name and (trail.region_name == self.region or trail.is_multi_region)
        for trail in account_trails(self.current_account)
    ):
        raise AwsError(
            "TrailAlreadyExistsException",
            f"Trail {name} already exists for customer: {self.current_account}",
        )
    _check_trail_settings(self, params, bucket=params["S3BucketName"])
    record_event(self, "CreateTrail", params, name)


def _update_trail(self: CloudTrailResponse, params: dict[str, Any]) -> None:
    trail = find_trail(self.current_account, self.region, params["Name"])
    require_home_region(trail, self.region)
    _check_trail_settings(self, params, bucket=params.get("S3BucketName"))
    record_event(self, "UpdateTrail", params, trail.arn)


def _logging(name: str) -> Any:
    """StartLogging or StopLogging: in the trail's home region only, and recorded."""
    def guard(self: CloudTrailResponse, params: dict[str, Any]) -> None:
        trail = find_trail(self.current_account, self.region, params["Name"])
        require_home_region(trail, self.region)
        record_event(self, name, params, trail.arn)
    return guard


def _check_trail_settings(
    response: CloudTrailResponse, params: dict[str, Any], bucket: str | None
) -> None:
    account, partition = response.current_account, response.partition
    if params.get("IsOrganizationTrail"):
        check_organization_trail(account, partition)
    if bucket:
        check_trail_bucket(account, partition, bucket)
    if params.get("KmsKeyId"):
        check_trail_key(account, response.region, params["KmsKeyId"])
    if "CloudWatchLogsLogGroupArn" in params or "CloudWatchLogsRoleArn" in params:
        check_trail_log_delivery(
            account,
            partition,
            params.get("CloudWatchLogsLogGroupArn", ""),
            params.get("CloudWatchLogsRoleArn", ""),
        )


def _describe_trails(self: CloudTrailResponse, params: dict[str, Any]) -> dict[str, Any]:
    include_shadows = params.get("includeShadowTrails", True)
    wanted = params.get("trailNameList") or []
    trails = account_trails(self.current_account)
    if wanted:
        # Names pick trails homed in this region; ARNs pick any trail of the account.
        trails = [
            trail
            for trail in trails
            if trail.arn in wanted
            or (trail.trail_name in wanted and trail.region_name == self.region)
        ]
    else:
        trails = [
            trail
            for trail in trails
            if trail.region_name == self.region or (include_shadows and trail.is_multi_region)
        ]
    return {"trailList": [trail_view(trail) for trail in trails]}


def _get_trail(self: CloudTrailResponse, params: dict[str, Any]) -> dict[str, Any]:
    return {"Trail": trail_view(find_trail(self.current_account, self.region, params["Name"]))}


def _delete_trail(self: CloudTrailResponse, params: dict[str, Any]) -> dict[str, Any]:
    trail = find_trail(self.current_account, self.region, params["Name"])
    require_home_region(trail, self.region)
    backend = cloudtrail_backends[self.current_account][trail.region_name]
    del backend.trails[trail.trail_name]
    backend.tagging_service.delete_all_tags_for_resource(trail.arn)
    record_event(self, "DeleteTrail", params, trail.arn)
    return {}


def _put_event_selectors(
    self: CloudTrailResponse, params: dict[str, Any]
) -> dict[str, Any]:
    classic, advanced = params.get("EventSelectors"), params.get("AdvancedEventSelectors")
    if (classic is None) == (advanced is None):
        raise AwsError(
            "InvalidParameterCombinationException",
            "Specify either EventSelectors or AdvancedEventSelectors, not both and not neither.",
        )
    trail = find_trail(self.current_account, self.region, params["TrailName"])
    require_home_region(trail, self.region)
    # The two kinds replace each other: a trail has one or the other.
    trail.event_selectors = [{**DEFAULT_EVENT_SELECTOR, **selector} for selector in classic or []]
    trail.advanced_event_selectors = advanced or []
    return _event_selectors_view(trail)


def _get_event_selectors(
    self: CloudTrailResponse, params: dict[str, Any]
) -> dict[str, Any]:
    return _event_selectors_view(find_trail(self.current_account, self.region, params["TrailName"]))


def _event_selectors_view(trail: Trail) -> dict[str, Any]:
    if trail.advanced_event_selectors:
        return {"TrailARN": trail.arn, "AdvancedEventSelectors": trail.advanced_event_selectors}
    selectors = trail.event_selectors or [DEFAULT_EVENT_SELECTOR]
    return {"TrailARN": trail.arn, "EventSelectors": selectors}


def _list_public_keys(
    self: CloudTrailResponse, params: dict[str, Any]
) -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    start = _as_datetime(params.get("StartTime"), now)
    end = _as_datetime(params.get("EndTime"), now)
    if start > end:
        raise AwsError("InvalidTimeRangeException", "StartTime must be before EndTime.")
    keys = public_keys_between(self.region, start, end)
    return {
        "PublicKeyList": [
            {
                "Value": key.value,
                "ValidityStartTime": key.valid_from,
                "ValidityEndTime": key.valid_to,
                "Fingerprint": key.fingerprint,
            }
            for key in keys
        ]
    }


def _lookup_events(self: CloudTrailResponse, params: dict[str, Any]) -> dict[str, Any]:
    attributes = params.get("LookupAttributes") or []
    if len(attributes) > 1:
        raise AwsError("InvalidLookupAttributesException", "You cannot specify more than one lookup attribute.")
    now = datetime.now(timezone.utc)
    start = _as_datetime(params.get("StartTime"), datetime.min.replace(tzinfo=timezone.utc))
    end = _as_datetime(params.get("EndTime"), now)
    if start > end:
        raise AwsError("InvalidTimeRangeException", "StartTime must be before EndTime.")
    limit = params.get("MaxResults", LOOKUP_MAX_RESULTS)
    if not 1 <= limit <= LOOKUP_MAX_RESULTS:
        raise AwsError("InvalidMaxResultsException", "MaxResults must be between 1 and 50.")
    found = [event for event in reversed(_events(self.current_account, self.region))  # newest first, as AWS
             if start <= event["EventTime"] <= end
             and all(_matches(event, a["AttributeKey"], a["AttributeValue"]) for a in attributes)]
    offset = int(params.get("NextToken") or 0)
    page = found[offset:offset + limit]
    answer: dict[str, Any] = {"Events": [dict(event) for event in page]}
    if offset + limit < len(found):
        answer["NextToken"] = str(offset + limit)
    return answer


def _as_datetime(value: float | str | None, default: datetime) -> datetime:
    if value is None:
        return default
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    return datetime.fromisoformat(value)


GAPS: tuple[Gap, ...] = (
    Gap(
        "cloudtrail", "CreateTrail", "guard", CloudTrailResponse, _create_trail,
        moto="replaces a trail of the same name; checks nothing but the bucket's existence and part of the name "
             "rules",
        sandbox="TrailAlreadyExists; the name rules moto skips (no adjacent . _ -, not an IP address: "
                "InvalidTrailNameException); organization, bucket policy, KMS key, log delivery checks; "
                "recorded in the event history",
    ),
    Gap(
        "cloudtrail", "UpdateTrail", "guard", CloudTrailResponse, _update_trail,
        moto="checks nothing",
        sandbox="the CreateTrail checks for the settings given; home region only; recorded in the event history",
    ),
    Gap(
        "cloudtrail", "DescribeTrails", "fix", CloudTrailResponse, _describe_trails,
        moto="ignores trailNameList; HasCustomEventSelectors always false",
        sandbox="trailNameList by name (home region) or ARN; HasCustomEventSelectors",
    ),
    Gap(
        "cloudtrail", "GetTrail", "fix", CloudTrailResponse, _get_trail,
        moto="HasCustomEventSelectors always false; no HomeRegion; home region only",
        sandbox="the trail as DescribeTrails shows it; multi-region trails from any region",
    ),
    Gap(
        "cloudtrail", "DeleteTrail", "fix", CloudTrailResponse, _delete_trail,
        moto="does nothing for an ARN or an unknown name",
        sandbox="deletes by name or ARN; TrailNotFound; InvalidHomeRegion; recorded in the event history",
    ),
    Gap(
        "cloudtrail", "PutEventSelectors", "fix", CloudTrailResponse,
        _put_event_selectors,
        moto="keeps advanced selectors when classic ones are put; takes both at once",
        sandbox="the two kinds replace each other; classic selectors get AWS's defaults",
    ),
    Gap(
        "cloudtrail", "GetEventSelectors", "fix", CloudTrailResponse,
        _get_event_selectors,
        moto="empty lists for a trail never configured; both kinds",
        sandbox="the default selector until configured; the kind in use",
    ),
    Gap(
        "cloudtrail", "StartLogging", "guard", CloudTrailResponse, _logging("StartLogging"),
        moto="starts a trail from any region; records no event",
        sandbox="home region only (InvalidHomeRegion); recorded in the event history with its caller",
    ),
    Gap(
        "cloudtrail", "StopLogging", "guard", CloudTrailResponse, _logging("StopLogging"),
        moto="stops a trail from any region; records no event",
        sandbox="home region only (InvalidHomeRegion); recorded in the event history with its caller",
    ),
    Gap(
        "cloudtrail", "LookupEvents", "addition", CloudTrailResponse, _lookup_events,
        moto="not implemented",
        sandbox="the event history of CreateTrail, UpdateTrail, DeleteTrail, StartLogging and StopLogging made "
                "here, each with its caller; one lookup attribute, StartTime..EndTime, newest first, pages of "
                "MaxResults",
    ),
    Gap(
        "cloudtrail", "ListPublicKeys", "addition", CloudTrailResponse,
        _list_public_keys,
        moto="not implemented",
        sandbox="keys from register_public_key(), valid over StartTime..EndTime",
    ),
)
