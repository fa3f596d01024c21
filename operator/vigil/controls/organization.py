"""Organization: discover the accounts, check the core ones exist and every account is reachable."""

from __future__ import annotations

from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError

from ..api.organization import OrganizationSpec
from ..aws import organizations as aws_organizations
from ..planning.organization import missing_core_accounts
from .base import Context, OrganizationView, Report, Runtime, SpecError, TargetReport, TargetRun, run_targets


def reconcile(namespace: str, name: str, spec: OrganizationSpec, runtime: Runtime,
              external_id: str | None = None) -> Report:
    access = runtime.access_for(spec, external_id)
    inventory = aws_organizations.discover(access, with_ou_paths=bool(spec.workloads.organizational_units))
    missing = missing_core_accounts(spec, inventory)
    if missing:
        raise SpecError(f"not ACTIVE accounts of organization {inventory.organization_id}: {', '.join(missing)}")
    runtime.directory.put((namespace, name), inventory)

    ctx = Context("Organization", namespace, name, spec, spec.management_policy, access,
                  OrganizationView(spec, inventory), runtime.concurrency)

    def reach(account_id: str) -> Callable[[TargetRun], None]:
        def check(_: TargetRun) -> None:
            try:
                access.check_reachable(account_id)
            except (ClientError, BotoCoreError):
                access.forget(account_id)  # the next resync assumes the role afresh
                raise
        return check

    reports: list[TargetReport] = run_targets(ctx, [(a, reach(a)) for a in inventory.active_ids])
    reachable = sum(1 for r in reports if r.error is None)
    return Report(reports, extra_status={
        "organizationId": inventory.organization_id,
        "managementAccount": inventory.management_account_id,
        "accounts": {"total": len(reports), "reachable": reachable, "summary": f"{reachable}/{len(reports)}"},
    })
