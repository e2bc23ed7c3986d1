"""Per-account Region status and the STS activation rules (aws-sts-behaviour.md §3.5).

- Regions enabled by default are ``ENABLED_BY_DEFAULT``; STS is active there unless the
  account deactivated it (us-east-1, and each partition's global Region, cannot be).
- Opt-in Regions are ``DISABLED`` until the Account API enables them (through ``ENABLING``);
  enabling one activates STS there, and it cannot be deactivated on its own.
- Credentials are generated in a Region only if STS is active there for the account that
  generates them; in an opt-in Region the calling account must have the Region enabled too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from stsd.regions import catalogue

ENABLED_BY_DEFAULT = "ENABLED_BY_DEFAULT"
ENABLED = "ENABLED"
ENABLING = "ENABLING"
DISABLING = "DISABLING"
DISABLED = "DISABLED"


@dataclass(frozen=True, slots=True)
class RegionRow:
    """What the store holds for an account and Region (None: catalogue default)."""

    opt_status: str | None = None
    sts_active: bool | None = None
    settles_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RegionStatus:
    region: str
    opt_status: str
    sts_active: bool
    sts_deactivatable: bool

    @property
    def enabled(self) -> bool:
        return self.opt_status in (ENABLED, ENABLED_BY_DEFAULT)


def status(region_name: str, row: RegionRow | None, now: datetime) -> RegionStatus:
    region = catalogue.region(region_name)
    if region is None:
        raise KeyError(region_name)
    if not region.opt_in:
        return _enabled_by_default(region_name, region.sts_deactivatable, row)
    opt = (row.opt_status if row else None) or DISABLED
    if opt in (ENABLING, DISABLING) and row is not None and row.settles_at is not None and now >= row.settles_at:
        opt = ENABLED if opt == ENABLING else DISABLED
    return RegionStatus(region_name, opt, opt == ENABLED, False)


@lru_cache(maxsize=1024)  # asked on every AssumeRole; the answer needs no clock, and statuses are immutable
def _enabled_by_default(region_name: str, sts_deactivatable: bool, row: RegionRow | None) -> RegionStatus:
    active = True if row is None or row.sts_active is None else row.sts_active
    if not sts_deactivatable:
        active = True
    return RegionStatus(region_name, ENABLED_BY_DEFAULT, active, sts_deactivatable)
