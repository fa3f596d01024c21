"""GuardDutyOrg: GuardDuty run for the organization by the security account, region by region.

Per region the administrator target covers what the organization shares (trusted access, the
delegated administrator, its detector, the organization configuration, the findings export);
each member account is a target of its own, so status names every account not enrolled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..api.guardduty import GuardDutyOrgSpec, PlanCounts
from ..state.guardduty import (AGENT_NAMES, AUTO_ENABLE_NONE, ENABLED, FEATURE_NAMES, MEMBER_DISABLED,
                               MEMBER_ENABLED, AgentManagement, DetectorFeatures, DetectorSettings, DetectorState,
                               MemberPlans, OrganizationAgentManagement, OrganizationFeatures, OrganizationSettings,
                               PublishingDestination)
from .ownership import Owner
from .actions import Action, Change, diff
from .organization import DelegatedRegion

GUARDDUTY_PRINCIPAL = "guardduty.amazonaws.com"
ADMIN_ENABLED = "ENABLED"
DISABLED = "DISABLED"
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
    """The administrator's detector: every plan as the spec says; Runtime Monitoring's agent
    management only while Runtime Monitoring is on (off, it is left as found)."""
    features = spec.features
    return DetectorSettings(
        enabled=True,
        finding_publishing_frequency=spec.finding_publishing_frequency,
        features=DetectorFeatures(
            **{f: getattr(features, f) for f in FEATURE_NAMES},
            runtime_monitoring_agent_management=AgentManagement(
                **features.runtime_monitoring_agent_management.model_dump()) if features.runtime_monitoring else None),
    )


def desired_organization(spec: GuardDutyOrgSpec) -> OrganizationSettings:
    """Members are auto-enabled as the spec says, and with them the features the detector has on."""
    features = spec.features

    def auto(on: bool) -> str:
        return spec.auto_enable if on else AUTO_ENABLE_NONE

    agents = features.runtime_monitoring_agent_management
    return OrganizationSettings(
        auto_enable_organization_members=spec.auto_enable,
        features=OrganizationFeatures(
            **{f: auto(getattr(features, f)) for f in FEATURE_NAMES},
            runtime_monitoring_agent_management=OrganizationAgentManagement(
                **{a: auto(getattr(agents, a)) for a in AGENT_NAMES}) if features.runtime_monitoring else None),
    )


def _feature_changed(change: Change, feature: str) -> bool:
    """Whether ``change`` is of ``feature`` (its agent management counts as Runtime Monitoring's)."""
    path = change.path.removeprefix("features.")
    return path == feature or (feature == "runtime_monitoring" and path.startswith("runtime_monitoring_agent"))


def _detector_features(desired: DetectorFeatures, changes: list[Change] | None = None) -> list[dict[str, Any]]:
    """The Features of CreateDetector (``changes`` None: all) or UpdateDetector (the changed ones:
    GuardDuty merges them by name). Runtime Monitoring carries its agent management while on."""
    found = []
    for field, name in FEATURE_NAMES.items():
        if changes is not None and not any(_feature_changed(c, field) for c in changes):
            continue
        feature: dict[str, Any] = {"Name": name, "Status": ENABLED if getattr(desired, field) else DISABLED}
        agents = desired.runtime_monitoring_agent_management
        if field == "runtime_monitoring" and agents is not None:
            feature["AdditionalConfiguration"] = [{"Name": n, "Status": ENABLED if getattr(agents, a) else DISABLED}
                                                  for a, n in AGENT_NAMES.items()]
        found.append(feature)
    return found


def _organization_features(desired: OrganizationFeatures, changes: list[Change]) -> list[dict[str, Any]]:
    """UpdateOrganizationConfiguration's Features: the changed ones, merged by name as well."""
    found = []
    for field, name in FEATURE_NAMES.items():
        if not any(_feature_changed(c, field) for c in changes):
            continue
        feature: dict[str, Any] = {"Name": name, "AutoEnable": getattr(desired, field)}
        agents = desired.runtime_monitoring_agent_management
        if field == "runtime_monitoring" and agents is not None:
            feature["AdditionalConfiguration"] = [{"Name": n, "AutoEnable": getattr(agents, a)}
                                                  for a, n in AGENT_NAMES.items()]
        found.append(feature)
    return found


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
        return [act("CreateDetector", {
            "Enable": True, "FindingPublishingFrequency": desired.finding_publishing_frequency,
            "Features": _detector_features(desired.features), "Tags": target.owner.tags()},
            (Change("detector", None, "enabled"),), True)]
    changes = diff(desired, observed.settings)
    if not changes:
        return []
    params: dict[str, Any] = {"DetectorId": observed.detector_id}
    for change in changes:
        if change.path == "enabled":
            params["Enable"] = True
        elif change.path == "finding_publishing_frequency":
            params["FindingPublishingFrequency"] = change.after
    features = _detector_features(desired.features, changes)
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
    features = _organization_features(desired.features, changes)
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



def plan_counts(counted: MemberPlans) -> PlanCounts:
    """status.protection's figures for a region: members with each plan on, as the spec names them."""
    plans = counted.plans
    return PlanCounts.model_validate({
        **{f: plans.get(f, 0) for f in FEATURE_NAMES},
        "runtime_monitoring_agent_management": {a: plans.get(f"runtime_monitoring_agent_management.{a}", 0)
                                                for a in AGENT_NAMES}})
