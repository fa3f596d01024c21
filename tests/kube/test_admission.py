"""The generated CRDs on a real kube-apiserver (the session's control plane): the server takes
them, so every CEL rule fits its cost budget; it admits every example as is; and it refuses each
bad manifest with a 422 that names the field, whether the schema's keywords catch the mistake
(AT_ADMISSION, maxItems included) or a CEL rule across fields does (CROSS_FIELD). The operator's
half of the same tables is tests/unit/test_manifests.py. Every create is a server-side dry run:
nothing is stored, so nothing is left to clean up but the namespace.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from vigil.api import GROUP, KINDS
from vigil.api.common import MAX_ACCOUNTS
from vigil.controls.reconciler import parse_spec

pytestmark = pytest.mark.kube


def _manifest_tables() -> ModuleType:
    # The tables live with the operator's half, a unit test; test modules are imported by path.
    path = Path(__file__).resolve().parents[1] / "unit" / "test_manifests.py"
    spec = importlib.util.spec_from_file_location("manifest_tables", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tables = _manifest_tables()


def refusal(dry_run_create, doc: dict[str, Any]) -> dict[str, Any]:
    """The Status the server refuses ``doc`` with; fails if it is admitted or refused otherwise."""
    with pytest.raises(ApiException) as refused:
        dry_run_create(doc)
    assert refused.value.status == 422, refused.value.body
    status = json.loads(refused.value.body)
    assert status["reason"] == "Invalid", status
    return status


def assert_names(status: dict[str, Any], field: str) -> None:
    causes = [cause.get("field") for cause in status.get("details", {}).get("causes", [])]
    assert field in causes and f"{field}:" in status["message"], (causes, status["message"])


def test_the_server_takes_every_crd_with_its_rules(controlplane, crds):
    api = client.ApiextensionsV1Api(controlplane.client())
    for info in KINDS.values():
        stored = api.read_custom_resource_definition(f"{info.plural}.{GROUP}")
        assert {c.type: c.status for c in stored.status.conditions}.get("Established") == "True", info.kind
    # The CEL rules are in the CRD the server serves, as generated.
    log_archive = api.read_custom_resource_definition(f"{KINDS['LogArchive'].plural}.{GROUP}")
    kms = log_archive.spec.versions[0].schema.open_apiv3_schema.properties["spec"].properties["kms"]
    assert [rule.field_path for rule in kms.x_kubernetes_validations] == [".keyArn", ".keyArn"]


@pytest.mark.parametrize("doc", tables.examples(), ids=lambda d: d["kind"])
def test_every_example_is_admitted_and_parses(dry_run_create, doc):
    admitted = dry_run_create(doc)
    # What the server would store (its defaults applied) is a spec the operator takes.
    parse_spec(doc["kind"], admitted["spec"])


@pytest.mark.parametrize("kind, path, value, field", tables.AT_ADMISSION, ids=tables.AT_ADMISSION_IDS)
def test_schema_mistakes_are_refused_naming_the_field(dry_run_create, kind, path, value, field):
    assert_names(refusal(dry_run_create, tables.with_spec(kind, path, value)), field)


@pytest.mark.parametrize("kind, change, field, operator_field", tables.CROSS_FIELD, ids=tables.CROSS_FIELD_IDS)
def test_cross_field_mistakes_are_refused_by_cel_naming_the_field(dry_run_create, kind, change, field,
                                                                  operator_field):
    assert_names(refusal(dry_run_create, tables.with_change(kind, change)), field)


def test_an_organization_of_ten_thousand_accounts_is_admitted(dry_run_create):
    # The longest lists the bounds allow, through every rule that reads them, within the
    # server's runtime cost limit.
    ids = tables.account_ids(MAX_ACCOUNTS)
    doc = tables.with_change("Organization", {"workloads": {"all": False, "accountIds": ids,
                                                             "excludeAccountIds": ids}})
    admitted = dry_run_create(doc)
    assert len(admitted["spec"]["workloads"]["accountIds"]) == MAX_ACCOUNTS
