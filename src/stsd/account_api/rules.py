"""The rules of Region management, in one place for the CLI, the Account API and the admin API.

What may change when (aws-sts-behaviour.md §3.5, the Account API model and docs):

- Opt-in Regions are enabled/disabled through ``ENABLING``/``DISABLING``, each settling after
  ``settings.region_transition_seconds`` (readers derive the settled status from
  ``settles_at``; nothing flips it). A request while a transition is under way is a conflict;
  asking for the state a Region is already in (or any change of a Region enabled by default)
  is a validation error. Enabling an opt-in Region activates STS there.
- STS can be activated/deactivated by hand only in Regions enabled by default that allow it
  (not us-east-1, not opt-in Regions — those follow their opt status).
- Simulated faults are global per Region; quota overrides are per account, Region (or ``*``)
  and endpoint type (``global``, ``regional`` or ``*``).

Every check happens before any write: a refused request changes nothing. Errors are
:class:`RuleError` with a ``kind``; each surface maps kinds to its own wire errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from stsd import ids
from stsd.regions import activation, catalogue
from stsd.regions.activation import DISABLED, DISABLING, ENABLED, ENABLED_BY_DEFAULT, ENABLING, RegionRow
from stsd.server import faults as fault_modes
from stsd.store.directory import AccountView

OPT_STATUSES = (ENABLED, ENABLING, DISABLING, DISABLED, ENABLED_BY_DEFAULT)  # the model's enum order
ENDPOINT_TYPES = ("global", "regional", "*")
MAX_DELAY_MS = 600_000

# Error kinds.
INVALID = "invalid"  # bad input or a change the Region's status does not allow
CONFLICT = "conflict"  # a transition is under way
NOT_FOUND = "not-found"
REFUSED = "refused"  # an STS activation change the Region does not allow

# Account API ValidationExceptionReason values.
REASON_TARGET = "invalidRegionOptTarget"
REASON_FIELD = "fieldValidationFailed"

# AWS's text (Account API EnableRegion on a Region already enabled: hashicorp/terraform-provider-aws#41430).
MSG_SWITCH = "Unable to switch region status because of its current opt-in status."
# Not AWS-documented: the wording third-party Account API emulators use for a Region in transition.
MSG_IN_TRANSITION = (
    "Account {account} and region {region} is currently being enabled or disabled. "
    "Please wait until it finishes and then try again."
)
MSG_UNKNOWN_REGION = "Region {region} does not exist in the {partition} partition."
MSG_UNKNOWN_ACCOUNT = "No such account: {account}."
MSG_BAD_ACCOUNT = "Invalid account id {account!r}: it must be 12 digits."
MSG_ALWAYS_ACTIVE = "STS is always active in {region}; it cannot be activated or deactivated."
MSG_OPT_IN = (
    "{region} is an opt-in Region. Enabling an opt-in Region activates STS there; it cannot be deactivated. "
    "Enable or disable the Region instead."
)
MSG_BAD_MODE = "Unknown fault mode {mode!r}: expected one of " + ", ".join(fault_modes.MODES) + "."
MSG_BAD_DELAY = f"delayMs must be an integer between 0 and {MAX_DELAY_MS}."
MSG_NO_FAULT = "No fault is simulated in {region}."
MSG_BAD_ENDPOINT_TYPE = "Unknown endpoint type {value!r}: expected one of " + ", ".join(ENDPOINT_TYPES) + "."
MSG_BAD_RATE = "{name} must be a non-negative integer."


class RuleError(Exception):
    def __init__(self, kind: str, message: str, *, reason: str | None = None, field: str | None = None):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.reason = reason  # Account API ValidationException reason
        self.field = field  # the input member at fault


def utcnow() -> datetime:
    """Full precision: transitions of a second or less must not be cut short by truncation."""
    return datetime.now(UTC)


# --- views -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegionInfo:
    region: str
    name: str
    opt_in: bool
    opt_status: str
    sts_active: bool
    sts_deactivatable: bool  # can STS be activated/deactivated by hand here

    def as_dict(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "name": self.name,
            "optIn": self.opt_in,
            "optStatus": self.opt_status,
            "stsActive": self.sts_active,
            "stsDeactivatable": self.sts_deactivatable,
        }


@dataclass(frozen=True, slots=True)
class Fault:
    region: str
    mode: str
    delay_ms: int

    def as_dict(self) -> dict[str, Any]:
        return {"region": self.region, "mode": self.mode, "delayMs": self.delay_ms}


@dataclass(frozen=True, slots=True)
class Quota:
    account_id: str
    region: str
    endpoint_type: str
    rate: int
    burst: int

    def as_dict(self) -> dict[str, Any]:
        return {"accountId": self.account_id, "region": self.region, "endpointType": self.endpoint_type,
                "rate": self.rate, "burst": self.burst}


def _info(region: catalogue.Region, row: RegionRow | None, now: datetime) -> RegionInfo:
    st = activation.status(region.name, row, now)
    return RegionInfo(region.name, region.description, region.opt_in, st.opt_status, st.sts_active,
                      st.sts_deactivatable)


# --- lookups ---------------------------------------------------------------------------


def account(runtime: Any, account_id: str, *, fresh: bool = False) -> AccountView:
    """The account's snapshot; ``fresh`` rereads it (writes decide on current state, not a
    snapshot another worker or the CLI may have outdated a moment ago)."""
    if not ids.is_account_id(account_id):
        raise RuleError(INVALID, MSG_BAD_ACCOUNT.format(account=account_id), reason=REASON_FIELD, field="AccountId")
    if fresh:
        runtime.directory.invalidate(account_id)
    view = runtime.directory.account(account_id)
    if view is None:
        raise RuleError(NOT_FOUND, MSG_UNKNOWN_ACCOUNT.format(account=account_id))
    return view


def region_of(view: AccountView, region_name: str) -> catalogue.Region:
    """A real Region of the account's partition."""
    region = catalogue.region(region_name)
    if region is None or region.partition != view.partition:
        raise RuleError(INVALID, MSG_UNKNOWN_REGION.format(region=region_name, partition=view.partition),
                        reason=REASON_FIELD, field="RegionName")
    return region


def list_regions(runtime: Any, account_id: str, now: datetime, statuses: set[str] | None = None) -> list[RegionInfo]:
    """Every Region of the account's partition, by name; optionally only those in ``statuses``."""
    view = account(runtime, account_id)
    out = [_info(r, view.regions.get(r.name), now) for r in catalogue.regions(view.partition)]
    return [i for i in out if statuses is None or i.opt_status in statuses]


def get_region(runtime: Any, account_id: str, region_name: str, now: datetime) -> RegionInfo:
    view = account(runtime, account_id)
    region = region_of(view, region_name)
    return _info(region, view.regions.get(region.name), now)


# --- opt-in Regions (Account API EnableRegion / DisableRegion) -------------------------


def enable_region(runtime: Any, account_id: str, region_name: str, now: datetime) -> RegionInfo:
    return _opt(runtime, account_id, region_name, now, ENABLING, DISABLED)


def disable_region(runtime: Any, account_id: str, region_name: str, now: datetime) -> RegionInfo:
    return _opt(runtime, account_id, region_name, now, DISABLING, ENABLED)


def _opt(runtime: Any, account_id: str, region_name: str, now: datetime, target: str, required: str) -> RegionInfo:
    view = account(runtime, account_id, fresh=True)
    region = region_of(view, region_name)
    current = view.region_status(region.name, now).opt_status
    if current in (ENABLING, DISABLING):
        raise RuleError(CONFLICT, MSG_IN_TRANSITION.format(account=account_id, region=region.name))
    if current != required:  # already there, or a Region enabled by default
        raise RuleError(INVALID, MSG_SWITCH, reason=REASON_TARGET, field="RegionName")
    settles_at = now + timedelta(seconds=runtime.settings.region_transition_seconds)
    runtime.regions.set_opt_status(account_id, region.name, target, settles_at)
    return _info(region, RegionRow(opt_status=target, settles_at=settles_at), now)


# --- STS activation (what AWS offers only in the IAM console) ---------------------------


def activate_sts(runtime: Any, account_id: str, region_name: str, now: datetime) -> RegionInfo:
    return _set_sts(runtime, account_id, region_name, now, True)


def deactivate_sts(runtime: Any, account_id: str, region_name: str, now: datetime) -> RegionInfo:
    return _set_sts(runtime, account_id, region_name, now, False)


def _set_sts(runtime: Any, account_id: str, region_name: str, now: datetime, active: bool) -> RegionInfo:
    view = account(runtime, account_id, fresh=True)
    region = region_of(view, region_name)
    if region.opt_in:
        raise RuleError(REFUSED, MSG_OPT_IN.format(region=region.name), field="RegionName")
    if not region.sts_deactivatable:
        raise RuleError(REFUSED, MSG_ALWAYS_ACTIVE.format(region=region.name), field="RegionName")
    runtime.regions.set_sts_active(account_id, region.name, active)
    return _info(region, RegionRow(sts_active=active), now)


# --- simulated Region faults -----------------------------------------------------------


def _real_region(region_name: str) -> catalogue.Region:
    region = catalogue.region(region_name)
    if region is None:
        partition = catalogue.partition_of(region_name).id
        raise RuleError(INVALID, MSG_UNKNOWN_REGION.format(region=region_name, partition=partition),
                        field="RegionName")
    return region


def list_faults(runtime: Any) -> list[Fault]:
    runtime.directory.invalidate_faults()  # read the store, not this worker's cache
    faults = runtime.directory.faults()
    return [Fault(region, mode, delay) for region, (mode, delay) in sorted(faults.items())]


def get_fault(runtime: Any, region_name: str) -> Fault:
    region = _real_region(region_name)
    for fault in list_faults(runtime):
        if fault.region == region.name:
            return fault
    raise RuleError(NOT_FOUND, MSG_NO_FAULT.format(region=region.name))


def set_fault(runtime: Any, region_name: str, mode: str, delay_ms: int = 0) -> Fault:
    region = _real_region(region_name)
    if mode not in fault_modes.MODES:
        raise RuleError(INVALID, MSG_BAD_MODE.format(mode=mode), field="mode")
    if isinstance(delay_ms, bool) or not isinstance(delay_ms, int) or not 0 <= delay_ms <= MAX_DELAY_MS:
        raise RuleError(INVALID, MSG_BAD_DELAY, field="delayMs")
    runtime.regions.set_fault(region.name, mode, delay_ms)
    return Fault(region.name, mode, delay_ms)


def clear_faults(runtime: Any, region_name: str | None = None) -> int:
    """Remove the fault of one Region (or all); returns how many were removed."""
    name = _real_region(region_name).name if region_name is not None else None
    return runtime.regions.clear_fault(name)


# --- quota overrides -------------------------------------------------------------------


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RuleError(INVALID, MSG_BAD_RATE.format(name=name), field=name)
    return value


def set_quota(runtime: Any, account_id: str, region_name: str, endpoint_type: str, rate: int,
              burst: int | None = None) -> Quota:
    view = account(runtime, account_id)
    region = "*" if region_name == "*" else region_of(view, region_name).name
    if endpoint_type not in ENDPOINT_TYPES:
        raise RuleError(INVALID, MSG_BAD_ENDPOINT_TYPE.format(value=endpoint_type), field="endpointType")
    rate = _count(rate, "rate")
    burst = rate if burst is None else _count(burst, "burst")
    runtime.regions.set_quota(account_id, region, endpoint_type, rate, burst)
    return Quota(account_id, region, endpoint_type, rate, burst)


def list_quotas(runtime: Any, account_id: str | None = None) -> list[Quota]:
    if account_id is not None:
        account(runtime, account_id)
    rows = [Quota(q.account_id, q.region, q.endpoint_type, q.rate, q.burst) for q in runtime.regions.quota_rows()]
    return sorted((q for q in rows if account_id is None or q.account_id == account_id),
                  key=lambda q: (q.account_id, q.region, q.endpoint_type))
