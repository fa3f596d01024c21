"""Generated CRDs: crds/ is what the models generate, so are the Helm chart's copies (with the
weakening policy's), `vigil crds --check` catches a stale copy, and the schemas are structural."""

from pathlib import Path

import pytest
import yaml

from vigil.admission_policy import policy_files
from vigil.api import KINDS
from vigil.cli import main
from vigil.crdgen import crd, crd_files

ROOT = Path(__file__).resolve().parents[2]
CHART_FILES = ROOT / "deploy" / "helm" / "vigil" / "files"


def test_crds_directory_is_regenerated_byte_identical():
    files = crd_files()
    on_disk = {p.name for p in (ROOT / "crds").glob("*.yaml")}
    assert on_disk == set(files), "crds/ has files the models do not generate (or misses some)"
    stale = [name for name, text in files.items() if (ROOT / "crds" / name).read_text() != text]
    assert not stale, f"crds/ is stale, run `vigil crds`: {stale}"


def test_the_helm_charts_copies_are_regenerated_byte_identical():
    # The chart reads no file outside its directory: files/ holds what crds/ and deploy/ hold.
    expected = {f"crds/{name}": text for name, text in crd_files().items() if name != "kustomization.yaml"}
    expected.update(policy_files())
    on_disk = {str(p.relative_to(CHART_FILES)) for p in CHART_FILES.rglob("*.yaml") if p.parent.name != "monitoring"}
    assert on_disk == set(expected), "the chart's files/ has CRDs the models do not generate (or misses some)"
    stale = [name for name, text in expected.items() if (CHART_FILES / name).read_text() != text]
    assert not stale, f"the chart's files/ is stale, run `vigil crds`: {stale}"


def test_crds_check_catches_a_stale_chart_copy(tmp_path: Path, capsys):
    arguments = ["crds", "--output", str(tmp_path / "crds"), "--deploy", str(tmp_path / "deploy")]
    assert main(arguments) == 0
    copy = tmp_path / "deploy" / "helm" / "vigil" / "files" / "crds" / "vigil.dev_orgtrails.yaml"
    assert copy.read_text() == (tmp_path / "crds" / "vigil.dev_orgtrails.yaml").read_text()
    assert main([*arguments, "--check"]) == 0
    copy.write_text(copy.read_text().replace("served: true", "served: false"))
    assert main([*arguments, "--check"]) == 1
    assert str(copy) in capsys.readouterr().err


def _walk(node, path="$"):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{path}[{i}]")


@pytest.mark.parametrize("kind", list(KINDS))
def test_schema_is_structural(kind):
    schema = crd(KINDS[kind])["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for path, node in _walk(schema):
        assert "$ref" not in node and "anyOf" not in node and "allOf" not in node, path
        assert not isinstance(node.get("title"), str), f"{path}: title is JSON Schema noise"
        if "properties" in node:
            assert node.get("type") == "object", path
            assert node.get("additionalProperties") is None, f"{path}: additionalProperties beside properties"


@pytest.mark.parametrize("kind", list(KINDS))
def test_printer_columns_category_and_status_subresource(kind):
    version = crd(KINDS[kind])["spec"]["versions"][0]
    names = [c["name"] for c in version["additionalPrinterColumns"]]
    assert names[:4] == ["Ready", "Compliant", "Targets", "Mode"] and names[-1] == "Age"
    assert version["subresources"] == {"status": {}}
    assert "vigil" in crd(KINDS[kind])["spec"]["names"]["categories"]


def test_patterns_and_enums_reach_the_schema():
    spec = crd(KINDS["Organization"])["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert spec["properties"]["accounts"]["properties"]["logArchive"]["pattern"] == "^[0-9]{12}$"
    assert spec["properties"]["managementPolicy"]["enum"] == ["Enforce", "Audit"]
    conditions = crd(KINDS["OrgTrail"])["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"][
        "status"]["properties"]["conditions"]
    assert conditions["x-kubernetes-list-type"] == "map"
    assert conditions["x-kubernetes-list-map-keys"] == ["type"]


def test_every_crd_file_parses_as_one_document():
    for path in (ROOT / "crds").glob("vigil.dev_*.yaml"):
        assert len(list(yaml.safe_load_all(path.read_text()))) == 1
