"""The read model of the control plane: immutable per-account snapshots held in memory.

Requests never query the database. A worker loads an account's snapshot on first use and
keeps it until the account's ``generation`` changes: in-process writes drop it at once, and
a background poll (one cheap query per interval, not per request) notices writes made by
other workers or nodes — the same short propagation delay IAM itself has.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from stsd import ids
from stsd.regions.activation import RegionRow, RegionStatus
from stsd.regions.activation import status as region_status
from stsd.store import models
from stsd.store.crypto import Wrapper


def utc(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; everything we store is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class KeyView:
    id: str
    account: str
    user_name: str | None  # None: the account root's key
    secret: str
    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class UserView:
    id: str
    account: str
    name: str
    path: str
    arn: str
    created_at: datetime
    permissions_boundary: str | None
    tags: tuple[tuple[str, str], ...]
    inline_policies: dict[str, str]  # policy name → document
    attached: tuple[str, ...]  # managed policy ARNs


@dataclass(frozen=True, slots=True)
class RoleView:
    id: str
    account: str
    name: str
    path: str
    arn: str
    trust_policy: str
    description: str | None
    max_session_duration: int
    created_at: datetime
    permissions_boundary: str | None
    tags: tuple[tuple[str, str], ...]
    inline_policies: dict[str, str]
    attached: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ManagedPolicyView:
    arn: str
    id: str
    account: str  # "aws" for AWS-managed
    name: str
    path: str
    description: str | None
    default_version: str
    versions: dict[str, str]  # version id → document
    created_at: datetime
    updated_at: datetime
    tags: tuple[tuple[str, str], ...] = ()

    @property
    def document(self) -> str:
        return self.versions[self.default_version]


@dataclass(frozen=True, slots=True)
class MfaView:
    serial: str
    account: str
    name: str
    path: str
    seed: bytes
    user_name: str | None
    enabled_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OidcProviderView:
    """An IAM OpenID Connect provider. ``url`` is the issuer without ``https://``."""

    arn: str
    account: str
    url: str
    client_ids: tuple[str, ...]
    thumbprints: tuple[str, ...]
    created_at: datetime
    tags: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class AccountView:
    id: str
    partition: str
    generation: int
    global_endpoint_token_version: int
    created_at: datetime
    users: dict[str, UserView] = field(default_factory=dict)  # lower-cased name → user
    roles: dict[str, RoleView] = field(default_factory=dict)
    keys: dict[str, KeyView] = field(default_factory=dict)
    policies: dict[str, ManagedPolicyView] = field(default_factory=dict)  # arn → policy
    mfa_devices: dict[str, MfaView] = field(default_factory=dict)  # serial → device
    regions: dict[str, RegionRow] = field(default_factory=dict)  # Region → state differing from default
    quotas: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)  # (Region, type) → rate, burst
    oidc_providers: dict[str, OidcProviderView] = field(default_factory=dict)  # url (no https://) → provider

    def region_status(self, region: str, now: datetime) -> RegionStatus:
        return region_status(region, self.regions.get(region), now)

    def user(self, name: str) -> UserView | None:
        return self.users.get(name.lower())

    def role(self, name: str) -> RoleView | None:
        return self.roles.get(name.lower())

    def oidc_provider(self, url: str) -> OidcProviderView | None:
        """The provider for an issuer (``https://`` stripped; matched exactly, as IAM does)."""
        return self.oidc_providers.get(url)

    def user_keys(self, user_name: str | None) -> list[KeyView]:
        wanted = None if user_name is None else user_name.lower()
        return sorted(
            (
                k
                for k in self.keys.values()
                if (k.user_name.lower() if k.user_name else None) == wanted
            ),
            key=lambda k: (k.created_at, k.id),  # ids break ties within a second
        )

    def attachment_count(self, arn: str) -> int:
        return sum(arn in u.attached for u in self.users.values()) + sum(
            arn in r.attached for r in self.roles.values()
        )

    def boundary_count(self, arn: str) -> int:
        """Users and roles that use the policy as their permissions boundary."""
        return sum(u.permissions_boundary == arn for u in self.users.values()) + sum(
            r.permissions_boundary == arn for r in self.roles.values()
        )

    def user_mfa(self, user_name: str) -> list[MfaView]:
        return [d for d in self.mfa_devices.values() if d.user_name and d.user_name.lower() == user_name.lower()]


class Directory:
    """Thread-safe cache of :class:`AccountView` snapshots plus the AWS-managed policies."""

    def __init__(self, sessions: sessionmaker[Session], wrapper: Wrapper):
        self._sessions = sessions
        self._wrapper = wrapper
        self._views: dict[str, AccountView] = {}
        # Ids of the accounts that exist. A forged key id can name any account; only these
        # are ever loaded, so hostile input costs neither a query nor a cache entry.
        self._known: frozenset[str] | None = None
        self._aws_policies: dict[str, ManagedPolicyView] | None = None
        self._faults: dict[str, tuple[str, int]] | None = None  # Region → (mode, delay ms)
        self._epoch = 0  # bumped by every invalidation, so racing loads are not cached
        self._lock = threading.Lock()

    # --- lookups (hot path) -----------------------------------------------------------
    def account(self, account_id: str) -> AccountView | None:
        try:
            return self._views[account_id]
        except KeyError:
            pass
        if account_id not in self._known_accounts():
            return None
        epoch = self._epoch
        view = self._load(account_id)
        if view is not None:
            with self._lock:
                # A write that committed while we were reading makes this snapshot stale:
                # answer with it (it was true when read) but do not cache it.
                if self._epoch == epoch:
                    self._views[account_id] = view
        return view

    def _known_accounts(self) -> frozenset[str]:
        if self._known is None:
            with self._sessions() as session:
                self._known = frozenset(session.scalars(select(models.Account.id)))
        return self._known

    def access_key(self, access_key_id: str) -> tuple[AccountView, KeyView] | None:
        account_id = ids.account_from_access_key_id(access_key_id)
        if account_id is None:
            return None
        view = self.account(account_id)
        if view is None:
            return None
        key = view.keys.get(access_key_id)
        return (view, key) if key is not None else None

    def managed_policy(self, arn: str) -> ManagedPolicyView | None:
        parts = ids.split_arn(arn)
        if parts is None:
            return None
        if parts[3] == "aws":
            return self.aws_policies().get(arn)
        view = self.account(parts[3])
        return view.policies.get(arn) if view else None

    def aws_policies(self) -> dict[str, ManagedPolicyView]:
        if self._aws_policies is None:
            with self._sessions() as session:
                self._aws_policies = self._load_policies(session, "aws")
        return self._aws_policies

    def faults(self) -> dict[str, tuple[str, int]]:
        """Simulated Region failures, shared by all workers through the store."""
        faults = self._faults
        if faults is None:
            with self._sessions() as session:
                faults = {f.region: (f.mode, f.delay_ms) for f in session.scalars(select(models.RegionFault))}
            self._faults = faults
        return faults

    def invalidate_faults(self) -> None:
        self._faults = None

    def known_accounts(self) -> list[str]:
        with self._sessions() as session:
            return list(session.scalars(select(models.Account.id).order_by(models.Account.id)))

    # --- invalidation -----------------------------------------------------------------
    def invalidate(self, account_id: str) -> None:
        with self._lock:
            self._epoch += 1
            self._views.pop(account_id, None)
            if self._known is not None and account_id not in self._known:
                self._known = None  # an account was just created here: reload the id set

    def invalidate_aws_policies(self) -> None:
        self._aws_policies = None

    def poll(self) -> int:
        """Drop snapshots whose account generation moved; returns how many were dropped."""
        with self._sessions() as session:
            current = dict(session.execute(select(models.Account.id, models.Account.generation)).all())
        self._faults = None
        dropped = 0
        with self._lock:
            self._known = frozenset(current)
            self._epoch += 1
            for account_id, view in list(self._views.items()):
                if current.get(account_id) != view.generation:
                    del self._views[account_id]
                    dropped += 1
        return dropped

    # --- loading ----------------------------------------------------------------------
    def _load(self, account_id: str) -> AccountView | None:
        with self._sessions() as session:
            account = session.get(models.Account, account_id)
            if account is None:
                return None
            inline = self._inline(session, account_id)
            attached = self._attached(session, account_id)
            users = {}
            for u in session.scalars(select(models.User).where(models.User.account_id == account_id)):
                users[u.name_key] = UserView(
                    id=u.id,
                    account=account_id,
                    name=u.name,
                    path=u.path,
                    arn=ids.user_arn(account_id, u.path, u.name, account.partition),
                    created_at=utc(u.created_at),
                    permissions_boundary=u.permissions_boundary,
                    tags=_tags(u.tags),
                    inline_policies=inline.get(("user", u.name_key), {}),
                    attached=tuple(attached.get(("user", u.name_key), ())),
                )
            roles = {}
            for r in session.scalars(select(models.Role).where(models.Role.account_id == account_id)):
                roles[r.name_key] = RoleView(
                    id=r.id,
                    account=account_id,
                    name=r.name,
                    path=r.path,
                    arn=ids.role_arn(account_id, r.path, r.name, account.partition),
                    trust_policy=r.trust_policy,
                    description=r.description,
                    max_session_duration=r.max_session_duration,
                    created_at=utc(r.created_at),
                    permissions_boundary=r.permissions_boundary,
                    tags=_tags(r.tags),
                    inline_policies=inline.get(("role", r.name_key), {}),
                    attached=tuple(attached.get(("role", r.name_key), ())),
                )
            keys = {
                k.id: KeyView(
                    id=k.id,
                    account=account_id,
                    user_name=k.user_name,
                    secret=self._wrapper.unwrap(k.secret_wrapped, "access-key").decode(),
                    status=k.status,
                    created_at=utc(k.created_at),
                )
                for k in session.scalars(
                    select(models.AccessKey).where(models.AccessKey.account_id == account_id)
                )
            }
            devices = {
                d.serial: MfaView(
                    serial=d.serial,
                    account=account_id,
                    name=d.name,
                    path=d.path,
                    seed=self._wrapper.unwrap(d.seed_wrapped, "mfa-seed"),
                    user_name=d.user_name,
                    enabled_at=utc(d.enabled_at) if d.enabled_at else None,
                    created_at=utc(d.created_at),
                )
                for d in session.scalars(
                    select(models.MfaDevice).where(models.MfaDevice.account_id == account_id)
                )
            }
            return AccountView(
                id=account_id,
                partition=account.partition,
                generation=account.generation,
                global_endpoint_token_version=account.global_endpoint_token_version,
                created_at=utc(account.created_at),
                users=users,
                roles=roles,
                keys=keys,
                policies=self._load_policies(session, account_id),
                mfa_devices=devices,
                regions={
                    r.region: RegionRow(r.opt_status, r.sts_active, utc(r.settles_at) if r.settles_at else None)
                    for r in session.scalars(
                        select(models.AccountRegion).where(models.AccountRegion.account_id == account_id)
                    )
                },
                quotas={
                    (q.region, q.endpoint_type): (q.rate, q.burst)
                    for q in session.scalars(
                        select(models.QuotaOverride).where(models.QuotaOverride.account_id == account_id)
                    )
                },
                oidc_providers={
                    o.url: OidcProviderView(
                        arn=ids.iam_arn(account.partition, account_id, f"oidc-provider/{o.url}"),
                        account=account_id,
                        url=o.url,
                        client_ids=tuple(o.client_ids or ()),
                        thumbprints=tuple(o.thumbprints or ()),
                        created_at=utc(o.created_at),
                        tags=_tags(o.tags),
                    )
                    for o in session.scalars(
                        select(models.OidcProvider)
                        .where(models.OidcProvider.account_id == account_id)
                        .order_by(models.OidcProvider.pk)
                    )
                },
            )

    @staticmethod
    def _inline(session: Session, account_id: str) -> dict[tuple[str, str], dict[str, str]]:
        out: dict[tuple[str, str], dict[str, str]] = {}
        rows = session.scalars(
            select(models.InlinePolicy)
            .where(models.InlinePolicy.account_id == account_id)
            .order_by(models.InlinePolicy.name_key)
        )
        for p in rows:
            out.setdefault((p.owner_type, p.owner_key), {})[p.name] = p.document
        return out

    @staticmethod
    def _attached(session: Session, account_id: str) -> dict[tuple[str, str], list[str]]:
        out: dict[tuple[str, str], list[str]] = {}
        rows = session.scalars(
            select(models.Attachment)
            .where(models.Attachment.account_id == account_id)
            .order_by(models.Attachment.pk)
        )
        for a in rows:
            out.setdefault((a.owner_type, a.owner_key), []).append(a.policy_arn)
        return out

    @staticmethod
    def _load_policies(session: Session, account_id: str) -> dict[str, ManagedPolicyView]:
        versions: dict[str, dict[str, str]] = {}
        for v in session.scalars(
            select(models.PolicyVersion)
            .join(models.ManagedPolicy, models.ManagedPolicy.arn == models.PolicyVersion.policy_arn)
            .where(models.ManagedPolicy.account_id == account_id)
        ):
            versions.setdefault(v.policy_arn, {})[v.version_id] = v.document
        return {
            p.arn: ManagedPolicyView(
                arn=p.arn,
                id=p.id,
                account=account_id,
                name=p.name,
                path=p.path,
                description=p.description,
                default_version=p.default_version,
                versions=versions.get(p.arn, {}),
                created_at=utc(p.created_at),
                updated_at=utc(p.updated_at),
                tags=_tags(p.tags),
            )
            for p in session.scalars(
                select(models.ManagedPolicy).where(models.ManagedPolicy.account_id == account_id)
            )
        }


def _tags(raw: Iterable[dict[str, str]] | None) -> tuple[tuple[str, str], ...]:
    return tuple((t["Key"], t["Value"]) for t in (raw or ()))
