"""What AWS Organizations says about the organization."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    status: str  # ACTIVE | SUSPENDED | PENDING_CLOSURE
    # OU ids from the root down to the account's parent, so "in this OU, recursively" is a lookup.
    ou_path: tuple[str, ...] = ()
    email: str = ""  # the account's root email: GuardDuty's CreateMembers asks for it


@dataclass(frozen=True)
class OrganizationInventory:
    organization_id: str
    management_account_id: str
    accounts: tuple[Account, ...] = field(default_factory=tuple)

    def account(self, account_id: str) -> Account | None:
        return next((a for a in self.accounts if a.id == account_id), None)

    @property
    def active_ids(self) -> list[str]:
        return [a.id for a in self.accounts if a.status == "ACTIVE"]
