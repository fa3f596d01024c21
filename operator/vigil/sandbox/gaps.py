"""What moto lacks or answers wrongly, added to the moto server as stateful extensions.

Every gap is one entry of GAPS: the operation, the moto response class it takes over, what
moto did, and what the sandbox does instead. ``apply_gaps()`` sets the operations' methods on
moto's response classes (the sandbox's only lasting patch of moto); ``remove_gaps()`` puts
moto's own back, and ``without_gaps()`` does so for a block: that is how the tests show each
gap is needed.

A gap is one of three kinds:
- guard: checks what AWS checks and moto does not, then lets moto answer;
- fix: answers in moto's place, from moto's own state;
- addition: an operation moto lacks; its state is kept here.

A gap's request is validated against botocore's input shape; an answer a gap produces is
validated against the output shape, and a mismatch raises SandboxContractError (a 500 with a
traceback in the server log): the sandbox must not teach Vigil a wire format AWS never sends.

As in moto, the domain (state and rules) comes first and the wire (requests, answers) after.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

from botocore.validate import ParamValidator
from moto.cloudtrail.exceptions import TrailNotFoundException
from moto.cloudtrail.models import Trail, cloudtrail_backends
from moto.cloudtrail.responses import CloudTrailResponse
from moto.core.exceptions import AccessDeniedError, ServiceException
from moto.core.responses import ActionResult, BaseResponse
from moto.core.utils import camelcase_to_underscores
from moto.iam.exceptions import NotFoundException as IAMNotFoundException
from moto.iam.models import iam_backends
from moto.kms.models import kms_backends
from moto.kms.responses import KmsResponse
from moto.logs.models import logs_backends
from moto.organizations.models import FakeServiceAccess, organizations_backends
from moto.organizations.responses import OrganizationsResponse
from moto.s3.exceptions import MissingBucket
from moto.s3.models import s3_backends
from moto.s3.responses import S3Response
from moto.sts.responses import TokenResponse

from vigil.sandbox.awsserver import service_model


class AwsError(ServiceException):
    """An error as AWS answers it: ``AwsError(code, message)``, code named as in botocore's model.

    Defined here rather than raised as moto's base class, which moto would look up under a
    service named after its module ("core").
    """


class SandboxContractError(AssertionError):
    """A gap answered outside botocore's output shape: a bug in the sandbox, not in Vigil."""


# --- Domain: IAM policies, coarsely --------------------------------------------------------------


def _statements(policy: str | None) -> list[dict[str, Any]]:
    if not policy:
        return []
    statements = json.loads(policy).get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _allows_action(statement: dict[str, Any], action: str) -> bool:
    return statement.get("Effect") == "Allow" and any(
        fnmatch.fnmatchcase(action.lower(), pattern.lower())
        for pattern in _as_list(statement.get("Action"))
    )


def policy_allows_service(policy: str | None, service_principal: str, action: str) -> bool:
    """Whether a resource policy allows an AWS service principal an action.

    Coarse on purpose: resources and conditions (aws:SourceOrgID, ...) are taken as met. It
    catches the mistake that matters: no statement for the service at all.
    """
    for statement in _statements(policy):
        principal = statement.get("Principal")
        services = _as_list(principal.get("Service")) if isinstance(principal, dict) else []
        if principal == "*" or service_principal in services:
            if _allows_action(statement, action):
                return True
    return False


def trust_allows_account(trust_policy: str | None, account: str) -> bool:
    """Whether a role's trust policy lets principals of an account assume it.

    Checked per account, not per principal ARN: the sandbox's callers are account-wide.
    """
    for statement in _statements(trust_policy):
        if not _allows_action(statement, "sts:AssumeRole"):
            continue
        principal = statement.get("Principal")
        if principal == "*":
            return True
        aws = _as_list(principal.get("AWS")) if isinstance(principal, dict) else []
        for entry in aws:
            if entry in ("*", account) or entry.split(":")[4:5] == [account]:
                return True
    return False


# --- Domain: STS ---------------------------------------------------------------------------------


def assume_role_refusal(caller_account: str, role_arn: str) -> str | None:
    """Why AWS would refuse the caller this role, or None if it would not."""
    parts = role_arn.split(":")
    if len(parts) < 6 or not parts[5].startswith("role/"):
        return "not a role ARN"
    iam = iam_backends[parts[4]][parts[1]]
    try:
        role = iam.get_role_by_arn(role_arn)
    except IAMNotFoundException:
        return "the role does not exist"
    if not trust_allows_account(role.assume_role_policy_document, caller_account):
        return "the role's trust policy does not allow the caller's account"
    return None


# --- Domain: Organizations -----------------------------------------------------------------------


def require_management_account(account: str, partition: str) -> None:
    """Organization-wide reads are for the management account (delegated admins not modelled)."""
    if organizations_backends[account][partition].org is not None:
        return
    if account in organizations_backends.master_accounts:
        raise AwsError(
            "AccessDeniedException", "You don't have permissions to access this resource."
        )
    raise AwsError(
        "AWSOrganizationsNotInUseException",
        "Your account is not a member of an organization.",
    )


def delegated_administrators(
    account: str, partition: str, service_principal: str | None
) -> list[dict[str, Any]]:
    """The organization's delegated administrators, for one service principal or all."""
    if service_principal and not FakeServiceAccess.trusted_service(service_principal):
        raise AwsError("InvalidInputException", "You specified an unrecognized service principal.")
    admins = organizations_backends[account][partition].admins
    return [
        admin.describe()
        for admin in admins
        if service_principal is None or service_principal in admin.services
    ]


# --- Domain: CloudTrail --------------------------------------------------------------------------

CLOUDTRAIL = "cloudtrail.amazonaws.com"

# What a trail logs when nobody has called PutEventSelectors: all management events.
DEFAULT_EVENT_SELECTOR = {
    "ReadWriteType": "All",
    "IncludeManagementEvents": True,
    "DataResources": [],
    "ExcludeManagementEventSources": [],
}


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


def _as_datetime(value: float | str | None, default: datetime) -> datetime:
    if value is None:
        return default
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    return datetime.fromisoformat(value)


# --- Wire: one handler per gap, reading moto's response object like moto's own methods ---------


def _sts_assume_role(self: TokenResponse, params: dict[str, Any]) -> None:
    role_arn = params["RoleArn"]
    refusal = assume_role_refusal(self.current_account, role_arn)
    if refusal:
        _, caller_arn, _ = self.backend.get_caller_identity(self.get_access_key(), self.region)
        raise AccessDeniedError(caller_arn, f"sts:AssumeRole on resource: {role_arn} ({refusal})")


def _organizations_management_read(self: OrganizationsResponse, params: dict[str, Any]) -> None:
    require_management_account(self.current_account, self.partition)


def _organizations_list_delegated_administrators(
    self: OrganizationsResponse, params: dict[str, Any]
) -> dict[str, Any]:
    require_management_account(self.current_account, self.partition)
    admins = delegated_administrators(
        self.current_account, self.partition, params.get("ServicePrincipal")
    )
    return {"DelegatedAdministrators": admins}


def _kms_get_key_policy(self: KmsResponse, params: dict[str, Any]) -> dict[str, Any]:
    _require_default_key_policy_name(params)
    self._validate_cmk_id(params["KeyId"])
    return {"Policy": self.kms_backend.get_key_policy(params["KeyId"]), "PolicyName": "default"}


def _kms_put_key_policy(self: KmsResponse, params: dict[str, Any]) -> dict[str, Any]:
    _require_default_key_policy_name(params)
    self._validate_cmk_id(params["KeyId"])
    self.kms_backend.put_key_policy(params["KeyId"], params["Policy"])
    return {}


def _require_default_key_policy_name(params: dict[str, Any]) -> None:
    # PolicyName became optional in 2023; "default" is the only key policy there is.
    if params.get("PolicyName", "default") != "default":
        raise AwsError("NotFoundException", "No such policy exists")


def _cloudtrail_create_trail(self: CloudTrailResponse, params: dict[str, Any]) -> None:
    name = params["Name"]
    if any(
        trail.trail_name == name and (trail.region_name == self.region or trail.is_multi_region)
        for trail in account_trails(self.current_account)
    ):
        raise AwsError(
            "TrailAlreadyExistsException",
            f"Trail {name} already exists for customer: {self.current_account}",
        )
    _check_trail_settings(self, params, bucket=params["S3BucketName"])


def _cloudtrail_update_trail(self: CloudTrailResponse, params: dict[str, Any]) -> None:
    trail = find_trail(self.current_account, self.region, params["Name"])
    require_home_region(trail, self.region)
    _check_trail_settings(self, params, bucket=params.get("S3BucketName"))


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


def _cloudtrail_describe_trails(self: CloudTrailResponse, params: dict[str, Any]) -> dict[str, Any]:
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


def _cloudtrail_get_trail(self: CloudTrailResponse, params: dict[str, Any]) -> dict[str, Any]:
    return {"Trail": trail_view(find_trail(self.current_account, self.region, params["Name"]))}


def _cloudtrail_delete_trail(self: CloudTrailResponse, params: dict[str, Any]) -> dict[str, Any]:
    trail = find_trail(self.current_account, self.region, params["Name"])
    require_home_region(trail, self.region)
    backend = cloudtrail_backends[self.current_account][trail.region_name]
    del backend.trails[trail.trail_name]
    backend.tagging_service.delete_all_tags_for_resource(trail.arn)
    return {}


def _cloudtrail_put_event_selectors(
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


def _cloudtrail_get_event_selectors(
    self: CloudTrailResponse, params: dict[str, Any]
) -> dict[str, Any]:
    return _event_selectors_view(find_trail(self.current_account, self.region, params["TrailName"]))


def _event_selectors_view(trail: Trail) -> dict[str, Any]:
    if trail.advanced_event_selectors:
        return {"TrailARN": trail.arn, "AdvancedEventSelectors": trail.advanced_event_selectors}
    selectors = trail.event_selectors or [DEFAULT_EVENT_SELECTOR]
    return {"TrailARN": trail.arn, "EventSelectors": selectors}


def _cloudtrail_list_public_keys(
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


def _s3_get_object_lock_configuration(self: S3Response, params: dict[str, Any]) -> dict[str, Any]:
    enabled, mode, days, years = self.backend.get_object_lock_configuration(params["Bucket"])
    config: dict[str, Any] = {"ObjectLockEnabled": "Enabled" if enabled else "Disabled"}
    if mode:
        # AWS returns the one period that was set; moto adds the other as 0.
        retention = {"Mode": mode, **({"Days": days} if days else {"Years": years})}
        config["Rule"] = {"DefaultRetention": retention}
    self.data["Action"] = "GetObjectLockConfiguration"  # moto's S3 serializer looks it up here
    return {"ObjectLockConfiguration": config}


# --- Wire: the registry, request parsing, contract checks --------------------------------------


Handler = Callable[[Any, dict[str, Any]], dict[str, Any] | None]


@dataclass(frozen=True)
class Gap:
    """One operation the sandbox takes over from moto; docs/testing.md has the long story."""

    service: str
    operation: str
    kind: Literal["guard", "fix", "addition"]
    response_class: type[BaseResponse]
    handler: Handler
    moto: str  # what moto lacks or gets wrong
    sandbox: str  # what the gap does instead

    @property
    def method(self) -> str:
        """The response-class method moto dispatches the operation to."""
        return camelcase_to_underscores(self.operation)


def _management_read(operation: str) -> Gap:
    return Gap(
        "organizations", operation, "guard", OrganizationsResponse, _organizations_management_read,
        moto="answers member accounts, from their empty view",
        sandbox="AccessDeniedException unless the caller is the management account",
    )


GAPS: tuple[Gap, ...] = (
    Gap(
        "sts", "AssumeRole", "guard", TokenResponse, _sts_assume_role,
        moto="issues credentials for any role ARN",
        sandbox="AccessDenied unless the role exists and trusts the caller's account",
    ),
    _management_read("ListAccounts"),
    _management_read("ListRoots"),
    _management_read("ListOrganizationalUnitsForParent"),
    _management_read("ListAccountsForParent"),
    Gap(
        "organizations", "ListDelegatedAdministrators", "fix", OrganizationsResponse,
        _organizations_list_delegated_administrators,
        moto="rejects ServicePrincipal filters such as securityhub.amazonaws.com",
        sandbox="filters by any trusted-access service principal; management account only",
    ),
    Gap(
        "kms", "GetKeyPolicy", "fix", KmsResponse, _kms_get_key_policy,
        moto="NotFoundException without PolicyName",
        sandbox="PolicyName defaults to 'default'",
    ),
    Gap(
        "kms", "PutKeyPolicy", "fix", KmsResponse, _kms_put_key_policy,
        moto="NotFoundException without PolicyName",
        sandbox="PolicyName defaults to 'default'",
    ),
    Gap(
        "s3", "GetObjectLockConfiguration", "fix", S3Response, _s3_get_object_lock_configuration,
        moto="returns Days and Years, the unset one as 0",
        sandbox="returns the period that was set",
    ),
    Gap(
        "cloudtrail", "CreateTrail", "guard", CloudTrailResponse, _cloudtrail_create_trail,
        moto="replaces a trail of the same name; checks nothing but the bucket's existence",
        sandbox="TrailAlreadyExists; organization, bucket policy, KMS key, log delivery checks",
    ),
    Gap(
        "cloudtrail", "UpdateTrail", "guard", CloudTrailResponse, _cloudtrail_update_trail,
        moto="checks nothing",
        sandbox="the CreateTrail checks for the settings given; home region only",
    ),
    Gap(
        "cloudtrail", "DescribeTrails", "fix", CloudTrailResponse, _cloudtrail_describe_trails,
        moto="ignores trailNameList; HasCustomEventSelectors always false",
        sandbox="trailNameList by name (home region) or ARN; HasCustomEventSelectors",
    ),
    Gap(
        "cloudtrail", "GetTrail", "fix", CloudTrailResponse, _cloudtrail_get_trail,
        moto="HasCustomEventSelectors always false; no HomeRegion; home region only",
        sandbox="the trail as DescribeTrails shows it; multi-region trails from any region",
    ),
    Gap(
        "cloudtrail", "DeleteTrail", "fix", CloudTrailResponse, _cloudtrail_delete_trail,
        moto="does nothing for an ARN or an unknown name",
        sandbox="deletes by name or ARN; TrailNotFound; InvalidHomeRegion",
    ),
    Gap(
        "cloudtrail", "PutEventSelectors", "fix", CloudTrailResponse,
        _cloudtrail_put_event_selectors,
        moto="keeps advanced selectors when classic ones are put; takes both at once",
        sandbox="the two kinds replace each other; classic selectors get AWS's defaults",
    ),
    Gap(
        "cloudtrail", "GetEventSelectors", "fix", CloudTrailResponse,
        _cloudtrail_get_event_selectors,
        moto="empty lists for a trail never configured; both kinds",
        sandbox="the default selector until configured; the kind in use",
    ),
    Gap(
        "cloudtrail", "ListPublicKeys", "addition", CloudTrailResponse,
        _cloudtrail_list_public_keys,
        moto="not implemented",
        sandbox="keys from register_public_key(), valid over StartTime..EndTime",
    ),
)


def _operation_model(gap: Gap) -> Any:
    model = service_model(gap.service)
    assert model is not None, gap.service
    return model.operation_model(gap.operation)


def _plain(value: Any) -> Any:
    """moto's parsers return mapping types the botocore validator does not take as dicts."""
    if hasattr(value, "items"):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _request_params(response: BaseResponse, gap: Gap) -> dict[str, Any]:
    protocol = service_model(gap.service).protocol  # type: ignore[union-attr]
    if protocol == "json":
        return json.loads(response.body or "{}")
    if protocol == "rest-xml":  # the S3 gaps address a bucket and nothing else
        params = {"Bucket": response.bucket_name}
        owner = response.headers.get("x-amz-expected-bucket-owner")
        return {**params, "ExpectedBucketOwner": owner} if owner else params
    response.parse_parameters(response.normalized_request)
    return _plain(response.params)


def check_request(gap: Gap, params: dict[str, Any]) -> None:
    report = ParamValidator().validate(params, _operation_model(gap).input_shape)
    if report.has_errors():
        raise AwsError(
            "ValidationException",
            f"vigil sandbox: {gap.operation} request does not match botocore's input shape: "
            f"{report.generate_report()}",
        )


def check_response(gap: Gap, result: dict[str, Any]) -> None:
    shape = _operation_model(gap).output_shape
    if shape is None:
        if result:
            raise SandboxContractError(
                f"{gap.operation} has no output; the gap answered {result!r}"
            )
        return
    report = ParamValidator().validate(result, shape)
    if report.has_errors():
        raise SandboxContractError(
            f"{gap.operation} answer does not match botocore's output shape: "
            f"{report.generate_report()}"
        )


def _gap_method(gap: Gap, moto_method: Callable[[Any], Any] | None) -> Callable[[Any], Any]:
    def method(self: BaseResponse) -> Any:
        params = _request_params(self, gap)
        check_request(gap, params)
        result = gap.handler(self, params)
        if gap.kind == "guard":
            assert moto_method is not None
            return moto_method(self)
        assert result is not None
        check_response(gap, result)
        return self.serialized(ActionResult(result))

    method.__name__ = gap.method
    method.__qualname__ = f"{gap.response_class.__name__}.{gap.method}"
    return method


# The moto methods the gaps replaced: (class, name) -> the original, or None if moto had none.
_replaced: dict[tuple[type, str], Callable[[Any], Any] | None] = {}


def apply_gaps() -> None:
    """Install every gap on moto's response classes (idempotent)."""
    for gap in GAPS:
        slot = (gap.response_class, gap.method)
        if slot in _replaced:
            continue
        moto_method = gap.response_class.__dict__.get(gap.method)
        if (moto_method is None) != (gap.kind == "addition"):
            # moto changed under the gap (a new version): the gap needs a fresh look.
            state = "lacks" if moto_method is None else "now has"
            raise SandboxContractError(
                f"moto {state} {gap.response_class.__name__}.{gap.method}; revisit the gap"
            )
        _replaced[slot] = moto_method
        setattr(gap.response_class, gap.method, _gap_method(gap, moto_method))


def remove_gaps() -> None:
    """Put moto's own methods back."""
    for (cls, name), moto_method in _replaced.items():
        if moto_method is None:
            delattr(cls, name)
        else:
            setattr(cls, name, moto_method)
    _replaced.clear()


@contextmanager
def without_gaps() -> Iterator[None]:
    """Plain moto for the duration of the block (the server is in this process)."""
    applied = bool(_replaced)
    remove_gaps()
    try:
        yield
    finally:
        if applied:
            apply_gaps()
