"""SessionLogging: in every account x region of the scope, Session Manager sends session logs to
the LogArchive bucket (encrypted) and to a KMS-encrypted CloudWatch log group.

One target per account x region: the key (Vigil's own unless the spec names one), then the log
group (it needs the key), then the preferences document (it names both).
"""

from __future__ import annotations

from collections.abc import Callable

from ..api.sessionlogging import SessionLoggingSpec
from ..aws import logs as aws_logs
from ..aws import ssm as aws_ssm
from ..aws.errors import TargetError
from ..aws.fanout import fan_out
from ..aws.logarchive import describe_key_arn, observe_key
from ..planning.organization import scope_account_ids, target_regions
from ..planning.ownership import Resource
from ..state.sessionlogging import PREFERENCES_DOCUMENT
from ..planning.sessionlogging import (SESSION_KEY_ALIAS, SessionTarget, check_document_type, key_region_error,
                                       plan_document, plan_key, plan_log_group)
from .base import Context, DependencyNotReady, Report, SpecError, TargetRun, run_targets

WRONG_DOCUMENT_TYPE = "WrongDocumentType"


def targets(ctx: Context) -> list[SessionTarget]:
    spec: SessionLoggingSpec = ctx.spec
    if ctx.log_archive is None:
        raise DependencyNotReady(f"LogArchive {spec.log_archive_ref.name} is not Ready")
    org = ctx.organization
    accounts = scope_account_ids(spec.scope, spec.account_ids, org.spec, org.inventory)
    regions = target_regions(spec.regions, org.spec.regions.governed)
    refusal = key_region_error(spec, regions)
    if refusal:
        raise SpecError(refusal)
    return [SessionTarget(a, r, ctx.log_archive.bucket, ctx.owner) for a in accounts for r in regions]


def reconcile(ctx: Context) -> Report:
    spec: SessionLoggingSpec = ctx.spec

    def converge(target: SessionTarget, run: TargetRun) -> None:
        a, r = target.account_id, target.region
        key_arn = spec.kms.key_arn
        if not key_arn:
            key = observe_key(ctx.access, a, r, SESSION_KEY_ALIAS, ctx.owner)
            wrote = run.converge(plan_key(spec, target, key),
                                 Resource("kms-key", a, r, key.arn or "", target.of(SESSION_KEY_ALIAS), key.exists))
            if run.report.blocked:
                return  # another's key: nothing is pointed at it
            # A key made just now has its ARN read back, its settings being those it was made with.
            made = describe_key_arn(ctx.access, a, r, SESSION_KEY_ALIAS) if wrote and not key.exists else None
            # In Audit a missing key has no ARN yet: the group and the document are compared to its alias.
            key_arn = key.arn or made or SESSION_KEY_ALIAS
        if spec.cloud_watch.enabled:
            name = spec.cloud_watch.log_group_name
            group = aws_logs.observe_log_group(ctx.access, a, r, name)
            run.converge(plan_log_group(spec, target, key_arn, group),
                         Resource("logs-log-group", a, r, group.arn or "", target.of(name), group.exists))
            if run.report.blocked:
                return  # the preferences are never pointed at another's log group
        document = aws_ssm.observe_session_document(ctx.access, a, r)
        wrong = check_document_type(document)
        if wrong:
            raise TargetError(WRONG_DOCUMENT_TYPE, wrong, recoverable=False)
        run.converge(plan_document(spec, target, key_arn, document),
                     Resource("ssm-document", a, r, PREFERENCES_DOCUMENT, target.of(PREFERENCES_DOCUMENT),
                              document.exists))

    return Report(run_targets(ctx, [(t.label, lambda run, t=t: converge(t, run)) for t in targets(ctx)]))


def delete(ctx: Context) -> list[str]:
    """deletionPolicy: Delete. Deletes the preferences documents this SessionLogging created, so
    Session Manager goes back to its defaults; adopted documents stay. The keys and the log groups
    stay too: the session logs already written need them."""
    def remove(target: SessionTarget) -> Callable[[], bool]:
        return lambda: aws_ssm.delete_owned_document(ctx.access, target.account_id, target.region, ctx.owner)

    outcomes = fan_out([(t.label, remove(t)) for t in targets(ctx)], ctx.concurrency)
    failed = next((o.error for o in outcomes if o.error is not None), None)
    if failed is not None:
        raise failed
    deleted = sum(1 for o in outcomes if o.value)
    return [f"{deleted} preferences document{'' if deleted == 1 else 's'} deleted; adopted documents, the "
            f"{SESSION_KEY_ALIAS} keys and the {ctx.spec.cloud_watch.log_group_name} log groups kept"]
