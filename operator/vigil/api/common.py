"""Types every kind shares: references, policies, durations, AWS identifiers, bounds, validation
rules, conditions, status.

These models are the single source of the CRD schemas (see ``vigil.crdgen``): a constraint written
here is enforced twice, at admission by the API server and again by the operator before any AWS
call, so a spec that slips past one never reaches AWS. Rules across fields are ``ValidationRule``s:
CEL for the server and Python for the operator, side by side with one message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, GetCoreSchemaHandler, GetJsonSchemaHandler,
                      model_validator)
from pydantic.alias_generators import to_camel
from pydantic_core import core_schema

GROUP = "vigil.dev"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"

# Patterns are anchored and kept to what AWS documents, so a typo fails at `kubectl apply`. What a
# pattern cannot say (an IP address, a reserved prefix) is a ValidationRule on the type below; how
# each rule reads in words is the type's RULE (see ``aws_rule``), which `kubectl explain` shows.
ACCOUNT_ID_PATTERN = r"^[0-9]{12}$"
# AWS names a Region <area>[-<partition>]-<direction>-<number> (us-east-1, us-gov-west-1,
# eusc-de-east-1). The areas are left open: AWS opens Regions in new areas (il-, mx- lately), and
# whether a name is a Region the account has enabled is the operator's check (account:ListRegions).
_REGION = (r"([a-z]{2}|[a-z]{2}-gov|[a-z]{2}-iso[bef]?|eusc-de)"
           r"-(north|south|east|west|central|northeast|northwest|southeast|southwest)-[1-9][0-9]?")
REGION_PATTERN = f"^{_REGION}$"
_PARTITION = r"aws(-cn|-us-gov|-iso|-iso-[bef]|-eusc)?"
ARN_PATTERN = rf"^arn:{_PARTITION}:[a-z0-9-]+:[a-z0-9-]*:([0-9]{{12}})?:.+$"
# A KMS key id is a UUID, or mrk- and 32 hex digits for a multi-Region key.
_KMS_KEY_ID = r"(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
KMS_KEY_ARN_PATTERN = rf"^arn:{_PARTITION}:kms:{_REGION}:[0-9]{{12}}:key/{_KMS_KEY_ID}$"
BUCKET_NAME_PATTERN = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
S3_BUCKET_ARN_PATTERN = rf"^arn:{_PARTITION}:s3:::[a-z0-9][a-z0-9.-]{{1,61}}[a-z0-9](/.*)?$"
KMS_ALIAS_PATTERN = r"^alias/[a-zA-Z0-9/_-]{1,250}$"
OU_ID_PATTERN = r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$"
IAM_ROLE_NAME_PATTERN = r"^[A-Za-z0-9_+=,.@-]{1,64}$"
K8S_NAME_PATTERN = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"
# S3's safe characters for keys; the prefix names a folder, so it does not end with a slash.
S3_PREFIX_PATTERN = r"^$|^[a-zA-Z0-9!_.*'()/-]{0,199}[a-zA-Z0-9!_.*'()-]$"
LOG_GROUP_NAME_PATTERN = r"^[.\-_/#A-Za-z0-9]{1,512}$"
# CloudTrail: letters, digits and . _ -, starting and ending with a letter or digit, no two of
# . _ - side by side.
TRAIL_NAME_PATTERN = r"^[a-zA-Z0-9]([._-]?[a-zA-Z0-9])*$"
# Four dot-separated numbers: what S3 and CloudTrail call "formatted as an IP address".
IP_ADDRESS_PATTERN = r"^[0-9]+(\.[0-9]+){3}$"
# Go's time.ParseDuration subset people actually write: "90s", "5m", "1h30m".
DURATION_PATTERN = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"

# The key a type's rule in words is kept under in its JSON schema; crdgen moves it into the
# field's description (after the field's own words), so `kubectl explain` states every rule.
RULE_KEY = "x-vigil-rule"


def aws_rule(words: str) -> dict[str, str]:
    """``json_schema_extra`` of a type: the rule AWS documents for it, in words."""
    return {RULE_KEY: words}


def _cel_string(text: str) -> str:
    for plain, escaped in (("\\", "\\\\"), ("'", "\\'")):
        text = text.replace(plain, escaped)
    return f"'{text}'"


# --- validation rules ----------------------------------------------------------------------


class _AfterValidation:
    """As ``Annotated`` metadata of a field: ``check`` runs after the field's own validation."""

    def check(self, value: Any) -> Any:
        raise NotImplementedError

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.check, handler(source))


VALUE = "{value}"  # in a ValidationRule's message: the value it refused


class RuleViolation(ValueError):
    """A ValidationRule that does not hold; ``field``, the one the API server's error points at
    (below the model the rule is on), so the operator's error can point at it too."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ValidationRule(_AfterValidation):
    """A rule the schema's keywords cannot say, written once and enforced twice: by the API server
    as an ``x-kubernetes-validations`` entry (CEL) and by the operator as ``holds`` (Python), for a
    cluster whose CRD is older than the operator. A model lists its rules in ``validation_rules``;
    a rule on one field's value goes in that field's ``Annotated`` metadata."""

    cel: str  # over `self`: the model's object, or the field's value
    holds: Callable[[Any], bool]  # the same rule over the parsed model or value
    # The operator's error points at the model, so the message names the fields. On a string
    # field, "{value}" in it stands for the value: the server says it with a messageExpression.
    message: str
    field: str | None = None  # on a model: the wire name of the field the server's error points at
    reason: str = "FieldValueInvalid"  # the StatusCause reason: FieldValue{Invalid,Forbidden,Required,Duplicate}

    def schema(self) -> dict[str, str]:
        entry = {"rule": self.cel, "message": self.message.replace(VALUE, "the value"), "reason": self.reason}
        if VALUE in self.message:
            before, after = self.message.split(VALUE, 1)
            entry["messageExpression"] = " + ".join(
                part for part in (_cel_string(before) if before else "", "self", _cel_string(after) if after else "")
                if part)
        if self.field:
            entry["fieldPath"] = f".{self.field}"
        return entry

    def check(self, value: Any) -> Any:
        if not self.holds(value):
            raise RuleViolation(self.message.replace(VALUE, str(value)), self.field)
        return value

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> dict[str, Any]:
        json_schema = handler(schema)
        json_schema.setdefault("x-kubernetes-validations", []).append(self.schema())
        return json_schema


@dataclass(frozen=True)
class Unique(_AfterValidation):
    """A list whose items (or, with ``key``, whose items' ``key`` fields) appear once each. The API
    server checks it as list type ``set`` or ``map``, kubebuilder's ``+listType``: no CEL, so no
    cost whatever the list's length, and server-side apply merges the list item by item."""

    message: str
    key: str | None = None  # the items' attribute; camelCase on the wire

    def check(self, items: list[Any]) -> list[Any]:
        seen = [getattr(item, self.key) for item in items] if self.key else items
        if len(set(seen)) != len(seen):
            raise ValueError(self.message)
        return items

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema,
                                     handler: GetJsonSchemaHandler) -> dict[str, Any]:
        json_schema = handler(schema)
        if self.key:
            json_schema.update({"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": [to_camel(self.key)]})
        else:
            json_schema["x-kubernetes-list-type"] = "set"
        return json_schema


# --- bounds ----------------------------------------------------------------------------------
# The API server prices each CEL rule by the largest value the schema admits and refuses a CRD
# whose rules could cost more than its budget, so every list, string and map of a spec is
# bounded (enums are bounded by their longest value). Bounds are AWS's own limits where AWS has
# one, and leave room for organizations of thousands of accounts.

MAX_ACCOUNTS = 10_000  # account ids in one list: more than the largest organizations hold
MAX_ORGANIZATIONAL_UNITS = 2_000  # AWS Organizations' limit of OUs per organization
MAX_REGIONS = 64  # AWS has fewer than 40; new ones keep coming
MAX_REGION_LENGTH = 32  # region codes are under 20 characters
MAX_ARN_LENGTH = 2048  # AWS's limit for an ARN
MAX_LOG_GROUP_NAME_LENGTH = 512  # CloudWatch Logs' limit
MAX_DURATION_LENGTH = 32  # "1h30m" and the like

AccountId = Annotated[str, Field(pattern=ACCOUNT_ID_PATTERN, max_length=12, json_schema_extra=aws_rule(
    "An AWS account id: exactly 12 digits. The operator also checks it is an ACTIVE account of the organization."))]
AccountIds = Annotated[list[AccountId], Field(max_length=MAX_ACCOUNTS), Unique("lists an account twice")]
Region = Annotated[str, Field(pattern=REGION_PATTERN, max_length=MAX_REGION_LENGTH, json_schema_extra=aws_rule(
    "An AWS Region code as AWS names Regions, <area>-<direction>-<number> (eu-west-1, ap-southeast-2, "
    "us-gov-west-1); a typo such as us-esat-1 is refused here, and the operator checks with account:ListRegions "
    "that the Region exists and that the accounts have enabled it."))]
Regions = Annotated[list[Region], Field(max_length=MAX_REGIONS), Unique("lists a region twice")]


def _not_ip_address(what: str) -> ValidationRule:
    return ValidationRule(f"!self.matches({_cel_string(IP_ADDRESS_PATTERN)})",
                          lambda value: re.search(IP_ADDRESS_PATTERN, value) is None,
                          f"{VALUE} is formatted as an IP address, which {what} must not be")


def _no_prefix(prefixes: tuple[str, ...], message: str) -> ValidationRule:
    return ValidationRule(" && ".join(f"!self.startsWith({_cel_string(p)})" for p in prefixes),
                          lambda value: not value.startswith(prefixes), message)


def _no_suffix(suffixes: tuple[str, ...], message: str) -> ValidationRule:
    return ValidationRule(" && ".join(f"!self.endsWith({_cel_string(s)})" for s in suffixes),
                          lambda value: not value.endswith(suffixes), message)


# Amazon S3 User Guide, "General purpose bucket naming rules".
BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
BucketName = Annotated[
    str,
    Field(pattern=BUCKET_NAME_PATTERN, min_length=3, max_length=63, json_schema_extra=aws_rule(
        "S3's bucket naming rules: 3 to 63 characters; lowercase letters, digits, periods and hyphens; beginning "
        "and ending with a letter or digit; no two adjacent periods; not formatted as an IP address (192.168.5.4); "
        f"not beginning with {', '.join(BUCKET_RESERVED_PREFIXES)}; not ending with "
        f"{', '.join(BUCKET_RESERVED_SUFFIXES)}.")),
    ValidationRule("!self.contains('..')", lambda value: ".." not in value,
                   f"{VALUE} has two adjacent periods, which S3 bucket names must not have"),
    _not_ip_address("S3 bucket names"),
    _no_prefix(BUCKET_RESERVED_PREFIXES, f"{VALUE} begins with a prefix S3 reserves "
                                         f"({', '.join(BUCKET_RESERVED_PREFIXES)})"),
    _no_suffix(BUCKET_RESERVED_SUFFIXES, f"{VALUE} ends with a suffix S3 reserves "
                                         f"({', '.join(BUCKET_RESERVED_SUFFIXES)})"),
]
S3Prefix = Annotated[str, Field(pattern=S3_PREFIX_PATTERN, max_length=200, json_schema_extra=aws_rule(
    "An S3 key prefix (a folder) without a trailing slash: at most 200 characters (CloudTrail's limit), of S3's "
    "safe key characters: letters, digits and ! - _ . * ' ( ) /."))]
# CloudWatch Logs API Reference, CreateLogGroup.
LogGroupName = Annotated[
    str,
    Field(pattern=LOG_GROUP_NAME_PATTERN, max_length=MAX_LOG_GROUP_NAME_LENGTH, json_schema_extra=aws_rule(
        "A CloudWatch Logs log group name: 1 to 512 characters among a-z, A-Z, 0-9, _ - / . and #; not beginning "
        "with aws/ (/aws/... is allowed).")),
    _no_prefix(("aws/",), f"{VALUE} begins with aws/, which CloudWatch Logs reserves for log group names"),
]
OrganizationalUnitId = Annotated[str, Field(pattern=OU_ID_PATTERN, max_length=68, json_schema_extra=aws_rule(
    "An AWS Organizations OU id: ou-, 4 to 32 lowercase letters or digits (the root's), -, 8 to 32 more."))]
S3BucketArn = Annotated[str, Field(pattern=S3_BUCKET_ARN_PATTERN, max_length=MAX_ARN_LENGTH, json_schema_extra=aws_rule(
    "An S3 bucket ARN, arn:<partition>:s3:::<bucket>, optionally followed by /<key prefix>."))]
KmsKeyArn = Annotated[str, Field(pattern=KMS_KEY_ARN_PATTERN, max_length=MAX_ARN_LENGTH, json_schema_extra=aws_rule(
    "A KMS key ARN, arn:<partition>:kms:<region>:<account>:key/<key id>, the key id a UUID or mrk- and 32 hex "
    "digits (a multi-Region key); not an alias. The operator checks the key's Region against where it is used."))]
# KMS API Reference, CreateAlias.
KmsAlias = Annotated[
    str,
    Field(pattern=KMS_ALIAS_PATTERN, max_length=256, json_schema_extra=aws_rule(
        "A KMS alias: alias/ and a name of letters, digits, / _ and -, 256 characters in all; not under alias/aws/, "
        "which AWS reserves for AWS managed keys.")),
    _no_prefix(("alias/aws/",), f"{VALUE} is under alias/aws/, which KMS reserves for AWS managed keys"),
]
# CloudTrail User Guide, "Naming requirements for CloudTrail resources".
TrailName = Annotated[
    str,
    Field(pattern=TRAIL_NAME_PATTERN, min_length=3, max_length=128, json_schema_extra=aws_rule(
        "CloudTrail's naming requirements: 3 to 128 ASCII letters, digits, periods, underscores and dashes; "
        "beginning and ending with a letter or digit; no two of . _ - side by side (my-_trail, my--trail); not "
        "formatted as an IP address.")),
    _not_ip_address("CloudTrail trail names"),
]
# IAM API Reference, CreateRole: RoleName.
IamRoleName = Annotated[str, Field(pattern=IAM_ROLE_NAME_PATTERN, max_length=64, json_schema_extra=aws_rule(
    "An IAM role name: 1 to 64 letters, digits and _ + = , . @ -."))]

_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
# Go's time.Duration, which the API server's CEL parses a duration into, holds about 292 years;
# a longer one is refused there, so it is here.
_MAX_DURATION_SECONDS = (2**63 - 1) / 1e9


def parse_duration(text: str) -> timedelta:
    """Parse a Go-style duration ("1h30m", "90s") into a timedelta."""
    if not re.fullmatch(DURATION_PATTERN, text):
        raise ValueError(f"{text!r} is not a duration such as 90s, 5m or 1h30m")
    seconds = sum(float(n) * _DURATION_UNITS[unit] for n, unit in re.findall(r"([0-9.]+)(ms|s|m|h)", text))
    if seconds > _MAX_DURATION_SECONDS:
        raise ValueError(f"{text!r} is longer than a duration can be (about 292 years)")
    return timedelta(seconds=seconds)


# A zero interval would resync in a busy loop. CEL's duration() is Go's time.ParseDuration, whose
# syntax DURATION_PATTERN is a subset of.
POSITIVE_DURATION = ValidationRule("duration(self) > duration('0s')",
                                   lambda text: parse_duration(text) > timedelta(0), "must be longer than zero")

Duration = Annotated[
    str,
    Field(pattern=DURATION_PATTERN, max_length=MAX_DURATION_LENGTH, description="Go-style duration: 90s, 5m, 1h30m.",
          json_schema_extra=aws_rule("A duration longer than zero, such as 90s, 5m or 1h30m.")),
    POSITIVE_DURATION,
]

# CloudWatch Logs accepts only these retention periods; anything else fails at PutRetentionPolicy.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                      2192, 2557, 2922, 3288, 3653)


def _log_retention(days: int) -> int:
    if days not in LOG_RETENTION_DAYS:
        raise ValueError(f"CloudWatch Logs retention must be one of {', '.join(map(str, LOG_RETENTION_DAYS))}")
    return days


LogRetentionDays = Annotated[int, Field(json_schema_extra={"enum": list(LOG_RETENTION_DAYS), **aws_rule(
    "Days, one of the periods CloudWatch Logs' PutRetentionPolicy takes: "
    f"{', '.join(map(str, LOG_RETENTION_DAYS))}.")}), AfterValidator(_log_retention)]


def _validation_rules_schema(schema: dict[str, Any], model: type["Model"]) -> None:
    if model.validation_rules:
        schema["x-kubernetes-validations"] = [rule.schema() for rule in model.validation_rules]


class Model(BaseModel):
    """Base for every API model: camelCase on the wire, unknown fields are an error, and the
    model's ``validation_rules`` hold (in its CRD schema, and here)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid",
                              use_enum_values=True, validate_default=True,
                              json_schema_extra=_validation_rules_schema)
    validation_rules: ClassVar[tuple[ValidationRule, ...]] = ()

    @model_validator(mode="after")
    def _validation_rules_hold(self) -> Self:
        for rule in self.validation_rules:
            rule.check(self)
        return self


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
    """A reference to another Vigil object in the same namespace, by name."""

    name: str = Field(pattern=K8S_NAME_PATTERN, max_length=253, description="Name in the same namespace.")


class SecretKeySelector(Model):
    """One key of a Secret in the same namespace."""

    name: str = Field(pattern=K8S_NAME_PATTERN, max_length=253, description="The Secret's name, in the same "
                                                                             "namespace.")
    key: str = Field(min_length=1, max_length=253, description="The key of the Secret's data that holds the value.")


class Scope(str, Enum):
    SHARED_NETWORK = "SharedNetwork"
    WORKLOADS = "Workloads"
    ALL_ACCOUNTS = "AllAccounts"
    ACCOUNTS = "Accounts"


# FlowLogPolicy, ConfigBaseline and SessionLogging take accountIds, with scope: Accounts.
ACCOUNTS_WITH_SCOPE = ValidationRule(
    "(self.scope == 'Accounts') == (has(self.accountIds) && size(self.accountIds) > 0)",
    lambda spec: (spec.scope == Scope.ACCOUNTS.value) == bool(spec.account_ids),
    "accountIds is required with scope: Accounts, and only then", field="accountIds")


class ManagedSpec(Model):
    """What every kind but Organization carries."""

    organization_ref: LocalObjectReference = Field(
        description="The Organization this applies to: its accounts, governed Regions and access role.")
    management_policy: ManagementPolicy = Field(
        ManagementPolicy.ENFORCE,
        description="Enforce (the default): make AWS match the spec and correct drift. Audit: observe and report "
                    "in status, never write to AWS (not even on delete).")
    deletion_policy: DeletionPolicy = Field(
        DeletionPolicy.RETAIN,
        description="What deleting this object does in AWS. Retain (the default): nothing. Delete: remove what "
                    "Vigil created and owns; never S3 objects, a non-empty bucket, a log group, the archive's KMS "
                    "key or an adopted resource.")
    adoption_policy: AdoptionPolicy = Field(
        AdoptionPolicy.REFUSE,
        description="What to do with a resource the spec names that exists and no Vigil object owns: Refuse "
                    "(report AdoptionRequired, write nothing) or Adopt (tag it as this object's, then enforce). "
                    "Never takes a resource another Vigil object owns. Default: Refuse.")
    resync_interval: Duration = Field("5m", description="How often AWS is checked for drift. Default: 5m.")


class ControlSpec(ManagedSpec):
    """What every control kind carries: managed fields plus the regions it covers."""

    regions: Regions = Field(default_factory=list, description="The Regions this control covers, each one of the "
                                                               "Organization's regions.governed (the operator "
                                                               "checks). Empty (the default) means every governed "
                                                               "Region.")


# --- status -------------------------------------------------------------------------------

ConditionStatus = Literal["True", "False", "Unknown"]
CONDITION_REASON_PATTERN = r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$"


class Condition(StatusModel):
    """One condition, in metav1.Condition's shape."""

    type: str = Field(max_length=316, description="Ready, Compliant, Reconciling, Stalled, or a kind's own "
                                                  "(OrgTrail's IntegrityVerified).")
    status: ConditionStatus = Field(description="True, False or Unknown.")
    reason: str = Field(pattern=CONDITION_REASON_PATTERN, max_length=1024,
                        description="Why, in CamelCase: Reconciled, InvalidSpec, Drifted, WeakeningHeld, ... "
                                    "(docs/api.md lists them).")
    message: str = Field("", max_length=32768, description="What is wrong and what to do, in sentences; empty when "
                                                           "there is nothing to say.")
    observed_generation: int | None = Field(None, ge=0, description="The metadata.generation the condition was "
                                                                    "set from.")
    last_transition_time: str = Field(description="When status last changed (RFC 3339).")


class TargetCounts(StatusModel):
    total: int = Field(0, description="The targets of the last pass: each account x Region, or whatever the kind "
                                      "counts (a VPC, a log group).")
    compliant: int = Field(0, description="The targets where AWS matches the spec.")
    failed: int = Field(0, description="The targets that failed or could not be reached; each is in failures.")
    # kubectl printer columns cannot concatenate fields, so "compliant/total" is kept ready-made.
    summary: str = Field("0/0", description="compliant/total, for the TARGETS printer column.")


MAX_FAILURES = 20


class Failure(StatusModel):
    """A target that failed, or differs from the spec, at the last pass."""

    target: str = Field(description="account/region/resource, as 444444444444/eu-west-1/vpc-0abc.")
    reason: str = Field(description="Why, in CamelCase: Drifted, AccessDenied, Throttled, AccountUnreachable, "
                                    "RegionDisabled, ... (docs/api.md lists them).")
    message: str = Field("", description="A sentence naming the AWS action, the account and the Region, and "
                                         "saying what to do.")


class AllowedWeakening(StatusModel):
    """One use of a vigil.dev/allow-weakening entry: the change it let through, and when."""

    allowance: str = Field(description="The vigil.dev/allow-weakening entry that let it through, as "
                                       "<field>=<value>.")
    change: str = Field(description="The change made, as account/region/resource: field old -> new.")
    time: str = Field(description="When it was made (RFC 3339).")


class ManagedStatus(StatusModel):
    observed_generation: int | None = Field(None, description="The metadata.generation this status was written "
                                                              "for.")
    conditions: list[Condition] = Field(
        default_factory=list,
        json_schema_extra={"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"]},
        description="Ready, Compliant, Reconciling and Stalled (and a kind's own), one per type.",
    )
    targets: TargetCounts = Field(default_factory=TargetCounts, description="How many targets the last pass "
                                                                            "covered, and how they stand.")
    failures: list[Failure] = Field(default_factory=list, max_length=MAX_FAILURES,
                                    description="The targets that failed or drifted at the last pass: at most 20, "
                                                "most recent first.")
    last_reconcile_time: str | None = Field(None, description="When Vigil last reconciled the object (RFC 3339).")
    drift_corrections: int = Field(0, description="Writes made to undo out-of-band changes, in all: counted once the "
                                                  "baseline has held (creating or adopting is not drift).")
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
