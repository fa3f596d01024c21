"""Every AWS operation Vigil calls, by control and by the account it calls it in, with the IAM
actions AWS authorizes it as: the one list. `vigil iam` writes the IAM policies from it
(vigil.iam_policies), and botocore's models are trimmed to its operations (vigil.aws.models).

An operation is botocore's name for an API call; an action is what IAM allows or denies. They
differ: S3 names its actions for permissions, not for its REST operations (ListObjectsV2 and
HeadBucket are s3:ListBucket), and some calls are checked as more than one action: tags given in a
create are checked as the service's tagging action, a role handed to a service as iam:PassRole, a
service-linked role AWS makes on first use as iam:CreateServiceLinkedRole. Each operation below
lists those too (``also``), as the Service Authorization Reference ("dependent actions") and the
service's own guide name them for the call as Vigil makes it.

Where Vigil works, and so which policy an operation's actions go in (`Role`):

- OPERATOR: the management account, with the operator's own credentials (no role assumed);
- MEMBER: every governed account, through the member role; the management account too, with the
  operator's credentials, when a control's scope covers it (scope: AllAccounts);
- LOG_ARCHIVE, SECURITY: what the member role also does in the log-archive account and in the
  security account (the delegated administrator).

A read changes nothing in AWS: the policies for Audit mode grant the reads only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from ..planning.config import (AGGREGATOR_POLICY_ARN, AGGREGATOR_ROLE_NAME, CONFIG_PRINCIPAL,
                               MULTI_ACCOUNT_SETUP_PRINCIPAL, SERVICE_LINKED_ROLE_NAME)
from ..planning.guardduty import GUARDDUTY_PRINCIPAL
from ..planning.orgtrail import CLOUDTRAIL_PRINCIPAL, CLOUDWATCH_ROLE_NAME
from ..planning.securityhub import ACCESS_ANALYZER_PRINCIPAL, SECURITYHUB_PRINCIPAL
from ..state.guardrails import RCP, SCP
from ..state.sessionlogging import PREFERENCES_DOCUMENT


class Role(str, Enum):
    """The policy an operation's actions go in, named for the account it is called in."""

    OPERATOR = "operator"
    MEMBER = "member"
    LOG_ARCHIVE = "log-archive"
    SECURITY = "security"


# Every IAM role Vigil creates is named so (a unit test checks the names). Its role writes reach
# those and no other: by exact name where the operator role or the member role could share the
# prefix, by the prefix in the log-archive account only, where the member role may not
# (`vigil iam` and the StackSet template refuse a member role named so).
ROLE_PREFIX = "vigil-"
# Filled in by `vigil iam` (vigil.iam_policies): the member role's name, the organization's id.
ROLE_NAME, ORGANIZATION_ID = "{role_name}", "{organization_id}"

Condition = tuple[str, str, tuple[str, ...]]  # operator, key, values


@dataclass(frozen=True)
class On:
    """The resources a grant covers, and under which conditions. ``name`` ends the Sid of the
    policy statement that holds it (statements are per control: OrgTrail, OrgTrailVigilRoles)."""

    name: str = ""
    resources: tuple[str, ...] = ("*",)
    conditions: tuple[Condition, ...] = ()


ANY = On()
CONFIG_RECORDER_ROLE = f"aws-service-role/{CONFIG_PRINCIPAL}/{SERVICE_LINKED_ROLE_NAME}"  # what Config records as
CONFIG_ROLE = On("RecorderRole", (f"arn:aws:iam::*:role/{CONFIG_RECORDER_ROLE}",))
SESSION_DOCUMENT = On("SessionDocument", (f"arn:aws:ssm:*:*:document/{PREFERENCES_DOCUMENT}",))
GUARDRAIL_TYPES = On("PolicyTypes", conditions=(("StringEquals", "organizations:PolicyType", (RCP, SCP)),))
MEMBER_ROLE = On("MemberRole", (f"arn:aws:iam::*:role/{ROLE_NAME}",),
                 (("StringEquals", "aws:ResourceOrgID", (ORGANIZATION_ID,)),))


@dataclass(frozen=True)
class Grant:
    """Actions on what ``on`` covers: a statement's worth of a policy."""

    actions: tuple[str, ...]
    on: On = ANY


def vigil_roles(name: str) -> On:
    """Roles Vigil creates, by name (a pattern)."""
    return On("VigilRoles", (f"arn:aws:iam::*:role/{name}",))


def tagging(action: str) -> Grant:
    """Tags given in a create call are checked as the service's tagging action too."""
    return Grant((action,))


def passing(role: str, service: str) -> Grant:
    """iam:PassRole for ``role`` (path and name, a pattern) handed to ``service``, and to no other."""
    name = "PassRoleTo" + service.split(".")[0].title().replace("-", "")
    return Grant(("iam:PassRole",), On(name, (f"arn:aws:iam::*:role/{role}",),
                                       (("StringEquals", "iam:PassedToService", (service,)),)))


def service_linked_role(*services: str) -> Grant:
    """The role AWS makes for ``services`` on their first use in an account, and no other."""
    return Grant(("iam:CreateServiceLinkedRole",), On("ServiceLinkedRoles", ("arn:aws:iam::*:role/aws-service-role/*",),
                                                      (("StringEquals", "iam:AWSServiceName", services),)))


# The IAM prefix of a botocore service, where they differ.
_PREFIXES = {"accessanalyzer": "access-analyzer"}
# S3 operations Vigil calls whose action is not s3:<operation> (Amazon S3 User Guide, "Required
# permissions for Amazon S3 API operations").
_S3_ACTIONS = {
    "HeadBucket": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "PutBucketEncryption": "s3:PutEncryptionConfiguration",
    "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "s3:PutLifecycleConfiguration",
    "PutObjectLockConfiguration": "s3:PutBucketObjectLockConfiguration",
    "GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
}


def action_of(service: str, operation: str) -> str:
    """The IAM action AWS authorizes a botocore operation as."""
    if service == "s3" and operation in _S3_ACTIONS:
        return _S3_ACTIONS[operation]
    return f"{_PREFIXES.get(service, service)}:{operation}"


@dataclass(frozen=True)
class Operation:
    """One botocore operation, and what IAM must allow for Vigil's call of it."""

    service: str  # botocore's service name: accessanalyzer, s3
    name: str  # botocore's operation name: CreateAnalyzer
    read: bool
    grants: tuple[Grant, ...]  # its own action first; none for a call IAM never refuses

    @property
    def actions(self) -> frozenset[str]:
        return frozenset(a for g in self.grants for a in g.actions)


def reads(service: str, *names: str, on: On = ANY) -> tuple[Operation, ...]:
    return tuple(Operation(service, name, True, (Grant((action_of(service, name),), on),)) for name in names)


def writes(service: str, *names: str, on: On = ANY) -> tuple[Operation, ...]:
    return tuple(Operation(service, name, False, (Grant((action_of(service, name),), on),)) for name in names)


def write(service: str, name: str, *also: Grant, on: On = ANY) -> Operation:
    """One write, with the further actions AWS checks for it as Vigil calls it."""
    return Operation(service, name, False, (Grant((action_of(service, name),), on), *also))


def read(service: str, name: str, *also: Grant, on: On = ANY) -> Operation:
    return Operation(service, name, True, (Grant((action_of(service, name),), on), *also))


@dataclass(frozen=True)
class Duty:
    """What one control does in one kind of account, and why."""

    control: str
    role: Role
    why: str
    operations: tuple[Operation, ...]


def duty(control: str, role: Role, why: str, *groups: Operation | Iterable[Operation]) -> Duty:
    operations: list[Operation] = []
    for group in groups:
        operations.extend([group] if isinstance(group, Operation) else group)
    return Duty(control, role, why, tuple(operations))


# Delegating a service's administration to the security account is the management account's:
# EnableOrganizationAdminAccount enables the service's trusted access and registers the delegated
# administrator itself, as the caller (Security Hub's reference lists these; GuardDuty's guide,
# "designating a delegated administrator", these and the account and OU reads).
DELEGATION = Grant(("organizations:DescribeOrganization", "organizations:EnableAWSServiceAccess",
                    "organizations:ListAWSServiceAccessForOrganization", "organizations:ListDelegatedAdministrators",
                    "organizations:RegisterDelegatedAdministrator"))
GUARDDUTY_DELEGATION = Grant(("organizations:DescribeAccount", "organizations:DescribeOrganizationalUnit",
                              *DELEGATION.actions))
# An organization-wide Config feature asks for the organization's trusted access and delegation;
# AWS's reference lists these for the delegated administrator's calls (they act from the
# management account only, where Vigil makes them itself).
CONFIG_ORGANIZATION = Grant(("organizations:EnableAWSServiceAccess", "organizations:ListDelegatedAdministrators"))
TRUSTED_ACCESS = (*reads("organizations", "ListAWSServiceAccessForOrganization"),
                  *writes("organizations", "EnableAWSServiceAccess"))


def own_roles(name: str) -> tuple[Operation, ...]:
    """Reading and writing IAM roles of Vigil's own (``name``, a pattern), their inline policy and tags."""
    on = vigil_roles(name)
    return (*reads("iam", "GetRole", "GetRolePolicy", on=on),
            write("iam", "CreateRole", Grant(("iam:TagRole",), on), on=on),
            *writes("iam", "UpdateAssumeRolePolicy", "PutRolePolicy", "DeleteRolePolicy", "DeleteRole", "TagRole", on=on))


AGGREGATOR_ROLE = vigil_roles(AGGREGATOR_ROLE_NAME)
# A KMS key of Vigil's, found by alias or by its owner tags, made with its policy, tags and rotation.
KEY = (*reads("kms", "DescribeKey", "ListKeys", "ListResourceTags", "GetKeyPolicy", "GetKeyRotationStatus"),
       write("kms", "CreateKey", tagging("kms:TagResource")),
       *writes("kms", "CreateAlias", "EnableKeyRotation", "PutKeyPolicy", "TagResource"))
# A log group of Vigil's: its retention, tags and (SessionLogging) key.
LOG_GROUP = (*reads("logs", "DescribeLogGroups", "ListTagsForResource"),
             write("logs", "CreateLogGroup", tagging("logs:TagResource")),
             *writes("logs", "PutRetentionPolicy", "TagResource"))

TRAIL_NEEDS = (Grant(("iam:GetRole",)), service_linked_role(CLOUDTRAIL_PRINCIPAL),
               passing(CLOUDWATCH_ROLE_NAME, CLOUDTRAIL_PRINCIPAL))

DUTIES: tuple[Duty, ...] = (
    duty("Organization", Role.OPERATOR,
         "Discovers the organization's accounts (and its OU tree when a spec selects by OU), checks the "
         "governed Regions are enabled, and assumes the member role in every account at each pass: in Audit "
         "too, so the role may only be the member role, in the organization.",
         Operation("sts", "GetCallerIdentity", True, ()),  # who Vigil is: AWS answers it whatever the policies
         Operation("sts", "AssumeRole", True, (Grant(("sts:AssumeRole",), MEMBER_ROLE),)),
         reads("organizations", "DescribeOrganization", "ListAccounts", "ListRoots", "ListAccountsForParent",
               "ListOrganizationalUnitsForParent"),
         reads("account", "ListRegions")),
    duty("Organization", Role.MEMBER,
         "Checks each account has enabled the governed opt-in Regions, before any write there.",
         reads("account", "ListRegions")),

    duty("LogArchive", Role.LOG_ARCHIVE,
         "The central bucket and its KMS key: created, encrypted, versioned, public access blocked, its "
         "policy, lifecycle and Object Lock kept; the bucket deleted only when Vigil made it and it is empty.",
         KEY,
         reads("s3", "HeadBucket", "GetBucketLocation", "GetBucketEncryption", "GetBucketVersioning",
               "GetPublicAccessBlock", "GetBucketPolicy", "GetBucketLifecycleConfiguration", "GetBucketTagging",
               "GetObjectLockConfiguration"),
         # The owner tags go with the create; Object Lock is chosen at creation, which needs both.
         write("s3", "CreateBucket", tagging("s3:TagResource"),
               Grant(("s3:PutBucketObjectLockConfiguration", "s3:PutBucketVersioning"))),
         writes("s3", "PutBucketTagging", "PutPublicAccessBlock", "PutBucketVersioning", "PutBucketEncryption",
                "PutBucketPolicy", "PutObjectLockConfiguration", "PutBucketLifecycleConfiguration",
                "DeleteBucketLifecycle", "DeleteBucket")),

    duty("LogArchive", Role.LOG_ARCHIVE,
         "With spec.journal: the journal's asymmetric signing key, found by its alias or created; each "
         "reconcile's record signed with it (its SHA-256, MessageType DIGEST) and written to the bucket, only "
         "where no object is yet (IfNoneMatch), the chain's newest record found by listing; `vigil evidence` "
         "reads the records back and the key's public key.",
         reads("kms", "DescribeKey", "GetPublicKey"),
         write("kms", "CreateKey", tagging("kms:TagResource")),
         writes("kms", "CreateAlias", "Sign"),
         reads("s3", "ListObjectsV2", "GetObject"),
         writes("s3", "PutObject")),

    duty("OrgTrail", Role.OPERATOR,
         "The organization trail in the home Region, with the trusted access CloudTrail needs for it and, "
         "with cloudWatchLogs, its log group and the role CloudTrail delivers with.",
         TRUSTED_ACCESS,
         reads("cloudtrail", "DescribeTrails", "GetTrailStatus", "GetEventSelectors", "ListTags"),
         # Integrity verification asks CloudTrail's event history who stopped and started the trail.
         reads("cloudtrail", "LookupEvents"),
         # An organization trail needs CloudTrail's service-linked role, which CloudTrail looks for (and
         # makes) as the caller; the CloudWatch Logs role is passed to CloudTrail.
         write("cloudtrail", "CreateTrail", tagging("cloudtrail:AddTags"), *TRAIL_NEEDS),
         write("cloudtrail", "UpdateTrail", *TRAIL_NEEDS),
         writes("cloudtrail", "PutEventSelectors", "StartLogging", "AddTags", "DeleteTrail"),
         LOG_GROUP,
         own_roles(CLOUDWATCH_ROLE_NAME)),
    duty("OrgTrail", Role.LOG_ARCHIVE,
         "Integrity verification reads the trail's digests and log files in the archive, as the log-archive "
         "account, and CloudTrail's public keys to check their signatures.",
         reads("s3", "ListObjectsV2", "GetObject"),
         reads("cloudtrail", "ListPublicKeys")),

    duty("Guardrails", Role.OPERATOR,
         "Service and resource control policies: the policy types enabled on the root, Vigil's policies "
         "created, rewritten, attached, detached and deleted; no other type of organization policy.",
         reads("organizations", "ListRoots", "ListPolicies", "ListPoliciesForTarget", "ListTargetsForPolicy",
               "DescribePolicy", "ListTagsForResource"),
         write("organizations", "CreatePolicy", Grant(("organizations:TagResource",), GUARDRAIL_TYPES),
               on=GUARDRAIL_TYPES),
         writes("organizations", "EnablePolicyType", "UpdatePolicy", "AttachPolicy", "DetachPolicy", "DeletePolicy",
                "TagResource", on=GUARDRAIL_TYPES)),

    duty("GuardDutyOrg", Role.OPERATOR,
         "Trusted access for GuardDuty and the security account as its delegated administrator, per Region.",
         TRUSTED_ACCESS,
         reads("guardduty", "ListOrganizationAdminAccounts"),
         write("guardduty", "EnableOrganizationAdminAccount", GUARDDUTY_DELEGATION)),
    duty("GuardDutyOrg", Role.SECURITY,
         "As delegated administrator: the detector and its features, the organization configuration, every "
         "account enrolled as a member, and the findings exported to the archive.",
         reads("guardduty", "ListDetectors", "GetDetector", "DescribeOrganizationConfiguration", "ListMembers",
               "GetMemberDetectors", "ListPublishingDestinations", "DescribePublishingDestination"),
         # GuardDuty's role, and Malware Protection's when that feature is on, are made on first use.
         write("guardduty", "CreateDetector", tagging("guardduty:TagResource"),
               service_linked_role(GUARDDUTY_PRINCIPAL, f"malware-protection.{GUARDDUTY_PRINCIPAL}")),
         write("guardduty", "UpdateDetector",
               service_linked_role(GUARDDUTY_PRINCIPAL, f"malware-protection.{GUARDDUTY_PRINCIPAL}")),
         # GuardDuty checks the caller can reach the export's bucket.
         write("guardduty", "CreatePublishingDestination", tagging("guardduty:TagResource"),
               Grant(("s3:GetObject", "s3:ListBucket"))),
         write("guardduty", "UpdatePublishingDestination", Grant(("s3:GetObject", "s3:ListBucket"))),
         writes("guardduty", "TagResource", "UpdateOrganizationConfiguration", "CreateMembers",
                "StartMonitoringMembers", "DeletePublishingDestination")),

    duty("SecurityHubBaseline", Role.OPERATOR,
         "Trusted access for Security Hub and IAM Access Analyzer, the security account as their delegated "
         "administrator, and the management account's own hub (AWS enrolls it only once it is on).",
         TRUSTED_ACCESS,
         read("securityhub", "ListOrganizationAdminAccounts",
              Grant(("organizations:DescribeOrganization", "organizations:ListDelegatedAdministrators"))),
         write("securityhub", "EnableOrganizationAdminAccount", DELEGATION),
         reads("organizations", "ListDelegatedServicesForAccount"),
         writes("organizations", "RegisterDelegatedAdministrator"),
         reads("securityhub", "DescribeHub"),
         write("securityhub", "EnableSecurityHub", tagging("securityhub:TagResource"),
               service_linked_role(SECURITYHUB_PRINCIPAL)),
         # Configured centrally: the root the configuration policy is associated to.
         reads("organizations", "ListRoots")),
    duty("SecurityHubBaseline", Role.MEMBER,
         "Each account's own Security Hub standards and product integrations.",
         reads("securityhub", "GetEnabledStandards", "ListEnabledProductsForImport"),
         writes("securityhub", "BatchEnableStandards", "EnableImportFindingsForProduct")),
    duty("SecurityHubBaseline", Role.SECURITY,
         "As delegated administrator: the hub, the organization configuration, every account enrolled as a "
         "member, the finding aggregator, the active findings counted, the configuration policy when configured "
         "centrally; the organization's IAM Access Analyzer.",
         reads("securityhub", "DescribeHub", "DescribeOrganizationConfiguration", "ListFindingAggregators",
               "GetFindingAggregator", "ListMembers", "GetFindings", "ListTagsForResource"),
         write("securityhub", "EnableSecurityHub", tagging("securityhub:TagResource"),
               service_linked_role(SECURITYHUB_PRINCIPAL)),
         writes("securityhub", "TagResource", "UpdateOrganizationConfiguration", "CreateFindingAggregator",
                "UpdateFindingAggregator", "CreateMembers"),
         # The standards of the region by name; central configuration (the configuration policy and its
         # association to the root); the newer Security Hub, reported only.
         reads("securityhub", "DescribeStandards", "ListConfigurationPolicies", "GetConfigurationPolicy",
               "GetConfigurationPolicyAssociation", "DescribeSecurityHubV2"),
         write("securityhub", "CreateConfigurationPolicy", tagging("securityhub:TagResource")),
         writes("securityhub", "UpdateConfigurationPolicy", "StartConfigurationPolicyAssociation"),
         reads("accessanalyzer", "GetAnalyzer"),
         write("accessanalyzer", "CreateAnalyzer", tagging("access-analyzer:TagResource"),
               service_linked_role(ACCESS_ANALYZER_PRINCIPAL)),
         writes("accessanalyzer", "DeleteAnalyzer")),

    duty("ConfigBaseline", Role.OPERATOR,
         "Trusted access for AWS Config's organization features and the security account as their delegated "
         "administrator.",
         TRUSTED_ACCESS,
         reads("organizations", "ListDelegatedServicesForAccount"),
         writes("organizations", "RegisterDelegatedAdministrator")),
    duty("ConfigBaseline", Role.MEMBER,
         "A Config recorder and delivery channel per Region, recording with Config's service-linked role.",
         reads("config", "DescribeConfigurationRecorders", "DescribeConfigurationRecorderStatus",
               "DescribeDeliveryChannels"),
         reads("iam", "GetRole", on=CONFIG_ROLE),
         Operation("iam", "CreateServiceLinkedRole", False, (service_linked_role(CONFIG_PRINCIPAL),)),
         write("config", "PutConfigurationRecorder", passing(CONFIG_RECORDER_ROLE, CONFIG_PRINCIPAL)),
         writes("config", "PutDeliveryChannel", "StartConfigurationRecorder")),
    duty("ConfigBaseline", Role.SECURITY,
         "As delegated administrator: the organization aggregator and the role it reads the organization "
         "with, organization rules and conformance packs, and the aggregated compliance.",
         reads("iam", "GetRole", "ListAttachedRolePolicies", on=AGGREGATOR_ROLE),
         write("iam", "CreateRole", Grant(("iam:TagRole",), AGGREGATOR_ROLE), on=AGGREGATOR_ROLE),
         writes("iam", "UpdateAssumeRolePolicy", "TagRole", on=AGGREGATOR_ROLE),
         # Only AWS's managed policy for organization aggregators.
         writes("iam", "AttachRolePolicy", on=On("VigilRolesConfigPolicy", AGGREGATOR_ROLE.resources, (
             ("ArnEquals", "iam:PolicyARN", (AGGREGATOR_POLICY_ARN,)),))),
         reads("config", "DescribeConfigurationAggregators", "DescribeOrganizationConfigRules",
               "DescribeOrganizationConformancePacks", "GetAggregateConfigRuleComplianceSummary",
               "DescribeAggregateComplianceByConfigRules", "ListTagsForResource"),
         write("config", "PutConfigurationAggregator", tagging("config:TagResource"), CONFIG_ORGANIZATION,
               passing(AGGREGATOR_ROLE_NAME, CONFIG_PRINCIPAL)),
         write("config", "PutOrganizationConfigRule", CONFIG_ORGANIZATION,
               service_linked_role(MULTI_ACCOUNT_SETUP_PRINCIPAL)),
         # Config reads the pack's template from S3 as the caller.
         write("config", "PutOrganizationConformancePack", CONFIG_ORGANIZATION,
               service_linked_role(MULTI_ACCOUNT_SETUP_PRINCIPAL), Grant(("s3:GetObject",))),
         writes("config", "TagResource")),

    duty("FlowLogPolicy", Role.MEMBER,
         "A flow log to the archive per selected VPC; with exclusive: true or deletionPolicy: Delete, flow logs "
         "deleted.",
         reads("ec2", "DescribeVpcs", "DescribeFlowLogs"),
         # Flow logs to S3 are delivered through a CloudWatch Logs delivery the caller makes; their tags
         # are checked as ec2:CreateTags, allowed only inside CreateFlowLogs.
         write("ec2", "CreateFlowLogs", Grant(("logs:CreateLogDelivery", "logs:DeleteLogDelivery")),
               Grant(("ec2:CreateTags",), On("TagOnCreate", conditions=(
                   ("StringEquals", "ec2:CreateAction", ("CreateFlowLogs",)),)))),
         write("ec2", "DeleteFlowLogs", Grant(("logs:DeleteLogDelivery",)))),

    duty("LogSubscriptionPolicy", Role.MEMBER,
         "Each selected log group's subscription filter, or the account's subscription filter policy, to the "
         "archive's destination.",
         reads("logs", "DescribeLogGroups", "DescribeSubscriptionFilters", "DescribeAccountPolicies"),
         writes("logs", "PutSubscriptionFilter", "DeleteSubscriptionFilter"),
         # A subscription filter policy is checked as a subscription filter too.
         write("logs", "PutAccountPolicy", Grant(("logs:PutSubscriptionFilter",))),
         write("logs", "DeleteAccountPolicy", Grant(("logs:DeleteSubscriptionFilter",)))),
    duty("LogSubscriptionPolicy", Role.LOG_ARCHIVE,
         "The delivery end in the log-archive account: a Firehose stream into the bucket (reading a Kinesis data "
         "stream, with delivery type Kinesis), its error log, the CloudWatch Logs destination before it with its "
         "organization-wide policy, and the two roles they use.",
         own_roles(f"{ROLE_PREFIX}*"),
         LOG_GROUP,
         writes("logs", "CreateLogStream"),
         reads("logs", "DescribeDestinations"),
         write("logs", "PutDestination", tagging("logs:TagResource"), passing(f"{ROLE_PREFIX}*", "logs.amazonaws.com")),
         writes("logs", "PutDestinationPolicy", "DeleteDestination"),
         reads("firehose", "DescribeDeliveryStream", "ListTagsForDeliveryStream"),
         write("firehose", "CreateDeliveryStream", tagging("firehose:TagDeliveryStream"),
               passing(f"{ROLE_PREFIX}*", "firehose.amazonaws.com")),
         write("firehose", "UpdateDestination", passing(f"{ROLE_PREFIX}*", "firehose.amazonaws.com")),
         writes("firehose", "TagDeliveryStream", "DeleteDeliveryStream"),
         # delivery.type Kinesis: the data stream the destination writes to and the Firehose reads.
         reads("kinesis", "DescribeStreamSummary", "ListTagsForStream"),
         write("kinesis", "CreateStream", tagging("kinesis:AddTagsToStream")),
         writes("kinesis", "StartStreamEncryption", "AddTagsToStream", "DeleteStream")),

    duty("SessionLogging", Role.MEMBER,
         "Session Manager's preferences document, pointing at the archive and at a KMS-encrypted log group, "
         "with its key.",
         KEY,
         LOG_GROUP,
         writes("logs", "AssociateKmsKey"),
         reads("ssm", "GetDocument", "DescribeDocument", "ListTagsForResource", on=SESSION_DOCUMENT),
         write("ssm", "CreateDocument", Grant(("ssm:AddTagsToResource",), SESSION_DOCUMENT), on=SESSION_DOCUMENT),
         writes("ssm", "UpdateDocument", "UpdateDocumentDefaultVersion", "AddTagsToResource", "DeleteDocument",
                on=SESSION_DOCUMENT)),
)


# The policies Vigil's identity carries in each kind of account. The operator role holds the member
# policy too: a control whose scope covers the management account works there with it.
CARRIED: dict[str, tuple[Role, ...]] = {
    "management": (Role.OPERATOR, Role.MEMBER),
    "log-archive": (Role.MEMBER, Role.LOG_ARCHIVE),
    "security": (Role.MEMBER, Role.SECURITY),
    "member": (Role.MEMBER,),
}


def duties(role: Role) -> tuple[Duty, ...]:
    return tuple(d for d in DUTIES if d.role is role)


def operations_by_service() -> dict[str, frozenset[str]]:
    """Every operation Vigil calls, per botocore service."""
    found: dict[str, set[str]] = {}
    for d in DUTIES:
        for operation in d.operations:
            found.setdefault(operation.service, set()).add(operation.name)
    return {service: frozenset(names) for service, names in found.items()}
