"""GuardDuty for an organization: what moto lacks or answers wrongly.

Moto keeps detectors per account and region, replaces a detector's features wholesale on update,
allows a second detector, and keeps a list of "admin accounts" it never checks; it has no
organization configuration, no members and no findings export. The sandbox adds them, scoped as
AWS scopes them:

- the delegated administrator is per organization and region, designated by the management
  account (moto's own list, in the management account's backend for the region);
- the organization configuration, the members and the findings exports belong to a detector
  (kept beside moto's Detector object, and gone with it or with a reset of moto);
- a member's own GuardDuty is its own detector, in its account and region, whose features the
  administrator reads (GetMemberDetectors) and the organization configuration turns on: a feature
  (or Runtime Monitoring's agent management) auto-enabled NEW or ALL in a member enrolled with no
  detector, ALL in every member at once (AWS gets there within the hour).

Not modelled: ``AutoEnableOrganizationMembers: ALL`` enrolls *existing* accounts only eventually in
AWS (up to 24 hours), so here it never does and accounts are enrolled by CreateMembers; designating
an administrator enables GuardDuty's trusted access but does not register it in Organizations'
ListDelegatedAdministrators. Features not named at CreateDetector start DISABLED, and so do the
additional configurations not named.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

from moto.guardduty import urls as moto_guardduty_urls
from moto.guardduty.models import Detector, GuardDutyBackend, guardduty_backends
from moto.guardduty.responses import GuardDutyResponse
from moto.kms.models import kms_backends
from moto.moto_api._internal import mock_random
from moto.organizations.models import OrganizationsBackend
from moto.s3.exceptions import MissingBucket
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

from ._core import AwsError, Gap, Handler, with_client_token
from .organizations import is_active_account, management_organization, organization_of
from ._policies import policy_allows_service

GUARDDUTY = "guardduty.amazonaws.com"
FOUNDATIONAL_FEATURES = ("CLOUD_TRAIL", "DNS_LOGS", "FLOW_LOGS")  # always on in a detector
OPTIONAL_FEATURES = ("S3_DATA_EVENTS", "EKS_AUDIT_LOGS", "EBS_MALWARE_PROTECTION", "RDS_LOGIN_EVENTS",
                     "EKS_RUNTIME_MONITORING", "RUNTIME_MONITORING", "LAMBDA_NETWORK_LOGS")
# The additional configurations a feature takes: where GuardDuty manages Runtime Monitoring's agent.
ADDITIONAL_CONFIGURATIONS = {
    "EKS_RUNTIME_MONITORING": ("EKS_ADDON_MANAGEMENT",),
    "RUNTIME_MONITORING": ("EKS_ADDON_MANAGEMENT", "ECS_FARGATE_AGENT_MANAGEMENT", "EC2_AGENT_MANAGEMENT"),
}
ASSOCIATED = ("Enabled", "Disabled")  # the members ListMembers keeps when OnlyAssociated is true


def refused(message: str) -> AwsError:
    """GuardDuty answers every refusal of a request with BadRequestException."""
    return AwsError("BadRequestException", message)


def _management(account: str, region: str) -> OrganizationsBackend:
    return management_organization(account, region, refused(
        "The request is rejected because the current account is not the management account of an organization."))








# --- Domain: detectors ---------------------------------------------------------------------------


def _backend(account: str, region: str) -> GuardDutyBackend:
    return guardduty_backends[account][region]


def detector_of(account: str, region: str) -> Detector | None:
    return next(iter(_backend(account, region).detectors.values()), None)


def owned_detector(account: str, region: str, detector_id: str) -> Detector:
    detector = _backend(account, region).detectors.get(detector_id)
    if detector is None:
        raise refused("The request is rejected because the input detectorId is not owned by the current account.")
    return detector


def _check_runtime_monitoring(names: list[str]) -> None:
    if "EKS_RUNTIME_MONITORING" in names and "RUNTIME_MONITORING" in names:
        raise refused("The request is rejected because EKS_RUNTIME_MONITORING and RUNTIME_MONITORING are both "
                      "given; RUNTIME_MONITORING covers EKS.")


def _check_additional(requested: list[dict[str, Any]]) -> None:
    for feature in requested:
        allowed = ADDITIONAL_CONFIGURATIONS.get(feature["Name"], ())
        for configuration in feature.get("AdditionalConfiguration") or []:
            if configuration["Name"] not in allowed:
                raise refused(f"The request is rejected because {configuration['Name']} is not an additional "
                              f"configuration of {feature['Name']}.")


def set_features(detector: Detector, requested: list[dict[str, Any]]) -> None:
    """Merge features by name, as AWS does: a feature not named keeps its status, and so does an
    additional configuration not named. Kept in moto's form (the wire's camelCase, which moto's
    GetDetector sends as it is), and moto's legacy DataSources view in step."""
    _check_runtime_monitoring([f["Name"] for f in requested])
    _check_additional(requested)
    statuses = {f["name"]: f.get("status", "DISABLED") for f in detector.features}
    additional = {f["name"]: {c["name"]: c["status"] for c in f.get("additionalConfiguration") or []}
                  for f in detector.features}
    for feature in requested:
        if "Status" in feature:
            statuses[feature["Name"]] = feature["Status"]
        additional.setdefault(feature["Name"], {}).update(
            {c["Name"]: c["Status"] for c in feature.get("AdditionalConfiguration") or [] if "Status" in c})
    statuses.update(dict.fromkeys(FOUNDATIONAL_FEATURES, "ENABLED"))
    detector.features = [{"name": name, "status": statuses.get(name, "DISABLED"), **(
        {"additionalConfiguration": [{"name": c, "status": additional.get(name, {}).get(c, "DISABLED")}
                                     for c in ADDITIONAL_CONFIGURATIONS[name]]}
        if name in ADDITIONAL_CONFIGURATIONS else {})} for name in (*FOUNDATIONAL_FEATURES, *OPTIONAL_FEATURES)]
    detector.datasources = {
        "s3Logs": {"enable": statuses.get("S3_DATA_EVENTS") == "ENABLED"},
        "kubernetes": {"auditLogs": {"enable": statuses.get("EKS_AUDIT_LOGS") == "ENABLED"}},
    }
    detector.updated_at = datetime.now()


def create_detector(account: str, region: str, enable: bool, frequency: str | None,
                    features: list[dict[str, Any]], tags: dict[str, str] | None) -> Detector:
    """One detector per account and region, as in AWS."""
    if detector_of(account, region) is not None:
        raise refused("The request is rejected because a detector already exists for the current account.")
    _check_runtime_monitoring([f["Name"] for f in features])
    backend = _backend(account, region)
    detector = backend.detectors[backend.create_detector(enable, frequency or "SIX_HOURS", {}, tags or {}, [])]
    set_features(detector, features)
    return detector


def update_detector(detector: Detector, params: dict[str, Any]) -> None:
    if "Enable" in params:
        detector.enabled = params["Enable"]
    if "FindingPublishingFrequency" in params:
        detector.finding_publish_freq = params["FindingPublishingFrequency"]
    set_features(detector, params.get("Features") or [])


# --- Domain: the delegated administrator ---------------------------------------------------------


def administrators(management: str, region: str) -> list[str]:
    """The region's delegated administrator: moto's own list, in the management account's backend."""
    return _backend(management, region).admin_account_ids


def designate_administrator(management: str, region: str, admin: str) -> None:
    """What designating does in AWS: trusted access for GuardDuty in the organization, and
    GuardDuty turned on in the administrator's account and region. One per organization and region."""
    organization = _management(management, region)
    if admin == management or not is_active_account(organization, admin):
        raise refused(f"The request is rejected because {admin} is not a member account of the organization.")
    admins = administrators(management, region)
    if admins and admins != [admin]:
        raise refused(f"The request is rejected because the organization already has a delegated administrator "
                      f"in {region}: {admins[0]}.")
    if not admins:
        admins.append(admin)
    organization.enable_aws_service_access(ServicePrincipal=GUARDDUTY)
    if detector_of(admin, region) is None:
        create_detector(admin, region, True, None, [], None)


# --- Domain: what a detector holds beyond moto's -------------------------------------------------


@dataclass
class Member:
    account_id: str
    email: str
    relationship: str  # Enabled | Disabled (monitoring stopped) | Removed (disassociated)
    invited_at: str
    updated_at: str


@dataclass
class Destination:
    destination_id: str
    destination_arn: str
    kms_key_arn: str
    tags: dict[str, str]


@dataclass
class DetectorAdditions:
    """An administrator's organization configuration and members; any detector's findings exports."""

    auto_enable_members: str = "NONE"
    feature_auto_enable: dict[str, str] = field(default_factory=dict)
    # feature -> additional configuration -> ALL | NEW | NONE
    additional_auto_enable: dict[str, dict[str, str]] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)
    destinations: dict[str, Destination] = field(default_factory=dict)


# Keyed by moto's detector object: deleting the detector, or resetting moto, forgets them.
_additions: weakref.WeakKeyDictionary[Detector, DetectorAdditions] = weakref.WeakKeyDictionary()


def additions(account: str, region: str, detector_id: str) -> DetectorAdditions:
    return _additions.setdefault(owned_detector(account, region, detector_id), DetectorAdditions())


def administration(account: str, region: str, detector_id: str) -> DetectorAdditions:
    """The caller's additions, if the caller is its organization's administrator in the region."""
    found = additions(account, region, detector_id)
    organization = organization_of(account, get_partition(region))
    if organization is None or account not in administrators(organization.account_id, region):
        raise refused("The request is rejected because the current account is not the GuardDuty delegated "
                      "administrator of its organization in this Region.")
    return found


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def organization_configuration(admin: DetectorAdditions) -> dict[str, Any]:
    auto = admin.feature_auto_enable
    return {
        "AutoEnable": admin.auto_enable_members != "NONE",
        "AutoEnableOrganizationMembers": admin.auto_enable_members,
        "MemberAccountLimitReached": False,
        "DataSources": {
            "S3Logs": {"AutoEnable": auto.get("S3_DATA_EVENTS", "NONE") != "NONE"},
            "Kubernetes": {"AuditLogs": {"AutoEnable": auto.get("EKS_AUDIT_LOGS", "NONE") != "NONE"}},
        },
        "Features": [{"Name": name, "AutoEnable": auto.get(name, "NONE"), **(
            {"AdditionalConfiguration": [{"Name": c, "AutoEnable": admin.additional_auto_enable.get(name, {}).get(
                c, "NONE")} for c in ADDITIONAL_CONFIGURATIONS[name]]} if name in ADDITIONAL_CONFIGURATIONS else {})}
            for name in OPTIONAL_FEATURES],
    }


def update_organization_configuration(admin: DetectorAdditions, admin_account: str, region: str,
                                      params: dict[str, Any]) -> None:
    """Features and their additional configurations merged by name. ALL turns the feature on in
    every member too, at once (AWS gets there within the hour)."""
    members, legacy = params.get("AutoEnableOrganizationMembers"), params.get("AutoEnable")
    if (members is None) == (legacy is None):
        raise refused("The request is rejected because exactly one of autoEnable and autoEnableOrganizationMembers "
                      "must be given.")
    features = params.get("Features") or []
    _check_runtime_monitoring([f["Name"] for f in features])
    _check_additional(features)
    admin.auto_enable_members = members if members is not None else ("NEW" if legacy else "NONE")
    for feature in features:
        if "AutoEnable" in feature:
            admin.feature_auto_enable[feature["Name"]] = feature["AutoEnable"]
        admin.additional_auto_enable.setdefault(feature["Name"], {}).update(
            {c["Name"]: c["AutoEnable"] for c in feature.get("AdditionalConfiguration") or [] if "AutoEnable" in c})
    for member in admin.members.values():
        detector = detector_of(member.account_id, region)
        if member.relationship in ASSOCIATED and detector is not None:
            set_features(detector, auto_enabled(admin, ("ALL",)))


def auto_enabled(admin: DetectorAdditions, settings: tuple[str, ...]) -> list[dict[str, Any]]:
    """The features (and additional configurations) the organization configuration turns on in a
    member where their auto-enable is one of ``settings``, as a detector's Features."""
    found = []
    for name, auto in admin.feature_auto_enable.items():
        additional = [{"Name": c, "Status": "ENABLED"} for c, on in admin.additional_auto_enable.get(name, {}).items()
                      if on in settings]
        if auto in settings:
            found.append({"Name": name, "Status": "ENABLED", **({"AdditionalConfiguration": additional}
                                                               if additional else {})})
    return found


def member_detector_view(account: str, detector: Detector) -> dict[str, Any]:
    """A member's detector as GetMemberDetectors answers it: its organization features and the
    legacy DataSources view."""
    features = {f["name"]: f for f in detector.features}
    status = {name: features.get(name, {}).get("status", "DISABLED") for name in (*FOUNDATIONAL_FEATURES,
                                                                                 *OPTIONAL_FEATURES)}
    return {
        "AccountId": account,
        "DataSources": {"CloudTrail": {"Status": status["CLOUD_TRAIL"]}, "DNSLogs": {"Status": status["DNS_LOGS"]},
                        "FlowLogs": {"Status": status["FLOW_LOGS"]}, "S3Logs": {"Status": status["S3_DATA_EVENTS"]},
                        "Kubernetes": {"AuditLogs": {"Status": status["EKS_AUDIT_LOGS"]}}},
        "Features": [{"Name": name, "Status": status[name], **(
            {"AdditionalConfiguration": [{"Name": c["name"], "Status": c["status"]}
                                         for c in features[name].get("additionalConfiguration") or []]}
            if features.get(name, {}).get("additionalConfiguration") else {})} for name in OPTIONAL_FEATURES],
    }


def member_detectors(admin: DetectorAdditions, region: str, accounts: list[str]) -> dict[str, Any]:
    """What the administrator sees of its members' detectors; others come back unprocessed."""
    found, unprocessed = [], []
    for account in accounts:
        member = admin.members.get(account)
        detector = detector_of(account, region)
        if member is None or member.relationship not in ASSOCIATED or detector is None:
            unprocessed.append({"AccountId": account, "Result": "The request is rejected because the given account "
                                                                "ID is not an associated member of this account."})
            continue
        found.append(member_detector_view(account, detector))
    if not found:  # the answer lists at least one member (botocore's model: min 1)
        raise refused("The request is rejected because none of the given account IDs is an associated member of "
                      "this account.")
    return {"MemberDataSourceConfigurations": found, "UnprocessedAccounts": unprocessed}


def enroll(admin: DetectorAdditions, admin_account: str, region: str, account: str, email: str) -> str | None:
    """Make an account of the organization a monitored member, turning GuardDuty on in it (with
    the features the organization auto-enables). Why not, when it cannot be."""
    organization = organization_of(admin_account, get_partition(region))
    if account == admin_account:
        return "The request is rejected because the current account cannot be its own member."
    if organization is None or not is_active_account(organization, account):
        return "The request is rejected because the account is not an active member of the organization."
    now = _now()
    existing = admin.members.get(account)
    admin.members[account] = Member(account, email, "Enabled", existing.invited_at if existing else now, now)
    detector = detector_of(account, region)
    if detector is None:
        create_detector(account, region, True, None, auto_enabled(admin, ("NEW", "ALL")), None)
    else:
        detector.enabled = True
        set_features(detector, auto_enabled(admin, ("ALL",)))
    return None


def set_relationship(admin: DetectorAdditions, accounts: list[str], relationship: str,
                     allowed_from: tuple[str, ...]) -> list[dict[str, str]]:
    """Move members to ``relationship``; the accounts that could not move, with why."""
    unprocessed = []
    for account in accounts:
        member = admin.members.get(account)
        if member is None or member.relationship not in allowed_from:
            unprocessed.append({"AccountId": account, "Result": "The request is rejected because the given account "
                                                                "ID is not an associated member of this account."})
            continue
        member.relationship, member.updated_at = relationship, _now()
    return unprocessed


def member_view(member: Member, admin_account: str, region: str) -> dict[str, Any]:
    view = {"AccountId": member.account_id, "MasterId": admin_account, "AdministratorId": admin_account,
            "Email": member.email, "RelationshipStatus": member.relationship, "InvitedAt": member.invited_at,
            "UpdatedAt": member.updated_at}
    detector = detector_of(member.account_id, region)
    if detector is not None:
        view["DetectorId"] = detector.id
    return view


def check_destination(account: str, region: str, properties: dict[str, Any]) -> None:
    """GuardDuty checks at once that it may write to the bucket and encrypt with the key."""
    arn, key_arn = properties.get("DestinationArn", ""), properties.get("KmsKeyArn", "")
    if ":s3:::" not in arn or ":kms:" not in key_arn:
        raise refused("The request is rejected because destinationArn must be an S3 bucket ARN and kmsKeyArn a "
                      "KMS key ARN.")
    bucket_name = arn.split(":::", 1)[1].split("/", 1)[0]
    try:
        bucket = s3_backends[account][get_partition(region)].get_bucket(bucket_name)
    except MissingBucket:
        raise refused(f"The request failed because the S3 bucket {bucket_name} does not exist.") from None
    if not policy_allows_service(bucket.policy.decode() if bucket.policy else None, GUARDDUTY, "s3:PutObject"):
        raise refused(f"The request failed because the bucket policy of {bucket_name} does not allow {GUARDDUTY} "
                      f"to s3:PutObject.")
    _, _, _, key_region, key_account, resource = key_arn.split(":", 5)
    key = kms_backends[key_account][key_region].keys.get(resource.removeprefix("key/"))
    if key is None:
        raise refused(f"The request failed because the KMS key {key_arn} does not exist.")
    if not policy_allows_service(key.policy, GUARDDUTY, "kms:GenerateDataKey"):
        raise refused(f"The request failed because the policy of KMS key {key_arn} does not allow {GUARDDUTY} "
                      f"to kms:GenerateDataKey.")


def add_destination(found: DetectorAdditions, properties: dict[str, Any], tags: dict[str, str]) -> Destination:
    if found.destinations:
        raise refused("The request is rejected because the detector already has a publishing destination.")
    destination = Destination(mock_random.get_random_hex(length=32), properties["DestinationArn"],
                              properties["KmsKeyArn"], tags)
    found.destinations[destination.destination_id] = destination
    return destination


def destination_of(found: DetectorAdditions, destination_id: str) -> Destination:
    destination = found.destinations.get(destination_id)
    if destination is None:
        raise refused("The request is rejected because the input destinationId is not owned by the detector.")
    return destination


def destination_view(destination: Destination) -> dict[str, Any]:
    return {"DestinationId": destination.destination_id, "DestinationType": "S3", "Status": "PUBLISHING",
            "PublishingFailureStartTimestamp": 0,
            "DestinationProperties": {"DestinationArn": destination.destination_arn,
                                      "KmsKeyArn": destination.kms_key_arn},
            "Tags": destination.tags}


# --- Wire: one handler per gap, reading moto's response object like moto's own methods ---------


def _enable_organization_admin_account(self: GuardDutyResponse, params: dict[str, Any]) -> dict[str, Any]:
    designate_administrator(self.current_account, self.region, params["AdminAccountId"])
    return {}


def _list_organization_admin_accounts(self: GuardDutyResponse, params: dict[str, Any]) -> dict[str, Any]:
    _management(self.current_account, self.region)
    admins = administrators(self.current_account, self.region)
    return {"AdminAccounts": [{"AdminAccountId": a, "AdminStatus": "ENABLED"} for a in admins]}


def _token_reused() -> AwsError:
    return refused("The request is rejected because the client token was used before with other parameters.")


def _create_detector(self: GuardDutyResponse, params: dict[str, Any]) -> dict[str, Any]:
    def create() -> dict[str, Any]:
        detector = create_detector(self.current_account, self.region, params["Enable"],
                                   params.get("FindingPublishingFrequency"), params.get("Features") or [],
                                   params.get("Tags"))
        return {"DetectorId": detector.id}
    return with_client_token(_backend(self.current_account, self.region), "CreateDetector", params, "ClientToken",
                             create, _token_reused())


def _update_detector(self: GuardDutyResponse, params: dict[str, Any]) -> dict[str, Any]:
    update_detector(owned_detector(self.current_account, self.region, params["DetectorId"]), params)
    return {}


def _tag_resource(self: GuardDutyResponse, params: dict[str, Any]) -> dict[str, Any]:
    """Tags on a detector of the caller's (GetDetector returns them, as AWS does)."""
    arn = params["ResourceArn"]
    prefix = f"arn:{get_partition(self.region)}:guardduty:{self.region}:{self.current_account}:detector/"
    if not arn.startswith(prefix):
        raise refused(f"The request is rejected because the resource {arn} is not owned by the current account.")
    owned_detector(self.current_account, self.region, arn.removeprefix(prefix)).tags.update(params["Tags"])
    return {}


def _describe_organization_configuration(self: GuardDutyResponse, params: dict[str, Any]) -> dict[str, Any]:
    return organization_configuration(administration(self.current_account, self.region, params["DetectorId"]))


def _update_organization_configuration(self: GuardDutyResponse, params: dict[str, Any]) -> dict[str, Any]:
    admin = administration(self.current_account, self.region, params["DetectorId"])
    update_organization_configuration(admin, self.current_account, self.region, params)
    return {}


def _get_member_detectors(self: GuardDutyResponse, params: dict[str, Any]) -> dict[str, Any]:
    admin = administration(self.current_account, self.region, params["DetectorId"])
    return member_detectors(admin, self.region, params["AccountIds"])


def _create_members(self: GuardDutyResponse, params: dict[str, Any]) -> dict[str, Any]:
    admin = administration(self.current_account, self.region, params["DetectorId"])
    unprocessed = []
    for detail in params["AccountDetails"]:
        why = enroll(admin, self.current_account, self.region, detail["AccountId"], detail["Email"])
        if why:
            unprocessed.append({"AccountId": detail["AccountId"], "Result": why})
    return {"UnprocessedAccounts": unprocessed}


def _list_members(self: GuardDutyResponse, params: dict[str, Any]) -> dict[str, Any]:
    admin = administration(self.current_account, self.region, params["DetectorId"])
    only_associated = str(params.get("OnlyAssociated", "true")).lower() != "false"
    members = [m for _, m in sorted(admin.members.items()) if not only_associated or m.relationship in ASSOCIATED]
    start, size = int(params.get("NextToken") or 0), params.get("MaxResults") or 50
    answer: dict[str, Any] = {"Members": [member_view(m, self.current_account, self.region)
                                          for m in members[start:start + size]]}
    if start + size < len(members):
        answer["NextToken"] = str(start + size)
    return answer


def _members_to(relationship: str, allowed_from: tuple[str, ...]) -> Handler:
    def handler(self: GuardDutyResponse, params: dict[str, Any]) -> dict[str, Any]:
        admin = administration(self.current_account, self.region, params["DetectorId"])
        return {"UnprocessedAccounts": set_relationship(admin, params["AccountIds"], relationship, allowed_from)}
    return handler


def _create_publishing_destination(self: GuardDutyResponse, params: dict[str, Any]) -> dict[str, Any]:
    found = additions(self.current_account, self.region, params["DetectorId"])

    def create() -> dict[str, Any]:
        if params["DestinationType"] != "S3":
            raise refused("The request is rejected because destinationType must be S3.")
        check_destination(self.current_account, self.region, params["DestinationProperties"])
        destination = add_destination(found, params["DestinationProperties"], params.get("Tags") or {})
        return {"DestinationId": destination.destination_id}
    return with_client_token(_backend(self.current_account, self.region), "CreatePublishingDestination", params,
                             "ClientToken", create, _token_reused())


def _list_publishing_destinations(self: GuardDutyResponse, params: dict[str, Any]) -> dict[str, Any]:
    found = additions(self.current_account, self.region, params["DetectorId"])
    return {"Destinations": [{k: destination_view(d)[k] for k in ("DestinationId", "DestinationType", "Status")}
                             for d in found.destinations.values()]}


def _describe_publishing_destination(self: GuardDutyResponse, params: dict[str, Any]) -> dict[str, Any]:
    found = additions(self.current_account, self.region, params["DetectorId"])
    return destination_view(destination_of(found, params["DestinationId"]))


def _update_publishing_destination(self: GuardDutyResponse, params: dict[str, Any]) -> dict[str, Any]:
    found = additions(self.current_account, self.region, params["DetectorId"])
    destination = destination_of(found, params["DestinationId"])
    properties = {"DestinationArn": destination.destination_arn, "KmsKeyArn": destination.kms_key_arn,
                  **params.get("DestinationProperties", {})}
    check_destination(self.current_account, self.region, properties)
    destination.destination_arn, destination.kms_key_arn = properties["DestinationArn"], properties["KmsKeyArn"]
    return {}


def _delete_publishing_destination(self: GuardDutyResponse, params: dict[str, Any]) -> dict[str, Any]:
    found = additions(self.current_account, self.region, params["DetectorId"])
    del found.destinations[destination_of(found, params["DestinationId"]).destination_id]
    return {}


# moto's server routes a request by its URL before looking for a method: the added operations'
# paths join moto's GuardDuty URL table on import. Without the gaps, moto finds no method there
# and answers that it does not implement the operation, as it would have before.
_ADDED_PATHS = (
    "{0}/detector/(?P<detector_id>[^/]+)/admin$",
    "{0}/detector/(?P<detector_id>[^/]+)/member$",
    "{0}/detector/(?P<detector_id>[^/]+)/member/(?P<member_action>[^/]+)$",
    "{0}/detector/(?P<detector_id>[^/]+)/member/detector/get$",
    "{0}/detector/(?P<detector_id>[^/]+)/publishingDestination$",
    "{0}/detector/(?P<detector_id>[^/]+)/publishingDestination/(?P<destination_id>[^/]+)$",
    "{0}/tags/(?P<resource_arn>.+)$",
)
for _path in _ADDED_PATHS:
    moto_guardduty_urls.url_paths.setdefault(_path, GuardDutyResponse.dispatch)


def _gap(operation: str, kind: Literal["guard", "fix", "addition"], handler: Handler, moto: str,
         sandbox: str) -> Gap:
    return Gap("guardduty", operation, kind, GuardDutyResponse, handler, moto=moto, sandbox=sandbox)


_NOT_IMPLEMENTED = "not implemented"

GAPS: tuple[Gap, ...] = (
    _gap("EnableOrganizationAdminAccount", "fix", _enable_organization_admin_account,
         moto="takes any account id from any caller, and appends it again on every call",
         sandbox="management account only, an ACTIVE member, one per organization and region; enables "
                 "trusted access and the administrator's detector"),
    _gap("ListOrganizationAdminAccounts", "fix", _list_organization_admin_accounts,
         moto="answers any caller from its own (empty) list",
         sandbox="BadRequestException unless the caller is the management account"),
    _gap("CreateDetector", "fix", _create_detector,
         moto="makes a second detector in the same account and region; lists only the features given; "
              "ClientToken ignored",
         sandbox="BadRequestException for a second detector; every feature listed, unnamed ones DISABLED; a "
                 "repeated ClientToken gets the first answer"),
    _gap("UpdateDetector", "fix", _update_detector,
         moto="replaces the whole feature list with the features given",
         sandbox="merges features by name; the legacy DataSources view follows"),
    _gap("TagResource", "addition", _tag_resource,
         moto=_NOT_IMPLEMENTED, sandbox="tags a detector of the caller's, by ARN (GetDetector shows them)"),
    _gap("DescribeOrganizationConfiguration", "addition", _describe_organization_configuration,
         moto=_NOT_IMPLEMENTED,
         sandbox="the administrator detector's member and feature auto-enable; administrator only"),
    _gap("UpdateOrganizationConfiguration", "addition", _update_organization_configuration,
         moto=_NOT_IMPLEMENTED,
         sandbox="exactly one of AutoEnableOrganizationMembers / AutoEnable; features and their additional "
                 "configurations merged by name; ALL turns them on in every member"),
    _gap("GetMemberDetectors", "addition", _get_member_detectors,
         moto=_NOT_IMPLEMENTED,
         sandbox="each associated member's features (with Runtime Monitoring's agent management) and DataSources; "
                 "other accounts unprocessed, BadRequestException when none is a member; administrator only"),
    _gap("CreateMembers", "addition", _create_members,
         moto=_NOT_IMPLEMENTED,
         sandbox="ACTIVE organization accounts become Enabled members with GuardDuty on; others "
                 "come back in UnprocessedAccounts"),
    _gap("ListMembers", "addition", _list_members,
         moto=_NOT_IMPLEMENTED,
         sandbox="associated members by default, every member with OnlyAssociated=false; paginated"),
    _gap("DisassociateMembers", "addition", _members_to("Removed", ASSOCIATED),
         moto=_NOT_IMPLEMENTED, sandbox="members become Removed; unknown accounts unprocessed"),
    _gap("StopMonitoringMembers", "addition", _members_to("Disabled", ("Enabled",)),
         moto=_NOT_IMPLEMENTED, sandbox="Enabled members become Disabled"),
    _gap("StartMonitoringMembers", "addition", _members_to("Enabled", ("Disabled",)),
         moto=_NOT_IMPLEMENTED, sandbox="Disabled members become Enabled; a Removed one is unprocessed"),
    _gap("CreatePublishingDestination", "addition", _create_publishing_destination,
         moto=_NOT_IMPLEMENTED,
         sandbox="one S3 export per detector; the bucket and key policies must let GuardDuty in; a repeated "
                 "ClientToken gets the first answer"),
    _gap("ListPublishingDestinations", "addition", _list_publishing_destinations,
         moto=_NOT_IMPLEMENTED, sandbox="the detector's exports"),
    _gap("DescribePublishingDestination", "addition", _describe_publishing_destination,
         moto=_NOT_IMPLEMENTED, sandbox="an export's properties, status PUBLISHING, and tags"),
    _gap("UpdatePublishingDestination", "addition", _update_publishing_destination,
         moto=_NOT_IMPLEMENTED, sandbox="new properties, checked as at creation"),
    _gap("DeletePublishingDestination", "addition", _delete_publishing_destination,
         moto=_NOT_IMPLEMENTED, sandbox="removes the export"),
)
