"""Server settings, from CLI flags and ``STSD_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_ACCOUNT = "123456789012"
OIDC_CA_FILE_ENV = "STSD_OIDC_CA_FILE"


def _oidc_ca_file_from_env() -> Path | None:
    value = os.environ.get(OIDC_CA_FILE_ENV)
    return Path(value) if value else None


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = Path(".stsd")
    database_url: str | None = None  # None: SQLite file in data_dir
    emulator: bool = False
    default_account: str = DEFAULT_ACCOUNT  # emulator: account for non-numeric key ids
    cache_poll_seconds: float = 1.0  # how quickly other workers' IAM writes become visible
    max_body_bytes: int = 10_000_000
    trust_forwarded_for: bool = False  # use X-Forwarded-For for aws:SourceIp (behind a proxy)
    topology_file: Path | None = None  # source networks → the Region a caller is in
    global_endpoint_mode: str = "local"  # "local" (2025 behaviour) or "legacy" (always us-east-1)
    quota_rate: int = 600  # requests/s per (account, Region, endpoint type); 0 = unlimited
    quota_burst: int = 600
    redis_url: str | None = None  # share quotas between workers and nodes
    workers: int = 1
    region_transition_seconds: float = 5.0  # how long ENABLING/DISABLING last
    audit_enabled: bool = True  # CloudTrail records for every Query-API call (stsd.audit)
    audit_flush_seconds: float = 1.0  # writer interval: at most this much is lost on kill -9
    audit_queue_size: int = 20_000  # calls waiting for the writer (~5 KB each); newer ones are dropped beyond
    audit_files: bool = True  # also deliver S3-layout files (AWSLogs/<account>/CloudTrail/<region>/…)
    audit_dir: Path | None = None  # root of those files (default: <data_dir>/cloudtrail)
    # PEM CA certificates trusted, besides the system's, when fetching OIDC issuers' keys
    # (AssumeRoleWithWebIdentity); ``stsd serve --oidc-ca-file`` or STSD_OIDC_CA_FILE.
    oidc_ca_file: Path | None = field(default_factory=_oidc_ca_file_from_env)

    def resolved_database_url(self) -> str:
        from stsd.store.db import sqlite_url

        return self.database_url or sqlite_url(self.data_dir)
