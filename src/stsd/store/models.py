"""Control-plane tables (SQLAlchemy 2 ORM). Sessions have no table: tokens are sealed.

Secrets (access-key secrets, MFA seeds, signing keys) are stored wrapped with the master key
(see :mod:`stsd.store.crypto`), never in the clear. Names that IAM treats case-insensitively
(user, role, policy names) carry a lower-cased ``*_key`` column for the uniqueness constraint.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[str] = mapped_column(String(12), primary_key=True)
    partition: Mapped[str] = mapped_column(String(16), default="aws")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Bumped on every IAM write for the account: workers compare it to refresh their caches.
    generation: Mapped[int] = mapped_column(BigInteger, default=0)
    global_endpoint_token_version: Mapped[int] = mapped_column(Integer, default=1)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("account_id", "name_key"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # AIDA…
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    name_key: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(512), default="/")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    permissions_boundary: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    tags: Mapped[list] = mapped_column(JSON, default=list)


class AccessKey(Base):
    __tablename__ = "access_keys"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)  # AKIA…
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    user_name: Mapped[str | None] = mapped_column(String(64), nullable=True)  # None: root key
    secret_wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="Active")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Role(Base):
    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("account_id", "name_key"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # AROA…
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    name_key: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(512), default="/")
    trust_policy: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    max_session_duration: Mapped[int] = mapped_column(Integer, default=3600)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    permissions_boundary: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    tags: Mapped[list] = mapped_column(JSON, default=list)


class InlinePolicy(Base):
    __tablename__ = "inline_policies"
    __table_args__ = (UniqueConstraint("account_id", "owner_type", "owner_key", "name_key"),)
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    owner_type: Mapped[str] = mapped_column(String(8))  # "user" | "role"
    owner_key: Mapped[str] = mapped_column(String(64))  # lower-cased owner name
    name: Mapped[str] = mapped_column(String(128))
    name_key: Mapped[str] = mapped_column(String(128))
    document: Mapped[str] = mapped_column(Text)


class ManagedPolicy(Base):
    __tablename__ = "managed_policies"
    arn: Mapped[str] = mapped_column(String(2048), primary_key=True)
    id: Mapped[str] = mapped_column(String(32), unique=True)  # ANPA…
    account_id: Mapped[str] = mapped_column(String(12), index=True)  # "aws" for AWS-managed
    name: Mapped[str] = mapped_column(String(128))
    path: Mapped[str] = mapped_column(String(512), default="/")
    description: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    default_version: Mapped[str] = mapped_column(String(8), default="v1")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    tags: Mapped[list] = mapped_column(JSON, default=list)  # customer managed policies (migration 0007)


class PolicyVersion(Base):
    __tablename__ = "policy_versions"
    policy_arn: Mapped[str] = mapped_column(
        ForeignKey("managed_policies.arn", ondelete="CASCADE"), primary_key=True
    )
    version_id: Mapped[str] = mapped_column(String(8), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Attachment(Base):
    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("account_id", "owner_type", "owner_key", "policy_arn"),)
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    owner_type: Mapped[str] = mapped_column(String(8))
    owner_key: Mapped[str] = mapped_column(String(64))
    policy_arn: Mapped[str] = mapped_column(String(2048), index=True)


class MfaDevice(Base):
    __tablename__ = "mfa_devices"
    # IAM accepts device names up to 226 characters under paths up to 512.
    serial: Mapped[str] = mapped_column(String(1024), primary_key=True)  # arn:aws:iam::1:mfa/name
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(256))
    path: Mapped[str] = mapped_column(String(512), default="/")
    seed_wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    user_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    enabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Highest TOTP time-step accepted so far: a code is good once (AWS rejects replays).
    last_step: Mapped[int] = mapped_column(BigInteger, default=0)


class OidcProvider(Base):
    """An IAM OpenID Connect identity provider. ``url`` is the issuer without ``https://``
    (host and optional path), which is also what its ARN ends with; it is unique per account
    and compared exactly (IAM does not normalise it)."""

    __tablename__ = "oidc_providers"
    __table_args__ = (UniqueConstraint("account_id", "url"),)
    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    url: Mapped[str] = mapped_column(String(255))
    client_ids: Mapped[list] = mapped_column(JSON, default=list)  # in the order they were added
    thumbprints: Mapped[list] = mapped_column(JSON, default=list)  # lower-case hex SHA-1, as given
    tags: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SigningKey(Base):
    __tablename__ = "signing_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # key id carried in tokens
    purpose: Mapped[str] = mapped_column(String(16))  # "session-v1" | "session-v2"
    key_wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Newest active key of a purpose seals; retired keys only open until they are purged.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Setting(Base):
    __tablename__ = "settings"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class AccountRegion(Base):
    """Per-account Region state that differs from the catalogue's default.

    Opt-in Regions carry the Account API's opt status; Regions enabled by default carry
    whether STS is activated there. ``settles_at`` is when an ENABLING/DISABLING
    transition completes (readers derive the current status; no job flips it).
    """

    __tablename__ = "account_regions"
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    region: Mapped[str] = mapped_column(String(32), primary_key=True)
    opt_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    sts_active: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    settles_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RegionFault(Base):
    """A simulated Region failure (down, slow, error5xx, throttle), shared by all workers."""

    __tablename__ = "region_faults"
    region: Mapped[str] = mapped_column(String(32), primary_key=True)
    mode: Mapped[str] = mapped_column(String(16))
    delay_ms: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class QuotaOverride(Base):
    """Per-account request-rate override for (Region, endpoint type); "*" matches any."""

    __tablename__ = "quota_overrides"
    account_id: Mapped[str] = mapped_column(String(12), primary_key=True)
    region: Mapped[str] = mapped_column(String(32), primary_key=True)
    endpoint_type: Mapped[str] = mapped_column(String(8), primary_key=True)
    rate: Mapped[int] = mapped_column(Integer)  # requests per second
    burst: Mapped[int] = mapped_column(Integer)


class AuditEvent(Base):
    """One CloudTrail record (the JSON, verbatim) plus the columns the audit queries filter on.

    ``event_time`` is the record's ISO ``eventTime`` string: it sorts like the time and reads
    back byte-identical. ``account_id`` is empty for requests no account owns (e.g. unsigned
    calls to signed actions), which CloudTrail would deliver to nobody.
    """

    __tablename__ = "audit_events"
    # Two indexes, for what stsd.audit.query does: newest first, per account (always, from the
    # admin API) or over all (CLI), with a time range. The other filters narrow those scans;
    # an index each would cost every insert more than it saves these queries (migration 0006).
    __table_args__ = (Index("ix_audit_events_account_time", "account_id", "event_time"),)
    # Insertion order (SQLite's rowid): a random event id as the key put every insert on a
    # random index page (migration 0008).
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36))
    event_time: Mapped[str] = mapped_column(String(20), index=True)
    account_id: Mapped[str] = mapped_column(String(12))
    region: Mapped[str] = mapped_column(String(32))  # awsRegion: where it is delivered
    event_source: Mapped[str] = mapped_column(String(64))
    event_name: Mapped[str] = mapped_column(String(128))
    principal_arn: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    identity_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    endpoint_type: Mapped[str | None] = mapped_column(String(8), nullable=True)
    serving_region: Mapped[str | None] = mapped_column(String(32), nullable=True)
    source_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(128), nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    record: Mapped[str] = mapped_column(Text)
