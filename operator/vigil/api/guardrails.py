"""Guardrails: the preventive side of the baseline. Service control policies (SCPs) that deny the
organization's principals, and resource control policies (RCPs) that deny anyone, the calls that
would switch off the controls the other objects of the namespace keep."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .common import (MAX_ORGANIZATIONAL_UNITS, IamRoleName, ManagedSpec, ManagedStatus, Model,
                     OrganizationalUnitId, StatusModel, Unique, ValidationRule)

MAX_BREAK_GLASS_ROLES = 10  # each is named in every statement: more would not fit AWS's policy size


class AttachTargets(Model):
    """Where the policies are attached: the organization's root (the default) or OUs."""

    root: bool = Field(True, description="Attach to the organization's root, so the guardrails bind every member "
                                         "account. The management account is never subject to SCPs or RCPs.")
    organizational_units: Annotated[list[OrganizationalUnitId], Unique("lists an OU twice")] = Field(
        default_factory=list, max_length=MAX_ORGANIZATIONAL_UNITS,
        description="With root: false, the OUs to attach to (each binds every OU and account below it).")

    validation_rules = (ValidationRule(
        "self.root != (has(self.organizationalUnits) && size(self.organizationalUnits) > 0)",
        lambda a: a.root != bool(a.organizational_units),
        "attach to the root or to organizationalUnits, one of the two", field="organizationalUnits"),)


class PolicyType(Model):
    enabled: bool = Field(True, description="Generate and attach policies of this type, enabling the policy type in "
                                            "the organization if needed. Default: true.")


class GuardrailsSpec(ManagedSpec):
    """SCPs and RCPs generated from the namespace's other objects: where they attach, who is exempt."""

    attach_to: AttachTargets = Field(default_factory=AttachTargets)
    break_glass_role_names: Annotated[list[IamRoleName], Unique("lists a role twice")] = Field(
        default_factory=list, max_length=MAX_BREAK_GLASS_ROLES,
        description="IAM roles (by name, in any account of the organization) exempt from every guardrail: the "
                    "only way to switch a control off while the guardrails stand. docs/runbook.md says when and "
                    "how to use one. Vigil's own role is exempt only for the calls Vigil makes.")
    service_control_policies: PolicyType = Field(
        default_factory=PolicyType, description="SCPs: deny the organization's principals (Vigil's role included) "
                                                "the calls that switch a control off.")
    resource_control_policies: PolicyType = Field(
        default_factory=PolicyType, description="RCPs: deny anyone, inside the organization or not, the calls that "
                                                "delete or weaken the LogArchive bucket and its key.")


class GuardrailPolicy(StatusModel):
    """A policy Vigil generated."""

    name: str = Field(description="vigil-<namespace>-<name>-<scp|rcp>-<n>.")
    id: str | None = Field(None, description="The policy's id in AWS Organizations (p-...), once it exists.")
    type: str = Field(description="SERVICE_CONTROL_POLICY or RESOURCE_CONTROL_POLICY.")
    characters: int = Field(description="The policy's size; AWS allows 5,120 characters.")
    attached_to: list[str] = Field(default_factory=list, description="The root and OU ids it is attached to.")


class RecognizedGuardrail(StatusModel):
    """A policy someone else attached (Control Tower, a landing zone) that already denies what a
    statement of Vigil's would: Vigil reports it and does not duplicate the statement."""

    policy_id: str = Field(description="The other policy's id (p-...).")
    policy_name: str = Field(description="The other policy's name.")
    statement: str = Field(description="The Sid of its statement that denies as Vigil's would.")
    covers: str = Field(description="The statement of Vigil's it stands for, by Sid.")


class GuardrailsStatus(ManagedStatus):
    """What Vigil generated, attached and recognized at its last pass; written by the operator only."""

    protections: list[str] = Field(default_factory=list, description="What the guardrails protect, from the "
                                                                     "other objects of the namespace.")
    policies: list[GuardrailPolicy] = Field(default_factory=list, description="The policies Vigil generated: their "
                                                                              "size and where they are attached.")
    recognized: list[RecognizedGuardrail] = Field(
        default_factory=list, description="Policies someone else attached (Control Tower, a landing zone) that "
                                          "already deny what a statement of Vigil's would: that statement is left "
                                          "out.")
