"""Guardrails: SCPs and RCPs, generated from the other objects of the namespace, attached to the
root (or the spec's OUs) and kept true.

One target per policy type, in the management account: the policy type enabled on the root,
then each of Vigil's policies created, rewritten, attached or detached. AWS's limits are checked
on the whole plan before any write: a configuration that cannot fit is InvalidSpec, with the
figures.
"""

from __future__ import annotations

from ..api.guardrails import GuardrailPolicy, GuardrailsSpec, RecognizedGuardrail
from ..aws import guardrails as aws_guardrails
from ..aws.ownership import read_tags
from ..planning import guardrails as planning
from ..planning.guardrail_catalogue import protections
from ..planning.ownership import Resource, created_by
from ..state.guardrails import RCP, SCP, OrgPolicy, PolicyTypeState
from .base import Context, Report, SpecError, TargetRun, run_targets

POLICY_KIND = "organizations-policy"


def _spec_of(ctx: Context) -> GuardrailsSpec:
    spec: GuardrailsSpec = ctx.spec
    return spec


def reconcile(ctx: Context) -> Report:
    spec = _spec_of(ctx)
    org = ctx.organization
    account, region = org.management_account_id, org.home_region
    found = protections(ctx.neighbours, ctx.owner.installation)
    root_id, enabled = aws_guardrails.root(ctx.access, account, region)
    targets = planning.targets_of(spec, root_id)

    def observe(policy_type: str) -> PolicyTypeState:
        try:
            return aws_guardrails.observe(ctx.access, account, region, policy_type, policy_type in enabled,
                                          planning.names_in_use(ctx.owner, policy_type), targets)
        except aws_guardrails.UnknownTarget as exc:
            raise SpecError(f"spec.attachTo.organizationalUnits: {exc.target} is not an OU of organization "
                            f"{org.inventory.organization_id}") from None

    plans: list[tuple[planning.Desired, PolicyTypeState]] = []
    for policy_type in (SCP, RCP):
        observed = observe(policy_type)
        wanted = planning.statements(found, policy_type, spec.break_glass_role_names, org.spec.access.role_name,
                                     org.inventory.organization_id)
        want = planning.desired(spec, ctx.owner, policy_type, wanted,
                                planning.others_everywhere(observed, targets))
        refusal = planning.limit_error(want, observed, targets)
        if refusal:
            raise SpecError(refusal)  # before any write: AWS would refuse the attachments half way
        plans.append((want, observed))

    def converge(want: planning.Desired, observed: PolicyTypeState, run: TargetRun) -> None:
        for step in planning.plan(want, observed, targets, root_id, ctx.owner, account, region):
            policy = step.policy
            resource = None if not step.name else Resource(POLICY_KIND, account, region, policy.id if policy else "",
                                                           step.label, policy is not None)
            run.converge(step.actions, resource)

    def label(policy_type: str) -> str:
        return f"{account}/{planning.SHORT[policy_type]}"

    reports = run_targets(ctx, [(label(want.type), lambda run, w=want, o=observed: converge(w, o, run))
                                for want, observed in plans])
    by_label = {report.target: report for report in reports}

    def after(want: planning.Desired, observed: PolicyTypeState) -> dict[str, OrgPolicy]:
        """Status tells of AWS after the pass. A type whose plan was made in full holds what the
        plan made: only a new policy's id is read back (one ListPolicies). One written to in part
        (a failure, a held weakening) is read again; a steady pass reads nothing more."""
        report = by_label[label(want.type)]
        if not report.applied:
            return observed.ours
        if report.error is None and not report.drifted:
            created = [name for name in want.documents if name not in observed.ours]
            ids = aws_guardrails.policy_ids(ctx.access, account, region, want.type, created) if created else {}
            return planning.settled(want, observed, targets, ids)
        return observe(want.type).ours

    return Report(reports, extra_status={
        "protections": [p.what for p in found],
        "policies": [p for want, observed in plans for p in _policies(want, after(want, observed))],
        "recognized": [RecognizedGuardrail(policy_id=r.policy_id, policy_name=r.policy_name, statement=r.statement,
                                           covers=r.covers).model_dump(by_alias=True)
                       for want, _ in plans for r in want.recognized],
    })


def _policies(want: planning.Desired, ours: dict[str, OrgPolicy]) -> list[dict[str, object]]:
    """Vigil's policies as status lists them: the desired ones, with the id and attachments AWS has."""
    found = []
    for name, content in want.documents.items():
        had = ours.get(name)
        found.append(GuardrailPolicy(name=name, id=had.id if had else None, type=want.type, characters=len(content),
                                     attached_to=sorted(had.targets) if had else []).model_dump(by_alias=True))
    return found


def delete(ctx: Context) -> list[str]:
    """deletionPolicy: Delete. Detaches and deletes the policies this Guardrails created; the
    controls stay, unguarded."""
    org = ctx.organization
    account, region = org.management_account_id, org.home_region
    _, enabled = aws_guardrails.root(ctx.access, account, region)
    deleted = []
    for policy_type in (SCP, RCP):
        observed = aws_guardrails.observe(ctx.access, account, region, policy_type, policy_type in enabled,
                                          planning.names_in_use(ctx.owner, policy_type), [])
        for policy in observed.ours.values():
            if created_by(read_tags(ctx.access, Resource(POLICY_KIND, account, region, policy.id, policy.name)),
                          ctx.owner):
                aws_guardrails.delete_policy(ctx.access, account, region, policy)
                deleted.append(policy.name)
    if not deleted:
        return ["no guardrail policy of this Guardrails to delete"]
    return [f"guardrail policies detached and deleted: {', '.join(sorted(deleted))}; the controls they guarded stay"]
