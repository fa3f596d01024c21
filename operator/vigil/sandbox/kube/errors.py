"""The API server's errors, worded as it words them, and the Status body it sends them in."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import kmock

from vigil.sandbox import admission

from .served import ServedResource


def status_body(exc: kmock.KubernetesError) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": exc.message, "reason": exc.reason, "code": exc.status,
    }
    if exc.details:
        body["details"] = exc.details
    return body


def not_found_url() -> kmock.KubernetesError:
    message = "the server could not find the requested resource"
    return kmock.KubernetesNotFoundError(reason="NotFound", message=message, details={})


def not_found(served: ServedResource, name: str | None) -> kmock.KubernetesError:
    return kmock.KubernetesNotFoundError(
        reason="NotFound", message=f'{served.group_resource} "{name}" not found', details=_details(served, name),
    )


def already_exists(served: ServedResource, name: str) -> kmock.KubernetesError:
    return kmock.KubernetesError(
        status=409, reason="AlreadyExists", message=f'{served.group_resource} "{name}" already exists',
        details=_details(served, name),
    )


def conflict(served: ServedResource, name: str, message: str | None = None) -> kmock.KubernetesError:
    return kmock.KubernetesError(
        status=409, reason="Conflict",
        message=message or (f'Operation cannot be fulfilled on {served.group_resource} "{name}": the object '
                            "has been modified; please apply your changes to the latest version and try again"),
        details=_details(served, name),
    )


def forbidden_in_terminating_namespace(
        served: ServedResource, namespace: str | None, name: str | None,
) -> kmock.KubernetesError:
    return kmock.KubernetesError(
        status=403, reason="Forbidden",
        message=f'{served.group_resource} "{name}" is forbidden: unable to create new content '
                f'in namespace {namespace} because it is being terminated',
        details=_details(served, name),
    )


def invalid(served: ServedResource, name: str, errors: Sequence[admission.FieldError]) -> kmock.KubernetesError:
    reasons = [str(error) for error in errors]
    summary = reasons[0] if len(reasons) == 1 else f"[{', '.join(reasons)}]"
    return kmock.KubernetesError(
        status=422, reason="Invalid", message=f'{served.group_kind} "{name}" is invalid: {summary}',
        details={"name": name, "group": served.group, "kind": served.kind,
                 "causes": [error.as_cause() for error in errors]},
    )


def invalid_patch(message: str) -> kmock.KubernetesError:
    return kmock.KubernetesError(status=422, reason="Invalid", message=message, details={})


def bad_request(message: str) -> kmock.KubernetesError:
    return kmock.KubernetesError(status=400, reason="BadRequest", message=message, details={})


def method_not_allowed() -> kmock.KubernetesError:
    return kmock.KubernetesError(
        status=405, reason="MethodNotAllowed",
        message="the server does not allow this method on the requested resource", details={},
    )


def unsupported_media_type(message: str) -> kmock.KubernetesError:
    return kmock.KubernetesError(status=415, reason="UnsupportedMediaType", message=message, details={})


def _details(served: ServedResource, name: str | None) -> dict[str, Any]:
    # The API server's details name the resource's plural as the "kind" (StatusDetails.Kind).
    return {"name": name, "group": served.group, "kind": served.plural}
