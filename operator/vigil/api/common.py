"""Types every kind shares: references, policies, durations, AWS identifiers, conditions, status.

These models are the single source of the CRD schemas (see ``vigil.crdgen``): a constraint written
here is enforced twice, at admission by the API server and again by the operator before any AWS
call, so a spec that slips past one never reaches AWS.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import Enum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

GROUP = "vigil.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

# Patterns are anchored and kept to what AWS documents, so a typo fails at `kubectl apply`.
ACCOUNT_ID_PATTERN = r"^[0-9]{12}$"
REGION_PATTERN = r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$"
ARN_PATTERN = r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:([0-9]{12})?:.+$"
KMS_KEY_ARN_PATTERN = r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$"
S3_BUCKET_ARN_PATTERN = r"^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$"
BUCKET_NAME_PATTERN = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
KMS_ALIAS_PATTERN = r"^alias/[a-zA-Z0-9/_-]{1,250}$"
OU_ID_PATTERN = r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$"
IAM_ROLE_NAME_PATTERN = r"^[A-Za-z0-9_+=,.@-]{1,64}$"
K8S_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
S3_PREFIX_PATTERN = r"^$|^[a-zA-Z0-9!_.*'()/-]{1,200}[^/]$"
LOG_GROUP_NAME_PATTERN = r"^[\.\-_/#A-Za-z0-9]{1,512}$"
# Go's time.ParseDuration subset people actually write: "90s", "5m", "1h30m".
DURATION_PATTERN = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"

AccountId = Annotated[str, Field(pattern=ACCOUNT_ID_PATTERN, description="12-digit AWS account id.")]
Region = Annotated[str, Field(pattern=REGION_PATTERN, description="AWS region code, e.g. eu-west-1.")]
BucketName = Annotated[str, Field(pattern=BUCKET_NAME_PATTERN, min_length=3, max_length=63)]
S3Prefix = Annotated[
    str, Field(pattern=S3_PREFIX_PATTERN, max_length=200, description="Key prefix without a trailing slash.")
]
LogGroupName = Annotated[str, Field(pattern=LOG_GROUP_NAME_PATTERN)]
OrganizationalUnitId = Annotated[str, Field(pattern=OU_ID_PATTERN)]
S3BucketArn = Annotated[str, Field(pattern=S3_BUCKET_ARN_PATTERN)]

_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> timedelta:
    """Parse a Go-style duration ("1h30m", "90s") into a timedelta."""
    if not re.fullmatch(DURATION_PATTERN, text):
        raise ValueError(f"{text!r} is not a duration such as 90s, 5m or 1h30m")
    seconds = sum(float(n) * _DURATION_UNITS[unit] for n, unit in re.findall(r"([0-9.]+)(ms|s|m|h)", text))
    return timedelta(seconds=seconds)


def _positive_duration(text: str) -> str:
    if parse_duration(text) <= timedelta(0):
        raise ValueError("must be longer than zero")
    return text


Duration = Annotated[
    str,
    Field(pattern=DURATION_PATTERN, description="Go-style duration: 90s, 5m, 1h30m."),
    AfterValidator(_positive_duration),
]

# CloudWatch Logs accepts only these retention periods; anything else fails at PutRetentionPolicy.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)


def _log_retention(days: int) -> int:
    if days not in LOG_RETENTION_DAYS:
        raise ValueError(f"CloudWatch Logs retention must be one of {', '.join(map(str, LOG_RETENTION_DAYS))}")
    return days


LogRetentionDays = Annotated[int, Field(json_schema_extra={"enum": list(LOG_RETENTION_DAYS)}),
                             AfterValidator(_log_retention)]


class Model(BaseModel):
    """Base for every API model: camelCase on the wire, unknown fields are an error."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid",
                              use_enum_values=True, validate_default=True)


class StatusModel(Model):
    # Status is written by the operator; reading an older status must not fail on a removed field.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore",
                              use_enum_values=True)


class ManagementPolicy(str, Enum):
    ENFORCE = "Enforce"  # make AWS match the spec
    AUDIT = "Audit"  # observe and report; never write


class DeletionPolicy(str, Enum):
    RETAIN = "Retain"  # audit evidence outlives its custom resource
    DELETE = "Delete"  # remove what Vigil created; never S3 objects, never log data


class AdoptionPolicy(str, Enum):
    REFUSE = "Refuse"  # a resource that exists and no Vigil object owns: reported, never written
    ADOPT = "Adopt"  # take it over: tag it as this object's, then enforce the spec on it


class LocalObjectReference(Model):
    name: str = Field(pattern=K8S_NAME_PATTERN, max_length=253, description="Name in the same namespace.")


class SecretKeySelector(Model):
    name: str = Field(pattern=K8S_NAME_PATTERN, max_length=253)
    key: str = Field(min_length=1, max_length=253)


class Scope(str, Enum):
    SHARED_NETWORK = "SharedNetwork"
    WORKLOADS = "Workloads"
    ALL_ACCOUNTS = "AllAccounts"
    ACCOUNTS = "Accounts"


class ManagedSpec(Model):
    """What every kind but Organization carries."""

    organization_ref: LocalObjectReference = Field(description="The Organization this applies to.")
    management_policy: ManagementPolicy = ManagementPolicy.ENFORCE
    deletion_policy: DeletionPolicy = DeletionPolicy.RETAIN
    adoption_policy: AdoptionPolicy = Field(
        AdoptionPolicy.REFUSE,
        description="What to do with a resource the spec names that exists and no Vigil object owns: Refuse "
                    "(report AdoptionRequired, write nothing) or Adopt (tag it as this object's, then enforce). "
                    "Never takes a resource another Vigil object owns.")
    resync_interval: Duration = Field("5m", description="How often AWS is checked for drift.")


class ControlSpec(ManagedSpec):
    """What every control kind carries: managed fields plus the regions it covers."""

    regions: list[Region] = Field(default_factory=list, description="Empty means the governed regions.")


# --- status -------------------------------------------------------------------------------

ConditionStatus = Literal["True", "False", "Unknown"]
CONDITION_REASON_PATTERN = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"


class Condition(StatusModel):
    """metav1.Condition."""

    type: str = Field(max_length=316)
    status: ConditionStatus
    reason: str = Field(pattern=CONDITION_REASON_PATTERN, max_length=1024)
    message: str = Field("", max_length=32768)
    observed_generation: int | None = Field(None, ge=0)
    last_transition_time: str


class TargetCounts(StatusModel):
    total: int = 0
    compliant: int = 0
    failed: int = 0
    # kubectl printer columns cannot concatenate fields, so "compliant/total" is kept ready-made.
    summary: str = "0/0"


MAX_FAILURES = 20


class Failure(StatusModel):
    target: str
    reason: str
    message: str = ""


class AllowedWeakening(StatusModel):
    """One use of a vigil.dev/allow-weakening entry: the change it let through, and when."""

    allowance: str
    change: str
    time: str


class ManagedStatus(StatusModel):
    observed_generation: int | None = None
    conditions: list[Condition] = Field(
        default_factory=list,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
    )
    targets: TargetCounts = Field(default_factory=TargetCounts)
    failures: list[Failure] = Field(default_factory=list, max_length=MAX_FAILURES)
    last_reconcile_time: str | None = None
    drift_corrections: int = 0
    allowed_weakenings: list[AllowedWeakening] = Field(
        default_factory=list, max_length=MAX_FAILURES,
        description="The weakening changes applied under the vigil.dev/allow-weakening annotation, most recent first.")


class KindInfo(BaseModel):
    """How a kind appears in Kubernetes: names, printer columns."""

    kind: str
    plural: str
    short_names: list[str]
    spec: type[Model]
    status: type[StatusModel]
    targets_column: str = ".status.targets.summary"
    extra_columns: list[dict[str, str]] = Field(default_factory=list)

    @property
    def singular(self) -> str:
        return self.kind.lower()
