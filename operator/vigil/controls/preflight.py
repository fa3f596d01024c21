"""The checks a reconcile makes before its first write: what the schema cannot know, observed as
cheaply as AWS allows and judged by ``planning.preflight``. Any refusal is ``SpecError`` (Ready
False, reason InvalidSpec), naming the spec field, and the reconcile writes nothing.

The Organization's Regions cost one account:ListRegions call in the management account, and one
per account only for governed opt-in Regions; they are checked when the spec is new to the
operator (a new generation, or not Ready yet), not at every resync: Regions are not disabled
under a running organization by accident, and a steady-state resync stays free of calls.
"""

from __future__ import annotations

import logging
from typing import Any

from ..api.organization import OrganizationSpec
from ..aws import regions as aws_regions
from ..aws.fanout import fan_out
from ..aws.session import AwsAccess
from ..planning.preflight import control_refusals, explain, opt_in_regions, organization_refusals, region_refusals
from ..state.organizations import OrganizationInventory
from .base import Context, SpecError

log = logging.getLogger(__name__)


def check_organization(spec: OrganizationSpec, inventory: OrganizationInventory, access: AwsAccess,
                       check_regions: bool) -> None:
    """The accounts the spec names and, with ``check_regions``, the governed Regions."""
    refusals = organization_refusals(spec, inventory)
    if check_regions and not refusals:
        refusals = region_refusals(spec, inventory.management_account_id, _region_status(spec, inventory, access))
    if refusals:
        raise SpecError(explain(refusals))


def check_control(ctx: Context) -> None:
    """A control's spec against its Organization, before it observes or writes anything."""
    refusals = control_refusals(ctx.kind, ctx.spec, ctx.organization.spec, ctx.organization.inventory)
    if refusals:
        raise SpecError(explain(refusals))


def _region_status(spec: OrganizationSpec, inventory: OrganizationInventory,
                   access: AwsAccess) -> dict[str, dict[str, str]]:
    """account -> Region -> opt-in status: the management account's (the operator's own), and, for
    governed opt-in Regions, every other ACTIVE account's. An account that cannot be read is left
    out: the Organization's own reach check reports it."""
    management = inventory.management_account_id
    status = {management: aws_regions.opt_status(access, management)}
    if not opt_in_regions(spec, status[management]):
        return status
    members = [a for a in inventory.active_ids if a != management]
    outcomes = fan_out([(a, _reader(access, a)) for a in members], access.settings.concurrency)
    for outcome in outcomes:
        if outcome.value is not None:
            status[outcome.target] = outcome.value
        else:
            log.info("account:ListRegions in %s: %s", outcome.target, outcome.error)
    return status


def _reader(access: AwsAccess, account: str) -> Any:
    return lambda: aws_regions.opt_status(access, account)
