"""The fewest AWS calls each kind can make, derived from what can drift: the one place the tables of
docs/performance.md ("AWS calls against the minimum") come from, and what tests/aws/test_call_budget.py
holds Vigil's measured calls to (``python -m vigil_sandbox.call_budget --markdown`` prints them).

How the minimum is counted:

- A steady-state resync reads every setting that can drift: one call per setting AWS keeps apart,
  one for several where one answer carries them (a detector and its tags, a destination and its
  policy), a call per page of a list. It writes nothing.
- A first convergence from nothing reads what tells it a thing is absent, then writes it: a create
  carries its owner tags and whatever settings AWS takes with it, and writes AWS takes for many
  targets are joined (50 accounts, 1,000 VPCs a call). An id AWS gives in a create's answer needs
  no read.
- Safety is part of the minimum: the archive bucket checked to be the log-archive account's before
  anything delivers to it (every pass), a resource's owner tags read before a write to it when it
  exists, the search for a key a lost CreateKey answer left (CreateKey has no idempotency token).
- Nothing is remembered from one resync to the next but what cannot change (AWS managed policies,
  the standards AWS offers, the organization's root) and the owners confirmed by their tags: those
  are read once per process, at its first pass over a resource (``once``: the first resync after
  Vigil made the resource, or after a restart).
- Not counted against a kind: the member role assumed in an account (AssumeRole, once per account
  and credential lifetime, by whichever kind gets there first; the Organization's reach probe
  assumes it at every pass, by design, and counts it), and OrgTrail's integrity verification
  (``APART``: it runs every spec.integrity.interval and costs what the log files in its window do).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .examples import objects
from .seed import DEFAULT_REGIONS, DEFAULT_WORKLOADS

FIRST, STEADY, ONCE = "first", "steady", "once"


@dataclass(frozen=True)
class Calls:
    """Calls a kind makes ``per`` unit: on first convergence from nothing, at a steady-state
    resync, and once per process on top of a resync (an owner confirmed by its tags)."""

    what: str
    per: str
    first: int = 0
    steady: int = 0
    once: int = 0


# Units. Each kind's scope decides its accounts (ConfigBaseline AllAccounts: every account,
# LogSubscriptionPolicy Workloads: the workload accounts...); see ``units``.
OBJECT = "object"
ORGANIZATION = "organization"
MEMBER = "member account"
ACCOUNT_PAGE = "page of accounts (20)"
MEMBER_PAGE = "region × page of members (50)"  # listed, or enrolled in one call
ACCOUNT = "account"
REGION = "region"
ACCOUNT_REGION = "account × region"
RULE_REGION = "rule × region"
POLICY_TYPE = "policy type"
PRESENT_KEY = "key already there"

# The archive bucket checked as the log-archive account's before anything delivers to it.
ARCHIVE = Calls("the archive bucket is the log-archive account's (HeadBucket)", OBJECT, 1, 1)

MINIMUM: dict[str, tuple[Calls, ...]] = {
    "Organization": (
        Calls("Vigil's own identity (GetCallerIdentity), once per process", ORGANIZATION, first=1),
        Calls("the management account's Regions (ListRegions), until the spec has been Ready", ORGANIZATION, first=1),
        Calls("the organization (DescribeOrganization)", ORGANIZATION, first=1),
        Calls("its accounts (ListAccounts)", ACCOUNT_PAGE, 1, 1),
        Calls("each account reached: the member role assumed at every pass (AssumeRole)", MEMBER, 1, 1),
    ),
    "LogArchive": (
        Calls("the key by its alias (DescribeKey)", OBJECT, 1, 1),
        Calls("a key of this object's without its alias (ListKeys)", OBJECT, first=1),
        Calls("the key made with its policy and tags, named, rotating (CreateKey, CreateAlias, "
              "EnableKeyRotation)", OBJECT, first=3),
        Calls("its policy, its rotation (GetKeyPolicy, GetKeyRotationStatus)", OBJECT, steady=2),
        Calls("the bucket (HeadBucket, as its owner's)", OBJECT, first=1),
        Calls("made with Object Lock and tags (CreateBucket); its encryption, versioning, public access block, "
              "policy, lifecycle, retention (6 Put*)", OBJECT, first=7),
        Calls("the same six settings (6 Get*, as the owner's: a missing bucket fails the first)", OBJECT, steady=6),
        Calls("owners confirmed: the key's tags, the bucket's", OBJECT, once=2),
    ),
    "OrgTrail": (
        ARCHIVE,
        Calls("the CloudWatch log group (DescribeLogGroups)", OBJECT, 1, 1),
        Calls("made with tags, its retention (CreateLogGroup, PutRetentionPolicy)", OBJECT, first=2),
        Calls("CloudTrail's role (GetRole), its inline policy (GetRolePolicy)", OBJECT, 1, 2),
        Calls("made with tags and its policy (CreateRole, PutRolePolicy)", OBJECT, first=2),
        Calls("trusted access for CloudTrail (ListAWSServiceAccessForOrganization)", OBJECT, 1, 1),
        Calls("enabled (EnableAWSServiceAccess)", OBJECT, first=1),
        Calls("the trail (DescribeTrails)", OBJECT, 1, 1),
        Calls("whether it logs (GetTrailStatus), its event selectors (GetEventSelectors)", OBJECT, steady=2),
        Calls("made with tags, its selectors, logging (CreateTrail, PutEventSelectors, StartLogging)", OBJECT,
              first=3),
        Calls("owners confirmed: the log group's, the role's, the trail's tags", OBJECT, once=3),
    ),
    "FlowLogPolicy": (
        ARCHIVE,
        Calls("the selected VPCs (DescribeVpcs), their flow logs (DescribeFlowLogs, 1,000 a page)",
              ACCOUNT_REGION, 2, 2),
        Calls("a flow log for every VPC without one (CreateFlowLogs, 1,000 VPCs a call)", ACCOUNT_REGION, first=1),
    ),
    "GuardDutyOrg": (
        Calls("trusted access for GuardDuty (ListAWSServiceAccessForOrganization)", ORGANIZATION, 1, 1),
        Calls("enabled (EnableAWSServiceAccess)", ORGANIZATION, first=1),
        Calls("the delegated administrator (ListOrganizationAdminAccounts)", REGION, 1, 1),
        Calls("a detector before the designation makes one: whose it is (ListDetectors)", REGION, first=1),
        Calls("the security account designated (EnableOrganizationAdminAccount)", REGION, first=1),
        Calls("the detector (ListDetectors) and its settings and tags (GetDetector)", REGION, 2, 2),
        Calls("tagged as this object's, its features (TagResource, UpdateDetector)", REGION, first=2),
        Calls("the organization configuration (DescribeOrganizationConfiguration)", REGION, 1, 1),
        Calls("auto-enable and its features (UpdateOrganizationConfiguration)", REGION, first=1),
        Calls("the members (ListMembers)", MEMBER_PAGE, 1, 1),
        Calls("the accounts enrolled (CreateMembers)", MEMBER_PAGE, first=1),
        Calls("their protection plans, for status (GetMemberDetectors)", MEMBER_PAGE, 1, 1),
    ),
    "ConfigBaseline": (
        ARCHIVE,
        Calls("the recorder (DescribeConfigurationRecorders), the delivery channel (DescribeDeliveryChannels)",
              ACCOUNT_REGION, 2, 2),
        Calls("whether it records (DescribeConfigurationRecorderStatus)", ACCOUNT_REGION, steady=1),
        Calls("recorder, channel, recording (PutConfigurationRecorder, PutDeliveryChannel, "
              "StartConfigurationRecorder)", ACCOUNT_REGION, first=3),
        Calls("Config's service-linked role (GetRole, CreateServiceLinkedRole)", ACCOUNT, first=2),
        Calls("trusted access, the delegation (ListAWSServiceAccessForOrganization, "
              "ListDelegatedServicesForAccount)", ORGANIZATION, 2, 2),
        Calls("enabled for Config and its multi-account setup (2 EnableAWSServiceAccess, "
              "2 RegisterDelegatedAdministrator)", ORGANIZATION, first=4),
        Calls("the aggregator's role (GetRole), its managed policy (ListAttachedRolePolicies)", ORGANIZATION, 1, 2),
        Calls("made with tags, its policy (CreateRole, AttachRolePolicy)", ORGANIZATION, first=2),
        Calls("the aggregator (DescribeConfigurationAggregators)", ORGANIZATION, 1, 1),
        Calls("made with tags (PutConfigurationAggregator)", ORGANIZATION, first=1),
        Calls("compliance, for status (GetAggregateConfigRuleComplianceSummary, "
              "DescribeAggregateComplianceByConfigRules)", ORGANIZATION, 2, 2),
        Calls("the organization rules (DescribeOrganizationConfigRules)", REGION, 1, 1),
        Calls("each rule put (PutOrganizationConfigRule)", RULE_REGION, first=1),
        Calls("owners confirmed: the aggregator's tags, its role's", ORGANIZATION, once=2),
    ),
    "SecurityHubBaseline": (
        Calls("trusted access (ListAWSServiceAccessForOrganization)", ORGANIZATION, 1, 1),
        Calls("enabled for Security Hub and Access Analyzer (2 EnableAWSServiceAccess)", ORGANIZATION, first=2),
        Calls("the administrator's hub (DescribeHub)", REGION, 1, 1),
        Calls("turned on with tags (EnableSecurityHub)", REGION, first=1),
        Calls("the delegated administrator (ListOrganizationAdminAccounts)", REGION, 1, 1),
        Calls("designated (EnableOrganizationAdminAccount)", REGION, first=1),
        Calls("the organization configuration (DescribeOrganizationConfiguration)", REGION, 1, 1),
        Calls("the members (ListMembers)", MEMBER_PAGE, 1, 1),
        Calls("the accounts enrolled (CreateMembers)", MEMBER_PAGE, first=1),
        Calls("the management account's own hub, on before it is enrolled (DescribeHub; the configuration "
              "policy turns it on)", REGION, first=1),
        Calls("each account's integrations (ListEnabledProductsForImport; AWS's own are on with the hub)",
              ACCOUNT_REGION, 1, 1),
        Calls("the finding aggregator (ListFindingAggregators, GetFindingAggregator)", ORGANIZATION, 1, 2),
        Calls("made (CreateFindingAggregator); central configuration on (UpdateOrganizationConfiguration)",
              ORGANIZATION, first=2),
        Calls("the root (ListRoots) and the standards offered (DescribeStandards): AWS's, read once",
              ORGANIZATION, first=2),
        Calls("the root's configuration policy (GetConfigurationPolicyAssociation)", ORGANIZATION, 1, 1),
        Calls("a policy of the spec's name (ListConfigurationPolicies)", ORGANIZATION, first=1),
        Calls("the policy (GetConfigurationPolicy)", ORGANIZATION, steady=1),
        Calls("made with tags, associated to the root (CreateConfigurationPolicy, "
              "StartConfigurationPolicyAssociation)", ORGANIZATION, first=2),
        Calls("Access Analyzer's delegation (ListDelegatedServicesForAccount), the analyzer (GetAnalyzer)",
              ORGANIZATION, 2, 2),
        Calls("registered, made with tags (RegisterDelegatedAdministrator, CreateAnalyzer)", ORGANIZATION, first=2),
        Calls("for status: active findings (GetFindings, 100 a page), Security Hub v2 (DescribeSecurityHubV2)",
              ORGANIZATION, 2, 2),
        Calls("owners confirmed: the hub's tags", REGION, once=1),
        Calls("owners confirmed: the configuration policy's tags", ORGANIZATION, once=1),
    ),
    "SessionLogging": (
        ARCHIVE,
        Calls("the key by its alias (DescribeKey)", ACCOUNT_REGION, 1, 1),
        Calls("a key of this object's without its alias (ListKeys)", ACCOUNT_REGION, first=1),
        Calls("(ListResourceTags for each key already in the account and region)", PRESENT_KEY, first=1),
        Calls("the key made with its policy and tags, named, rotating (CreateKey, CreateAlias, "
              "EnableKeyRotation)", ACCOUNT_REGION, first=3),
        Calls("its policy, its rotation (GetKeyPolicy, GetKeyRotationStatus)", ACCOUNT_REGION, steady=2),
        Calls("the log group (DescribeLogGroups)", ACCOUNT_REGION, 1, 1),
        Calls("made with the key and tags, its retention (CreateLogGroup, PutRetentionPolicy)", ACCOUNT_REGION,
              first=2),
        Calls("the preferences document (GetDocument)", ACCOUNT_REGION, 1, 1),
        Calls("made with tags (CreateDocument)", ACCOUNT_REGION, first=1),
        Calls("owners confirmed: the key's, the log group's, the document's tags", ACCOUNT_REGION, once=3),
    ),
    "LogSubscriptionPolicy": (
        ARCHIVE,
        Calls("Firehose's and CloudWatch Logs' roles (GetRole; GetRolePolicy)", OBJECT, 2, 4),
        Calls("made with tags and their policies (2 CreateRole, 2 PutRolePolicy)", OBJECT, first=4),
        Calls("the delivery error log group (DescribeLogGroups)", REGION, 1, 1),
        Calls("made with tags, its retention, its stream (CreateLogGroup, PutRetentionPolicy, CreateLogStream)",
              REGION, first=3),
        Calls("the Firehose stream (DescribeDeliveryStream)", REGION, 1, 1),
        Calls("made with tags (CreateDeliveryStream)", REGION, first=1),
        Calls("the destination and its policy (DescribeDestinations)", REGION, 1, 1),
        Calls("made with tags, its policy (PutDestination, PutDestinationPolicy)", REGION, first=2),
        Calls("the log groups under the excluded prefixes (DescribeLogGroups, 50 a page)", ACCOUNT_REGION, 1, 1),
        Calls("the account's subscription filter policy (DescribeAccountPolicies)", ACCOUNT_REGION, 1, 1),
        Calls("put (PutAccountPolicy)", ACCOUNT_REGION, first=1),
        Calls("owners confirmed: the roles' tags", OBJECT, once=2),
        Calls("owners confirmed: the log group's, the stream's, the destination's tags", REGION, once=3),
    ),
    "Guardrails": (
        Calls("the root and its policy types (ListRoots)", ORGANIZATION, 1, 1),
        Calls("Vigil's policies by name (ListPolicies)", POLICY_TYPE, 1, 1),
        Calls("what is attached to the root (ListPoliciesForTarget)", POLICY_TYPE, 1, 1),
        Calls("AWS's FullAWSAccess policy attached there (DescribePolicy), read once", POLICY_TYPE, first=1),
        Calls("the type enabled (EnablePolicyType); the policy made with tags, attached (CreatePolicy, "
              "AttachPolicy)", POLICY_TYPE, first=3),
        Calls("Vigil's policy: its content (DescribePolicy), its attachments (ListTargetsForPolicy)", POLICY_TYPE,
              steady=2),
        Calls("owners confirmed: the policies' tags", POLICY_TYPE, once=1),
    ),
}

# Calls a kind makes that are budgeted apart: OrgTrail's integrity verification (digests and log
# files listed and read in the archive, CloudTrail's public keys, the trail's stops and starts).
APART: dict[str, frozenset[tuple[str, str]]] = {
    "OrgTrail": frozenset({("s3", "ListObjectsV2"), ("s3", "GetObject"), ("cloudtrail", "ListPublicKeys"),
                           ("cloudtrail", "LookupEvents")}),
}

# What the seeded sandbox holds before Vigil comes (vigil_sandbox.seed), against "from nothing": the
# first convergence of the examples there costs these calls more (or fewer).
SEEDED: dict[str, tuple[Calls, ...]] = {
    "GuardDutyOrg": (
        Calls("trusted access on already (the security team designated the administrator)", ORGANIZATION,
              first=-1),
        Calls("the home region administered already: no detector looked for, no designation", ORGANIZATION,
              first=-2),
    ),
    "SecurityHubBaseline": (
        Calls("the administrator's hub on already: adopted, its tags read before they are written", REGION,
              first=1),
    ),
    "SessionLogging": (
        Calls("the ops team's preferences in one account: adopted (tags read, tagged), a new default version "
              "(UpdateDocument, UpdateDocumentDefaultVersion) instead of CreateDocument", ORGANIZATION, first=3),
    ),
}


def units(spec: Mapping[str, Any], workloads: int, regions: int) -> dict[str, int]:
    """How many of each unit an object of ``spec`` covers in a sandbox of ``workloads`` workload
    accounts and ``regions`` governed regions."""
    accounts = 4 + workloads  # the management, log-archive, security and shared-network accounts, and the workloads
    in_scope = {"Workloads": workloads, "SharedNetwork": 1}.get(spec.get("scope", ""), accounts)
    policy_types = sum(bool((spec.get(field) or {}).get("enabled"))
                       for field in ("serviceControlPolicies", "resourceControlPolicies"))
    return {OBJECT: 1, ORGANIZATION: 1, MEMBER: accounts - 1, ACCOUNT_PAGE: -(-accounts // 20),
            MEMBER_PAGE: regions * -(-(accounts - 1) // 50), ACCOUNT: in_scope, REGION: regions,
            ACCOUNT_REGION: in_scope * regions, RULE_REGION: len(spec.get("rules") or []) * regions,
            POLICY_TYPE: policy_types,
            # The LogArchive's key, in the log-archive account's home region, when SessionLogging looks.
            PRESENT_KEY: 1}


def examples_units(workloads: int = DEFAULT_WORKLOADS,
                   regions: int = len(DEFAULT_REGIONS)) -> dict[str, dict[str, int]]:
    """Per kind, the units its object of examples/ covers in the sandbox."""
    return {doc["kind"]: units(doc["spec"], workloads, regions) for doc in objects()}


def minimum(kind: str, phase: str, counts: Mapping[str, int], seeded: bool = False) -> int:
    """The kind's fewest calls in ``phase`` (FIRST, STEADY or ONCE) over ``counts`` units;
    ``seeded``: from the seeded sandbox's starting point rather than from nothing."""
    rows = MINIMUM[kind] + (SEEDED.get(kind, ()) if seeded else ())
    return sum(getattr(row, phase) * counts[row.per] for row in rows)


def markdown(counts: Mapping[str, Mapping[str, int]]) -> str:
    """Each kind's table, with its totals over ``counts`` (per kind: units), as docs/performance.md
    shows them."""
    parts = []
    for kind, rows in MINIMUM.items():
        lines = [f"#### {kind}", "", "| Calls | Per | First convergence | Steady resync | Once per process |",
                 "| --- | --- | ---: | ---: | ---: |"]
        lines += [f"| {row.what} | {row.per} | {row.first or ''} | {row.steady or ''} | {row.once or ''} |"
                  for row in rows]
        lines += [f"| *the sandbox's start: {row.what}* | {row.per} | {row.first:+d} | | |"
                  for row in SEEDED.get(kind, ())]
        per = counts[kind]
        first, seeded = minimum(kind, FIRST, per), minimum(kind, FIRST, per, seeded=True)
        lines.append(f"| **the examples** ({', '.join(f'{n} × {u}' for u, n in per.items() if _used(kind, u))}) | "
                     f"| **{first}**{f' (seeded: {seeded})' if seeded != first else ''} | "
                     f"**{minimum(kind, STEADY, per)}** | **{minimum(kind, ONCE, per)}** |")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def _used(kind: str, unit: str) -> bool:
    return any(row.per == unit for row in MINIMUM[kind] + SEEDED.get(kind, ()))
