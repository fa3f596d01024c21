"""Manifests as users write them, the operator's half: every example passes the operator's own
validation, and every bad manifest is refused with a message naming the field, whether its
mistake is one the CRD schema's keywords catch (AT_ADMISSION) or one across fields that the CRD
says in CEL (CROSS_FIELD): a CRD older than the operator must not let it reach AWS. Every list,
string and map of a spec is bounded, so the CEL rules fit the API server's cost budget.

The API server's half, on a real kube-apiserver with the same tables, is tests/kube/test_admission.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from vigil.api import KINDS
from vigil.api.common import MAX_ACCOUNTS
from vigil.controls.reconciler import parse_spec, validation_message
from vigil.crdgen import crd

from vigil_sandbox.examples import example
from vigil_sandbox.examples import objects as examples


def with_spec(kind: str, path: str, value: Any) -> dict[str, Any]:
    """The example of ``kind`` with the dotted spec ``path`` set to ``value`` (None deletes it)."""
    doc = example(kind)
    node = doc["spec"]
    *parents, leaf = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    if value is None:
        node.pop(leaf, None)
    else:
        node[leaf] = value
    return doc


def with_change(kind: str, change: dict[str, Any]) -> dict[str, Any]:
    """The example of ``kind`` with top-level spec fields replaced by ``change``."""
    doc = example(kind)
    doc["spec"].update(change)
    return doc


def account_ids(count: int) -> list[str]:
    return [f"{900000000000 + i}" for i in range(count)]


@pytest.mark.parametrize("doc", examples(), ids=lambda d: d["kind"])
def test_examples_pass_the_operator(doc):
    parse_spec(doc["kind"], doc["spec"])


def test_examples_cover_every_kind():
    assert {doc["kind"] for doc in examples()} == set(KINDS)


# Refused by the CRD schema's keywords (pattern, enum, required, bounds); the field as the API
# server names it.
AT_ADMISSION = [
    ("Organization", "accounts.logArchive", "12", "spec.accounts.logArchive"),
    ("Organization", "accounts.security", None, "spec.accounts.security"),
    ("Organization", "regions.home", "Canada", "spec.regions.home"),
    ("Organization", "regions.governed", [], "spec.regions.governed"),
    ("Organization", "access.sessionDurationSeconds", 60, "spec.access.sessionDurationSeconds"),
    ("Organization", "workloads.organizationalUnits", ["engineering"], "spec.workloads.organizationalUnits[0]"),
    ("Organization", "managementPolicy", "Sometimes", "spec.managementPolicy"),
    ("LogArchive", "bucketName", "Bad_Bucket", "spec.bucketName"),
    ("LogArchive", "organizationRef", None, "spec.organizationRef"),
    ("LogArchive", "kms.alias", "vigil-key", "spec.kms.alias"),
    ("LogArchive", "objectLock.mode", "FOREVER", "spec.objectLock.mode"),
    ("LogArchive", "retention.expireAfterDays", 0, "spec.retention.expireAfterDays"),
    ("LogArchive", "deletionPolicy", "Purge", "spec.deletionPolicy"),
    ("OrgTrail", "trailName", "x", "spec.trailName"),
    ("OrgTrail", "logArchiveRef", None, "spec.logArchiveRef"),
    ("OrgTrail", "managementEvents.readWriteType", "Everything", "spec.managementEvents.readWriteType"),
    ("OrgTrail", "s3KeyPrefix", "cloudtrail/", "spec.s3KeyPrefix"),
    ("OrgTrail", "cloudWatchLogs.retentionDays", 42, "spec.cloudWatchLogs.retentionDays"),
    ("OrgTrail", "resyncInterval", "5 minutes", "spec.resyncInterval"),
    ("OrgTrail", "dataEvents.s3.bucketArns", ["my-bucket"], "spec.dataEvents.s3.bucketArns[0]"),
    ("FlowLogPolicy", "trafficType", "SOME", "spec.trafficType"),
    ("FlowLogPolicy", "maxAggregationIntervalSeconds", 300, "spec.maxAggregationIntervalSeconds"),
    # A list one item longer than its maxItems.
    ("Organization", "workloads.excludeAccountIds", account_ids(MAX_ACCOUNTS + 1), "spec.workloads.excludeAccountIds"),
    ("SecurityHubBaseline", "integrations", ["guardduty", "config", "access-analyzer", "config"],
     "spec.integrations"),
]
AT_ADMISSION_IDS = [f"{k}:{p}" for k, p, _, _ in AT_ADMISSION]


@pytest.mark.parametrize("kind, path, value, field", AT_ADMISSION, ids=AT_ADMISSION_IDS)
def test_what_the_schema_refuses_the_operator_refuses_too(kind, path, value, field):
    with pytest.raises(ValidationError) as caught:
        parse_spec(kind, with_spec(kind, path, value)["spec"])
    assert field.split("[")[0] in validation_message(caught.value)


# Rules across fields, or on a value that a keyword cannot check: the CRD carries them as CEL
# (or, for uniqueness, as a list type). The field as the API server names it, then as the
# operator's message starts with it (the same field; a list, where the server names its item).
CROSS_FIELD = [
    ("Organization", {"regions": {"home": "eu-west-1", "governed": ["ca-central-1"]}},
     "spec.regions.home", "spec.regions.home"),
    ("Organization", {"regions": {"home": "ca-central-1", "governed": ["ca-central-1", "ca-central-1"]}},
     "spec.regions.governed[1]", "spec.regions.governed"),
    ("Organization", {"workloads": {"all": True, "accountIds": ["555555555555"]}},
     "spec.workloads.all", "spec.workloads.all"),
    ("Organization", {"workloads": {"organizationalUnits": ["ou-abcd-12345678"]}},
     "spec.workloads.all", "spec.workloads.all"),
    ("Organization", {"accounts": {"logArchive": "222222222222", "security": "222222222222"}},
     "spec.accounts.security", "spec.accounts.security"),
    ("Organization", {"resyncInterval": "0m"}, "spec.resyncInterval", "spec.resyncInterval"),
    ("LogArchive", {"kms": {"create": True,
                            "keyArn": "arn:aws:kms:ca-central-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"}},
     "spec.kms.keyArn", "spec.kms.keyArn"),
    ("LogArchive", {"kms": {"create": False}}, "spec.kms.keyArn", "spec.kms.keyArn"),
    ("LogArchive", {"retention": {"expireAfterDays": 30, "transitionToGlacierAfterDays": 90}},
     "spec.retention.transitionToGlacierAfterDays", "spec.retention.transitionToGlacierAfterDays"),
    ("OrgTrail", {"resyncInterval": "0s"}, "spec.resyncInterval", "spec.resyncInterval"),
    ("OrgTrail", {"integrity": {"interval": "0h"}}, "spec.integrity.interval", "spec.integrity.interval"),
    # Longer than Go's time.Duration holds: the server's CEL cannot parse it.
    ("OrgTrail", {"resyncInterval": "3000000h"}, "spec.resyncInterval", "spec.resyncInterval"),
    ("FlowLogPolicy", {"scope": "Accounts"}, "spec.accountIds", "spec.accountIds"),
    ("SessionLogging", {"accountIds": ["555555555555"]}, "spec.accountIds", "spec.accountIds"),
    ("ConfigBaseline", {"scope": "Accounts"}, "spec.accountIds", "spec.accountIds"),
    ("ConfigBaseline", {"recorder": {"allSupported": False}}, "spec.recorder.allSupported",
     "spec.recorder.allSupported"),
    ("ConfigBaseline", {"rules": [{"name": "a", "identifier": "X"}, {"name": "a", "identifier": "Y"}]},
     "spec.rules[1]", "spec.rules"),
    ("ConfigBaseline", {"conformancePacks": [{"name": "p", "templateS3Uri": "s3://packs/a.yaml"},
                                             {"name": "p", "templateS3Uri": "s3://packs/b.yaml"}]},
     "spec.conformancePacks[1]", "spec.conformancePacks"),
]
CROSS_FIELD_IDS = [f"{k}:{f}" for k, _, f, _ in CROSS_FIELD]


@pytest.mark.parametrize("kind, change, field, operator_field", CROSS_FIELD, ids=CROSS_FIELD_IDS)
def test_cross_field_mistakes_are_invalid_spec_naming_the_field(kind, change, field, operator_field):
    with pytest.raises(ValidationError) as caught:
        parse_spec(kind, with_change(kind, change)["spec"])
    message = validation_message(caught.value)
    assert message.startswith(f"{operator_field}: "), message


def test_the_bounds_admit_organizations_of_thousands_of_accounts():
    workloads = {"all": False, "accountIds": account_ids(MAX_ACCOUNTS), "excludeAccountIds": account_ids(100)}
    parse_spec("Organization", with_change("Organization", {"workloads": workloads})["spec"])


def _unbounded(node: dict[str, Any], path: str) -> list[str]:
    """Where a schema lets a value grow without limit; an enum is bounded by its longest value."""
    found = []
    kind = node.get("type")
    if kind == "string" and "maxLength" not in node and "enum" not in node:
        found.append(path)
    if kind == "array":
        found += [] if "maxItems" in node else [path]
        found += _unbounded(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        found += [] if "maxProperties" in node else [path]
        found += _unbounded(node["additionalProperties"], f"{path}{{}}")
    for name, child in node.get("properties", {}).items():
        found += _unbounded(child, f"{path}.{name}")
    return found


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_spec_list_string_and_map_is_bounded(kind):
    spec = crd(KINDS[kind])["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert _unbounded(spec, "spec") == []
