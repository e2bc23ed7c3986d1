"""Writes of per-account Region state (opt status, STS activation), Region fault simulation
and quota overrides. Rules (what may change when) live with the APIs that expose them; this
module only persists, bumps the account generation and refreshes the caches."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from stsd.store import models
from stsd.store.directory import Directory
from stsd.store.iam import now


class RegionStore:
    def __init__(self, sessions: sessionmaker[Session], directory: Directory):
        self._sessions = sessions
        self.directory = directory

    def _row(self, s: Session, account_id: str, region: str) -> models.AccountRegion:
        row = s.get(models.AccountRegion, (account_id, region))
        if row is None:
            row = models.AccountRegion(account_id=account_id, region=region)
            s.add(row)
        return row

    def _bump(self, s: Session, account_id: str) -> None:
        s.execute(
            update(models.Account)
            .where(models.Account.id == account_id)
            .values(generation=models.Account.generation + 1)
        )

    def set_opt_status(self, account_id: str, region: str, opt_status: str, settles_at: datetime | None) -> None:
        with self._sessions.begin() as s:
            row = self._row(s, account_id, region)
            row.opt_status = opt_status
            row.settles_at = settles_at
            self._bump(s, account_id)
        self.directory.invalidate(account_id)

    def set_sts_active(self, account_id: str, region: str, active: bool) -> None:
        with self._sessions.begin() as s:
            self._row(s, account_id, region).sts_active = active
            self._bump(s, account_id)
        self.directory.invalidate(account_id)

    # --- fault simulation (global, not per account) -------------------------------------
    def set_fault(self, region: str, mode: str, delay_ms: int = 0) -> None:
        with self._sessions.begin() as s:
            fault = s.get(models.RegionFault, region)
            if fault is None:
                s.add(models.RegionFault(region=region, mode=mode, delay_ms=delay_ms, created_at=now()))
            else:
                fault.mode, fault.delay_ms, fault.created_at = mode, delay_ms, now()
        self.directory.invalidate_faults()

    def clear_fault(self, region: str | None = None) -> int:
        with self._sessions.begin() as s:
            query = delete(models.RegionFault)
            if region is not None:
                query = query.where(models.RegionFault.region == region)
            count = s.execute(query).rowcount
        self.directory.invalidate_faults()
        return count

    # --- quota overrides ----------------------------------------------------------------
    def set_quota(self, account_id: str, region: str, endpoint_type: str, rate: int, burst: int) -> None:
        with self._sessions.begin() as s:
            row = s.get(models.QuotaOverride, (account_id, region, endpoint_type))
            if row is None:
                s.add(models.QuotaOverride(account_id=account_id, region=region, endpoint_type=endpoint_type,
                                           rate=rate, burst=burst))
            else:
                row.rate, row.burst = rate, burst
            self._bump(s, account_id)
        self.directory.invalidate(account_id)

    def quota_rows(self) -> list[models.QuotaOverride]:
        with self._sessions() as s:
            return list(s.scalars(select(models.QuotaOverride)))
