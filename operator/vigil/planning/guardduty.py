"""GuardDutyOrg: GuardDuty run for the organization by the security account, region by region.

Per region the administrator target covers what the organization shares (trusted access, the
delegated administrator, its detector, the organization configuration, the findings export);
each member account is a target of its own, so status names every account not enrolled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..api.guardduty import GuardDutyOrgSpec
from ..state.guardduty import (AUTO_ENABLE_NONE, ENABLED, FEATURE_NAMES, MEMBER_DISABLED, MEMBER_ENABLED,
                               DetectorFeatures, DetectorSettings, DetectorState, OrganizationFeatures,
                               OrganizationSettings, PublishingDestination)
from .ownership import Owner
from .actions import Action, Change, diff
from .organization import DelegatedRegion

GUARDDUTY_PRINCIPAL = "guardduty.amazonaws.com"
ADMIN_ENABLED = "ENABLED"
# Findings go under this prefix of the archive bucket, beside cloudtrail/ and vpc-flow-logs/.
FINDINGS_PREFIX = "guardduty"
# Stands in for the administrator's detector id in a plan made before the detector exists (Audit).
PENDING_DETECTOR = "<administrator detector>"


class AdministratorConflict(ValueError):
    """Another account is GuardDuty's delegated administrator. Replacing it would drop every
    member it enrolled, so Vigil reports it and leaves the choice to a person."""


class GuardDutyRegion(DelegatedRegion):
    """A GuardDuty region of the organization; see DelegatedRegion."""


@dataclass(frozen=True)
class FindingsDestination:
    """Where findings are exported: the LogArchive bucket, encrypted with its key."""

    bucket_arn: str
    kms_key_arn: str

    @property
    def destination_arn(self) -> str:
        return f"{self.bucket_arn}/{FINDINGS_PREFIX}"


def desired_detector(spec: GuardDutyOrgSpec) -> DetectorSettings:
    return DetectorSettings(
        enabled=True,
        finding_publishing_frequency=spec.finding_publishing_frequency,
        features=DetectorFeatures(**spec.features.model_dump()),
    )


def desired_organization(spec: GuardDutyOrgSpec) -> OrganizationSettings:
    """Members are auto-enabled as the spec says, and with them the features the detector has on."""
    wanted = spec.features.model_dump()
    return OrganizationSettings(
        auto_enable_organization_members=spec.auto_enable,
        features=OrganizationFeatures(**{f: spec.auto_enable if on else AUTO_ENABLE_NONE for f, on in wanted.items()}),
    )


def _detector_features(changes: list[Change]) -> list[dict[str, str]]:
    return [{"Name": FEATURE_NAMES[c.path.removeprefix("features.")], "Status": ENABLED if c.after else "DISABLED"}
            for c in changes if c.path.startswith("features.")]


def plan_administrator(target: GuardDutyRegion, admins: dict[str, str]) -> list[Action]:
    """The security account is the region's delegated administrator, designated by the management
    account (which also makes the security account's detector, as AWS does)."""
    status = admins.get(target.admin_account_id)
    if status == ADMIN_ENABLED:
        return []
    others = sorted(a for a in admins if a != target.admin_account_id)
    if others:
        raise AdministratorConflict(
            f"GuardDuty's delegated administrator in {target.region} is {', '.join(others)}, not the security "
            f"account {target.admin_account_id}; Vigil does not replace it (DisableOrganizationAdminAccount first)")
    return [Action(target.label, target.management_account_id, target.region, "guardduty",
                   "EnableOrganizationAdminAccount", {"AdminAccountId": target.admin_account_id},
                   (Change("delegated_administrator", status, target.admin_account_id),), creates=status is None)]


def plan_detector(spec: GuardDutyOrgSpec, target: GuardDutyRegion, observed: DetectorState) -> list[Action]:
    desired = desired_detector(spec)

    def act(operation: str, params: dict[str, Any], changes: tuple[Change, ...], creates: bool = False) -> Action:
        return Action(target.label, target.admin_account_id, target.region, "guardduty", operation, params, changes,
                      creates=creates)

    if not observed.exists:
        features = [{"Name": FEATURE_NAMES[f], "Status": ENABLED if on else "DISABLED"}
                    for f, on in desired.features.model_dump().items()]
        return [act("CreateDetector", {
            "Enable": True, "FindingPublishingFrequency": desired.finding_publishing_frequency,
            "Features": features, "Tags": target.owner.tags()}, (Change("detector", None, "enabled"),), True)]
    changes = diff(desired, observed.settings)
    if not changes:
        return []
    params: dict[str, Any] = {"DetectorId": observed.detector_id}
    for change in changes:
        if change.path == "enabled":
            params["Enable"] = True
        elif change.path == "finding_publishing_frequency":
            params["FindingPublishingFrequency"] = change.after
    # Features are merged by name: listing only the changed ones leaves the others as they are.
    features = _detector_features(changes)
    if features:
        params["Features"] = features
    return [act("UpdateDetector", params, tuple(changes))]


def plan_organization(spec: GuardDutyOrgSpec, target: GuardDutyRegion, detector_id: str | None,
                      observed: OrganizationSettings | None) -> list[Action]:
    """How members are enrolled from now on. ``observed`` is None before the administrator has a
    detector: everything is then to be set."""
    desired = desired_organization(spec)
    changes = diff(desired, observed or OrganizationSettings())
    if not changes:
        return []
    # AWS wants AutoEnableOrganizationMembers in every call (the older AutoEnable flag is not sent).
    params: dict[str, Any] = {"DetectorId": detector_id or PENDING_DETECTOR,
                              "AutoEnableOrganizationMembers": desired.auto_enable_organization_members}
    features = [{"Name": FEATURE_NAMES[c.path.removeprefix("features.")], "AutoEnable": c.after}
                for c in changes if c.path.startswith("features.")]
    if features:
        params["Features"] = features
    return [Action(target.label, target.admin_account_id, target.region, "guardduty", "UpdateOrganizationConfiguration",
                   params, tuple(changes), creates=observed is None)]


def plan_publishing(spec: GuardDutyOrgSpec, target: GuardDutyRegion, detector_id: str | None,
                    destinations: tuple[PublishingDestination, ...],
                    destination: FindingsDestination | None) -> list[Action]:
    """Findings exported to the LogArchive bucket when asked. A detector has at most one export;
    an existing one is pointed at the archive rather than a second one made. Turning the export
    off leaves it in place: it may be someone else's."""
    if not spec.publish_findings_to_log_archive.enabled or destination is None:
        return []
    want = {"DestinationArn": destination.destination_arn, "KmsKeyArn": destination.kms_key_arn}
    detector = detector_id or PENDING_DETECTOR
    if not destinations:
        return [Action(target.label, target.admin_account_id, target.region, "guardduty",
                       "CreatePublishingDestination", {
                           "DetectorId": detector, "DestinationType": "S3", "DestinationProperties": want,
                           "Tags": target.owner.tags()},
                       (Change("publishing_destination", None, destination.destination_arn),), creates=True)]
    current = destinations[0]
    have = {"DestinationArn": current.destination_arn, "KmsKeyArn": current.kms_key_arn}
    if have == want:
        return []
    changes = tuple(Change(f"publishing_destination.{k}", have[k], want[k]) for k in want if have[k] != want[k])
    return [Action(target.label, target.admin_account_id, target.region, "guardduty", "UpdatePublishingDestination",
                   {"DetectorId": detector, "DestinationId": current.destination_id,
                    "DestinationProperties": want}, changes)]


def plan_member(target: GuardDutyRegion, account_id: str, email: str, detector_id: str | None,
                relationship: str | None) -> list[Action]:
    """An organization account is enrolled and monitored by the administrator. CreateMembers also
    takes back an account that was disassociated; StartMonitoringMembers resumes a stopped one."""
    if relationship == MEMBER_ENABLED:
        return []
    detector = detector_id or PENDING_DETECTOR
    change = (Change("member.relationship_status", relationship, MEMBER_ENABLED),)
    label = target.member_label(account_id)
    if relationship == MEMBER_DISABLED:
        return [Action(label, target.admin_account_id, target.region, "guardduty", "StartMonitoringMembers",
                       {"DetectorId": detector, "AccountIds": [account_id]}, change)]
    return [Action(label, target.admin_account_id, target.region, "guardduty", "CreateMembers",
                   {"DetectorId": detector, "AccountDetails": [{"AccountId": account_id, "Email": email}]},
                   change, creates=relationship is None)]


def member_account_ids(active_ids: list[str], admin_account_id: str) -> list[str]:
    """Every ACTIVE account of the organization but the administrator itself (the management
    account included: AWS recommends monitoring it too)."""
    return sorted(a for a in active_ids if a != admin_account_id)

