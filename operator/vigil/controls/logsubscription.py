"""LogSubscriptionPolicy: every selected CloudWatch log group, present and future, streams to the
LogArchive bucket.

Three phases, each concurrent within itself, because each needs what the one before built:
1. the two IAM roles in the log-archive account (Firehose's, and CloudWatch Logs');
2. per target region, in the log-archive account: the Firehose stream (and its error log group;
   with ``delivery.type: Kinesis``, the Kinesis data stream first, which the Firehose reads), then
   the CloudWatch Logs destination in front of them with its organization-wide policy;
3. per target account x region: with ``method: LogGroup``, the log groups are listed and each
   selected one is a target (its filters read, Vigil's written); with ``method: AccountPolicy``
   the account's subscription filter policy is the one target; with ``method:
   PreferAccountPolicy``, the policy where the account allows it, the groups one by one elsewhere
   (``status.methods`` says which, where).

The log groups are listed at every resync, so a group created since the last one is covered by the
next, and a deleted one drops out of the count.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from ..api.common import Scope
from ..api.common import MAX_FAILURES
from ..api.logsubscription import LogSubscriptionPolicySpec, SubscriptionMethod
from ..aws import firehose as aws_firehose
from ..aws import iam as aws_iam
from ..aws import kinesis as aws_kinesis
from ..aws import logs as aws_logs
from ..aws.errors import TargetError
from ..aws.fanout import fan_out
from ..conditions import COMPLIANT
from ..planning.logsubscription import (ROLE_POLICY_NAME, SLOTS_FULL, Archive, CoverageError, MethodChoice, Names,
                                        Source, choose_method, data_stream_ready, delivery_stream_name,
                                        destination_target, excluded_prefixes, firehose_role_policy,
                                        firehose_trust_policy, logs_role_policy, logs_trust_policy,
                                        plan_account_policy, plan_data_stream, plan_delivery_log_group,
                                        plan_delivery_stream, plan_destination, plan_log_group, plan_role, selects,
                                        through_kinesis)
from ..planning.organization import scope_account_ids, target_regions
from ..planning.ownership import Resource, created_by
from ..state.logsubscription import AccountPolicy, DataStreamState, LogGroup
from .base import (Context, DependencyNotReady, GroupRun, Report, SpecError, TargetReport, TargetRun, run_groups,
                   run_targets)

# A Kinesis data stream not yet ACTIVE and encrypted: the destination waits for it (it clears by itself).
DATA_STREAM_NOT_READY = "DataStreamNotReady"


def archive_of(ctx: Context) -> Archive:
    spec: LogSubscriptionPolicySpec = ctx.spec
    if ctx.log_archive is None:
        raise DependencyNotReady(f"LogArchive {spec.log_archive_ref.name} is not Ready")
    org = ctx.organization
    return Archive(account_id=org.spec.accounts.log_archive, home_region=ctx.log_archive.region or org.home_region,
                   bucket=ctx.log_archive.bucket, kms_key_arn=ctx.log_archive.kms_key_arn,
                   organization_id=org.inventory.organization_id, owner=ctx.owner,
                   names=Names.of(ctx.namespace, ctx.name))


def scope(ctx: Context) -> tuple[list[str], list[str]]:
    """The accounts and regions whose log groups are subscribed."""
    spec: LogSubscriptionPolicySpec = ctx.spec
    if spec.scope == Scope.ACCOUNTS.value:
        raise SpecError("scope Accounts is not offered by LogSubscriptionPolicy (it has no accountIds): "
                        "use SharedNetwork, Workloads or AllAccounts")
    org = ctx.organization
    accounts = scope_account_ids(spec.scope, [], org.spec, org.inventory)
    return accounts, target_regions(spec.regions, org.spec.regions.governed)


def reconcile(ctx: Context) -> Report:
    spec: LogSubscriptionPolicySpec = ctx.spec
    archive = archive_of(ctx)
    accounts, regions = scope(ctx)
    names = archive.names

    def role(name: str, trust: dict[str, Any], inline: dict[str, Any]) -> Callable[[TargetRun], None]:
        def converge(run: TargetRun) -> None:
            observed = aws_iam.observe_role(ctx.access, archive.account_id, name, ROLE_POLICY_NAME)
            run.converge(plan_role(archive, name, trust, inline, observed),
                         Resource("iam-role", archive.account_id, "global", name, run.report.target, observed.exists))
        return converge

    roles = run_targets(ctx, [
        (archive.label("global", f"role/{names.firehose_role}"),
         role(names.firehose_role, firehose_trust_policy(archive), firehose_role_policy(spec, archive))),
        (archive.label("global", f"role/{names.logs_role}"),
         role(names.logs_role, logs_trust_policy(archive), logs_role_policy(archive, spec))),
    ])
    delivery = run_groups(ctx, [(archive.label(r, "delivery"), _delivery(ctx, archive, r)) for r in regions])
    methods: dict[str, MethodChoice] = {}
    sources = run_groups(ctx, [(f"{a}/{r}", _source(ctx, Source(a, r, archive.destination_arn(r)), names, methods))
                               for a in accounts for r in regions])
    reports = roles + delivery + sources
    return Report(reports, extra_status={"methods": _methods_status(methods)}, conditions=_slots_condition(reports))


def _methods_status(methods: dict[str, MethodChoice]) -> dict[str, Any]:
    """How many accounts x regions each method subscribes, and where PreferAccountPolicy fell back."""
    fallbacks = [{"target": k, "reason": c.fallback.reason, "message": str(c.fallback)}
                 for k, c in sorted(methods.items()) if c.fallback is not None]
    return {"accountPolicy": sum(c.method == SubscriptionMethod.ACCOUNT_POLICY.value for c in methods.values()),
            "logGroup": sum(c.method == SubscriptionMethod.LOG_GROUP.value for c in methods.values()),
            "fallbacks": fallbacks[:MAX_FAILURES]}


def _delivery(ctx: Context, archive: Archive, region: str) -> Callable[[GroupRun], None]:
    spec: LogSubscriptionPolicySpec = ctx.spec
    a, names = archive.account_id, archive.names
    stream_name = delivery_stream_name(spec, names)
    ready: dict[str, bool] = {}

    def data_stream(run: TargetRun) -> None:
        """Kinesis: the data stream, encrypted as soon as Kinesis takes it (once it is ACTIVE)."""
        label = archive.label(region, f"data-stream/{names.data_stream}")

        def observe() -> DataStreamState:
            return aws_kinesis.observe_data_stream(ctx.access, a, region, names.data_stream)

        observed, created = observe(), False
        for _ in range(2):  # create, then encrypt: Kinesis encrypts a stream once it is ACTIVE
            if not run.converge(plan_data_stream(archive, region, observed, created),
                                Resource("kinesis-stream", a, region, names.data_stream, label, observed.exists)):
                break
            created, observed = not observed.exists, observe()
        if run.report.blocked:
            return  # another's stream (or nobody's): the destination is not pointed at it
        ready["data_stream"] = data_stream_ready(observed)
        if ctx.enforce and observed.exists and not ready["data_stream"]:
            raise TargetError(DATA_STREAM_NOT_READY, f"Kinesis data stream {names.data_stream} is "
                                                     f"{observed.status} with {observed.encryption_type} encryption; "
                                                     "Vigil encrypts it once Kinesis takes it (ACTIVE) and only then "
                                                     "points the destination at it")

    def stream(run: TargetRun) -> None:
        log_group = aws_logs.observe_log_group(ctx.access, a, region, names.log_group)
        run.converge(plan_delivery_log_group(archive, region, log_group),
                     Resource("logs-log-group", a, region, log_group.arn or "", archive.label(region, names.log_group),
                              log_group.exists))
        observed = aws_firehose.observe_delivery_stream(ctx.access, a, region, stream_name)
        try:
            actions = plan_delivery_stream(spec, archive, region, observed)
        except CoverageError as exc:
            raise TargetError(exc.reason, str(exc), recoverable=False) from None
        run.converge(actions, Resource("firehose-stream", a, region, stream_name, run.report.target, observed.exists))

    def destination(run: TargetRun) -> None:
        observed = aws_logs.observe_destination(ctx.access, a, region, names.destination)
        target = destination_target(spec, archive, region)
        if through_kinesis(spec) and not ready.get("data_stream") and ctx.enforce:
            raise TargetError(DATA_STREAM_NOT_READY, f"the destination waits for Kinesis data stream "
                                                     f"{names.data_stream} to be ACTIVE and encrypted")
        run.converge(plan_destination(archive, region, observed, target),
                     Resource("logs-destination", a, region, observed.arn or "", run.report.target, observed.exists))

    def converge(group: GroupRun) -> None:
        # In this order: a Firehose reading a data stream needs it, and a destination is refused
        # unless what it writes to exists.
        if through_kinesis(spec):
            group.target(archive.label(region, f"data-stream/{names.data_stream}"), data_stream)
        group.target(archive.label(region, f"delivery-stream/{stream_name}"), stream)
        group.target(archive.label(region, f"destination/{names.destination}"), destination)
    return converge


def _source(ctx: Context, source: Source, names: Names,
            methods: dict[str, MethodChoice]) -> Callable[[GroupRun], None]:
    """One account x region: its account policy, or its log groups one by one. ``methods`` is
    given the method used there."""
    spec: LogSubscriptionPolicySpec = ctx.spec
    a, r = source.account_id, source.region

    last = _last_reconcile_ms(ctx)

    def log_group(found: LogGroup) -> Callable[[TargetRun], None]:
        new = last is None or found.creation_time is None or found.creation_time >= last

        def converge(run: TargetRun) -> None:
            filters = aws_logs.observe_subscription_filters(ctx.access, a, r, found.name)
            if filters is None:
                return  # deleted since it was listed: the next resync no longer counts it
            try:
                actions = plan_log_group(spec, source, names, found.name, filters, new_group=new)
            except CoverageError as exc:
                raise TargetError(exc.reason, str(exc), recoverable=False) from None
            run.converge(actions)
        return converge

    def account_policy(observed: list[AccountPolicy], excluded: list[str]) -> Callable[[TargetRun], None]:
        def converge(run: TargetRun) -> None:
            try:
                actions = plan_account_policy(spec, source, names, observed, excluded)
            except CoverageError as exc:
                raise TargetError(exc.reason, str(exc), recoverable=False) from None
            run.converge(actions)
        return converge

    def converge(group: GroupRun) -> None:
        choice = MethodChoice(SubscriptionMethod.LOG_GROUP.value)
        if spec.method != SubscriptionMethod.LOG_GROUP.value:
            excluded = [g.name for prefix in excluded_prefixes(spec)
                        for g in aws_logs.find_log_groups(ctx.access, a, r, prefix)]
            observed = aws_logs.observe_subscription_policies(ctx.access, a, r)
            choice = choose_method(spec, names, observed, excluded)
            if choice.method == SubscriptionMethod.ACCOUNT_POLICY.value:
                methods[source.label] = choice
                group.target(source.policy_label(names.account_policy), account_policy(observed, excluded))
                return
        methods[source.label] = choice
        for found in aws_logs.find_log_groups(ctx.access, a, r):
            if selects(spec, found.name):
                group.target(source.group_label(found.name), log_group(found))
    return converge


def _last_reconcile_ms(ctx: Context) -> int | None:
    """When the previous reconcile ended: a log group older than that had Vigil's filter then, if
    the policy was compliant, so a filter missing now was removed by someone."""
    last = ctx.previous_status.get("lastReconcileTime")
    if not last:
        return None
    try:
        return int(datetime.strptime(last, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp() * 1000)
    except ValueError:
        return None


def _slots_condition(reports: list[TargetReport]) -> list[tuple[str, str, str, str]]:
    """When full filter slots are all that keeps the policy from compliance, Compliant says so
    (rather than NotObserved: those groups were read, and cannot be covered without someone's filter
    going). Drift, or another failure, keeps the summary's reason."""
    full = [t for t in reports if t.error is not None and t.error.reason == SLOTS_FULL]
    others = [t for t in reports if (t.error is not None and t.error.reason != SLOTS_FULL)
              or (t.error is None and t.drifted)]
    if not full or others:
        return []
    groups = "log group has" if len(full) == 1 else "log groups have"
    message = (f"{len(full)} {groups} both subscription filter slots taken by filters Vigil did not create; "
               f"{full[0].target}")
    return [(COMPLIANT, "False", SLOTS_FULL, message)]


def delete(ctx: Context) -> list[str]:
    """deletionPolicy: Delete. Removes Vigil's subscription filters and account policies from every
    account x region of the scope, then the destinations, streams and roles it created (owner tag).
    The log groups stay, the delivery error logs included, and so does everything in the archive."""
    archive = archive_of(ctx)
    accounts, regions = scope(ctx)
    names = archive.names
    la = archive.account_id

    def unsubscribe(account: str, region: str) -> Callable[[], int]:
        def call() -> int:
            removed = 0
            for policy in aws_logs.observe_subscription_policies(ctx.access, account, region):
                if policy.name == names.account_policy:
                    aws_logs.delete_subscription_policy(ctx.access, account, region, policy.name)
                    removed += 1
            # Every group, selected or not: an exclusion added later leaves Vigil's filter behind.
            for group in aws_logs.find_log_groups(ctx.access, account, region):
                filters = aws_logs.observe_subscription_filters(ctx.access, account, region, group.name) or []
                if any(f.name == names.subscription_filter for f in filters):
                    aws_logs.delete_subscription_filter(ctx.access, account, region, group.name,
                                                        names.subscription_filter)
                    removed += 1
            return removed
        return call

    outcomes = fan_out([(f"{a}/{r}", unsubscribe(a, r)) for a in accounts for r in regions], ctx.concurrency)
    failed = next((o.error for o in outcomes if o.error is not None), None)
    if failed is not None:
        raise failed  # the archive end stays until nothing streams to it
    notes = [f"{sum(o.value or 0 for o in outcomes)} subscriptions removed; delivered logs stay in the archive"]
    for region in regions:
        destination = aws_logs.observe_destination(ctx.access, la, region, names.destination)
        if destination.exists and created_by(aws_logs.destination_tags(ctx.access, la, region, destination.arn or ""),
                                       ctx.owner):
            aws_logs.delete_destination(ctx.access, la, region, names.destination)
            notes.append(f"destination {names.destination} deleted in {region}")
        # Both types' streams: a policy that moved between them has left the other's behind.
        for stream_name in (names.stream, names.kinesis_stream):
            if created_by(aws_firehose.stream_tags(ctx.access, la, region, stream_name), ctx.owner):
                aws_firehose.delete_delivery_stream(ctx.access, la, region, stream_name)
                notes.append(f"delivery stream {stream_name} deleted in {region}")
        if created_by(aws_kinesis.stream_tags(ctx.access, la, region, names.data_stream), ctx.owner):
            aws_kinesis.delete_data_stream(ctx.access, la, region, names.data_stream)
            notes.append(f"Kinesis data stream {names.data_stream} deleted in {region}")
    for role_name in (names.logs_role, names.firehose_role):
        if aws_iam.delete_owned_role(ctx.access, la, role_name, ROLE_POLICY_NAME, ctx.owner):
            notes.append(f"role {role_name} deleted")
    notes.append(f"log group {names.log_group} kept: it holds log data")
    return notes
