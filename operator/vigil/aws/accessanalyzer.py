"""IAM Access Analyzer: an analyzer by name, and what the management account has delegated to the
account that runs the organization's analyzer."""

from __future__ import annotations

from ..state.securityhub import AnalyzerState
from .errors import or_default
from .session import AwsAccess


def observe_analyzer(access: AwsAccess, account_id: str, region: str, name: str) -> AnalyzerState:
    client = access.client("accessanalyzer", account_id, region)
    found = or_default(lambda: client.get_analyzer(analyzerName=name)["analyzer"], None, "ResourceNotFoundException")
    if found is None:
        return AnalyzerState(exists=False)
    return AnalyzerState(exists=True, arn=found.get("arn", ""), type=found.get("type", ""),
                         status=found.get("status", ""), status_reason=(found.get("statusReason") or {}).get("code", ""),
                         tags=found.get("tags") or {})


def delegated_services(access: AwsAccess, account_id: str) -> frozenset[str]:
    """The service principals the account is a delegated administrator for, read in the management
    account; none for an account never registered."""
    org = access.client("organizations", access.base_account_id(), access.settings.home_region)
    return frozenset(or_default(lambda: [s["ServicePrincipal"] for page in org.get_paginator(
        "list_delegated_services_for_account").paginate(AccountId=account_id)
        for s in page["DelegatedServices"]], [], "AccountNotRegisteredException"))


def delete_analyzer(access: AwsAccess, account_id: str, region: str, name: str) -> None:
    access.client("accessanalyzer", account_id, region).delete_analyzer(analyzerName=name)

