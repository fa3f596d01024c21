"""The corpus of invalid manifests (tests/invalid/, read by vigil_sandbox.invalid_corpus), the
operator's half, without AWS or Kubernetes: the corpus is as large as issue 13 asks and every entry
cites an AWS document; the operator's own validation refuses every manifest the API server must
refuse (for a cluster whose CRDs are older than the operator), naming the field; and the checks
the schema cannot make (planning.preflight, the reconciler's references) refuse every manifest the
operator must, naming the field, from an organization as the sandbox seeds it.

The API server's half is tests/kube/test_invalid_corpus.py; the whole way, with the real operator
and the sandbox's call record, tests/e2e/test_invalid_corpus.py.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from pydantic import ValidationError

from vigil.api import KINDS
from vigil.api.organization import OrganizationSpec
from vigil.controls.base import DependencyNotReady, SpecError
from vigil.controls.reconciler import (ARCHIVE_REF_FIELDS, external_id, parse_spec, ready_reference,
                                       validation_message)
from vigil.planning.preflight import (control_refusals, explain, opt_in_regions, organization_refusals,
                                      region_refusals)
from vigil.state.organizations import Account, OrganizationInventory
from vigil_sandbox.examples import example
from vigil_sandbox.invalid_corpus import ADMISSION, DEPENDENCY_NOT_READY, OPERATOR, load

CORPUS = load()
ADMITTED = [e for e in CORPUS if e.at == OPERATOR]
REFUSED = [e for e in CORPUS if e.at == ADMISSION]

MANAGEMENT = "123456789012"
MEMBERS = ("222222222222", "333333333333", "444444444444", "555555555555", "666666666666", "777777777777")
INVENTORY = OrganizationInventory("o-vigilsandbox", MANAGEMENT, tuple(
    Account(a, a, "ACTIVE") for a in (MANAGEMENT, *MEMBERS)))
OPT_IN = ("af-south-1", "ap-east-1", "eu-south-1")
DEFAULT = ("ca-central-1", "us-east-1", "us-east-2", "us-west-2", "eu-west-1", "eu-central-1")
# account:ListRegions as the sandbox answers it: opt-in Regions disabled everywhere.
REGIONS = {account: {**{r: "ENABLED_BY_DEFAULT" for r in DEFAULT}, **{r: "DISABLED" for r in OPT_IN}}
           for account in (MANAGEMENT, *MEMBERS)}


def test_the_corpus_holds_150_entries_and_10_of_each_kind():
    assert len(CORPUS) >= 150
    per_kind = Counter(e.kind for e in CORPUS)
    assert set(per_kind) == set(KINDS) and min(per_kind.values()) >= 10, per_kind


@pytest.mark.parametrize("entry", CORPUS, ids=str)
def test_every_entry_cites_the_aws_rule_it_breaks(entry):
    assert entry.rule.url.startswith("https://docs.aws.amazon.com/"), entry.rule
    assert entry.rule.title and len(entry.rule.says) > 20
    assert entry.field.startswith("spec.")
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", entry.name) and len(entry.name) <= 63
    assert entry.reason in ((None,) if entry.at == ADMISSION else ("InvalidSpec", DEPENDENCY_NOT_READY))


@pytest.mark.parametrize("entry", REFUSED, ids=str)
def test_the_operator_refuses_what_admission_refuses(entry):
    with pytest.raises(ValidationError) as caught:
        parse_spec(entry.kind, entry.manifest()["spec"])
    message = validation_message(caught.value)
    # The operator names the list, where the API server names the item: spec.regions for spec.regions[1].
    assert entry.field.split("[")[0] in message, message


@pytest.mark.parametrize("entry", ADMITTED, ids=str)
def test_what_the_operator_must_judge_passes_the_schema(entry):
    parse_spec(entry.kind, entry.manifest()["spec"])


class Objects:
    """Lookup of the operator entries' namespace: the examples' Organization acme and LogArchive
    central, Ready."""

    READY = {"conditions": [{"type": "Ready", "status": "True", "reason": "Reconciled"}]}

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        found = {("Organization", "acme"), ("LogArchive", "central")}
        if (kind, name) not in found:
            return None
        return {"spec": example(kind)["spec"], "status": self.READY}

    def secret(self, namespace: str, name: str, key: str) -> str:
        raise LookupError(f"Secret {namespace}/{name} does not exist")


def judge(entry) -> tuple[str, str]:
    """(reason, message) the operator's checks give an operator entry, with the sandbox's organization."""
    spec = parse_spec(entry.kind, entry.manifest()["spec"])
    lookup = Objects()
    try:
        if entry.kind == "Organization":
            assert isinstance(spec, OrganizationSpec)
            external_id(lookup, "baseline", spec)
            refusals = organization_refusals(spec, INVENTORY)
            if not refusals:
                status = {MANAGEMENT: REGIONS[MANAGEMENT]}
                if opt_in_regions(spec, status[MANAGEMENT]):
                    status = REGIONS
                refusals = region_refusals(spec, MANAGEMENT, status)
        else:
            ready_reference(lookup, "Organization", "baseline", spec.organization_ref.name,
                            "spec.organizationRef.name")
            archive = getattr(spec, "log_archive_ref", None)
            if archive is not None:
                ready_reference(lookup, "LogArchive", "baseline", archive.name,
                                ARCHIVE_REF_FIELDS.get(entry.kind, "spec.logArchiveRef.name"))
            organization = OrganizationSpec.model_validate(example("Organization")["spec"])
            refusals = control_refusals(entry.kind, spec, organization, INVENTORY)
    except DependencyNotReady as exc:
        return DEPENDENCY_NOT_READY, str(exc)
    except SpecError as exc:
        return "InvalidSpec", str(exc)
    return ("InvalidSpec", explain(refusals)) if refusals else ("Ready", "")


@pytest.mark.parametrize("entry", ADMITTED, ids=str)
def test_the_operator_refuses_what_the_schema_cannot_know(entry):
    reason, message = judge(entry)
    assert reason == entry.reason, message
    assert entry.names_field(message), message


def test_an_opt_in_region_is_a_spec_mistake_only_where_no_account_has_enabled_it():
    spec = OrganizationSpec.model_validate({**example("Organization")["spec"],
                                            "regions": {"home": "ca-central-1", "governed": ["ca-central-1",
                                                                                            "af-south-1"]}})
    enabled = {a: {**regions, "af-south-1": "ENABLED"} for a, regions in REGIONS.items()}
    assert region_refusals(spec, MANAGEMENT, enabled) == []
    assert opt_in_regions(spec, enabled[MANAGEMENT]) == ["af-south-1"]
    # One member has not opted in: its own targets report RegionDisabled, the rest are enforced.
    enabled["555555555555"]["af-south-1"] = "DISABLED"
    assert region_refusals(spec, MANAGEMENT, enabled) == []
    # Nobody has: the spec names a Region the organization cannot use.
    disabled = {a: {**regions, "af-south-1": "DISABLED"} for a, regions in enabled.items()}
    [refusal] = region_refusals(spec, MANAGEMENT, disabled)
    assert refusal.field == "spec.regions.governed[1]" and "no account of the organization has enabled" in refusal.message


def test_a_region_enabled_by_default_needs_no_member_read():
    spec = OrganizationSpec.model_validate(example("Organization")["spec"])
    assert opt_in_regions(spec, REGIONS[MANAGEMENT]) == []
    assert region_refusals(spec, MANAGEMENT, {MANAGEMENT: REGIONS[MANAGEMENT]}) == []


def test_the_examples_pass_every_check():
    organization = OrganizationSpec.model_validate(example("Organization")["spec"])
    assert organization_refusals(organization, INVENTORY) == []
    for kind in set(KINDS) - {"Organization"}:
        assert control_refusals(kind, parse_spec(kind, example(kind)["spec"]), organization, INVENTORY) == [], kind
