"""The list of operations (vigil.aws.permissions) is what the code calls, no more and no less; the
trimmed botocore models hold those operations, and trimming keeps them usable."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import botocore.session
from botocore import xform_name
from botocore.parsers import create_parser

from vigil.aws.models import OPERATIONS, READ_IN_PART, TrimmingLoader

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


def test_trimmed_endpoint_table_keeps_every_service_vigil_calls(monkeypatch):
    """The table is keyed by endpoint prefix, not by service name: trimming by name must still keep
    each service's entry, so its clients resolve exactly as with botocore's whole table (global
    services such as IAM and Organizations sign for one region, which only the table says)."""
    for variable in ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(variable, raising=False)
    whole, trimmed = botocore.session.Session(), botocore.session.Session()
    trimmed.register_component("data_loader", TrimmingLoader())
    table = trimmed.get_component("data_loader").load_data("endpoints")
    kept = {prefix for partition in table["partitions"] for prefix in partition["services"]}
    for service in OPERATIONS:
        assert whole.get_service_model(service).endpoint_prefix in kept, service
        for region in ("us-east-1", "eu-west-1", "cn-north-1", "us-gov-west-1"):
            a, b = (s.create_client(service, region_name=region, aws_access_key_id="a", aws_secret_access_key="b")
                    for s in (whole, trimmed))
            assert (b.meta.endpoint_url, b.meta.region_name) == (a.meta.endpoint_url, a.meta.region_name), \
                (service, region)
    assert len(kept) < 20 * len(table["partitions"]), "services Vigil never calls are dropped"


def _reached(model: dict, name: str) -> set[str]:
    shapes, seen, pending = model["shapes"], set(), [name]
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            shape = shapes[name]
            pending += [m["shape"] for m in shape.get("members", {}).values()]
            pending += [shape[k]["shape"] for k in ("member", "key", "value") if k in shape]
    return seen


def test_shapes_read_in_part_are_never_sent():
    """A shape cut to the members Vigil reads could not carry the others in a request."""
    loader = botocore.session.get_session().get_component("data_loader")
    for service, read in READ_IN_PART.items():
        model = loader.load_service_model(service, "service-2")
        for operation in OPERATIONS[service]:
            sent = model["operations"][operation].get("input", {}).get("shape")
            assert not (sent and _reached(model, sent) & set(read)), (service, operation)


def test_findings_parse_to_their_severity_and_nothing_else():
    session = botocore.session.Session()
    session.register_component("data_loader", TrimmingLoader())
    model = session.get_service_model("securityhub")
    assert len(model.shape_names) < 250, "the details of every resource type are dropped"
    body = {"Findings": [{"Id": "f-1", "Severity": {"Label": "HIGH", "Normalized": 70},
                          "Resources": [{"Type": "AwsS3Bucket", "Id": "arn:aws:s3:::b",
                                         "Details": {"AwsS3Bucket": {"Name": "b"}}}]}], "NextToken": "n"}
    parsed = create_parser("rest-json").parse(
        {"body": json.dumps(body).encode(), "headers": {}, "status_code": 200},
        model.operation_model("GetFindings").output_shape)
    assert parsed["Findings"] == [{"Severity": {"Label": "HIGH", "Normalized": 70}}]
    assert parsed["NextToken"] == "n"


def _documentation_emptied(node):
    if isinstance(node, dict):
        return {key: "" if key == "documentation" else _documentation_emptied(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_documentation_emptied(value) for value in node]
    return node


def test_files_load_as_botocore_loads_them_but_for_their_documentation():
    """What Vigil's loader strips from the bytes is the documentation strings and nothing else, in
    every file a client of each service Vigil calls reads (its model, paginators, endpoint rule
    set) and in the endpoint table."""
    from botocore.loaders import JSONFileLoader

    from vigil.aws.models import UndocumentedFileLoader

    botocores, ours = JSONFileLoader(), UndocumentedFileLoader()
    loader = TrimmingLoader()
    paths = [str(Path(loader.load_data_with_path("endpoints")[1]))]
    for service in OPERATIONS:
        version = loader.determine_latest_version(service, "service-2")
        for kind in ("service-2", "paginators-1", "endpoint-rule-set-1"):
            path = Path(loader.search_paths[-1]) / service / version / kind
            if botocores.exists(str(path)):
                paths.append(str(path))
    assert len(paths) > 2 * len(OPERATIONS)
    emptied = 0
    for path in paths:
        theirs = botocores.load_file(path)
        assert ours.load_file(path) == _documentation_emptied(theirs), path
        emptied += json.dumps(theirs).count('"documentation": "') - json.dumps(theirs).count('"documentation": ""')
    assert emptied > 1000, "the documentation was there to empty"
