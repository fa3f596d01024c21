"""The journal: Vigil's own record of its verdicts, kept in the LogArchive's bucket (docs/evidence.md)."""

from __future__ import annotations

from pydantic import Field

from .common import KmsAlias, Model, S3Prefix

DEFAULT_PREFIX = "vigil-journal"
DEFAULT_SIGNING_KEY_ALIAS = "alias/vigil-journal-signing"


class Journal(Model):
    """After each reconcile of each object of the namespace, its verdict per target (account, Region, resource),
    appended to a hash chain of records in the archive bucket, each signed with an asymmetric KMS key Vigil creates.
    Written only while the LogArchive is in Enforce (Audit writes nothing)."""

    prefix: S3Prefix = Field(DEFAULT_PREFIX, description="Where the records go in the bucket: "
                                                         "<prefix>/<namespace>/<yyyy>/<mm>/<dd>/<seq>.json. "
                                                         "Default: vigil-journal.")
    signing_key_alias: KmsAlias = Field(DEFAULT_SIGNING_KEY_ALIAS,
                                        description="The alias of the ECC_NIST_P256 SIGN_VERIFY key Vigil creates (or "
                                                    "finds by this alias) in the log-archive account to sign each "
                                                    "record. Default: alias/vigil-journal-signing.")
