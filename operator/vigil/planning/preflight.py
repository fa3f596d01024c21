"""What the schema cannot know, judged before a reconcile's first write (pure).

The CRD schema and the models hold every rule a value carries on its own (AWS's naming rules,
ranges, formats). What needs AWS or another object is judged here, from what the organization's
discovery and account:ListRegions observed: an account that is not in the organization, a
management account that is not the organization's, a Region that does not exist or that no
account has enabled, a control's Regions outside the governed ones, a key in the wrong Region. A
suspended member, or a Region some accounts have not opted into, is not a spec mistake: those
targets report AccountSuspended or RegionDisabled and every other target is enforced. Each refusal
names the spec field, as the API server names it, so `Ready=False, reason InvalidSpec` says what
to change; nothing is written to AWS while any holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..api.common import Scope
from ..api.organization import OrganizationSpec
from ..state.organizations import OrganizationInventory

# account:ListRegions' statuses in which an account can use a Region.
USABLE = frozenset({"ENABLED", "ENABLED_BY_DEFAULT"})
# Statuses of an opt-in Region in the management account (not ENABLED_BY_DEFAULT): the other
# accounts' answers are needed too.
OPT_IN_STATUSES = frozenset({"ENABLED", "ENABLING", "DISABLING", "DISABLED"})


@dataclass(frozen=True)
class Refusal:
    """One reason the spec cannot be carried out, and the field to change."""

    field: str  # as the API server names it: spec.regions.governed[1]
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


def explain(refusals: Iterable[Refusal]) -> str:
    return "; ".join(str(r) for r in refusals)


# --- Organization ----------------------------------------------------------------------------------


def organization_refusals(spec: OrganizationSpec, inventory: OrganizationInventory) -> list[Refusal]:
    """The accounts the spec names, against the organization AWS describes."""
    org_id = inventory.organization_id
    known = {a.id for a in inventory.accounts}
    refusals = []
    management = spec.accounts.management
    if management and management != inventory.management_account_id:
        refusals.append(Refusal("spec.accounts.management",
                                f"{management} is not the management account of organization {org_id} (it is "
                                f"{inventory.management_account_id}); leave the field out to have it discovered"))
    # An account that is not in the organization is a mistake in the spec. A member that is
    # suspended (or leaving) is not: its own targets report it (AccountSuspended) and every other
    # target is enforced, so one account's state never costs the rest.
    for field, account in (("logArchive", spec.accounts.log_archive), ("security", spec.accounts.security),
                           ("sharedNetwork", spec.accounts.shared_network)):
        if account and account not in known:
            refusals.append(Refusal(f"spec.accounts.{field}", f"{account} is not an account of organization {org_id}"))
    for field, ids in (("accountIds", spec.workloads.account_ids),
                       ("excludeAccountIds", spec.workloads.exclude_account_ids)):
        outside = [a for a in ids if a not in known]
        if outside:
            refusals.append(Refusal(f"spec.workloads.{field}",
                                    f"{', '.join(outside)} {_are('is', outside)} not in organization {org_id}"))
    return refusals


def region_refusals(spec: OrganizationSpec, management_account_id: str,
                    status: Mapping[str, Mapping[str, str]]) -> list[Refusal]:
    """The governed Regions, against account:ListRegions as each account answered it. ``status``:
    account -> Region -> opt-in status; the management account's answer names every Region of
    the partition, the other accounts' are needed only for opt-in Regions (``opt_in_regions``)."""
    management = status.get(management_account_id, {})
    refusals = []
    for i, region in enumerate(spec.regions.governed):
        field = "spec.regions.home" if region == spec.regions.home else f"spec.regions.governed[{i}]"
        if region not in management:
            refusals.append(Refusal(field, f"{region} is not an AWS Region (account:ListRegions does not list it "
                                           f"for the management account {management_account_id})"))
            continue
        answered = [account for account, regions in status.items() if regions and region in regions]
        off = sorted(account for account in answered if status[account][region] not in USABLE)
        # Enabled nowhere, the Region is a mistake in the spec; enabled in some accounts, those
        # that have not opted in report RegionDisabled for their own targets and the rest go on.
        if off and len(off) == len(answered):
            refusals.append(Refusal(field, f"{region} is an opt-in Region that no account of the organization "
                                           f"has enabled (account:ListRegions: {status[off[0]][region]}); enable "
                                           f"it, or govern other Regions"))
    return refusals


def opt_in_regions(spec: OrganizationSpec, management_status: Mapping[str, str]) -> list[str]:
    """The governed Regions every account must have opted into (not enabled by default)."""
    return [r for r in spec.regions.governed if management_status.get(r) in OPT_IN_STATUSES]


# --- the control kinds -----------------------------------------------------------------------------


def control_refusals(kind: str, spec: Any, organization: OrganizationSpec,
                     inventory: OrganizationInventory) -> list[Refusal]:
    """A control's spec against its Organization: the Regions it covers, the accounts it names,
    the keys it brings."""
    governed = list(organization.regions.governed)
    refusals = []
    requested = list(getattr(spec, "regions", None) or [])
    outside = [r for r in requested if r not in governed]
    if outside:
        refusals.append(Refusal("spec.regions", f"{', '.join(outside)} {_are('is', outside)} not governed by "
                                                f"Organization {spec.organization_ref.name} (its regions.governed: "
                                                f"{', '.join(governed)})"))
    regions = [r for r in requested if r in governed] or governed
    scope = getattr(spec, "scope", None)
    if scope == Scope.ACCOUNTS.value:
        known = {a.id for a in inventory.accounts}
        unknown = [a for a in spec.account_ids if a not in known]
        if unknown:
            refusals.append(Refusal("spec.accountIds", f"{', '.join(unknown)} {_are('is', unknown)} not an "
                                                       f"account of organization {inventory.organization_id}"))
    if scope == Scope.SHARED_NETWORK.value and not organization.accounts.shared_network:
        refusals.append(Refusal("spec.scope", f"SharedNetwork needs accounts.sharedNetwork in Organization "
                                              f"{spec.organization_ref.name}, which names none"))
    refusals += _kind_refusals(kind, spec, organization, regions)
    return refusals


def _kind_refusals(kind: str, spec: Any, organization: OrganizationSpec, regions: list[str]) -> list[Refusal]:
    home = organization.regions.home
    if kind == "LogArchive" and spec.kms.key_arn:
        # S3 encrypts a bucket with a KMS key of the bucket's own Region; the archive is in the home Region.
        key_region = _arn_region(spec.kms.key_arn)
        if key_region != home:
            return [Refusal("spec.kms.keyArn", f"the key is in {key_region}; S3 encrypts the archive bucket (in "
                                               f"the home Region, {home}) only with a key of {home}")]
    if kind == "SessionLogging" and spec.kms.key_arn:
        key_region = _arn_region(spec.kms.key_arn)
        elsewhere = [r for r in regions if r != key_region]
        if elsewhere:
            return [Refusal("spec.kms.keyArn", f"the key is in {key_region}, and Session Manager and CloudWatch "
                                               f"Logs use keys of their own Region only: it cannot serve "
                                               f"{', '.join(elsewhere)}. Set regions to [{key_region}], or leave "
                                               f"kms.keyArn empty for a Vigil-managed key per account and Region")]
    if kind == "SecurityHubBaseline":
        chosen = spec.aggregation_region
        if chosen and chosen not in regions:
            return [Refusal("spec.aggregationRegion", f"{chosen} is not among the Regions this object covers "
                                                      f"({', '.join(regions)}): Security Hub aggregates findings "
                                                      f"in a Region where it runs")]
        if not chosen and home not in regions:
            return [Refusal("spec.aggregationRegion", f"empty means the home Region, {home}, which is not among "
                                                      f"the Regions this object covers ({', '.join(regions)}): "
                                                      f"name one of them")]
    if kind == "Guardrails" and organization.access.role_name in spec.break_glass_role_names:
        # Vigil's role is exempt only from the calls Vigil makes; as break glass, from everything.
        return [Refusal("spec.breakGlassRoleNames", f"{organization.access.role_name} is the role Vigil works "
                                                    f"through (the Organization's access.roleName): as a break-glass "
                                                    f"role it would be exempt from every guardrail, the calls Vigil "
                                                    f"never makes included. Name a role of its own")]
    return []


def _arn_region(arn: str) -> str:
    return arn.split(":")[3]


def _are(verb: str, items: list[str]) -> str:
    return verb if len(items) == 1 else {"is": "are", "has": "have"}[verb]
