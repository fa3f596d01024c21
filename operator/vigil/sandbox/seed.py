"""A seeded organization with fixed ids, so examples and tests run unchanged on a fresh sandbox.

The default credentials ("testing", or any key moto did not issue) act in moto's default
account, 123456789012: that is the management account, and it creates the organization.
Moto draws account, organization and OU ids at random; while seeding, its id generators answer
the fixed ids below instead.

Seeding goes through the server with boto3, as any caller would, so it also exercises the gaps.
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
    for name, account, _ in members:
        if account == SHARED_NETWORK_ACCOUNT or account in workload_ids:
            _seed_network_account(session, endpoint, sandbox, name, account)
    return sandbox


def _seed_network_account(
    session: boto3.Session, endpoint: str, sandbox: SandboxOrganization, name: str, account: str
) -> None:
    credentials = session.client("sts", endpoint_url=endpoint).assume_role(
        RoleArn=sandbox.role_arn(account), RoleSessionName="vigil-sandbox-seed"
    )["Credentials"]
    keys: dict[str, Any] = {
        "aws_access_key_id": credentials["AccessKeyId"],
        "aws_secret_access_key": credentials["SecretAccessKey"],
        "aws_session_token": credentials["SessionToken"],
    }
    for region in sandbox.regions:
        ec2 = session.client("ec2", endpoint_url=endpoint, region_name=region, **keys)
        for n, (suffix, tags) in enumerate(VPCS, 1):
            named = {"Name": f"{name}-{suffix}", **tags}
            ec2.create_vpc(
                CidrBlock=f"10.{n}.0.0/16",
                TagSpecifications=[
                    {"ResourceType": "vpc", "Tags": [{"Key": k, "Value": v} for k, v in named.items()]}
                ],
            )
        logs = session.client("logs", endpoint_url=endpoint, region_name=region, **keys)
        for group in LOG_GROUPS:
            logs.create_log_group(logGroupName=group)
