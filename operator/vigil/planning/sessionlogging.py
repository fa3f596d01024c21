"""SessionLogging: per account x region, the key, the session log group and the Session Manager
preferences document, desired vs observed.

The document is compared for its meaning (see ``state.sessionlogging.preferences_of``), never byte
for byte, and only in the inputs Vigil manages: a team's runAs user or shell profile is carried
into every version Vigil writes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..api.sessionlogging import SessionLoggingSpec
from ..state.cloudtrail import LogGroupState
from ..state.logarchive import KeySettings, KeyState
from ..state.sessionlogging import (MANAGED_INPUTS, PREFERENCES_DOCUMENT, SESSION_DOCUMENT_TYPE, STANDARD_STREAM,
                                    SessionDocumentState, SessionPreferences)
from . import policies
from .logarchive import missing_alias
from .ownership import Owner
from .actions import Action, Change, diff

SESSION_KEY_ALIAS = "alias/vigil-ssm-sessions"
SCHEMA_VERSION = "1.0"
DESCRIPTION = "Document to hold regional settings for Session Manager"
# A composite (vigil.aws.ssm): UpdateDocument, then make the new version the default.
UPDATE_PREFERENCES = "UpdateSessionPreferences"


@dataclass(frozen=True)
class SessionTarget:
    account_id: str
    region: str
    bucket: str  # the LogArchive bucket
    owner: Owner  # who signs what Vigil creates (planning.ownership)

    @property
    def label(self) -> str:
        return f"{self.account_id}/{self.region}/{PREFERENCES_DOCUMENT}"

    def of(self, what: str) -> str:
        return f"{self.account_id}/{self.region}/{what}"


def session_key_policy(account_id: str, region: str) -> dict[str, Any]:
    """The account administers and uses the key (sessions are encrypted for its instances and
    users); CloudWatch Logs in the region may use it for the account's log groups only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "VigilAccountAdministers", "Effect": "Allow",
             "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"}, "Action": "kms:*", "Resource": "*"},
            {"Sid": "VigilCloudWatchLogsEncrypt", "Effect": "Allow",
             "Principal": {"Service": f"logs.{region}.amazonaws.com"},
             "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
             "Resource": "*",
             "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                                       f"arn:aws:logs:{region}:{account_id}:log-group:*"}}},
        ],
    }


def plan_key(spec: SessionLoggingSpec, target: SessionTarget, observed: KeyState) -> list[Action]:
    """The Vigil-managed key of the account and region. A key the spec names is the user's:
    used, never changed."""
    if spec.kms.key_arn:
        return []
    label = target.of(SESSION_KEY_ALIAS)
    policy = session_key_policy(target.account_id, target.region)
    if not observed.exists:
        return [Action(label, target.account_id, target.region, "kms", "CreateKeyWithAlias", {
            "AliasName": SESSION_KEY_ALIAS,
            "Description": f"Vigil Session Manager logs key ({target.owner})",
            "Policy": policies.to_json(policy),
            "Tags": target.owner.tag_list("TagKey", "TagValue"),
        }, (Change("key", None, SESSION_KEY_ALIAS),), creates=True)]
    actions = missing_alias(label, target.account_id, target.region, SESSION_KEY_ALIAS, observed)
    for change in diff(KeySettings(policy=policies.canonical(policy), rotation_enabled=True), observed.settings):
        if change.path == "policy":
            actions.append(Action(label, target.account_id, target.region, "kms", "PutKeyPolicy", {
                "KeyId": observed.key_id, "PolicyName": "default", "Policy": policies.to_json(policy)}, (change,)))
        elif change.path == "rotation_enabled":
            actions.append(Action(label, target.account_id, target.region, "kms", "EnableKeyRotation",
                                  {"KeyId": observed.key_id}, (change,)))
    return actions


def plan_log_group(spec: SessionLoggingSpec, target: SessionTarget, key_arn: str,
                   observed: LogGroupState) -> list[Action]:
    """The session log group, encrypted with the key and with the spec's retention. Never
    deleted by Vigil, and never left unencrypted: it holds what people typed."""
    cw = spec.cloud_watch
    if not cw.enabled:
        return []
    label = target.of(cw.log_group_name)

    def act(operation: str, params: dict[str, Any], change: Change, creates: bool) -> Action:
        return Action(label, target.account_id, target.region, "logs", operation,
                      {"logGroupName": cw.log_group_name, **params}, (change,), creates=creates)

    if not observed.exists:
        return [
            act("CreateLogGroup", {"kmsKeyId": key_arn, "tags": target.owner.tags()},
                Change("log_group", None, cw.log_group_name), creates=True),
            act("PutRetentionPolicy", {"retentionInDays": cw.retention_days},
                Change("retention_days", None, cw.retention_days), creates=True),
        ]
    actions = []
    if observed.kms_key_id != key_arn:
        actions.append(act("AssociateKmsKey", {"kmsKeyId": key_arn},
                           Change("kms_key_id", observed.kms_key_id, key_arn), creates=False))
    if observed.retention_days != cw.retention_days:
        actions.append(act("PutRetentionPolicy", {"retentionInDays": cw.retention_days},
                           Change("retention_days", observed.retention_days, cw.retention_days,
                                  "spec.cloudWatch.retentionDays"), creates=False))
    return actions


def desired_preferences(spec: SessionLoggingSpec, target: SessionTarget, key_arn: str) -> SessionPreferences:
    """With CloudWatch delivery off the CloudWatch inputs are not managed (None): a team's own
    log group is theirs to keep."""
    cw = spec.cloud_watch
    return SessionPreferences(
        session_type=STANDARD_STREAM,
        s3_bucket_name=target.bucket,
        s3_key_prefix=spec.s3_key_prefix,
        s3_encryption_enabled=True,
        cloud_watch_log_group_name=cw.log_group_name if cw.enabled else None,
        cloud_watch_encryption_enabled=True if cw.enabled else None,
        cloud_watch_streaming_enabled=True if cw.enabled else None,
        kms_key_id=key_arn,
        idle_session_timeout=str(spec.idle_session_timeout_minutes),
    )


def document_content(desired: SessionPreferences, observed: dict[str, Any]) -> str:
    """The document to write: what is there, with Vigil's inputs set (typed as the Session
    document schema wants them). Serialized the same way every time, so a rewrite of the same
    preferences is the same bytes."""
    inputs = dict(observed.get("inputs") or {}) if isinstance(observed.get("inputs"), dict) else {}
    for field, name in MANAGED_INPUTS.items():
        value = getattr(desired, field)
        if value is not None:
            inputs[name] = value
    content = {**observed, "schemaVersion": SCHEMA_VERSION, "sessionType": STANDARD_STREAM, "inputs": inputs}
    content.setdefault("description", DESCRIPTION)
    return json.dumps(content, indent=2, sort_keys=True)


def plan_document(spec: SessionLoggingSpec, target: SessionTarget, key_arn: str,
                  observed: SessionDocumentState) -> list[Action]:
    desired = desired_preferences(spec, target, key_arn)
    label = target.label
    if not observed.exists:
        return [Action(label, target.account_id, target.region, "ssm", "CreateDocument", {
            "Name": PREFERENCES_DOCUMENT, "DocumentType": SESSION_DOCUMENT_TYPE, "DocumentFormat": "JSON",
            "Content": document_content(desired, {}), "Tags": target.owner.tag_list()},
            (Change("document", None, PREFERENCES_DOCUMENT),), creates=True)]
    changes = diff(desired, observed.preferences)
    if not changes:
        return []
    return [Action(label, target.account_id, target.region, "ssm", UPDATE_PREFERENCES, {
        "Name": PREFERENCES_DOCUMENT, "DocumentFormat": "JSON", "DocumentVersion": "$LATEST",
        "Content": document_content(desired, observed.content)}, tuple(changes))]


def check_document_type(observed: SessionDocumentState) -> str | None:
    """Why the document cannot hold preferences, or None."""
    if observed.exists and observed.document_type != SESSION_DOCUMENT_TYPE:
        return (f"{PREFERENCES_DOCUMENT} is a {observed.document_type} document; Session Manager needs "
                f"a {SESSION_DOCUMENT_TYPE} document of that name")
    return None


def key_region_error(spec: SessionLoggingSpec, regions: list[str]) -> str | None:
    """A KMS key lives in one region; log groups and sessions elsewhere cannot use it."""
    if not spec.kms.key_arn:
        return None
    key_region = spec.kms.key_arn.split(":")[3]
    outside = [r for r in regions if r != key_region]
    if not outside:
        return None
    return (f"kms.keyArn is a key in {key_region}, which cannot encrypt sessions or log groups in "
            f"{', '.join(outside)}: set regions to [{key_region}], or leave kms.keyArn empty for a "
            f"Vigil-managed key per account and region")
