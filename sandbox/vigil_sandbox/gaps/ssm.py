"""SSM gaps: the content of Session documents. Moto takes any JSON with a schemaVersion as a
Session document; AWS holds it to the Session document schema, so a preferences document with a
misspelt session type, a switch written as text or a timeout out of range is refused, not stored."""

from __future__ import annotations

import json
from typing import Any

import yaml
from moto.ssm.models import ssm_backends
from moto.ssm.responses import SimpleSystemManagerResponse

from ._core import AwsError, Gap

# --- Domain: the Session document schema ---------------------------------------------------------

SESSION_TYPES = ("Standard_Stream", "InteractiveCommands", "NonInteractiveCommands", "Port")
BOOLEAN_INPUTS = ("s3EncryptionEnabled", "cloudWatchEncryptionEnabled", "cloudWatchStreamingEnabled",
                  "runAsEnabled")
STRING_INPUTS = ("s3BucketName", "s3KeyPrefix", "cloudWatchLogGroupName", "kmsKeyId", "runAsDefaultUser")
# Minutes, written as strings: the schema's ranges.
MINUTES_INPUTS = {"idleSessionTimeout": (1, 60), "maxSessionDuration": (1, 1440)}


def session_content_errors(content: Any) -> list[str]:
    """What the Session document schema finds wrong with ``content`` (parsed), if anything."""
    if not isinstance(content, dict):
        return ["the document is not an object"]
    errors = []
    if str(content.get("schemaVersion")) != "1.0":
        errors.append(f"schemaVersion {content.get('schemaVersion')!r} is not 1.0")
    if content.get("sessionType") not in SESSION_TYPES:
        errors.append(f"sessionType {content.get('sessionType')!r} is not one of {', '.join(SESSION_TYPES)}")
    inputs = content.get("inputs", {})
    if not isinstance(inputs, dict):
        return [*errors, "inputs is not an object"]
    for name in BOOLEAN_INPUTS:
        if name in inputs and not isinstance(inputs[name], bool):
            errors.append(f"inputs.{name} must be a boolean")
    for name in STRING_INPUTS:
        if name in inputs and not isinstance(inputs[name], str):
            errors.append(f"inputs.{name} must be a string")
    for name, (low, high) in MINUTES_INPUTS.items():
        value = inputs.get(name)
        if value is None or value == "":
            continue
        if not (isinstance(value, str) and value.isdigit() and low <= int(value) <= high):
            errors.append(f"inputs.{name} must be a string of minutes from {low} to {high}")
    return errors


def check_session_content(text: str, document_format: str) -> None:
    try:
        content = yaml.safe_load(text) if document_format == "YAML" else json.loads(text)
    except (ValueError, yaml.YAMLError):
        return  # moto refuses unreadable content itself
    errors = session_content_errors(content)
    if errors:
        raise AwsError("InvalidDocumentContent", "Session document content is not valid: " + "; ".join(errors))


# --- Wire ----------------------------------------------------------------------------------------


def _create_document(self: SimpleSystemManagerResponse, params: dict[str, Any]) -> None:
    if params.get("DocumentType") == "Session":
        check_session_content(params["Content"], params.get("DocumentFormat", "JSON"))


def _update_document(self: SimpleSystemManagerResponse, params: dict[str, Any]) -> None:
    documents = ssm_backends[self.current_account][self.region]._documents.get(params["Name"])
    # UpdateDocument keeps the document's type: a Session document stays one.
    if documents is not None and documents.get_default_version().document_type == "Session":
        check_session_content(params["Content"], params.get("DocumentFormat", "JSON"))


GAPS: tuple[Gap, ...] = (
    Gap(
        "ssm", "CreateDocument", "guard", SimpleSystemManagerResponse, _create_document,
        moto="takes any content with a schemaVersion as a Session document",
        sandbox="a Session document must follow the Session document schema: schemaVersion 1.0, a known "
                "sessionType, boolean switches, string names, idleSessionTimeout \"1\"-\"60\" and "
                "maxSessionDuration \"1\"-\"1440\" as strings (InvalidDocumentContent)",
    ),
    Gap(
        "ssm", "UpdateDocument", "guard", SimpleSystemManagerResponse, _update_document,
        moto="takes any content for a new version of a Session document",
        sandbox="as CreateDocument, for a new version of a Session document",
    ),
)
