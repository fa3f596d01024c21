"""LogArchive: the central log bucket and its key, in the log-archive account's home region."""

from __future__ import annotations

from typing import Any

from ..api.logarchive import LogArchiveSpec
from ..aws import logarchive as aws_logarchive
from ..aws.errors import TargetError
from ..planning.ownership import Resource, created_by
from ..planning.logarchive import OBJECT_LOCK_NOT_ENABLED, LogArchiveTarget, object_lock_refusal, plan_bucket, plan_key
from . import journal
from .base import Context, Report, TargetRun, run_targets

KEY_NOT_FOUND = "KeyNotFound"


def reconcile(ctx: Context) -> Report:
    spec: LogArchiveSpec = ctx.spec
    org = ctx.organization
    target = LogArchiveTarget(org.spec.accounts.log_archive, org.home_region, org.inventory.organization_id,
                              ctx.owner)
    found: dict[str, Any] = {}

    def converge(run: TargetRun) -> None:
        a, r = target.account_id, target.region
        if spec.kms.create:
            key = aws_logarchive.observe_key(ctx.access, a, r, spec.kms.alias, ctx.owner)
            key_label = target.label(spec.kms.alias)
            wrote = run.converge(plan_key(spec, target, key),
                                 Resource("kms-key", a, r, key.arn or "", key_label, exists=key.exists))
            if run.report.blocked:
                return  # another's key (or nobody's): the bucket is not pointed at it either
            # A key made just now has its ARN read back, its settings being those it was made with.
            made = aws_logarchive.describe_key_arn(ctx.access, a, r, spec.kms.alias) if wrote and not key.exists \
                else None
            key_arn = key.arn or made
        else:
            key_arn = aws_logarchive.describe_key_arn(ctx.access, a, r, spec.kms.key_arn or "")
            if key_arn is None:
                raise TargetError(KEY_NOT_FOUND, f"kms.keyArn {spec.kms.key_arn} does not exist", recoverable=False)
        found["key"] = key_arn
        # A bucket of this name in another account raises Conflict here: nothing is written to it.
        bucket = aws_logarchive.observe_bucket(ctx.access, a, r, spec.bucket_name,
                                               object_lock=spec.object_lock is not None)
        found["bucket"] = spec.bucket_name if bucket.exists else None
        refusal = object_lock_refusal(spec, bucket)
        judged = spec
        if refusal is not None and not ctx.enforce and not ctx.preview:
            # Audit judges the bucket against the whole spec: the missing lock is a difference to
            # report (Drifted), not an error; only a write needs enableOnExistingBucket's word.
            assert spec.object_lock is not None
            judged = spec.model_copy(update={"object_lock": spec.object_lock.model_copy(
                update={"enable_on_existing_bucket": True})})
            refusal = None
        # In Audit a missing key has no ARN yet; the bucket is then compared against its alias.
        run.converge(plan_bucket(judged, target, key_arn or spec.kms.alias, bucket),
                     Resource("s3-bucket", a, r, spec.bucket_name, target.label(spec.bucket_name),
                              exists=bucket.exists))
        if spec.object_lock is not None:
            found["objectLockEnabled"] = bool(bucket.object_lock and bucket.object_lock.enabled) or any(
                done.operation == "PutObjectLockConfiguration" for done in run.report.applied)
        if spec.journal is not None and not run.report.blocked:
            found["journalKey"] = journal.converge_signing_key(ctx, run, target, spec.journal)
        if refusal is not None:  # the rest of the bucket is converged; this needs the spec's word
            raise TargetError(OBJECT_LOCK_NOT_ENABLED, refusal, recoverable=False)

    reports = run_targets(ctx, [(target.label(spec.bucket_name), converge)])
    return Report(reports, extra_status={
        "bucketArn": f"arn:aws:s3:::{spec.bucket_name}",
        "kmsKeyArn": found.get("key"),
        "accountId": target.account_id,
        "region": target.region,
        **({"objectLockEnabled": found["objectLockEnabled"]} if "objectLockEnabled" in found else {}),
        **({"journalSigningKeyArn": found["journalKey"]} if found.get("journalKey") else {}),
    })


def delete(ctx: Context) -> list[str]:
    """deletionPolicy: Delete. Removes the bucket only if Vigil created it and it holds nothing:
    S3 refuses to delete a bucket with objects, and Vigil never deletes objects. The key is kept:
    without it the archived logs could not be read."""
    spec: LogArchiveSpec = ctx.spec
    a, r = ctx.organization.spec.accounts.log_archive, ctx.organization.home_region
    tags = aws_logarchive.bucket_tags(ctx.access, a, r, spec.bucket_name)
    if tags is None:
        return [f"bucket {spec.bucket_name} does not exist"]
    if not created_by(tags, ctx.owner):
        return [f"bucket {spec.bucket_name} was not created by this LogArchive; left in place"]
    outcome = aws_logarchive.delete_empty_bucket(ctx.access, a, r, spec.bucket_name)
    return [outcome, f"KMS key {spec.kms.alias} kept so archived logs stay readable"]
