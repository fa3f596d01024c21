"""The list of operations (vigil.aws.permissions) is what the code calls, no more and no less; the
trimmed botocore models hold those operations, and trimming keeps them usable."""

from __future__ import annotations

import ast
from pathlib import Path

import botocore.session
from botocore import xform_name

from vigil.aws.models import OPERATIONS, TrimmingLoader

PACKAGE = Path(__file__).resolve().parents[2] / "operator" / "vigil"


def _all_operations() -> dict[str, str]:
    """Every operation name of the services Vigil uses, and its boto3 method name."""
    session = botocore.session.get_session()
    names = {}
    for service in OPERATIONS:
        for operation in session.get_service_model(service).operation_names:
            names[operation] = operation
            names[xform_name(operation)] = operation
    return names


def _mentioned(names: dict[str, str]) -> set[str]:
    """Operations named in the code: as strings (planned actions) or as client method calls."""
    found = set()
    for path in [*PACKAGE.glob("aws/*.py"), *PACKAGE.glob("planning/*.py"), *PACKAGE.glob("controls/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in names:
                found.add(names[node.value])
            elif isinstance(node, ast.Attribute) and node.attr in names and "_" in node.attr:
                found.add(names[node.attr])
    return found


# Operation names in the code that Vigil does not call: the CloudTrail events integrity verification
# looks for in the trail's history (planning.integrity). Listing one would grant its action.
NOT_CALLED = {"StopLogging"}


def test_every_operation_the_code_names_is_kept():
    allowed = set().union(*OPERATIONS.values())
    assert not allowed & NOT_CALLED
    missing = _mentioned(_all_operations()) - allowed - NOT_CALLED
    assert not missing, f"add to vigil.aws.permissions, with their IAM actions: {sorted(missing)}"


def test_every_listed_operation_is_one_the_code_names():
    """Nothing is listed, and so granted by the IAM policies `vigil iam` writes, that Vigil never calls."""
    listed = set().union(*OPERATIONS.values())
    unused = listed - _mentioned(_all_operations())
    assert not unused, f"remove from vigil.aws.permissions (and run `vigil iam`): {sorted(unused)}"


def test_trimmed_client_keeps_its_operations_and_loses_the_rest():
    session = botocore.session.Session()
    session.register_component("data_loader", TrimmingLoader())
    s3 = session.create_client("s3", region_name="ca-central-1", aws_access_key_id="a", aws_secret_access_key="b")
    assert set(s3.meta.service_model.operation_names) == OPERATIONS["s3"]
    shape = s3.meta.service_model.operation_model("PutBucketEncryption").input_shape
    assert "ServerSideEncryptionConfiguration" in shape.members
    assert not hasattr(s3, "delete_object"), "operations Vigil never calls are not loaded"
