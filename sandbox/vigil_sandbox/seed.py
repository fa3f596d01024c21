"""A seeded organization with fixed ids, so examples and tests run unchanged on a fresh sandbox.

The default credentials ("testing", or any key moto did not issue) act in moto's default
account, 123456789012: that is the management account, and it creates the organization.
Moto draws account, organization and OU ids at random; while seeding, its id generators answer
the fixed ids below instead.

Seeding goes through the server with boto3, as any caller would, so it also exercises the gaps.
What each member account holds is created through one client per service and Region, acting in
the account by moto's ``x-moto-account-id`` header (``_AccountClients``), not through clients of
its own: creating them was most of the seed's CPU (docs/testing.md, "The seeded organization").
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import boto3
from moto.organizations import utils as moto_organization_ids

MANAGEMENT_ACCOUNT = "123456789012"  # moto's default account
LOG_ARCHIVE_ACCOUNT = "222222222222"
SECURITY_ACCOUNT = "333333333333"
SHARED_NETWORK_ACCOUNT = "444444444444"
ACCESS_ROLE = "OrganizationAccountAccessRole"
DEFAULT_REGIONS = ("ca-central-1", "us-east-1")
DEFAULT_WORKLOADS = 3

ORGANIZATION_ID = "o-vigilsandbox"
ROOT_ID = "r-vigl"
OU_IDS = {
    "Security": "ou-vigl-security",
    "Infrastructure": "ou-vigl-infrastructure",
    "Workloads": "ou-vigl-workloads",
}

# Per VPC: the suffix of its Name tag, and its other tags. One is env=prod, for selector tests.
VPCS = (("prod", {"env": "prod"}), ("dev", {"env": "dev"}), ("tools", {}))
LOG_GROUPS = ("/aws/lambda/orders-api", "/app/web", "/app/worker")
# A shared-network log group whose two subscription filter slots the network team already uses
# (both to its SIEM's Kinesis stream): a LogSubscriptionPolicy covering it reports
# SubscriptionSlotsFull and leaves it alone. Outside the Workloads scope of the example policy.
FULL_SLOTS_LOG_GROUP = "/network/resolver-query-logs"
FULL_SLOTS_FILTERS = ("network-siem", "network-threat-detection")
# The shared-network account's own flow-log bucket; its "tools" VPC in the home region logs to it.
NETWORK_TEAM_BUCKET = "acme-network-team-flow-logs"
# GuardDuty as a security team left it before Vigil: administered by the security account in the
# home region only, every account enrolled there but this workload account.
GUARDDUTY_UNENROLLED = "777777777777"
# Security Hub as teams left it before Vigil: on in the security account in every region, with
# AWS's default standards; and on in this workload account (home region), which also runs NIST.
SECURITYHUB_SELF_MANAGED = "555555555555"
SECURITYHUB_SELF_MANAGED_STANDARD = "nist-800-53/v/5.0.0"
# Findings by (account, region index, severity, record state, workflow status): two of them not
# active; those of us-east-1 seen from the home region only through an aggregator, the workload's
# only once the account is enrolled.
SECURITYHUB_FINDINGS = (
    (SECURITY_ACCOUNT, 0, "CRITICAL", "ACTIVE", "NEW"),
    (SECURITY_ACCOUNT, 0, "HIGH", "ACTIVE", "NEW"),
    (SECURITY_ACCOUNT, 0, "HIGH", "ACTIVE", "NOTIFIED"),
    (SECURITY_ACCOUNT, 0, "MEDIUM", "ACTIVE", "NEW"),
    (SECURITY_ACCOUNT, 0, "LOW", "ACTIVE", "NEW"),
    (SECURITY_ACCOUNT, 0, "INFORMATIONAL", "ACTIVE", "NEW"),
    (SECURITY_ACCOUNT, 0, "HIGH", "ARCHIVED", "NEW"),
    (SECURITY_ACCOUNT, 0, "MEDIUM", "ACTIVE", "RESOLVED"),
    (SECURITY_ACCOUNT, 1, "CRITICAL", "ACTIVE", "NEW"),
    (SECURITY_ACCOUNT, 1, "HIGH", "ACTIVE", "NEW"),
    (SECURITYHUB_SELF_MANAGED, 0, "MEDIUM", "ACTIVE", "NEW"),
    (SECURITYHUB_SELF_MANAGED, 0, "MEDIUM", "ACTIVE", "NEW"),
)
# What the security account's aggregated view counts, once every region and account is in it.
SECURITYHUB_ACTIVE_FINDINGS = {"critical": 2, "high": 3, "medium": 3, "low": 1, "informational": 1}
# Session Manager preferences an operations team saved in this workload account (home region) before
# Vigil: sessions run as their user with their shell profile, and are logged nowhere.
SESSION_PREFERENCES_ACCOUNT = "666666666666"
SESSION_PREFERENCES = {
    "schemaVersion": "1.0", "description": "Ops team's Session Manager preferences", "sessionType": "Standard_Stream",
    "inputs": {"s3BucketName": "", "s3KeyPrefix": "", "s3EncryptionEnabled": True, "cloudWatchLogGroupName": "",
               "cloudWatchEncryptionEnabled": True, "cloudWatchStreamingEnabled": False, "kmsKeyId": "",
               "runAsEnabled": True, "runAsDefaultUser": "ops", "idleSessionTimeout": "60",
               "shellProfile": {"linux": "exec bash -l", "windows": ""}},
}


def workload_account_ids(count: int) -> list[str]:
    """555555555555 ... 999999999999, then 100000000001, 100000000002, ..."""
    repeated = [str(digit) * 12 for digit in range(5, 10)]
    return repeated[:count] + [f"1{n:011d}" for n in range(1, count - len(repeated) + 1)]


@dataclass(frozen=True)
class SandboxOrganization:
    """The ids of the seeded organization."""

    organization_id: str
    root_id: str
    management: str
    log_archive: str
    security: str
    shared_network: str
    workloads: tuple[str, ...]
    regions: tuple[str, ...]
    organizational_units: dict[str, str]  # OU name -> id

    @property
    def members(self) -> tuple[str, ...]:
        return (self.log_archive, self.security, self.shared_network, *self.workloads)

    def role_arn(self, account: str) -> str:
        """The role the management account assumes to act in a member account."""
        return f"arn:aws:iam::{account}:role/{ACCESS_ROLE}"

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    def summary(self) -> str:
        rows = [
            ("management", self.management, "Root"),
            ("log-archive", self.log_archive, "Security"),
            ("security", self.security, "Security"),
            ("shared-network", self.shared_network, "Infrastructure"),
            *((f"workload-{n}", id_, "Workloads") for n, id_ in enumerate(self.workloads, 1)),
        ]
        lines = [
            f"organization {self.organization_id} (root {self.root_id}), "
            f"regions {', '.join(self.regions)}",
            *(f"  {name:<16}{account}  {ou}" for name, account, ou in rows),
            "  OUs: " + ", ".join(f"{n} {id_}" for n, id_ in self.organizational_units.items()),
        ]
        return "\n".join(lines)


@contextmanager
def _moto_ids(**fixed: str) -> Iterator[None]:
    """Moto's random id generators, answering fixed ids for the calls made in the block.

    Kept to one AWS call per block: moto draws ids for internal objects too (the management
    account's own record draws an account id), so only the call's own draw is predictable.
    """
    random = {name: getattr(moto_organization_ids, name) for name in fixed}
    for name, value in fixed.items():
        setattr(moto_organization_ids, name, lambda *_, value=value: value)
    try:
        yield
    finally:
        for name, generator in random.items():
            setattr(moto_organization_ids, name, generator)


def seed_organization(
    endpoint: str,
    workloads: int = DEFAULT_WORKLOADS,
    regions: Sequence[str] = DEFAULT_REGIONS,
) -> SandboxOrganization:
    """Create the organization, its accounts and OUs, and resources in the network accounts.

    Must run in the sandbox server's process, on a fresh moto state.
    """
    # Explicit keys: the seed acts as the management account whatever the environment says.
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=regions[0]
    )
    organizations = session.client("organizations", endpoint_url=endpoint)
    workload_ids = workload_account_ids(workloads)
    members = [
        ("log-archive", LOG_ARCHIVE_ACCOUNT, "Security"),
        ("security", SECURITY_ACCOUNT, "Security"),
        ("shared-network", SHARED_NETWORK_ACCOUNT, "Infrastructure"),
        *((f"workload-{n}", account, "Workloads") for n, account in enumerate(workload_ids, 1)),
    ]

    with _moto_ids(make_random_org_id=ORGANIZATION_ID, make_random_root_id=ROOT_ID):
        organization = organizations.create_organization(FeatureSet="ALL")["Organization"]
    root_id = organizations.list_roots()["Roots"][0]["Id"]
    ou_ids = {}
    for name, ou_id in OU_IDS.items():
        with _moto_ids(make_random_ou_id=ou_id):
            created = organizations.create_organizational_unit(ParentId=root_id, Name=name)
        ou_ids[name] = created["OrganizationalUnit"]["Id"]
    for name, account, ou in members:
        # Like AWS, moto's CreateAccount also creates RoleName in the new account, trusting the
        # management account: the role Vigil assumes.
        with _moto_ids(make_random_account_id=account):
            status = organizations.create_account(
                Email=f"{name}@example.com", AccountName=name, RoleName=ACCESS_ROLE
            )["CreateAccountStatus"]
        assert status["AccountId"] == account, f"moto's account ids no longer seedable: {status}"
        organizations.move_account(
            AccountId=account, SourceParentId=root_id, DestinationParentId=ou_ids[ou]
        )

    sandbox = SandboxOrganization(
        organization_id=organization["Id"],
        root_id=root_id,
        management=organization["MasterAccountId"],
        log_archive=LOG_ARCHIVE_ACCOUNT,
        security=SECURITY_ACCOUNT,
        shared_network=SHARED_NETWORK_ACCOUNT,
        workloads=tuple(workload_ids),
        regions=tuple(regions),
        organizational_units=ou_ids,
    )
    clients = _AccountClients(session, endpoint)
    for name, account, _ in members:
        if account == SHARED_NETWORK_ACCOUNT or account in workload_ids:
            _seed_network_account(clients.acting_in(account), sandbox, name, account)
    _seed_guardduty(session, endpoint, sandbox)
    _seed_security_hub(session, endpoint, sandbox)
    return sandbox


class _AccountClients:
    """boto3 clients for the seed, one per service and Region, each request made in the account
    last chosen with ``acting_in`` (moto's ``x-moto-account-id`` header, which the server reads
    as moto does). Creating an EC2 client costs more CPU than a hundred of its calls; the seed
    makes a dozen calls per account and Region. One thread at a time."""

    def __init__(self, session: boto3.Session, endpoint: str) -> None:
        self._session, self._endpoint = session, endpoint
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._account = ""

    def acting_in(self, account: str) -> _AccountClients:
        self._account = account
        return self

    def __call__(self, service: str, region: str | None = None) -> Any:
        if (service, region) not in self._clients:
            client = self._session.client(service, endpoint_url=self._endpoint, region_name=region)
            client.meta.events.register("before-sign", self._in_account)
            self._clients[(service, region)] = client
        return self._clients[(service, region)]

    def _in_account(self, request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = self._account


def _seed_network_account(clients: _AccountClients, sandbox: SandboxOrganization, name: str, account: str) -> None:
    for region in sandbox.regions:
        ec2 = clients("ec2", region)
        for n, (suffix, tags) in enumerate(VPCS, 1):
            named = {"Name": f"{name}-{suffix}", **tags}
            ec2.create_vpc(
                CidrBlock=f"10.{n}.0.0/16",
                TagSpecifications=[
                    {"ResourceType": "vpc", "Tags": [{"Key": k, "Value": v} for k, v in named.items()]}
                ],
            )
        logs = clients("logs", region)
        for group in LOG_GROUPS:
            logs.create_log_group(logGroupName=group)
        if account == SHARED_NETWORK_ACCOUNT and region == sandbox.regions[0]:
            _seed_network_team_flow_log(ec2, clients("s3", region), region, f"{name}-tools")
            _seed_full_subscription_slots(clients, region)
        if account in sandbox.workloads and region == sandbox.regions[0]:
            # A volume someone forgot to encrypt: the Config rule ENCRYPTED_VOLUMES finds it.
            ec2.create_volume(AvailabilityZone=f"{region}a", Size=8, Encrypted=False)
        if account == SESSION_PREFERENCES_ACCOUNT and region == sandbox.regions[0]:
            clients("ssm", region).create_document(
                Name="SSM-SessionManagerRunShell", DocumentType="Session", DocumentFormat="JSON",
                Content=json.dumps(SESSION_PREFERENCES, indent=4))


def _seed_full_subscription_slots(clients: _AccountClients, region: str) -> None:
    kinesis = clients("kinesis", region)
    kinesis.create_stream(StreamName="network-siem", ShardCount=1)
    stream = kinesis.describe_stream_summary(StreamName="network-siem")["StreamDescriptionSummary"]["StreamARN"]
    iam = clients("iam")
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName="network-siem-logs", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName="network-siem-logs", PolicyName="to-siem", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "kinesis:PutRecord*", "Resource": stream}]}))
    logs = clients("logs", region)
    logs.create_log_group(logGroupName=FULL_SLOTS_LOG_GROUP)
    for name in FULL_SLOTS_FILTERS:
        logs.put_subscription_filter(logGroupName=FULL_SLOTS_LOG_GROUP, filterName=name, filterPattern="",
                                     destinationArn=stream, roleArn=role)


def _seed_network_team_flow_log(ec2: Any, s3: Any, region: str, vpc_name: str) -> None:
    """A flow log the network team made before Vigil: accepted traffic only, to their own bucket.
    Not the baseline's, so a FlowLogPolicy adds its own beside it (or removes it when exclusive)."""
    s3.create_bucket(Bucket=NETWORK_TEAM_BUCKET, CreateBucketConfiguration={"LocationConstraint": region})
    vpc = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [vpc_name]}])["Vpcs"][0]["VpcId"]
    created = ec2.create_flow_logs(
        ResourceType="VPC", ResourceIds=[vpc], TrafficType="ACCEPT", LogDestinationType="s3",
        LogDestination=f"arn:aws:s3:::{NETWORK_TEAM_BUCKET}",
        TagSpecifications=[{"ResourceType": "vpc-flow-log", "Tags": [{"Key": "team", "Value": "network"}]}],
    )
    assert not created["Unsuccessful"], created["Unsuccessful"]  # CreateFlowLogs fails in its answer


def _seed_guardduty(session: boto3.Session, endpoint: str, sandbox: SandboxOrganization) -> None:
    region = sandbox.regions[0]
    pages = session.client("organizations", endpoint_url=endpoint).get_paginator("list_accounts").paginate()
    accounts = [account for page in pages for account in page["Accounts"]]
    session.client("guardduty", endpoint_url=endpoint, region_name=region).enable_organization_admin_account(
        AdminAccountId=sandbox.security
    )
    credentials = session.client("sts", endpoint_url=endpoint).assume_role(
        RoleArn=sandbox.role_arn(sandbox.security), RoleSessionName="vigil-sandbox-seed"
    )["Credentials"]
    guardduty = session.client(
        "guardduty", endpoint_url=endpoint, region_name=region,
        aws_access_key_id=credentials["AccessKeyId"], aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    detector = guardduty.list_detectors()["DetectorIds"][0]  # designating the administrator made it
    enrolled = [
        {"AccountId": a["Id"], "Email": a["Email"]}
        for a in accounts
        if a["Id"] not in (sandbox.security, GUARDDUTY_UNENROLLED)
    ]
    for start in range(0, len(enrolled), 50):  # CreateMembers takes 50 accounts at a time
        batch = enrolled[start : start + 50]
        unprocessed = guardduty.create_members(DetectorId=detector, AccountDetails=batch)["UnprocessedAccounts"]
        assert not unprocessed, unprocessed  # CreateMembers fails in its answer


def _seed_security_hub(session: boto3.Session, endpoint: str, sandbox: SandboxOrganization) -> None:
    """Hubs turned on by their teams, and findings of every severity in them."""
    keys: dict[str, dict[str, str]] = {}
    for account in (sandbox.security, SECURITYHUB_SELF_MANAGED):
        credentials = session.client("sts", endpoint_url=endpoint).assume_role(
            RoleArn=sandbox.role_arn(account), RoleSessionName="vigil-sandbox-seed"
        )["Credentials"]
        keys[account] = {"aws_access_key_id": credentials["AccessKeyId"],
                         "aws_secret_access_key": credentials["SecretAccessKey"],
                         "aws_session_token": credentials["SessionToken"]}

    def hub(account: str, region: str) -> Any:
        return session.client("securityhub", endpoint_url=endpoint, region_name=region, **keys[account])

    home = sandbox.regions[0]
    for region in sandbox.regions:
        hub(sandbox.security, region).enable_security_hub()  # with AWS's default standards
    team = hub(SECURITYHUB_SELF_MANAGED, home)
    team.enable_security_hub()
    team.batch_enable_standards(StandardsSubscriptionRequests=[
        {"StandardsArn": f"arn:aws:securityhub:{home}::standards/{SECURITYHUB_SELF_MANAGED_STANDARD}"}])
    for n, (account, region_index, severity, record_state, workflow) in enumerate(SECURITYHUB_FINDINGS, 1):
        region = sandbox.regions[region_index]
        imported = hub(account, region).batch_import_findings(Findings=[{
            "SchemaVersion": "2018-10-08", "Id": f"vigil-sandbox/finding-{n}",
            "ProductArn": f"arn:aws:securityhub:{region}:{account}:product/{account}/default",
            "GeneratorId": "vigil-sandbox", "AwsAccountId": account, "Types": ["Software and Configuration Checks"],
            "CreatedAt": "2026-01-01T00:00:00Z", "UpdatedAt": "2026-01-01T00:00:00Z",
            "Severity": {"Label": severity}, "Title": f"Seeded {severity.lower()} finding {n}",
            "Description": "Seeded by vigil-sandbox.", "RecordState": record_state, "Workflow": {"Status": workflow},
            "Resources": [{"Type": "AwsAccount", "Id": f"AWS::::Account:{account}"}],
        }])
        assert imported["FailedCount"] == 0, imported["FailedFindings"]
