"""botocore models trimmed to the AWS operations Vigil calls.

botocore keeps every loaded service model in memory for the life of the process: all operations
with their documentation, megabytes per service. The operator calls a few dozen operations, so
each model is cut down, when first loaded, to those operations and the shapes they reach. That is
most of the operator's memory after its imports. Calling an operation not listed in
vigil.aws.permissions fails with AttributeError on the client: list it there first, with its IAM
actions (a unit test checks the code against that list).
"""

from __future__ import annotations

import threading
from typing import Any

from botocore.loaders import Loader

from .permissions import operations_by_service

# Every operation of every service Vigil calls, listed once, with the IAM actions it needs, in
# vigil.aws.permissions.
OPERATIONS: dict[str, frozenset[str]] = operations_by_service()

_TRIMMED = "vigilTrimmed"  # marks a cached model already cut down


def trim(model: dict[str, Any], operations: frozenset[str]) -> dict[str, Any]:
    """Keep ``operations`` and the shapes they reach; drop documentation. In place."""
    shapes = model["shapes"]
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


def _undocumented(node: dict[str, Any]) -> dict[str, Any]:
    node.pop("documentation", None)
    node.pop("documentationUrl", None)
    return node


class TrimmingLoader(Loader):
    """A botocore loader whose service models hold only the operations Vigil calls."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._trimming = threading.Lock()  # targets create clients from many threads at once

    def load_service_model(self, service_name: str, type_name: str, api_version: str | None = None) -> Any:
        with self._trimming:
            model = super().load_service_model(service_name, type_name, api_version)  # cached by botocore
            operations = OPERATIONS.get(service_name)
            if type_name == "service-2" and operations is not None and not model.get(_TRIMMED):
                trim(model, operations)
            return model
