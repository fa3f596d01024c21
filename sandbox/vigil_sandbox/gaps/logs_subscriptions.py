"""CloudWatch Logs gaps, subscriptions: cross-account subscriptions through a destination, the
two-filter rule as AWS applies it, destinations that must be able to deliver, and account-level
subscription filter policies, which moto lacks. (A log group's own gaps are in ``logs``.)

Moto takes a destination ARN (``arn:aws:logs:<region>:<account>:destination:<name>``) given to
PutSubscriptionFilter for a log group's and answers ResourceNotFoundException, so no log group can
subscribe to another account; it counts a filter being rewritten under its own name against the
two-filter limit; and its PutDestination takes any role and any target.

Added, kept per account x region on moto's backend: account policies of every type
(PutAccountPolicy, DescribeAccountPolicies, DeleteAccountPolicy), with AWS's rules for
SUBSCRIPTION_FILTER_POLICY: one per account and region, its destination checked as a subscription
filter's, selectionCriteria only ``LogGroupName NOT IN [...]`` with at most 50 names.

Destination policies are read coarsely, as ``_policies`` reads others: an Allow statement for the
action whose principal is ``*`` or names the account, and whose aws:PrincipalOrgID condition, when
there is one, names the caller's organization. No log event flows through any of it.
"""

from __future__ import annotations

import fnmatch
import json
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from moto.firehose.models import firehose_backends
from moto.iam.exceptions import NotFoundException as IAMNotFoundException
from moto.iam.models import iam_backends
from moto.kinesis.models import kinesis_backends
from moto.logs.models import LogGroup as MotoLogGroup
from moto.logs.models import SubscriptionFilter as MotoSubscriptionFilter
from moto.logs.models import LogsBackend, logs_backends
from moto.logs.responses import LogsResponse
from moto.organizations.models import organizations_backends
from moto.utilities.utils import get_partition

from ._core import AwsError, Gap
from ._policies import policy_allows_service

LOGS = "logs.amazonaws.com"
FILTER_SLOTS = 2
SUBSCRIPTION_FILTER_POLICY = "SUBSCRIPTION_FILTER_POLICY"
MAX_SELECTION_NAMES = 50
_NOT_IN = re.compile(r"^\s*LogGroupName\s+NOT\s+IN\s*(\[.*\])\s*$", re.DOTALL)


def invalid(message: str) -> AwsError:
    return AwsError("InvalidParameterException", message)


# --- Domain: who may subscribe to a destination --------------------------------------------------


def organization_id(account: str, partition: str) -> str | None:
    own = organizations_backends[account][partition]
    if own.org is not None:
        return own.org.id
    found = organizations_backends.master_accounts.get(account)
    if found is None:
        return None
    management, management_partition = found
    org = organizations_backends[management][management_partition].org
    return org.id if org is not None else None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _allows(statement: dict[str, Any], action: str) -> bool:
    return statement.get("Effect") == "Allow" and any(
        fnmatch.fnmatchcase(action.lower(), str(pattern).lower()) for pattern in _as_list(statement.get("Action")))


def destination_admits(policy: str | None, account: str, org_id: str | None, action: str) -> bool:
    """Whether a destination's access policy lets ``account`` (of ``org_id``) call ``action`` on it."""
    for statement in _as_list(json.loads(policy).get("Statement")) if policy else []:
        if not _allows(statement, action):
            continue
        principal = statement.get("Principal")
        named = _as_list(principal.get("AWS")) if isinstance(principal, dict) else _as_list(principal)
        if not any(p == "*" or p == account or str(p).split(":")[4:5] == [account] for p in named):
            continue
        orgs = [o for values in (statement.get("Condition") or {}).values() if isinstance(values, dict)
                for key, value in values.items() if key.lower() == "aws:principalorgid" for o in _as_list(value)]
        if orgs and org_id not in orgs:
            continue
        return True
    return False


def _arn_parts(arn: str) -> list[str]:
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise invalid(f"{arn} is not an ARN.")
    return parts


def stream_exists(arn: str) -> bool:
    """A Kinesis or Firehose stream, in the account and region its ARN names."""
    _, _, service, region, account, resource = _arn_parts(arn)
    if service == "firehose":
        return firehose_backends[account][region].lookup_name_from_arn(arn) is not None
    if service == "kinesis":
        return resource.removeprefix("stream/") in kinesis_backends[account][region].streams
    raise invalid(f"Service '{service}' cannot receive subscribed log events here.")


def require_logs_role(role_arn: str | None, partition: str) -> Any:
    """A Kinesis or Firehose target is written through a role CloudWatch Logs can assume."""
    if not role_arn:
        raise invalid("A roleArn is required for a Kinesis or Firehose destination.")
    try:
        role = iam_backends[_arn_parts(role_arn)[4]][partition].get_role_by_arn(role_arn)
    except IAMNotFoundException:
        raise invalid(f"Could not assume role {role_arn}: it does not exist.") from None
    if not policy_allows_service(role.assume_role_policy_document, LOGS, "sts:AssumeRole"):
        raise invalid(f"Could not assume role {role_arn}: it does not trust {LOGS}.")
    return role


def role_allows(role: Any, action: str) -> bool:
    """Coarse, as the sandbox's other checks: an inline policy statement allowing the action."""
    for document in role.policies.values():
        parsed = json.loads(document) if isinstance(document, str) else document
        if any(_allows(statement, action) for statement in _as_list(parsed.get("Statement"))):
            return True
    return False


def require_delivery_target(caller: str, region: str, arn: str, role_arn: str | None, action: str) -> None:
    """What AWS checks of a subscription's destination ARN before it takes a filter or an account
    policy: the destination exists where it must, and admits the caller."""
    _, partition, service, target_region, target_account, resource = _arn_parts(arn)
    if service == "logs" and resource.startswith("destination:"):
        if target_region != region:
            raise invalid("The destination must be in the same region as the log group.")
        destination = logs_backends[target_account][target_region].destinations.get(arn)
        if destination is None:
            raise AwsError("ResourceNotFoundException", "The specified destination does not exist.")
        if target_account != caller and not destination_admits(
                destination.access_policy, caller, organization_id(caller, partition), f"logs:{action}"):
            raise AwsError("AccessDeniedException", f"User with accountId: {caller} is not authorized to perform: "
                                                    f"logs:{action} on resource: {arn}")
        return
    if service == "lambda":
        return  # moto's own check (a function that exists) is not worth repeating here
    if target_account != caller:
        raise invalid("A target in another account must be reached through a CloudWatch Logs destination.")
    if not stream_exists(arn):
        raise invalid(f"Could not deliver test message to specified {service} stream {arn}.")
    require_logs_role(role_arn, partition)


# --- Domain: subscription filters ----------------------------------------------------------------


def put_subscription_filter(group: MotoLogGroup, name: str, pattern: str, destination_arn: str,
                            role_arn: str | None, distribution: str) -> None:
    """Two filters per log group; rewriting one under its own name takes no second slot."""
    existing = group.subscription_filters.get(name)
    if existing is None and len(group.subscription_filters) >= FILTER_SLOTS:
        raise AwsError("LimitExceededException", "Resource limit exceeded.")
    if existing is None:
        existing = MotoSubscriptionFilter(name=name, log_group_name=group.name, filter_pattern=pattern,
                                          destination_arn=destination_arn, role_arn=role_arn or "")
        group.subscription_filters[name] = existing
    else:
        existing.update(pattern, destination_arn, role_arn or "")
    existing.distribution = distribution  # moto's own filter always says ByLogStream


def filter_view(subscription_filter: Any) -> dict[str, Any]:
    view = {k: v for k, v in subscription_filter.to_json().items() if v not in (None, "")}
    view["filterPattern"] = subscription_filter.filter_pattern or ""
    view["distribution"] = getattr(subscription_filter, "distribution", "ByLogStream")
    return view


# --- Domain: account policies --------------------------------------------------------------------


@dataclass
class AccountPolicy:
    name: str
    policy_type: str
    document: str
    scope: str
    selection_criteria: str
    account: str
    updated: datetime

    def view(self) -> dict[str, Any]:
        view = {"policyName": self.name, "policyDocument": self.document, "policyType": self.policy_type,
                "scope": self.scope, "accountId": self.account,
                "lastUpdatedTime": int(self.updated.timestamp() * 1000)}
        if self.selection_criteria:
            view["selectionCriteria"] = self.selection_criteria
        return view


_LOCK = threading.Lock()


def _held(backend: LogsBackend) -> dict[tuple[str, str], AccountPolicy]:
    """The account x region's policies by (type, name), kept on moto's backend so that a reset of
    moto resets them too."""
    held = backend.__dict__.get("_vigil_account_policies")
    if held is None:
        held = backend.__dict__.setdefault("_vigil_account_policies", {})
    return held


def put_account_policy(backend: LogsBackend, policy: AccountPolicy) -> AccountPolicy:
    with _LOCK:
        held = _held(backend)
        if policy.policy_type == SUBSCRIPTION_FILTER_POLICY and any(
                t == SUBSCRIPTION_FILTER_POLICY and n != policy.name for t, n in held):
            raise AwsError("LimitExceededException", "An account can have one account-level subscription "
                                                     "filter policy per Region; update it by its name.")
        held[(policy.policy_type, policy.name)] = policy
        return policy


def find_account_policies(backend: LogsBackend, policy_type: str, name: str | None = None) -> list[AccountPolicy]:
    with _LOCK:
        return [p for (t, n), p in sorted(_held(backend).items()) if t == policy_type and name in (None, n)]


def delete_account_policy(backend: LogsBackend, policy_type: str, name: str) -> None:
    with _LOCK:
        if _held(backend).pop((policy_type, name), None) is None:
            raise AwsError("ResourceNotFoundException", f"Policy {name} does not exist.")


def check_subscription_policy(caller: str, region: str, document: str, scope: str, criteria: str) -> None:
    try:
        parsed = json.loads(document)
    except ValueError:
        raise invalid("policyDocument is not valid JSON.") from None
    if not isinstance(parsed, dict) or not parsed.get("DestinationArn"):
        raise invalid("A subscription filter policy needs a DestinationArn.")
    if parsed.get("Distribution", "ByLogStream") not in ("Random", "ByLogStream"):
        raise invalid("Distribution must be Random or ByLogStream.")
    if scope != "ALL":
        raise invalid("scope must be ALL.")
    if criteria:
        match = _NOT_IN.match(criteria)
        try:
            names = json.loads(match.group(1)) if match else None
        except ValueError:
            names = None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise invalid('selectionCriteria supports only LogGroupName NOT IN ["name", ...].')
        if len(names) > MAX_SELECTION_NAMES:
            raise invalid(f"selectionCriteria names at most {MAX_SELECTION_NAMES} log groups.")
    require_delivery_target(caller, region, parsed["DestinationArn"], parsed.get("RoleArn"), "PutAccountPolicy")


# --- Wire ----------------------------------------------------------------------------------------


def _group(self: LogsResponse, name: str) -> MotoLogGroup:
    group = self.logs_backend.groups.get(name)
    if group is None:
        raise AwsError("ResourceNotFoundException", "The specified log group does not exist.")
    return group


def _put_subscription_filter(self: LogsResponse, params: dict[str, Any]) -> dict[str, Any]:
    group = _group(self, params["logGroupName"])
    require_delivery_target(self.current_account, self.region, params["destinationArn"], params.get("roleArn"),
                            "PutSubscriptionFilter")
    put_subscription_filter(group, params["filterName"], params["filterPattern"], params["destinationArn"],
                            params.get("roleArn"), params.get("distribution", "ByLogStream"))
    return {}


def _describe_subscription_filters(self: LogsResponse, params: dict[str, Any]) -> dict[str, Any]:
    group = _group(self, params["logGroupName"])
    prefix = params.get("filterNamePrefix", "")
    return {"subscriptionFilters": [filter_view(f) for f in sorted(group.subscription_filters.values(),
                                                                   key=lambda f: f.name)
                                    if f.name.startswith(prefix)]}


def _put_destination(self: LogsResponse, params: dict[str, Any]) -> None:
    """CloudWatch Logs must be able to write the target through the role, as AWS's test message."""
    target = params["targetArn"]
    service = _arn_parts(target)[2]
    if service not in ("firehose", "kinesis"):
        raise invalid(f"A destination delivers to a Kinesis or Firehose stream, not {service}.")
    if not stream_exists(target):
        raise invalid(f"Could not deliver test message to specified {service} stream {target}.")
    role = require_logs_role(params["roleArn"], get_partition(self.region))
    action = f"{service}:PutRecord"
    if not role_allows(role, action):
        raise invalid(f"Could not deliver test message: role {params['roleArn']} may not {action}.")


def _put_account_policy(self: LogsResponse, params: dict[str, Any]) -> dict[str, Any]:
    policy_type, scope = params["policyType"], params.get("scope", "ALL")
    criteria = params.get("selectionCriteria", "")
    if policy_type == SUBSCRIPTION_FILTER_POLICY:
        check_subscription_policy(self.current_account, self.region, params["policyDocument"], scope, criteria)
    policy = AccountPolicy(params["policyName"], policy_type, params["policyDocument"], scope, criteria,
                           self.current_account, datetime.now(timezone.utc))
    if params.get("dryRun"):
        return {"accountPolicy": policy.view()}
    return {"accountPolicy": put_account_policy(self.logs_backend, policy).view()}


def _describe_account_policies(self: LogsResponse, params: dict[str, Any]) -> dict[str, Any]:
    # Another account's policies are visible only through a monitoring account: not modelled.
    if any(a != self.current_account for a in params.get("accountIdentifiers") or []):
        return {"accountPolicies": []}
    found = find_account_policies(self.logs_backend, params["policyType"], params.get("policyName"))
    return {"accountPolicies": [p.view() for p in found]}


def _delete_account_policy(self: LogsResponse, params: dict[str, Any]) -> dict[str, Any]:
    if not params.get("dryRun"):
        delete_account_policy(self.logs_backend, params["policyType"], params["policyName"])
    return {}


GAPS: tuple[Gap, ...] = (
    Gap(
        "logs", "PutSubscriptionFilter", "fix", LogsResponse, _put_subscription_filter,
        moto="a CloudWatch Logs destination ARN is looked up as a log group (ResourceNotFoundException), "
             "so no cross-account subscription; rewriting a filter under its own name on a group with two "
             "filters is LimitExceededException",
        sandbox="a destination in the group's region, admitting the caller by its access policy "
                "(AccessDeniedException otherwise); same-account Kinesis/Firehose need a role trusting "
                "logs.amazonaws.com; two filters per group, a rewrite takes no new slot; distribution kept",
    ),
    Gap(
        "logs", "DescribeSubscriptionFilters", "fix", LogsResponse, _describe_subscription_filters,
        moto="ignores filterNamePrefix; distribution always ByLogStream; roleArn null when none",
        sandbox="filterNamePrefix honoured; the distribution given; no roleArn when none",
    ),
    Gap(
        "logs", "PutDestination", "guard", LogsResponse, _put_destination,
        moto="takes any target and role",
        sandbox="the Kinesis or Firehose target must exist and the role trust logs.amazonaws.com and allow "
                "PutRecord (InvalidParameterException), as AWS's test message would find",
    ),
    Gap(
        "logs", "PutAccountPolicy", "addition", LogsResponse, _put_account_policy,
        moto="not implemented",
        sandbox="kept per account x region by type and name; SUBSCRIPTION_FILTER_POLICY: one per account and "
                "region (LimitExceededException), destination checked as PutSubscriptionFilter's, selectionCriteria "
                "only LogGroupName NOT IN [...] with at most 50 names, scope ALL",
    ),
    Gap(
        "logs", "DescribeAccountPolicies", "addition", LogsResponse, _describe_account_policies,
        moto="not implemented",
        sandbox="the caller's policies of the type, all or by name",
    ),
    Gap(
        "logs", "DeleteAccountPolicy", "addition", LogsResponse, _delete_account_policy,
        moto="not implemented",
        sandbox="removes the policy; ResourceNotFoundException",
    ),
)
