"""Guardrails: the protections of the namespace as SCP and RCP documents, AWS's limits checked,
another tool's equivalent guardrails recognized, and the writes that make the organization match.

Per policy type the desired documents are named ``vigil-<namespace>-<name>-<scp|rcp>-<n>``, so a
pass finds Vigil's policies by name (and checks their owner tags before any write). A document
rewritten, or a policy detached or deleted, is judged by what the organization would stop denying
(``Change("denied", ...)``): a repacking that keeps every denial is not a weakening; a protection
lost is, and waits for its allowance.

Pure: protections and observations in, documents and actions out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from ..api.guardrails import GuardrailsSpec
from ..state.guardrails import RCP, SCP, OrgPolicy, PolicyTypeState
from .actions import Action, Change
from .guardrail_catalogue import Protection
from .guardrail_policy import (POLICIES_PER_TARGET, POLICY_CHARACTERS, Denial, Statement, covers, denials, pack,
                               to_json)
from .ownership import Owner

SHORT = {SCP: "scp", RCP: "rcp"}
LABEL = {SCP: "service control policies", RCP: "resource control policies"}
MAX_POLICY_NAME = 128  # AWS Organizations' limit


def role_pattern(name: str) -> str:
    """The role of that name in any account (the organization's, for an SCP: no other is subject)."""
    return f"arn:aws:iam::*:role/{name}"


def statements(protections: list[Protection], policy_type: str, break_glass: list[str], vigil_role: str,
               organization_id: str) -> list[Statement]:
    """Two statements per protection: the calls Vigil never makes, denied to all but the
    break-glass roles; the calls Vigil makes, denied to all but those and Vigil's role. An RCP
    binds callers outside the organization too, where a role of the same name proves nothing: a
    third statement denies them every protected call."""
    glass = tuple(role_pattern(n) for n in break_glass)
    with_vigil = tuple(sorted({*glass, role_pattern(vigil_role)}))
    rcp = policy_type == RCP
    found = []
    for p in protections:
        if rcp and not p.rcp:
            continue
        if p.never:
            found.append(Statement(f"{p.sid}Deny", p.never, p.resources, glass, p.condition, rcp))
        if p.vigil:
            found.append(Statement(f"{p.sid}DenyButVigil", p.vigil, p.resources, with_vigil, p.condition, rcp))
        if rcp:
            outside = (("BoolIfExists", "aws:PrincipalIsAWSService", ("false",)),
                       ("StringNotEqualsIfExists", "aws:PrincipalOrgID", (organization_id,)))
            found.append(Statement(f"{p.sid}DenyOutsideOrg", tuple(sorted(p.never + p.vigil)), p.resources, (),
                                   outside, True))
    return found


@dataclass(frozen=True)
class Recognized:
    policy_id: str
    policy_name: str
    statement: str
    covers: str


def recognize(wanted: list[Statement], others: list[OrgPolicy]) -> tuple[list[Statement], list[Recognized]]:
    """``wanted`` without the actions another's policy already denies as widely on every resource,
    and which of its statements do."""
    kept, found = [], []
    for statement in wanted:
        covered = []
        for action in statement.actions:
            hits = []
            for resource in statement.resources:
                denial = Denial(action, resource, frozenset(statement.exempt), statement.condition)
                hit = next(((p, sid) for p in others for sid in [covers(p.content, denial)] if sid), None)
                if hit is None:
                    break
                hits.append(hit)
            else:
                covered.append(action)
                found.extend(Recognized(p.id, p.name, sid, statement.sid) for p, sid in hits)
        rest = statement.without(covered)
        if rest.actions:
            kept.append(rest)
    return kept, sorted(set(found), key=lambda r: (r.policy_name, r.statement, r.covers))


@dataclass(frozen=True)
class Desired:
    """One policy type's documents, by name, and everything the guardrails stand for."""

    type: str
    documents: dict[str, str]  # name -> content
    denials: frozenset[Denial]  # before recognition: what Vigil's and the recognized policies deny
    recognized: list[Recognized] = field(default_factory=list)

    @property
    def characters(self) -> int:
        return sum(len(c) for c in self.documents.values())


def policy_name(owner: Owner, policy_type: str, index: int) -> str:
    name = f"vigil-{owner.namespace}-{owner.name}-{SHORT[policy_type]}-{index}"
    if len(name) <= MAX_POLICY_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[:MAX_POLICY_NAME - 20]}-{digest}-{SHORT[policy_type]}-{index}"


def desired(spec: GuardrailsSpec, owner: Owner, policy_type: str, wanted: list[Statement],
            others: list[OrgPolicy]) -> Desired:
    enabled = (spec.service_control_policies if policy_type == SCP else spec.resource_control_policies).enabled
    if not enabled:
        return Desired(policy_type, {}, frozenset())
    kept, found = recognize(wanted, others)
    documents = {policy_name(owner, policy_type, i + 1): to_json(part) for i, part in enumerate(pack(kept))}
    return Desired(policy_type, documents, frozenset(d for s in wanted for d in s.denials()), found)


def names_in_use(owner: Owner, policy_type: str) -> list[str]:
    """The names a pass looks for: as many as could ever be attached to one target."""
    return [policy_name(owner, policy_type, i + 1) for i in range(POLICIES_PER_TARGET)]


def targets_of(spec: GuardrailsSpec, root_id: str) -> list[str]:
    return [root_id] if spec.attach_to.root else list(spec.attach_to.organizational_units)


def others_everywhere(observed: PolicyTypeState, targets: list[str]) -> list[OrgPolicy]:
    """Others' policies attached to every target Vigil attaches to: only those stand in for a
    statement of Vigil's everywhere it would apply."""
    ours = {p.id for p in observed.ours.values()}
    common: dict[str, OrgPolicy] | None = None
    for target in targets:
        here = {p.id: p for p in observed.attached.get(target, ()) if p.id not in ours}
        common = here if common is None else {i: p for i, p in common.items() if i in here}
    return list((common or {}).values())


def limit_error(want: Desired, observed: PolicyTypeState, targets: list[str]) -> str | None:
    """Why the documents cannot be attached within AWS's limits, with the figures; or None."""
    needed = len(want.documents)
    if not needed:
        return None
    ours = {p.id for p in observed.ours.values()}
    for target in targets:
        others = [p.name for p in observed.attached.get(target, ()) if p.id not in ours]
        if needed + len(others) > POLICIES_PER_TARGET:
            held = f"already has {len(others)} other{'' if len(others) == 1 else 's'} attached ({', '.join(others)})" \
                if others else "has none attached"
            return (f"spec: the guardrails need {needed} {LABEL[want.type]} on {target} ({want.characters:,} "
                    f"characters; AWS allows {POLICY_CHARACTERS:,} per policy), and {target} {held}: AWS allows "
                    f"{POLICIES_PER_TARGET} per target. Name fewer breakGlassRoleNames, attach to "
                    f"organizationalUnits with room, or detach a policy there")
    return None


@dataclass(frozen=True)
class Step:
    """Writes to one policy (``policy`` its id, "" before it exists), or to the root."""

    label: str
    actions: list[Action]
    policy: OrgPolicy | None = None
    name: str = ""


def plan(want: Desired, observed: PolicyTypeState, targets: list[str], root_id: str, owner: Owner,
         account_id: str, region: str) -> list[Step]:
    """The writes that make the organization's policies of one type match ``want``."""
    short = SHORT[want.type]
    label = f"{account_id}/{short}"

    def act(target: str, operation: str, params: dict[str, object], changes: tuple[Change, ...],
            creates: bool = False) -> Action:
        return Action(target, account_id, region, "organizations", operation, params, changes, creates=creates)

    steps: list[Step] = []
    if want.documents and not observed.enabled:
        steps.append(Step(label, [act(label, "EnablePolicyType", {"RootId": root_id, "PolicyType": want.type},
                                      (Change("policy_types", None, want.type),), creates=True)]))
    everything = want.denials

    def after_detach(target: str) -> frozenset[Denial]:
        # Still denied there when it stays a target, or when the root (above every OU) is one.
        return everything if target in targets or root_id in targets else frozenset()

    for name, content in want.documents.items():
        target = f"{label}/{name}"
        found = observed.ours.get(name)
        if found is None:
            steps.append(Step(target, [act(target, "CreatePolicyAndAttach", {
                "Name": name, "Type": want.type, "Content": content, "TargetIds": targets,
                "Description": f"Vigil guardrails ({owner}): do not edit, Vigil rewrites it",
                "Tags": owner.tag_list()}, (Change("policy", None, name),), creates=True)], None, name))
            continue
        actions = []
        if found.content != content:
            actions.append(act(target, "UpdatePolicy", {"PolicyId": found.id, "Content": content},
                               (_denied(found, everything, name),)))
        for missing in [t for t in targets if t not in found.targets]:
            actions.append(act(target, "AttachPolicy", {"PolicyId": found.id, "TargetId": missing},
                               (Change("attached_to", sorted(found.targets), sorted({*found.targets, missing})),)))
        for extra in [t for t in found.targets if t not in targets]:
            actions.append(act(target, "DetachPolicy", {"PolicyId": found.id, "TargetId": extra},
                               (_denied(found, after_detach(extra), name),)))
        steps.append(Step(target, actions, found, name))
    for name, found in observed.ours.items():
        if name in want.documents:
            continue
        target = f"{label}/{name}"
        actions = [act(target, "DetachPolicy", {"PolicyId": found.id, "TargetId": t},
                       (_denied(found, after_detach(t), name),)) for t in found.targets]
        actions.append(act(target, "DeletePolicy", {"PolicyId": found.id}, (_denied(found, everything, name),)))
        steps.append(Step(target, actions, found, name))
    return steps


def settled(want: Desired, observed: PolicyTypeState, targets: list[str], ids: dict[str, str]) -> dict[str, OrgPolicy]:
    """Vigil's policies of one type once a pass has made the whole of its plan: each desired one
    with its content, attached to exactly ``targets``; ``ids``: those of the policies it created,
    as AWS gave them (one it did not give is left out)."""
    ours = {}
    for name, content in want.documents.items():
        had = observed.ours.get(name)
        policy_id = had.id if had else ids.get(name)
        if policy_id is not None:
            ours[name] = OrgPolicy(policy_id, name, content, targets=tuple(targets))
    return ours


def _denied(found: OrgPolicy, after: frozenset[Denial], name: str) -> Change:
    """What the policy denies, against what the guardrails will deny (everything, or nothing where
    it no longer applies): the weakening judge takes the difference."""
    return Change("denied", sorted(denials(found.content), key=str), sorted(after, key=str), f"guardrails.{name}")
