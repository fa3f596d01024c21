"""What the guardrails protect: for each object of the namespace, the calls that would switch its
control off, split by whether Vigil itself ever makes them.

``never``: calls Vigil never makes (stopping the trail, deleting archived objects, scheduling the
archive key's deletion): denied to everyone, Vigil's own role included, but the break-glass roles.
``vigil``: calls Vigil makes to keep the control true (an update, a policy put back) or when an
object with deletionPolicy Delete goes: denied to everyone but the break-glass roles and Vigil's
role. tests/unit/test_guardrails.py checks that no code of Vigil's makes a ``never`` call.

Pure: the namespace's objects in, protections out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .ownership import INSTALLATION_TAG

ARCHIVE_BUCKET_NEVER = ("s3:BypassGovernanceRetention", "s3:DeleteBucketPolicy", "s3:DeleteObject",
                        "s3:DeleteObjectVersion")
ARCHIVE_BUCKET_VIGIL = ("s3:DeleteBucket", "s3:PutBucketObjectLockConfiguration", "s3:PutBucketPolicy",
                        "s3:PutBucketPublicAccessBlock", "s3:PutBucketVersioning", "s3:PutEncryptionConfiguration",
                        "s3:PutLifecycleConfiguration")
ARCHIVE_KEY_NEVER = ("kms:DisableKey", "kms:DisableKeyRotation", "kms:ScheduleKeyDeletion")
ARCHIVE_KEY_VIGIL = ("kms:PutKeyPolicy",)
TRAIL_NEVER = ("cloudtrail:RemoveTags", "cloudtrail:StopLogging")
TRAIL_VIGIL = ("cloudtrail:DeleteTrail", "cloudtrail:PutEventSelectors", "cloudtrail:UpdateTrail")
GUARDDUTY_NEVER = ("guardduty:DeleteDetector", "guardduty:DisableOrganizationAdminAccount",
                   "guardduty:DisassociateFromAdministratorAccount", "guardduty:DisassociateFromMasterAccount",
                   "guardduty:DisassociateMembers", "guardduty:StopMonitoringMembers")
GUARDDUTY_VIGIL = ("guardduty:DeletePublishingDestination", "guardduty:UpdateDetector",
                   "guardduty:UpdateOrganizationConfiguration", "guardduty:UpdatePublishingDestination")
SECURITYHUB_NEVER = ("securityhub:BatchDisableStandards", "securityhub:DisableImportFindingsForProduct",
                     "securityhub:DisableOrganizationAdminAccount", "securityhub:DisableSecurityHub",
                     "securityhub:DisassociateFromAdministratorAccount", "securityhub:DisassociateFromMasterAccount",
                     "securityhub:DisassociateMembers")
SECURITYHUB_VIGIL = ("access-analyzer:DeleteAnalyzer", "securityhub:UpdateOrganizationConfiguration")
CONFIG_NEVER = ("config:DeleteConfigurationRecorder", "config:DeleteDeliveryChannel",
                "config:StopConfigurationRecorder")
CONFIG_VIGIL = ("config:PutConfigurationRecorder", "config:PutDeliveryChannel")
FLOW_LOGS_VIGIL = ("ec2:DeleteFlowLogs",)
SESSION_DOCUMENT = "SSM-SessionManagerRunShell"
SESSION_NEVER = ("ssm:RemoveTagsFromResource",)
SESSION_VIGIL = ("ssm:DeleteDocument", "ssm:UpdateDocument", "ssm:UpdateDocumentDefaultVersion")


@dataclass(frozen=True)
class Protection:
    """One protected thing: its resources and the calls denied on them."""

    sid: str  # the statements' Sid stem: letters and digits
    what: str  # as status.protections reads it
    resources: tuple[str, ...]
    never: tuple[str, ...]
    vigil: tuple[str, ...]
    condition: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    rcp: bool = False  # S3 and KMS resources: an RCP protects them from any caller too


Neighbour = tuple[str, str, dict[str, Any]]  # kind, name, {"spec": ..., "status": ...}
Builder = Callable[[str, dict[str, Any], dict[str, Any], str], list[Protection]]


def protections(neighbours: list[Neighbour], installation: str) -> list[Protection]:
    """The protections the namespace's objects call for, in a stable order (kind, then name)."""
    found: list[Protection] = []
    for kind, name, body in sorted(neighbours, key=lambda n: (KIND_ORDER.index(n[0]) if n[0] in KIND_ORDER
                                                               else len(KIND_ORDER), n[1])):
        build = BUILDERS.get(kind)
        if build is not None:
            found.extend(build(name, body.get("spec") or {}, body.get("status") or {}, installation))
    return found


def _stem(kind: str, name: str) -> str:
    return kind + "".join(part.capitalize() for part in name.replace(".", "-").split("-"))


def _log_archive(name: str, spec: dict[str, Any], status: dict[str, Any], _: str) -> list[Protection]:
    bucket = spec.get("bucketName", "")
    found = [Protection(_stem("Bucket", name), f"LogArchive {name}: bucket {bucket} and its objects",
                        (f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"), ARCHIVE_BUCKET_NEVER,
                        ARCHIVE_BUCKET_VIGIL, rcp=True)]
    key = status.get("kmsKeyArn")
    if key and key.startswith("arn:"):
        found.append(Protection(_stem("Key", name), f"LogArchive {name}: key {key}", (key,), ARCHIVE_KEY_NEVER,
                                ARCHIVE_KEY_VIGIL, rcp=True))
    return found


def _org_trail(name: str, spec: dict[str, Any], *_: Any) -> list[Protection]:
    trail = spec.get("trailName", "vigil-org-trail")
    return [Protection(_stem("Trail", name), f"OrgTrail {name}: trail {trail}",
                       (f"arn:aws:cloudtrail:*:*:trail/{trail}",), TRAIL_NEVER, TRAIL_VIGIL)]


def _everywhere(kind: str, stem: str, what: str, never: tuple[str, ...], vigil: tuple[str, ...]) -> Builder:
    """A service the whole organization runs: its calls are denied on every resource."""
    def build(name: str, *_: Any) -> list[Protection]:
        # One per organization (controls.claims): the stem alone names it.
        return [Protection(stem, f"{kind} {name}: {what}", ("*",), never, vigil)]
    return build


def _flow_logs(name: str, spec: dict[str, Any], status: dict[str, Any], installation: str) -> list[Protection]:
    # Only the flow logs Vigil manages: teams keep their own. The tag names the installation, so
    # a second Vigil's flow logs are its own guardrails' to protect.
    return [Protection(_stem("FlowLogs", name), f"FlowLogPolicy {name}: the flow logs Vigil manages", ("*",), (),
                       FLOW_LOGS_VIGIL, (("StringEquals", f"aws:ResourceTag/{INSTALLATION_TAG}", (installation,)),))]


def _session_logging(name: str, *_: Any) -> list[Protection]:
    return [Protection(_stem("Sessions", name), f"SessionLogging {name}: the {SESSION_DOCUMENT} preferences",
                       (f"arn:aws:ssm:*:*:document/{SESSION_DOCUMENT}",), SESSION_NEVER, SESSION_VIGIL)]


KIND_ORDER = ("LogArchive", "OrgTrail", "GuardDutyOrg", "SecurityHubBaseline", "ConfigBaseline", "FlowLogPolicy",
              "SessionLogging")
BUILDERS: dict[str, Builder] = {
    "LogArchive": _log_archive,
    "OrgTrail": _org_trail,
    "GuardDutyOrg": _everywhere("GuardDutyOrg", "GuardDuty", "detectors, members and the delegated administrator",
                                GUARDDUTY_NEVER, GUARDDUTY_VIGIL),
    "SecurityHubBaseline": _everywhere("SecurityHubBaseline", "SecurityHub", "hubs, standards, members and the delegated administrator",
                                       SECURITYHUB_NEVER, SECURITYHUB_VIGIL),
    "ConfigBaseline": _everywhere("ConfigBaseline", "Config", "recorders and delivery channels", CONFIG_NEVER, CONFIG_VIGIL),
    "FlowLogPolicy": _flow_logs,
    "SessionLogging": _session_logging,
}
