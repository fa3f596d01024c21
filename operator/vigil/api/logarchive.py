"""LogArchive: the central, locked-down, KMS-encrypted log bucket in the log-archive account."""

from __future__ import annotations

from enum import Enum

from pydantic import Field

from .common import BucketName, KmsAlias, KmsKeyArn, ManagedSpec, ManagedStatus, Model, ValidationRule
from .journal import Journal


class KmsSettings(Model):
    """The archive bucket's KMS key: Vigil's own (create: true, the default) or an existing one (keyArn)."""

    create: bool = Field(True, description="Create (or adopt, by alias) a Vigil key in the log-archive account. "
                                           "Default: true.")
    alias: KmsAlias = Field("alias/vigil-log-archive", description="The alias of the key Vigil creates. Default: "
                                                                   "alias/vigil-log-archive.")
    key_arn: KmsKeyArn | None = Field(None, description="Use this existing key instead. S3 encrypts with a key of "
                                                         "the bucket's Region only: the organization's home Region.")

    # A key is created or brought, never both: one that is brought is used and never modified.
    validation_rules = (
        ValidationRule("!self.create || !has(self.keyArn)", lambda kms: not (kms.create and kms.key_arn),
                       "set create: false when giving keyArn", field="keyArn", reason="FieldValueForbidden"),
        ValidationRule("self.create || has(self.keyArn)", lambda kms: kms.create or bool(kms.key_arn),
                       "give keyArn, or set create: true", field="keyArn", reason="FieldValueRequired"),
    )


class Retention(Model):
    """Optional: Vigil's lifecycle rule (id vigil-retention) on log objects; without it logs are kept for ever."""

    # S3 lifecycle rules count days as positive integers.
    expire_after_days: int | None = Field(None, ge=1, le=36500, description="Days after which S3 expires log "
                                                                            "objects: 1 to 36500. Unset: never.")
    transition_to_glacier_after_days: int | None = Field(
        None, ge=1, le=36500, description="Days after which S3 moves log objects to Glacier: 1 to 36500, "
                                          "less than expireAfterDays (S3 refuses a rule expiring objects before it "
                                          "transitions them).")

    # S3 refuses a lifecycle rule that expires objects before (or as) it transitions them.
    validation_rules = (ValidationRule(
        "!has(self.expireAfterDays) || !has(self.transitionToGlacierAfterDays)"
        " || self.transitionToGlacierAfterDays < self.expireAfterDays",
        lambda r: r.expire_after_days is None or r.transition_to_glacier_after_days is None
        or r.transition_to_glacier_after_days < r.expire_after_days,
        "transitionToGlacierAfterDays must be less than expireAfterDays", field="transitionToGlacierAfterDays"),)


class ObjectLockMode(str, Enum):
    GOVERNANCE = "GOVERNANCE"
    COMPLIANCE = "COMPLIANCE"


class ObjectLock(Model):
    """S3 Object Lock on the archive: every object version written is kept, unchanged and undeletable, for a period.

    Turning Object Lock on is for good: S3 has no call that turns it off. COMPLIANCE binds everyone, the root user
    included, until each object's period ends; it is chosen only with acknowledgeComplianceModeIsPermanent."""

    mode: ObjectLockMode = Field(ObjectLockMode.GOVERNANCE,
                                 description="S3 Object Lock's default retention mode: GOVERNANCE (the default; "
                                             "s3:BypassGovernanceRetention can still delete) or COMPLIANCE (nobody "
                                             "can, the root user included, until the period ends; needs "
                                             "acknowledgeComplianceModeIsPermanent: true).")
    days: int = Field(ge=1, le=36500, description="The default retention period: a positive number of days, "
                                                  "at most 36500 (100 years).")
    enable_on_existing_bucket: bool = Field(
        False, description="Turn Object Lock on for a bucket that exists without it (S3's PutObjectLockConfiguration "
                           "on a versioned bucket); S3 cannot turn it off again. Default: false, and a bucket found "
                           "without Object Lock is reported (ObjectLockNotEnabled), never changed. A bucket Vigil "
                           "creates gets Object Lock at creation whatever this says.")
    acknowledge_compliance_mode_is_permanent: bool = Field(
        False, description="Required true with mode COMPLIANCE: each object version written is then kept for the "
                           "days given, and until then nobody, the root user included, can delete it "
                           "or shorten its period, nor delete the bucket. Default: false.")

    # Compliance mode is an explicit, acknowledged choice: never a default, never a typo away.
    validation_rules = (ValidationRule(
        "self.mode != 'COMPLIANCE' || self.acknowledgeComplianceModeIsPermanent",
        lambda lock: lock.mode != ObjectLockMode.COMPLIANCE.value or lock.acknowledge_compliance_mode_is_permanent,
        "mode COMPLIANCE cannot be undone by anyone, the root user included, until each object's retention ends: "
        "set acknowledgeComplianceModeIsPermanent: true to choose it, or use GOVERNANCE",
        field="acknowledgeComplianceModeIsPermanent", reason="FieldValueRequired"),)


class LogArchiveSpec(ManagedSpec):
    """The archive bucket and its key, in the log-archive account and the home Region, and how long logs are kept."""

    bucket_name: BucketName = Field(description="The archive bucket, in the log-archive account; Vigil creates it "
                                                "if it does not exist.")
    kms: KmsSettings = Field(default_factory=KmsSettings)
    retention: Retention | None = None
    object_lock: ObjectLock | None = Field(None, description="Optional: S3 Object Lock on the log objects. Set when "
                                                             "Vigil creates the bucket; on a bucket that exists "
                                                             "without it, only with enableOnExistingBucket. Removed "
                                                             "from the spec, the bucket's Object Lock is left as it "
                                                             "is (S3 cannot turn it off).")
    journal: Journal | None = Field(None, description="Optional: keep Vigil's signed, hash-chained journal of its "
                                                      "verdicts for every object of the namespace in this bucket, "
                                                      "under its Object Lock retention (`vigil evidence` reads it). "
                                                      "Unset: no journal.")


class LogArchiveStatus(ManagedStatus):
    """What Vigil observed of the bucket and key at its last pass; written by the operator only."""

    bucket_arn: str | None = Field(None, description="The archive bucket's ARN.")
    kms_key_arn: str | None = Field(None, description="The ARN of the KMS key the bucket encrypts with.")
    account_id: str | None = Field(None, description="The account that holds the bucket: the log-archive account.")
    region: str | None = Field(None, description="The bucket's Region: the organization's home Region.")
    object_lock_enabled: bool | None = Field(None, description="Whether the bucket has S3 Object Lock on, as read at "
                                                               "the last pass (read only while the spec sets "
                                                               "objectLock).")
    journal_signing_key_arn: str | None = Field(None, description="The ARN of the asymmetric KMS key the journal's "
                                                                  "records are signed with (set while spec.journal "
                                                                  "is).")
