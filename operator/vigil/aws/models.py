"""botocore models trimmed to the AWS operations Vigil calls.

botocore keeps every loaded service model in memory for the life of the process: all operations
with their documentation, megabytes per service. The operator calls a few dozen operations, so
each model is cut down, when first loaded, to those operations and the shapes they reach. That is
most of the operator's memory after its imports. Calling an operation not listed in
vigil.aws.permissions fails with AttributeError on the client: list it there first, with its IAM
actions (a unit test checks the code against that list).

botocore keeps its endpoint table (endpoints.json) too, whole: every service (305 in the aws
partition alone) in every partition, about 7 MiB once parsed. It is cut down the same way, to the
services Vigil calls.

Before any of that, a file is parsed whole: ec2's model is 4.5 MB of JSON, half of it
documentation with characters beyond ASCII (so 9 MB once a Python string), which botocore parses
into ordered dicts: 20 MiB at the peak of loading it. Vigil's loader empties the documentation
strings in the bytes read, before parsing them into plain dicts: 11 MiB at the peak, and the
operator's peak is that much lower whenever the first EC2 client is made while it is busy.
"""

from __future__ import annotations

import json
import os
import re
import threading
from typing import Any

from botocore.loaders import JSONFileLoader, Loader

from .permissions import operations_by_service

# Every operation of every service Vigil calls, listed once, with the IAM actions it needs, in
# vigil.aws.permissions.
OPERATIONS: dict[str, frozenset[str]] = operations_by_service()

# Answer shapes Vigil reads a few members of, by service: those members are all botocore parses and
# keeps. A Security Hub finding reaches some 850 shapes (the details of every resource type): 2 MiB
# of model, and on AWS most of a page's parsing; Vigil counts findings by severity
# (vigil.aws.securityhub.active_findings). A unit test checks that no listed operation sends them.
READ_IN_PART: dict[str, dict[str, frozenset[str]]] = {
    "securityhub": {"AwsSecurityFinding": frozenset({"Severity"})},
}

_TRIMMED = "vigilTrimmed"  # marks a cached model already cut down


def trim(model: dict[str, Any], operations: frozenset[str],
         read_in_part: dict[str, frozenset[str]] | None = None) -> dict[str, Any]:
    """Keep ``operations`` and the shapes they reach, of the shapes ``read_in_part`` only the
    members it names; drop documentation. In place."""
    shapes = model["shapes"]
    for name, members in (read_in_part or {}).items():
        shape = shapes[name]
        shape["members"] = {k: v for k, v in shape["members"].items() if k in members}
        shape["required"] = [k for k in shape.get("required", []) if k in members]
    keep: set[str] = set()
    pending: list[str] = []
    for name in operations:
        operation = model["operations"][name]
        pending += [operation[k]["shape"] for k in ("input", "output") if k in operation]
        pending += [error["shape"] for error in operation.get("errors", [])]
    while pending:
        name = pending.pop()
        if name in keep:
            continue
        keep.add(name)
        shape = shapes[name]
        pending += [member["shape"] for member in shape.get("members", {}).values()]
        pending += [shape[k]["shape"] for k in ("member", "key", "value") if k in shape]
    model["operations"] = {k: _undocumented(v) for k, v in model["operations"].items() if k in operations}
    model["shapes"] = {k: _undocumented(v) for k, v in shapes.items() if k in keep}
    for shape in model["shapes"].values():
        for member in shape.get("members", {}).values():
            member.pop("documentation", None)
    model.pop("documentation", None)
    model[_TRIMMED] = True
    return model


def trim_endpoints(endpoints: dict[str, Any], services: frozenset[str]) -> dict[str, Any]:
    """Keep, in each partition, only ``services``. In place.

    The table is keyed by endpoint prefix, which is the service's name but for hyphens
    (accessanalyzer is access-analyzer); a unit test checks this for every service Vigil calls."""
    for partition in endpoints["partitions"]:
        partition["services"] = {prefix: data for prefix, data in partition["services"].items()
                                 if prefix.replace("-", "") in services}
    endpoints[_TRIMMED] = True
    return endpoints


def compact(data: dict[str, Any]) -> None:
    """Rebuild ``data`` from fresh objects. In place (botocore's cache holds it).

    What trimming keeps lies scattered over the memory the whole file took to parse (ec2's
    model is 4 MiB of JSON) and keeps much of it resident; fresh copies pack together and let it
    go: Vigil's 16 service models, loaded alone, leave 7 MiB resident instead of 14."""
    fresh = json.loads(json.dumps(data))
    data.clear()
    data.update(fresh)


def _undocumented(node: dict[str, Any]) -> dict[str, Any]:
    node.pop("documentation", None)
    node.pop("documentationUrl", None)
    return node


# A documentation member and its string value. Inside a JSON string a quote is escaped, so this
# matches keys only; their value is emptied, not dropped: botocore reads some documentation keys
# unconditionally (a service's clientContextParams). The value's pattern takes runs of plain
# characters at once, between escapes: a character at a time, ec2's model took 147 ms of CPU to
# match, more than parsing it whole (57 ms); this way 34.
_DOCUMENTATION = re.compile(rb'"documentation"\s*:\s*"[^"\\]*(?:\\.[^"\\]*)*"')


class UndocumentedFileLoader(JSONFileLoader):
    """botocore's file loader, with every documentation string emptied before the JSON is parsed,
    into plain dicts."""

    def _load_file(self, full_path: str, open_method: Any) -> Any:
        if not os.path.isfile(full_path):
            return None
        with open_method(full_path, "rb") as fp:
            payload = _DOCUMENTATION.sub(b'"documentation":""', fp.read())
        return json.loads(payload)


class TrimmingLoader(Loader):
    """A botocore loader whose service models hold only the operations Vigil calls, and whose
    endpoint table only the services it calls."""

    FILE_LOADER_CLASS = UndocumentedFileLoader

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._trimming = threading.Lock()  # targets create clients from many threads at once

    def load_service_model(self, service_name: str, type_name: str, api_version: str | None = None) -> Any:
        with self._trimming:
            model = super().load_service_model(service_name, type_name, api_version)  # cached by botocore
            operations = OPERATIONS.get(service_name)
            if type_name == "service-2" and operations is not None and not model.get(_TRIMMED):
                compact(trim(model, operations, READ_IN_PART.get(service_name)))
            return model

    def load_data_with_path(self, name: str) -> Any:
        if name != "endpoints":
            return super().load_data_with_path(name)
        with self._trimming:
            data, path = super().load_data_with_path(name)  # cached by botocore
            if not data.get(_TRIMMED):
                compact(trim_endpoints(data, frozenset(OPERATIONS)))
            return data, path
