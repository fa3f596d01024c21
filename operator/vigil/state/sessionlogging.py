"""Session Manager preferences (the SSM-SessionManagerRunShell Session document), as observed.

The document is JSON someone may have written by hand, in the console or with another tool, so it
is read for its meaning: ``preferences_of`` turns its inputs into typed values ("true" and true
are the same switch, 20 and "20" the same timeout) that compare field by field.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict

# The account-and-region preferences document Session Manager reads for every session.
PREFERENCES_DOCUMENT = "SSM-SessionManagerRunShell"
SESSION_DOCUMENT_TYPE = "Session"
# Session documents that hold preferences (rather than a port forward or a command) are this type.
STANDARD_STREAM = "Standard_Stream"

# SessionPreferences field -> the document's input, for the inputs Vigil manages. The others
# (runAs, shell profiles, maximum session duration) are the account's own and are kept.
MANAGED_INPUTS = {
    "s3_bucket_name": "s3BucketName",
    "s3_key_prefix": "s3KeyPrefix",
    "s3_encryption_enabled": "s3EncryptionEnabled",
    "cloud_watch_log_group_name": "cloudWatchLogGroupName",
    "cloud_watch_encryption_enabled": "cloudWatchEncryptionEnabled",
    "cloud_watch_streaming_enabled": "cloudWatchStreamingEnabled",
    "kms_key_id": "kmsKeyId",
    "idle_session_timeout": "idleSessionTimeout",
}
_BOOLEAN_INPUTS = {"s3EncryptionEnabled", "cloudWatchEncryptionEnabled", "cloudWatchStreamingEnabled"}


class SessionPreferences(BaseModel):
    """The part of the document Vigil enforces; None is absent (observed) or not managed (desired)."""

    model_config = ConfigDict(frozen=True)

    session_type: str | None = None
    s3_bucket_name: str | None = None
    s3_key_prefix: str | None = None
    s3_encryption_enabled: bool | None = None
    cloud_watch_log_group_name: str | None = None
    cloud_watch_encryption_enabled: bool | None = None
    cloud_watch_streaming_enabled: bool | None = None
    kms_key_id: str | None = None
    idle_session_timeout: str | None = None  # minutes, a string as the document schema has it


class SessionDocumentState(BaseModel):
    """The document's default version: the one Session Manager runs."""

    model_config = ConfigDict(frozen=True)

    exists: bool
    document_type: str | None = None
    version: str | None = None
    content: dict[str, Any] = {}  # parsed; {} when absent or not a JSON object
    preferences: SessionPreferences = SessionPreferences()


def parse_content(text: str | None) -> dict[str, Any]:
    try:
        content = json.loads(text or "")
    except ValueError:
        return {}
    return content if isinstance(content, dict) else {}


def preferences_of(content: dict[str, Any]) -> SessionPreferences:
    inputs = content.get("inputs")
    inputs = inputs if isinstance(inputs, dict) else {}
    values: dict[str, Any] = {}
    for field, name in MANAGED_INPUTS.items():
        raw = inputs.get(name)
        if name in _BOOLEAN_INPUTS:
            values[field] = _boolean(raw)
        elif raw is None or isinstance(raw, (dict, list, bool)):
            values[field] = None
        else:
            text = str(raw).strip()
            values[field] = str(int(text)) if name == "idleSessionTimeout" and text.isdigit() else text
    session_type = content.get("sessionType")
    return SessionPreferences(session_type=session_type if isinstance(session_type, str) else None, **values)


def _boolean(raw: Any) -> bool | None:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    return None  # absent or unreadable: neither on nor off, so it differs from what Vigil wants
