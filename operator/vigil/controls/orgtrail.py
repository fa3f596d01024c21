"""OrgTrail: the organization trail in the management account's home region."""

from __future__ import annotations

from typing import Any

from ..api.orgtrail import OrgTrailSpec
from ..aws import cloudtrail as aws_cloudtrail
from ..aws import iam as aws_iam
from ..aws import logs as aws_logs
from ..aws import organizations as aws_organizations
from ..planning.organization import plan_trusted_access
from ..planning.orgtrail import (CLOUDTRAIL_PRINCIPAL, CLOUDWATCH_ROLE_NAME, CLOUDWATCH_ROLE_POLICY, TrailTarget,
                                 plan_log_group, plan_role, plan_trail)
from ..state.cloudtrail import TrailState
from ..planning.ownership import Resource, created_by
from . import integrity
from .base import Context, DependencyNotReady, Report, TargetRun, run_targets


def reconcile(ctx: Context) -> Report:
    spec: OrgTrailSpec = ctx.spec
    if ctx.log_archive is None:
        raise DependencyNotReady(f"LogArchive {spec.log_archive_ref.name} is not Ready")
    target = TrailTarget(ctx.organization.management_account_id, ctx.organization.home_region,
                         ctx.log_archive.bucket, ctx.log_archive.kms_key_arn, ctx.owner)
    seen: dict[str, TrailState] = {}

    def converge(run: TargetRun) -> None:
        a, r = target.account_id, target.region
        group_arn = role_arn = ""
        if spec.cloud_watch_logs.enabled:
            name = spec.cloud_watch_logs.log_group_name
            group = aws_logs.observe_log_group(ctx.access, a, r, name)
            # A group made now has the ARN CloudWatch Logs gives every group of its name: not read back.
            group_arn = group.arn or f"arn:aws:logs:{r}:{a}:log-group:{name}:*"
            run.converge(plan_log_group(spec, target, group),
                         Resource("logs-log-group", a, r, group_arn, target.label(name), group.exists))
            role = aws_iam.observe_role(ctx.access, a, CLOUDWATCH_ROLE_NAME, CLOUDWATCH_ROLE_POLICY)
            run.converge(plan_role(spec, target, group_arn, role),
                         Resource("iam-role", a, "global", CLOUDWATCH_ROLE_NAME,
                                  target.label(f"role/{CLOUDWATCH_ROLE_NAME}"), role.exists))
            role_arn = role.arn or f"arn:aws:iam::{a}:role/{CLOUDWATCH_ROLE_NAME}"
            if run.report.blocked:
                return  # the trail is never pointed at another's log group or role
        run.converge(plan_trusted_access(CLOUDTRAIL_PRINCIPAL, aws_organizations.trusted_services(ctx.access),
                                         target.label("organizations"), a, r))
        trail = aws_cloudtrail.observe_trail(ctx.access, a, r, spec.trail_name)
        seen["trail"] = trail
        if run.converge(plan_trail(spec, target, trail, group_arn, role_arn),
                        Resource("cloudtrail-trail", a, r, trail.arn or "", target.label(spec.trail_name),
                                 trail.exists)):
            # Written to: whether it logs (and since when) is read back for status and the integrity
            # check; its settings, now the spec's, are not (nothing after this pass looks at them).
            arn = trail.arn or aws_cloudtrail.trail_arn(a, r, spec.trail_name)
            seen["trail"] = trail.model_copy(update={
                "exists": True, "arn": arn, **aws_cloudtrail.logging_status(ctx.access, a, r, arn)})

    reports = run_targets(ctx, [(target.label(spec.trail_name), converge)])
    trail = seen.get("trail")
    extra: dict[str, Any] = {}
    if trail is not None and trail.exists:
        extra = {"trailArn": trail.arn, "isLogging": trail.is_logging,
                 "latestDeliveryTime": trail.latest_delivery_time}
    # Read only, so Audit verifies as Enforce does.
    checked = integrity.verify(ctx, spec, trail)
    extra["integrity"] = checked.status
    return Report(reports, extra_status=extra, conditions=checked.conditions, findings=checked.findings)


def delete(ctx: Context) -> list[str]:
    """deletionPolicy: Delete. Deletes the trail if Vigil created it; the delivered logs stay in the
    bucket and the CloudWatch log group is kept, because both are log data."""
    spec: OrgTrailSpec = ctx.spec
    a, r = ctx.organization.management_account_id, ctx.organization.home_region
    notes = []
    trail = aws_cloudtrail.observe_trail(ctx.access, a, r, spec.trail_name)
    if trail.exists and created_by(aws_cloudtrail.trail_tags(ctx.access, a, r, trail.arn or ""), ctx.owner):
        aws_cloudtrail.delete_trail(ctx.access, a, r, trail.arn or spec.trail_name)
        notes.append(f"trail {spec.trail_name} deleted; its logs stay in the archive")
    elif trail.exists:
        notes.append(f"trail {spec.trail_name} was not created by this OrgTrail; left in place")
    if spec.cloud_watch_logs.enabled:
        if aws_iam.delete_owned_role(ctx.access, a, CLOUDWATCH_ROLE_NAME, CLOUDWATCH_ROLE_POLICY, ctx.owner):
            notes.append(f"role {CLOUDWATCH_ROLE_NAME} deleted")
        notes.append(f"log group {spec.cloud_watch_logs.log_group_name} kept: it holds log data")
    return notes
