"""GuardDutyOrg: in every region, the security account runs GuardDuty for the organization.

One group per region. Its first target, ``<security>/<region>``, is what the organization shares:
trusted access (first region only: Organizations is global), the delegated administrator, the
administrator's detector and features, the organization configuration, the findings export. Then
one target per member account, ``<account>/<region>``, so status names each account that is not
enrolled. The members are read once per region (ListMembers), after the administrator target, and
those to enroll are enrolled together (controls.batched); after the member targets, what the
enrolled members run (GetMemberDetectors), for status.protection.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..api.guardduty import GuardDutyOrgSpec, RegionProtection
from ..aws import guardduty as aws_guardduty
from ..aws import organizations as aws_organizations
from ..aws.errors import TargetError, classify
from ..planning.guardduty import (GUARDDUTY_PRINCIPAL, AdministratorConflict, FindingsDestination, GuardDutyRegion,
                                  member_account_ids, plan_administrator, plan_counts, plan_detector, plan_member,
                                  plan_organization, plan_publishing)
from ..planning.organization import plan_trusted_access, target_regions
from ..planning.ownership import Resource, created_by, tag_action
from ..state.guardduty import DetectorState, MemberPlans
from .base import Context, DependencyNotReady, GroupRun, Report, SpecError, TargetRun, run_groups
from .batched import Planned, converge_batched, fail_each

ADMINISTRATOR_CONFLICT = "AdministratorConflict"
ADMINISTRATOR_NOT_READY = "AdministratorNotReady"


def reconcile(ctx: Context) -> Report:
    spec: GuardDutyOrgSpec = ctx.spec
    org = ctx.organization
    security = org.spec.accounts.security
    if not security:
        raise SpecError("GuardDutyOrg needs accounts.security in the Organization: it is the delegated administrator")
    regions = target_regions(spec.regions, org.spec.regions.governed)
    destination = _findings_destination(ctx, spec)
    members = member_account_ids(org.inventory.active_ids, security)
    emails = {a.id: a.email for a in org.inventory.accounts}
    # Trusted access is organization-wide: asked for once, in the home region's group if covered.
    trusted_in = org.home_region if org.home_region in regions else regions[0]

    protection: dict[str, MemberPlans] = {}
    problems: list[dict[str, str]] = []

    def group(region: str) -> Callable[[GroupRun], None]:
        target = GuardDutyRegion(org.management_account_id, security, region, ctx.owner)

        def observe_and_converge(regional: GroupRun) -> None:
            seen: dict[str, DetectorState] = {}
            regional.target(target.label, lambda run: _converge_administrator(
                ctx, run, target, destination, region == trusted_in, seen))
            _converge_members(regional, target, members, emails, seen.get("detector"))
            # Counted once enrolled: a member target that holds is an enrolled, monitored member.
            reports = {report.target: report for report in regional.reports}
            enrolled = [a for a in members if reports[target.member_label(a)].compliant]
            counted, problem = _count_plans(ctx, target, seen.get("detector"), enrolled)
            if counted is not None:
                protection[region] = counted
            problems.extend(problem)
        return observe_and_converge

    reports = run_groups(ctx, [(f"guardduty/{r}", group(r)) for r in regions])
    return Report(reports, extra_status={"protection": _protection_status(ctx, regions, protection)},
                  findings=problems)


def _count_plans(ctx: Context, target: GuardDutyRegion, detector: DetectorState | None,
                 enrolled: list[str]) -> tuple[MemberPlans | None, list[dict[str, str]]]:
    """The region's plans over its enrolled members. A failed read is reported without touching
    Ready or Compliant (the baseline may well hold), and the region keeps its last figures."""
    if detector is None or detector.detector_id is None:
        return None, []  # no administrator to ask (it failed, or Audit before it exists)
    if not enrolled:
        return MemberPlans(), []
    try:
        return aws_guardduty.member_plans(ctx.access, target.admin_account_id, target.region, detector.detector_id,
                                          enrolled), []
    except (ClientError, BotoCoreError, TargetError) as exc:
        error = classify(exc)
        return None, [{"target": f"{target.label}/protection", "reason": error.reason, "message": error.message}]


def _protection_status(ctx: Context, regions: list[str], counted: dict[str, MemberPlans]) -> list[dict[str, Any]]:
    """status.protection, region by region: this pass's figures, else the last ones."""
    previous = {p.get("region"): p for p in ctx.previous_status.get("protection") or []}
    found = []
    for region in regions:
        if region in counted:
            found.append(RegionProtection(region=region, members=counted[region].members,
                                          plans=plan_counts(counted[region])).model_dump(by_alias=True))
        elif region in previous:
            found.append(previous[region])
    return found


def _findings_destination(ctx: Context, spec: GuardDutyOrgSpec) -> FindingsDestination | None:
    publish = spec.publish_findings_to_log_archive
    if not publish.enabled:
        return None
    if publish.log_archive_ref is None:
        raise SpecError("publishFindingsToLogArchive.logArchiveRef is required when enabled is true")
    if ctx.log_archive is None:
        raise DependencyNotReady(f"LogArchive {publish.log_archive_ref.name} is not Ready")
    return FindingsDestination(ctx.log_archive.bucket_arn, ctx.log_archive.kms_key_arn)


def _converge_administrator(ctx: Context, run: TargetRun, target: GuardDutyRegion,
                            destination: FindingsDestination | None, trusted_here: bool,
                            seen: dict[str, DetectorState]) -> None:
    spec: GuardDutyOrgSpec = ctx.spec
    admin, region = target.admin_account_id, target.region
    if trusted_here:
        run.converge(plan_trusted_access(GUARDDUTY_PRINCIPAL, aws_organizations.trusted_services(ctx.access),
                                         target.label, target.management_account_id, region))
    try:
        designate = plan_administrator(target, aws_guardduty.administrators(ctx.access, target.management_account_id,
                                                                            region))
    except AdministratorConflict as exc:
        raise TargetError(ADMINISTRATOR_CONFLICT, str(exc), recoverable=False) from None
    # A detector the security account already ran is not Vigil's for being designated: read
    # whether there is one first (only when designating, so a resync costs nothing more).
    existed = bool(designate) and ctx.enforce and aws_guardduty.observe_detector(ctx.access, admin, region).exists
    designated = run.converge(designate)
    # Designating the administrator makes its detector, so it is read only afterwards.
    detector = aws_guardduty.observe_detector(ctx.access, admin, region)
    if designated and not existed and detector.exists and not detector.tags:
        # AWS made it because Vigil designated the administrator just now: it is this object's.
        made = Resource("guardduty-detector", admin, region, detector.arn or "", target.label)
        run.converge([tag_action(made, ctx.owner, {})])
        detector = detector.model_copy(update={"tags": ctx.owner.tags()})
    # The administrator's detector is where the organization's GuardDuty is recorded as this
    # object's: the organization configuration and exports are written only while it is.
    anchor = Resource("guardduty-detector", admin, region, detector.arn or "", target.label, detector.exists)
    if run.converge(plan_detector(spec, target, detector), anchor, detector.tags) and not detector.exists:
        detector = aws_guardduty.observe_detector(ctx.access, admin, region)
    if run.report.blocked:
        return  # members are enrolled only by an administrator this object owns
    seen["detector"] = detector
    detector_id = detector.detector_id
    organization = aws_guardduty.observe_organization(ctx.access, admin, region, detector_id) if detector_id else None
    run.converge(plan_organization(spec, target, detector_id, organization))
    if destination is not None:
        destinations = (aws_guardduty.publishing_destinations(ctx.access, admin, region, detector_id)
                        if detector_id else ())
        run.converge(plan_publishing(spec, target, detector_id, destinations, destination))


def _relationships(ctx: Context, target: GuardDutyRegion,
                   detector: DetectorState | None) -> tuple[dict[str, str], TargetError | None]:
    """The administrator's members, or why they could not be read (each member target reports it)."""
    if detector is None:
        return {}, TargetError(ADMINISTRATOR_NOT_READY, f"GuardDuty's administrator in {target.region} could not "
                                                        f"be reconciled; see {target.label}")
    if detector.detector_id is None:
        return {}, None  # no administrator detector yet (Audit): no account is enrolled
    try:
        return aws_guardduty.member_relationships(ctx.access, target.admin_account_id, target.region,
                                                  detector.detector_id), None
    except (ClientError, BotoCoreError, TargetError) as exc:
        return {}, classify(exc)


def _converge_members(regional: GroupRun, target: GuardDutyRegion, members: list[str], emails: dict[str, str],
                      detector: DetectorState | None) -> None:
    """One target per member account; the accounts to enroll are enrolled together (50 a call)."""
    detector_id = detector.detector_id if detector else None

    def plans(relationships: dict[str, str]) -> list[Planned]:
        return [Planned(target.member_label(account), plan_member(target, account, emails.get(account, ""),
                                                                  detector_id, relationships.get(account)))
                for account in members]

    relationships, failure = _relationships(regional.ctx, target, detector)
    if failure is not None:
        fail_each(regional, [target.member_label(account) for account in members], failure)
        return

    def landed() -> set[str]:
        again, failed = _relationships(regional.ctx, target, detector)
        return set() if failed else {p.label for p in plans(again) if not p.actions}

    converge_batched(regional, plans(relationships), landed)


def delete(ctx: Context) -> list[str]:
    """deletionPolicy: Delete. Removes the findings exports Vigil made; the findings already
    exported stay in the archive. GuardDuty itself stays on: a detector deleted takes its
    findings with it, and the members would go unwatched."""
    spec: GuardDutyOrgSpec = ctx.spec
    org = ctx.organization
    security = org.spec.accounts.security
    removed = 0
    for region in target_regions(spec.regions, org.spec.regions.governed):
        detector = aws_guardduty.observe_detector(ctx.access, security, region)
        if detector.detector_id is None:
            continue
        for found in aws_guardduty.publishing_destinations(ctx.access, security, region, detector.detector_id):
            if created_by(found.tags, ctx.owner):
                aws_guardduty.delete_publishing_destination(ctx.access, security, region, detector.detector_id,
                                                            found.destination_id)
                removed += 1
    notes = [f"GuardDuty left enabled in {', '.join(target_regions(spec.regions, org.spec.regions.governed))}: "
             "turning it off would discard its findings"]
    if removed:
        notes.insert(0, f"{removed} findings export{'' if removed == 1 else 's'} removed; exported findings stay")
    return notes
