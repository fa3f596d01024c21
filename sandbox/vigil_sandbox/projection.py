"""The projected first convergence on AWS of 1,000 accounts x 17 regions, from a measured run.

The sandbox cannot carry 1,000 x 17 on two shared cores, and it answers faster than AWS. So the
figure is projected from the calls the largest bench run really made, per account, region, service
and operation:

1. Calls scaled to the target: a run of R governed regions shows, per account and operation, the
   home region's calls and the other regions' (all alike); 17 regions are the home region's plus
   16 times one other region's. Accounts scale linearly from the run's to the target's.
2. Three bounds on the time, all met at once in a real run:
   - the fan-out: every call takes AWS's answer time (``LATENCY_S``, an assumption: a control-plane
     call across Regions), with ``in_flight`` calls at once (the CallBudget);
   - AWS's rates: each account x region x operation is served at its documented rate after its
     burst (the sandbox's table, vigil_sandbox.rate_limits); the slowest key bounds the whole;
   - Vigil's CPU: every call costs the operator's measured CPU per call, on one core (the GIL).
   The projection is the larger of the first two plus the third: CPU is not assumed to overlap.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

TARGET_ACCOUNTS = 1000
TARGET_REGIONS = 17
LATENCY_S = 0.1


@dataclass(frozen=True)
class Projection:
    calls: int
    fan_out_s: float
    rate_limited_s: float
    slowest_key: str
    cpu_s: float

    @property
    def total_s(self) -> float:
        return max(self.fan_out_s, self.rate_limited_s) + self.cpu_s


def scaled_calls(calls: Iterable[Any], home: str, regions: list[str], accounts: int, central: set[str],
                 target_accounts: int = TARGET_ACCOUNTS, target_regions: int = TARGET_REGIONS) -> Counter[tuple[str, ...]]:
    """Calls per (account, region, service, operation) at the target size. The ``central``
    accounts (management, log archive, security) act for every member, so their
    keys grow with the number of accounts; a member's keys do not, but there are more members:
    their keys keep their counts and the projection's total counts each member key as many times
    as members grow (``Projection.calls``)."""
    others = [r for r in regions if r != home]
    per_key: Counter[tuple[str, ...]] = Counter()
    for call in calls:
        per_key[(call.account, call.region, call.service, call.operation)] += 1
    scaled: Counter[tuple[str, ...]] = Counter()
    growth = members_growth(accounts, central, target_accounts)
    region_factor = (target_regions - 1) / len(others) if others else 0.0
    for (account, region, service, operation), count in per_key.items():
        count *= growth if account in central else 1.0
        if region in others:
            # One projected "other regions" key stands for the 16 regions beyond the home one.
            scaled[(account, "other regions", service, operation)] += count * region_factor
        else:
            scaled[(account, region, service, operation)] += count
    return scaled


def members_growth(accounts: int, central: set[str], target_accounts: int) -> float:
    return (target_accounts - len(central)) / max(1, accounts - len(central))


def project(calls: list[Any], home: str, regions: list[str], accounts: int, central: set[str],
            cpu_per_call_s: float, in_flight: int, rate_for: Callable[[str, str], tuple[float, float]],
            target_accounts: int = TARGET_ACCOUNTS, target_regions: int = TARGET_REGIONS) -> Projection:
    """``rate_for(service, operation)``: AWS's (rate a second, burst) for one account and region."""
    scaled = scaled_calls(calls, home, regions, accounts, central, target_accounts, target_regions)
    members = members_growth(accounts, central, target_accounts)
    total = sum(count * (1.0 if key[0] in central else members) for key, count in scaled.items())
    slowest, slowest_s = "", 0.0
    for (account, region, service, operation), count in scaled.items():
        rate, burst = rate_for(service, operation)
        # An "other regions" key is 16 keys of count/16 each, served in parallel.
        each = count / (target_regions - 1) if region == "other regions" else count
        seconds = max(0.0, each - burst) / rate
        if seconds > slowest_s:
            slowest, slowest_s = f"{service}:{operation} in {account} {region} ({each:.0f} calls)", seconds
    return Projection(calls=round(total), fan_out_s=total * LATENCY_S / in_flight, rate_limited_s=slowest_s,
                      slowest_key=slowest, cpu_s=total * cpu_per_call_s)
