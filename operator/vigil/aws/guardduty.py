"""GuardDuty: the delegated administrator (as the management account sees it), the
administrator's detector, organization configuration, members and findings export, and the
member writes that report failure in the answer instead of raising."""

from __future__ import annotations

from collections import Counter
from typing import Any

from botocore.exceptions import ClientError

from ..state.guardduty import (DetectorFeatures, DetectorSettings, DetectorState, MemberPlans, OrganizationFeatures,
                               OrganizationSettings, PublishingDestination)
from .session import AwsAccess, partition


def administrators(access: AwsAccess, management_account_id: str, region: str) -> dict[str, str]:
    """The region's delegated administrators: {account id: ENABLED | DISABLE_IN_PROGRESS}."""
    gd = access.client("guardduty", management_account_id, region)
    return {a["AdminAccountId"]: a.get("AdminStatus", "")
            for page in gd.get_paginator("list_organization_admin_accounts").paginate()
            for a in page.get("AdminAccounts", [])}


def observe_detector(access: AwsAccess, account_id: str, region: str) -> DetectorState:
    """The account's detector in the region (GuardDuty allows one): ListDetectors, GetDetector."""
    gd = access.client("guardduty", account_id, region)
    ids = [i for page in gd.get_paginator("list_detectors").paginate() for i in page["DetectorIds"]]
    if not ids:
        return DetectorState(exists=False)
    detector = gd.get_detector(DetectorId=ids[0])
    arn = f"arn:{partition(region)}:guardduty:{region}:{account_id}:detector/{ids[0]}"
    return DetectorState(exists=True, detector_id=ids[0], arn=arn, tags=detector.get("Tags") or {},
                         settings=DetectorSettings(
        enabled=detector.get("Status") == "ENABLED",
        finding_publishing_frequency=detector.get("FindingPublishingFrequency"),
        features=DetectorFeatures.from_features(detector.get("Features", []))))


def observe_organization(access: AwsAccess, account_id: str, region: str, detector_id: str) -> OrganizationSettings:
    gd = access.client("guardduty", account_id, region)
    config = gd.describe_organization_configuration(DetectorId=detector_id)
    return OrganizationSettings(
        auto_enable_organization_members=config.get("AutoEnableOrganizationMembers", "NONE"),
        features=OrganizationFeatures.from_features(config.get("Features", [])))


def member_relationships(access: AwsAccess, account_id: str, region: str, detector_id: str) -> dict[str, str]:
    """Every member the administrator has, disassociated ones included: {account id: status}."""
    gd = access.client("guardduty", account_id, region)
    pages = gd.get_paginator("list_members").paginate(DetectorId=detector_id, OnlyAssociated="false")
    return {m["AccountId"]: m["RelationshipStatus"] for page in pages for m in page.get("Members", [])}


# GetMemberDetectors takes at most 50 accounts a call.
MEMBER_DETECTORS_PER_CALL = 50


def member_plans(access: AwsAccess, account_id: str, region: str, detector_id: str,
                 member_ids: list[str]) -> MemberPlans:
    """How many of ``member_ids`` have each protection plan on, as the administrator sees their
    detectors (one GetMemberDetectors per 50 accounts); accounts that are not its members (in
    UnprocessedAccounts) are not counted."""
    gd = access.client("guardduty", account_id, region)
    members, plans = 0, Counter[str]()
    for start in range(0, len(member_ids), MEMBER_DETECTORS_PER_CALL):
        answer = gd.get_member_detectors(DetectorId=detector_id,
                                         AccountIds=member_ids[start:start + MEMBER_DETECTORS_PER_CALL])
        for member in answer.get("MemberDataSourceConfigurations", []):
            members += 1
            plans.update(DetectorFeatures.from_features(member.get("Features") or []).plans_on())
    return MemberPlans(members=members, plans=dict(plans))


def publishing_destinations(access: AwsAccess, account_id: str, region: str,
                            detector_id: str) -> tuple[PublishingDestination, ...]:
    """The detector's findings exports, with where each goes (one Describe per export)."""
    gd = access.client("guardduty", account_id, region)
    listed: list[dict[str, Any]] = []
    token: dict[str, str] = {}
    while True:  # botocore has no paginator for this one
        page = gd.list_publishing_destinations(DetectorId=detector_id, **token)
        listed += page["Destinations"]
        if not page.get("NextToken"):
            break
        token = {"NextToken": page["NextToken"]}
    found = []
    for d in listed:
        if d.get("DestinationType") != "S3":
            continue
        described = gd.describe_publishing_destination(DetectorId=detector_id, DestinationId=d["DestinationId"])
        properties = described.get("DestinationProperties", {})
        found.append(PublishingDestination(
            destination_id=d["DestinationId"], destination_arn=properties.get("DestinationArn", ""),
            kms_key_arn=properties.get("KmsKeyArn", ""), status=described.get("Status", ""),
            tags=described.get("Tags") or {}))
    return tuple(found)


def delete_publishing_destination(access: AwsAccess, account_id: str, region: str, detector_id: str,
                                  destination_id: str) -> None:
    access.client("guardduty", account_id, region).delete_publishing_destination(
        DetectorId=detector_id, DestinationId=destination_id)


# --- writes (see vigil.aws.apply) ----------------------------------------------------------------


def create_members(client: Any, params: dict[str, Any]) -> None:
    """CreateMembers answers 200 with the accounts it could not enroll in UnprocessedAccounts (not
    in the organization, no detector of its own possible): that is a failure of the target."""
    _raise_unprocessed("CreateMembers", client.create_members(**params))


def start_monitoring_members(client: Any, params: dict[str, Any]) -> None:
    _raise_unprocessed("StartMonitoringMembers", client.start_monitoring_members(**params))


def _raise_unprocessed(operation: str, answer: dict[str, Any]) -> None:
    unprocessed = answer.get("UnprocessedAccounts") or []
    if unprocessed:
        message = "; ".join(f"{u['AccountId']}: {u['Result']}" for u in unprocessed)
        # Shaped as botocore would raise it, so vigil.aws.errors.classify sorts it like any other.
        raise ClientError({"Error": {"Code": "UnprocessedAccounts", "Message": message}}, operation)
