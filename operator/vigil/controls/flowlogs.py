"""FlowLogPolicy: one flow log per selected VPC, to the LogArchive bucket.

Observed per account x region (its VPCs, then their flow logs: two reads), reported per VPC; the
VPCs that need a new flow log get theirs in one write (controls.batched). The VPCs are looked up at
every resync, so a VPC created since the last one is covered by the next and a deleted one drops
out of the count.
"""

from __future__ import annotations

from collections.abc import Callable

from ..api.flowlogs import FlowLogPolicySpec
from ..aws import ec2 as aws_ec2
from ..aws.fanout import fan_out
from ..planning.flowlogs import FlowLogTarget, plan_vpc, selects, vpc_filters
from ..planning.organization import scope_account_ids, target_regions
from .base import Context, DependencyNotReady, GroupRun, Report, run_groups
from .batched import Planned, converge_batched


def targets(ctx: Context) -> list[FlowLogTarget]:
    """Every account x region of the policy's scope."""
    spec: FlowLogPolicySpec = ctx.spec
    if ctx.log_archive is None:
        raise DependencyNotReady(f"LogArchive {spec.log_archive_ref.name} is not Ready")
    org = ctx.organization
    accounts = scope_account_ids(spec.scope, spec.account_ids, org.spec, org.inventory)
    regions = target_regions(spec.regions, org.spec.regions.governed)
    return [FlowLogTarget(a, r, ctx.log_archive.bucket, ctx.owner, ctx.adopt) for a in accounts for r in regions]


def reconcile(ctx: Context) -> Report:
    spec: FlowLogPolicySpec = ctx.spec

    def group(target: FlowLogTarget) -> Callable[[GroupRun], None]:
        def plans() -> list[Planned]:
            network = aws_ec2.observe_network(ctx.access, target.account_id, target.region,
                                              vpc_filters(spec.vpc_selector))
            return [Planned(target.vpc_label(vpc.vpc_id), plan_vpc(spec, target, vpc.vpc_id,
                                                                   network.flow_logs_of(vpc.vpc_id)))
                    for vpc in network.vpcs if selects(spec.vpc_selector, vpc)]

        def observe_and_converge(run: GroupRun) -> None:
            converge_batched(run, plans(), landed=lambda: {p.label for p in plans() if not p.actions})
        return observe_and_converge

    return Report(run_groups(ctx, [(t.label, group(t)) for t in targets(ctx)]))


def delete(ctx: Context) -> list[str]:
    """deletionPolicy: Delete. Deletes the flow logs this policy created, in every account and
    region of its scope; what they delivered stays in the archive. Adopted flow logs stay."""
    def remove(target: FlowLogTarget) -> Callable[[], int]:
        return lambda: aws_ec2.delete_owned_flow_logs(ctx.access, target.account_id, target.region, ctx.owner)

    outcomes = fan_out([(t.label, remove(t)) for t in targets(ctx)], ctx.concurrency)
    failed = [o for o in outcomes if o.error is not None]
    if failed and failed[0].error is not None:
        raise failed[0].error
    deleted = sum(o.value or 0 for o in outcomes)
    return [f"{deleted} flow log{'' if deleted == 1 else 's'} deleted; the logs they delivered stay in the archive"]
