"""Organization: discover the accounts, check the core ones exist, and probe every account's role.

Targets are the organization's accounts. Each ACTIVE one is probed at every pass by assuming its
role (nothing is cached across passes), so an account whose role stopped working is reported at
once and one that came back is enforced by every control within a resync. A suspended account is
reported too. Neither makes the Organization not Ready: its dependents keep enforcing every
account they reach. (The accounts the spec names are checked before, by ``preflight``.)
"""

from __future__ import annotations

from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError

from .. import conditions as c
from ..api.common import MAX_FAILURES
from ..api.organization import OrganizationSpec
from ..aws import organizations as aws_organizations
from ..aws.errors import TargetError, classify
from ..planning.organization import missing_core_accounts
from ..state.organizations import Account, OrganizationInventory
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
        def probe(_: TargetRun) -> None:
            try:
                access.check_reachable(account_id)
            except (ClientError, BotoCoreError, TargetError) as exc:
                raise unreached(account_id, access.role_arn(account_id), classify(exc)) from None
        return probe

    def report(error: TargetError) -> Callable[[TargetRun], None]:
        def fail(_: TargetRun) -> None:
            raise error
        return fail

    work = [(a, reach(a)) for a in inventory.active_ids]
    work += [(a.id, report(suspended(a, inventory))) for a in inventory.accounts if a.status != "ACTIVE"]
    reports: list[TargetReport] = run_targets(ctx, work)
    return Report(reports, extra_status={
        "organizationId": inventory.organization_id,
        "managementAccount": inventory.management_account_id,
        "accounts": account_counts(inventory, reports),
    })


def account_counts(inventory: OrganizationInventory, reports: list[TargetReport]) -> dict[str, object]:
    """status.accounts: the organization's accounts, how many Vigil reaches, and the others with why."""
    total = len(inventory.accounts)
    reachable = sum(1 for r in reports if r.error is None)
    unreachable = [{"accountId": r.target, "reason": r.error.reason} for r in reports if r.error is not None]
    return {"total": total, "reachable": reachable, "summary": f"{reachable}/{total}",
            "unreachable": unreachable[:MAX_FAILURES]}


def unreached(account_id: str, role_arn: str, error: TargetError) -> TargetError:
    """A probe that failed for another reason than a refusal (throttled, no answer) is an account not
    reached this pass all the same: it must not make the Organization, and so every control, wait."""
    if error.out_of_reach:
        return error
    return TargetError(c.ACCOUNT_UNREACHABLE, f"Vigil could not check that it can assume {role_arn} this pass: "
                                              f"{error.message}", recoverable=error.recoverable, code=error.code,
                       action=error.action, account=account_id)


def suspended(account: Account, inventory: OrganizationInventory) -> TargetError:
    return TargetError(c.ACCOUNT_SUSPENDED,
                       f"Account {account.id}{f' ({account.name})' if account.name else ''} is {account.status} in "
                       f"organization {inventory.organization_id}: AWS lets nothing be done in it, so Vigil skips it "
                       "and enforces every other account. Nothing needs doing if it is being closed; Vigil enforces "
                       "it again within a resync of it being ACTIVE.", recoverable=False, account=account.id)

