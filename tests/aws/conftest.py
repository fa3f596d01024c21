"""Fixtures for the tests that run against the AWS sandbox.

One sandbox per test session, in this process: moto behind the call recorder, with the gaps
applied, seeded with the organization of vigil_sandbox.seed. The process environment points
boto3 at it with the default ("testing") credentials, which act in the management account.
Tests share that state: they name what they create uniquely and put back what they break.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config

from vigil.aws.session import AccessSettings, AwsAccess
from vigil_sandbox.awsserver import CallLog
from vigil_sandbox.cli import start_sandbox
from vigil_sandbox.seed import SandboxOrganization

HOME_REGION = "ca-central-1"


@dataclass(frozen=True)
class Sandbox:
    endpoint: str
    organization: SandboxOrganization


class AwsClients:
    """boto3 clients for the sandbox, acting in the management account or, by assuming the
    organization's access role, in a member account."""

    def __init__(self, organization: SandboxOrganization) -> None:
        self._organization = organization
        self._session = boto3.Session()  # one session: botocore loads each model once
        self._keys: dict[str, dict[str, str]] = {}

    def client(
        self, service: str, account: str | None = None, region: str = HOME_REGION, config: Config | None = None
    ) -> Any:
        keys = {} if account in (None, self._organization.management) else self._member_keys(account)
        return self._session.client(service, region_name=region, config=config, **keys)

    def _member_keys(self, account: str) -> dict[str, str]:
        if account not in self._keys:
            credentials = self.client("sts").assume_role(
                RoleArn=self._organization.role_arn(account), RoleSessionName="vigil-tests"
            )["Credentials"]
            self._keys[account] = {
                "aws_access_key_id": credentials["AccessKeyId"],
                "aws_secret_access_key": credentials["SecretAccessKey"],
                "aws_session_token": credentials["SessionToken"],
            }
        return self._keys[account]


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    endpoint, organization, stop = start_sandbox(port=0)
    try:
        with pytest.MonkeyPatch.context() as env:
            env.setenv("AWS_ENDPOINT_URL", endpoint)
            env.setenv("AWS_ACCESS_KEY_ID", "testing")
            env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
            env.setenv("AWS_DEFAULT_REGION", HOME_REGION)
            for leftover in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
                env.delenv(leftover, raising=False)
            yield Sandbox(endpoint, organization)
    finally:
        stop()


@pytest.fixture(scope="session")
def organization(sandbox: Sandbox) -> SandboxOrganization:
    return sandbox.organization


@pytest.fixture(scope="session")
def aws(sandbox: Sandbox) -> AwsClients:
    return AwsClients(sandbox.organization)


@pytest.fixture(scope="module")
def access(sandbox: Sandbox) -> AwsAccess:
    """Vigil's own clients, from the home region: one per module, so that what they remember
    (credentials, owners confirmed) never carries from one module's story into another's."""
    return AwsAccess(AccessSettings(home_region=HOME_REGION))


@pytest.fixture
def call_log(sandbox: Sandbox) -> CallLog:
    """The sandbox's call record, emptied for the test."""
    log = CallLog(sandbox.endpoint)
    log.reset()
    return log
