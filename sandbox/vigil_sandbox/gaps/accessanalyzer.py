"""IAM Access Analyzer, which moto does not have at all.

The sandbox adds the service itself: a backend per account and region holding analyzers, a
response class moto's server dispatches to by the request's URL, and, on import, the two entries
moto's server needs to find a service (its host pattern, and its backends under moto's module
name). The operations are gaps of kind "addition" on that class, so without the gaps the service
is there but answers that nothing is implemented, as moto alone would fail.

AWS's rules kept: an analyzer's name is unique per account and region; an organization analyzer
is made by the management account or Access Analyzer's delegated administrator, once the
organization trusts the service; it reads DISABLED (AWS_SERVICE_ACCESS_DISABLED) while trusted
access is off. Not modelled: findings, archive rules, quotas.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from moto import backend_index
from moto.core.base_backend import BackendDict, BaseBackend
from moto.core.responses import BaseResponse
from moto.utilities.utils import get_partition

from ._core import AwsError, Gap, Handler, with_client_token
from .securityhub import is_trusted, organization_of

ACCESS_ANALYZER = "access-analyzer.amazonaws.com"
ORGANIZATION_TYPES = ("ORGANIZATION", "ORGANIZATION_UNUSED_ACCESS", "ORGANIZATION_INTERNAL_ACCESS")


# --- Domain --------------------------------------------------------------------------------------


@dataclass
class Analyzer:
    name: str
    arn: str
    type: str
    created_at: datetime
    tags: dict[str, str] = field(default_factory=dict)


class AccessAnalyzerBackend(BaseBackend):
    def __init__(self, region_name: str, account_id: str) -> None:
        super().__init__(region_name, account_id)
        self.analyzers: dict[str, Analyzer] = {}

    # moto finds a backend's URLs in the urls module beside its models; these live here.
    @property
    def url_bases(self) -> list[str]:
        return [r"https?://access-analyzer\.(.+)\.amazonaws\.com"]

    @property
    def url_paths(self) -> dict[str, Any]:
        return {"/analyzer$": AccessAnalyzerResponse.dispatch,
                "/analyzer/(?P<analyzerName>[^/]+)$": AccessAnalyzerResponse.dispatch}


accessanalyzer_backends = BackendDict(AccessAnalyzerBackend, "accessanalyzer")


def _backend(account: str, region: str) -> AccessAnalyzerBackend:
    return accessanalyzer_backends[account][region]


def check_organization_analyzer(account: str, region: str) -> None:
    """Who may make an organization analyzer, and when."""
    organization = organization_of(account, get_partition(region))
    if organization is None:
        raise AwsError("ValidationException", "The account is not a member of an organization.")
    if not is_trusted(organization, ACCESS_ANALYZER):
        raise AwsError("ValidationException", f"Trusted access for {ACCESS_ANALYZER} is not enabled in the "
                                              "organization.")
    delegated = any(a.account.id == account and ACCESS_ANALYZER in a.services for a in organization.admins)
    if account != organization.account_id and not delegated:
        raise AwsError("AccessDeniedException", "Only the management account or the delegated administrator for "
                                                "IAM Access Analyzer can create an organization analyzer.")


def create_analyzer(account: str, region: str, name: str, type_: str, tags: dict[str, str]) -> Analyzer:
    analyzers = _backend(account, region).analyzers
    if name in analyzers:
        raise AwsError("ConflictException", f"An analyzer named {name} already exists.")
    if type_ in ORGANIZATION_TYPES:
        check_organization_analyzer(account, region)
    arn = f"arn:{get_partition(region)}:access-analyzer:{region}:{account}:analyzer/{name}"
    analyzers[name] = Analyzer(name, arn, type_, datetime.now(timezone.utc), dict(tags))
    return analyzers[name]


def analyzer_named(account: str, region: str, name: str) -> Analyzer:
    found = _backend(account, region).analyzers.get(name)
    if found is None:
        raise AwsError("ResourceNotFoundException", f"Analyzer {name} not found.")
    return found


def analyzer_view(analyzer: Analyzer, account: str, region: str) -> dict[str, Any]:
    view: dict[str, Any] = {"arn": analyzer.arn, "name": analyzer.name, "type": analyzer.type,
                            "createdAt": analyzer.created_at, "status": "ACTIVE", "tags": analyzer.tags}
    if analyzer.type in ORGANIZATION_TYPES:
        organization = organization_of(account, get_partition(region))
        if organization is None or not is_trusted(organization, ACCESS_ANALYZER):
            view.update(status="DISABLED", statusReason={"code": "AWS_SERVICE_ACCESS_DISABLED"})
    return view


# --- Wire ----------------------------------------------------------------------------------------


class AccessAnalyzerResponse(BaseResponse):
    def __init__(self) -> None:
        super().__init__(service_name="accessanalyzer")


def _create_analyzer(self: AccessAnalyzerResponse, params: dict[str, Any]) -> dict[str, Any]:
    def create() -> dict[str, Any]:
        analyzer = create_analyzer(self.current_account, self.region, params["analyzerName"], params["type"],
                                   params.get("tags") or {})
        return {"arn": analyzer.arn}
    return with_client_token(_backend(self.current_account, self.region), "CreateAnalyzer", params, "clientToken",
                             create, AwsError("ConflictException", "The clientToken was used before with other "
                                                                   "parameters."))


def _get_analyzer(self: AccessAnalyzerResponse, params: dict[str, Any]) -> dict[str, Any]:
    found = analyzer_named(self.current_account, self.region, params["analyzerName"])
    return {"analyzer": analyzer_view(found, self.current_account, self.region)}


def _list_analyzers(self: AccessAnalyzerResponse, params: dict[str, Any]) -> dict[str, Any]:
    analyzers = _backend(self.current_account, self.region).analyzers.values()
    wanted = params.get("type")
    return {"analyzers": [analyzer_view(a, self.current_account, self.region) for a in analyzers
                          if wanted is None or a.type == wanted]}


def _delete_analyzer(self: AccessAnalyzerResponse, params: dict[str, Any]) -> dict[str, Any]:
    found = analyzer_named(self.current_account, self.region, params["analyzerName"])
    del _backend(self.current_account, self.region).analyzers[found.name]
    return {}


def _register_service() -> None:
    """Point moto's server at this module for the service's requests: by host (the signing name
    access-analyzer), then by moto's module name, which is how the server imports a backend."""
    if not any(name == "accessanalyzer" for name, _ in backend_index.backend_url_patterns):
        backend_index.backend_url_patterns.append(
            ("accessanalyzer", re.compile(r"https?://access-analyzer\.(.+)\.amazonaws\.com")))
    sys.modules.setdefault("moto.accessanalyzer", sys.modules[__name__])


_register_service()


def _gap(operation: str, handler: Handler, sandbox: str) -> Gap:
    return Gap("accessanalyzer", operation, "addition", AccessAnalyzerResponse, handler,
               moto="no IAM Access Analyzer service at all", sandbox=sandbox)


GAPS: tuple[Gap, ...] = (
    _gap("CreateAnalyzer", _create_analyzer,
         "unique names; ORGANIZATION types need trusted access and the management account or the delegated "
         "administrator; a repeated clientToken gets the first answer"),
    _gap("GetAnalyzer", _get_analyzer, "the analyzer; DISABLED while the organization does not trust the service"),
    _gap("ListAnalyzers", _list_analyzers, "the account's analyzers in the region, by type"),
    _gap("DeleteAnalyzer", _delete_analyzer, "removes the analyzer"),
)
