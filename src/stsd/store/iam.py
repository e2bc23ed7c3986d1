"""Control-plane writes with IAM's semantics and messages.

Every write runs in one transaction that also bumps the account's ``generation``; the
in-process :class:`Directory` snapshot is dropped after commit, other workers notice the
generation on their next poll. Nothing is written when a check fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from stsd import ids
from stsd.errors import DeleteConflict, EntityAlreadyExists, LimitExceeded, NoSuchEntity
from stsd.store import models
from stsd.store.crypto import Wrapper
from stsd.store.directory import Directory

ACCESS_KEYS_PER_USER = 2
MSG_POLICY_NOT_FOUND = "Policy {arn} was not found."  # GetPolicy, DeletePolicy, TagPolicy
MSG_POLICY_NOT_ATTACHABLE = "Policy {arn} does not exist or is not attachable."  # Attach*Policy
# OpenID Connect providers (texts recorded against IAM in LocalStack's AWS-validated
# tests/aws/services/iam/test_iam_oidc.snapshot.json, 2026). GetOpenIDConnectProvider's text is
# used for the other calls on a missing provider too (Add/RemoveClientID, UpdateThumbprint:
# their own texts were not recorded); DeleteOpenIDConnectProvider has a text of its own.
OIDC_CLIENT_IDS = 100
MSG_OIDC_NOT_FOUND = "OpenIDConnect Provider not found for arn {arn}"
MSG_OIDC_NOT_FOUND_DELETE = "OpenId connect Provider {arn} cannot be found."
MSG_OIDC_CLIENT_IDS = f"Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {OIDC_CLIENT_IDS}"
# At most 50 tags per IAM resource (IAM quotas; the model bounds one request's Tags to 50 as
# well). Tag* calls that would take a resource past it fail with 409 LimitExceeded, IAM's code
# for quotas. NOTE: the text is not from a recorded AWS response; it follows IAM's recorded
# quota texts ("Cannot exceed quota for AccessKeysPerUser: 2", "... ClientIdsPerOpenIdConnect
# Provider: 100") with the quota named per resource type.
TAGS_PER_RESOURCE = 50
MSG_TAG_QUOTA = "Cannot exceed quota for {quota}: " + str(TAGS_PER_RESOURCE)
TAG_QUOTAS = {"user": "TagsPerUser", "role": "TagsPerRole", "policy": "TagsPerPolicy",
              "oidc-provider": "TagsPerOpenIdConnectProvider"}
# Tag keys of users and roles are case-insensitive (IAM User Guide, "Rules for tagging":
# "you cannot have separate Department and department tag keys. If you have tagged a user
# with the Department=finance tag and you add the department=hr tag, it replaces the first
# tag"), so the tag given replaces the stored one, key spelling included. Keys of the other
# resource types (customer managed policies, OIDC providers) are case-sensitive: Costcenter
# and costcenter are two tags.
CASE_INSENSITIVE_TAGS = frozenset({"user", "role"})


def merge_tags(kind: str, current: list[dict[str, str]] | None, given: list[dict[str, str]]) -> list[dict[str, str]]:
    """``current`` with ``given`` added: a tag whose key is already there (in any case, for
    users and roles) takes its place; new keys go at the end. LimitExceeded past 50 tags."""
    fold = str.lower if kind in CASE_INSENSITIVE_TAGS else str
    merged = {fold(t["Key"]): {"Key": t["Key"], "Value": t["Value"]} for t in current or ()}
    for tag in given:
        merged[fold(tag["Key"])] = {"Key": tag["Key"], "Value": tag["Value"]}
    if len(merged) > TAGS_PER_RESOURCE:
        raise LimitExceeded(MSG_TAG_QUOTA.format(quota=TAG_QUOTAS[kind]))
    return list(merged.values())


def drop_tags(kind: str, current: list[dict[str, str]] | None, keys: list[str]) -> list[dict[str, str]]:
    """``current`` without the tags named by ``keys`` (absent keys are ignored, as IAM does)."""
    fold = str.lower if kind in CASE_INSENSITIVE_TAGS else str
    gone = {fold(k) for k in keys}
    return [dict(t) for t in current or () if fold(t["Key"]) not in gone]


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class IamStore:
    def __init__(self, sessions: sessionmaker[Session], wrapper: Wrapper, directory: Directory):
        self._sessions = sessions
        self._wrapper = wrapper
        self.directory = directory

    @contextmanager
    def _tx(self, account_id: str) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session
            session.execute(
                update(models.Account)
                .where(models.Account.id == account_id)
                .values(generation=models.Account.generation + 1)
            )
        self.directory.invalidate(account_id)

    # --- accounts -----------------------------------------------------------------------
    def ensure_account(self, account_id: str, partition: str = "aws") -> bool:
        """Create the account if missing; True when it was created."""
        with self._sessions.begin() as session:
            if session.get(models.Account, account_id) is not None:
                return False
            session.add(
                models.Account(
                    id=account_id,
                    partition=partition,
                    created_at=now(),
                    generation=1,
                    global_endpoint_token_version=1,
                )
            )
        self.directory.invalidate(account_id)
        return True

    def set_global_endpoint_token_version(self, account_id: str, version: int) -> None:
        with self._tx(account_id) as s:
            s.execute(
                update(models.Account)
                .where(models.Account.id == account_id)
                .values(global_endpoint_token_version=version)
            )

    # --- users --------------------------------------------------------------------------
    def create_user(
        self,
        account_id: str,
        name: str,
        path: str,
        tags: list[dict[str, str]],
        permissions_boundary: str | None = None,
    ) -> None:
        with self._tx(account_id) as s:
            if self._user(s, account_id, name, missing_ok=True) is not None:
                raise EntityAlreadyExists(f"User with name {name} already exists.")
            s.add(
                models.User(
                    id=ids.new_unique_id(ids.USER_ID_PREFIX),
                    account_id=account_id,
                    name=name,
                    name_key=name.lower(),
                    path=path,
                    created_at=now(),
                    permissions_boundary=permissions_boundary,
                    tags=tags,
                )
            )

    def delete_user(self, account_id: str, name: str) -> None:
        with self._tx(account_id) as s:
            user = self._user(s, account_id, name)
            key = name.lower()
            if s.scalar(
                select(func.count()).select_from(models.AccessKey).where(
                    models.AccessKey.account_id == account_id,
                    func.lower(models.AccessKey.user_name) == key,
                )
            ):
                raise DeleteConflict("Cannot delete entity, must delete access keys first.")
            if self._count_owned(s, models.InlinePolicy, account_id, "user", key):
                raise DeleteConflict("Cannot delete entity, must delete policies first.")
            if self._count_owned(s, models.Attachment, account_id, "user", key):
                raise DeleteConflict("Cannot delete entity, must detach all policies first.")
            if s.scalar(
                select(func.count()).select_from(models.MfaDevice).where(
                    models.MfaDevice.account_id == account_id,
                    func.lower(models.MfaDevice.user_name) == key,
                )
            ):
                raise DeleteConflict("Cannot delete entity, must delete MFA device first.")
            s.delete(user)

    # --- access keys --------------------------------------------------------------------
    def create_access_key(self, account_id: str, user_name: str | None) -> tuple[str, str]:
        with self._tx(account_id) as s:
            owner = None
            if user_name is not None:
                owner = self._user(s, account_id, user_name).name
            existing = s.scalar(
                select(func.count()).select_from(models.AccessKey).where(
                    models.AccessKey.account_id == account_id,
                    (func.lower(models.AccessKey.user_name) == owner.lower())
                    if owner
                    else models.AccessKey.user_name.is_(None),
                )
            )
            if existing >= ACCESS_KEYS_PER_USER:
                raise LimitExceeded(f"Cannot exceed quota for AccessKeysPerUser: {ACCESS_KEYS_PER_USER}")
            key_id = ids.new_access_key_id(account_id)
            secret = ids.new_secret_access_key()
            s.add(
                models.AccessKey(
                    id=key_id,
                    account_id=account_id,
                    user_name=owner,
                    secret_wrapped=self._wrapper.wrap(secret.encode(), "access-key"),
                    status="Active",
                    created_at=now(),
                )
            )
        return key_id, secret

    def _key(self, s: Session, account_id: str, key_id: str, user_name: str | None) -> models.AccessKey:
        key = s.get(models.AccessKey, key_id)
        owner_matches = key is not None and (
            (key.user_name or "").lower() == (user_name or "").lower()
        )
        if key is None or key.account_id != account_id or not owner_matches:
            raise NoSuchEntity(f"The Access Key with id {key_id} cannot be found.")
        return key

    def update_access_key(self, account_id: str, key_id: str, user_name: str | None, status: str) -> None:
        with self._tx(account_id) as s:
            if user_name is not None:
                self._user(s, account_id, user_name)
            self._key(s, account_id, key_id, user_name).status = status

    def delete_access_key(self, account_id: str, key_id: str, user_name: str | None) -> None:
        with self._tx(account_id) as s:
            if user_name is not None:
                self._user(s, account_id, user_name)
            s.delete(self._key(s, account_id, key_id, user_name))

    # --- roles --------------------------------------------------------------------------
    def create_role(
        self,
        account_id: str,
        name: str,
        path: str,
        trust_policy: str,
        description: str | None,
        max_session_duration: int,
        permissions_boundary: str | None,
        tags: list[dict[str, str]],
    ) -> None:
        with self._tx(account_id) as s:
            if self._role(s, account_id, name, missing_ok=True) is not None:
                raise EntityAlreadyExists(f"Role with name {name} already exists.")
            s.add(
                models.Role(
                    id=ids.new_unique_id(ids.ROLE_ID_PREFIX),
                    account_id=account_id,
                    name=name,
                    name_key=name.lower(),
                    path=path,
                    trust_policy=trust_policy,
                    description=description,
                    max_session_duration=max_session_duration,
                    created_at=now(),
                    permissions_boundary=permissions_boundary,
                    tags=tags,
                )
            )

    def update_role(
        self, account_id: str, name: str, description: str | None, max_session_duration: int | None
    ) -> None:
        with self._tx(account_id) as s:
            role = self._role(s, account_id, name)
            if description is not None:
                role.description = description
            if max_session_duration is not None:
                role.max_session_duration = max_session_duration

    def update_trust_policy(self, account_id: str, name: str, document: str) -> None:
        with self._tx(account_id) as s:
            self._role(s, account_id, name).trust_policy = document

    def delete_role(self, account_id: str, name: str) -> None:
        with self._tx(account_id) as s:
            role = self._role(s, account_id, name)
            key = name.lower()
            if self._count_owned(s, models.InlinePolicy, account_id, "role", key):
                raise DeleteConflict("Cannot delete entity, must delete policies first.")
            if self._count_owned(s, models.Attachment, account_id, "role", key):
                raise DeleteConflict("Cannot delete entity, must detach all policies first.")
            s.delete(role)

    # --- tags ---------------------------------------------------------------------------
    # Each write replaces the JSON list with a new one (the column sees the change) in one
    # transaction that bumps the account's generation: the directory snapshot, and with it
    # aws:PrincipalTag / aws:ResourceTag, follows at once in this process and at the next
    # poll elsewhere.
    def tag_owner(self, account_id: str, owner_type: str, name: str, tags: list[dict[str, str]]) -> None:
        with self._tx(account_id) as s:
            row = self._user(s, account_id, name) if owner_type == "user" else self._role(s, account_id, name)
            row.tags = merge_tags(owner_type, row.tags, tags)

    def untag_owner(self, account_id: str, owner_type: str, name: str, keys: list[str]) -> None:
        with self._tx(account_id) as s:
            row = self._user(s, account_id, name) if owner_type == "user" else self._role(s, account_id, name)
            row.tags = drop_tags(owner_type, row.tags, keys)

    def tag_policy(self, account_id: str, arn: str, tags: list[dict[str, str]]) -> None:
        with self._tx(account_id) as s:
            policy = self._policy(s, account_id, arn)
            policy.tags = merge_tags("policy", policy.tags, tags)

    def untag_policy(self, account_id: str, arn: str, keys: list[str]) -> None:
        with self._tx(account_id) as s:
            policy = self._policy(s, account_id, arn)
            policy.tags = drop_tags("policy", policy.tags, keys)

    def tag_oidc_provider(self, account_id: str, url: str, arn: str, tags: list[dict[str, str]]) -> None:
        with self._tx(account_id) as s:
            row = self._oidc(s, account_id, url, arn=arn)
            row.tags = merge_tags("oidc-provider", row.tags, tags)

    def untag_oidc_provider(self, account_id: str, url: str, arn: str, keys: list[str]) -> None:
        with self._tx(account_id) as s:
            row = self._oidc(s, account_id, url, arn=arn)
            row.tags = drop_tags("oidc-provider", row.tags, keys)

    # --- inline policies ----------------------------------------------------------------
    def put_inline_policy(
        self, account_id: str, owner_type: str, owner: str, policy_name: str, document: str
    ) -> None:
        with self._tx(account_id) as s:
            self._owner(s, account_id, owner_type, owner)
            row = self._inline(s, account_id, owner_type, owner, policy_name, missing_ok=True)
            if row is None:
                s.add(
                    models.InlinePolicy(
                        account_id=account_id,
                        owner_type=owner_type,
                        owner_key=owner.lower(),
                        name=policy_name,
                        name_key=policy_name.lower(),
                        document=document,
                    )
                )
            else:
                row.document = document

    def delete_inline_policy(self, account_id: str, owner_type: str, owner: str, policy_name: str) -> None:
        with self._tx(account_id) as s:
            self._owner(s, account_id, owner_type, owner)
            s.delete(self._inline(s, account_id, owner_type, owner, policy_name))

    # --- managed policies ---------------------------------------------------------------
    def create_policy(
        self, account_id: str, name: str, path: str, document: str, description: str | None,
        tags: list[dict[str, str]] | None = None,
    ) -> str:
        arn = ids.policy_arn(account_id, path, name)
        with self._tx(account_id) as s:
            clash = s.scalar(
                select(models.ManagedPolicy).where(
                    models.ManagedPolicy.account_id == account_id,
                    func.lower(models.ManagedPolicy.name) == name.lower(),
                )
            )
            if clash is not None:
                raise EntityAlreadyExists(
                    f"A policy called {name} already exists. Duplicate names are not allowed."
                )
            self._add_policy(s, account_id, arn, name, path, document, description, tags)
        return arn

    def install_aws_policy(self, name: str, path: str, document: str, description: str) -> None:
        """AWS-managed policies live under the pseudo-account ``aws`` (idempotent)."""
        arn = f"arn:aws:iam::aws:policy{path}{name}"
        with self._sessions.begin() as s:
            if s.get(models.ManagedPolicy, arn) is None:
                self._add_policy(s, "aws", arn, name, path, document, description)
        self.directory.invalidate_aws_policies()

    @staticmethod
    def _add_policy(
        s: Session, account_id: str, arn: str, name: str, path: str, document: str, description: str | None,
        tags: list[dict[str, str]] | None = None,
    ) -> None:
        moment = now()
        s.add(
            models.ManagedPolicy(
                arn=arn,
                id=ids.new_unique_id(ids.POLICY_ID_PREFIX),
                account_id=account_id,
                name=name,
                path=path,
                description=description,
                default_version="v1",
                created_at=moment,
                updated_at=moment,
                tags=list(tags or ()),
            )
        )
        s.flush()
        s.add(models.PolicyVersion(policy_arn=arn, version_id="v1", document=document, created_at=moment))

    def delete_policy(self, account_id: str, arn: str) -> None:
        with self._tx(account_id) as s:
            policy = self._policy(s, account_id, arn)
            in_use = s.scalar(
                select(func.count()).select_from(models.Attachment).where(models.Attachment.policy_arn == arn)
            ) or any(
                s.scalar(
                    select(func.count()).select_from(table).where(
                        table.account_id == account_id, table.permissions_boundary == arn
                    )
                )
                for table in (models.User, models.Role)
            )
            if in_use:  # attached, or used as a permissions boundary
                raise DeleteConflict("Cannot delete a policy attached to entities.")
            s.execute(delete(models.PolicyVersion).where(models.PolicyVersion.policy_arn == arn))
            s.delete(policy)

    def attach_policy(self, account_id: str, owner_type: str, owner: str, arn: str) -> None:
        with self._tx(account_id) as s:
            self._owner(s, account_id, owner_type, owner)
            policy = s.get(models.ManagedPolicy, arn)
            if policy is None or policy.account_id not in (account_id, "aws"):
                # Another account's customer managed policy cannot be attached either.
                raise NoSuchEntity(MSG_POLICY_NOT_ATTACHABLE.format(arn=arn))
            exists = s.scalar(
                select(models.Attachment).where(
                    models.Attachment.account_id == account_id,
                    models.Attachment.owner_type == owner_type,
                    models.Attachment.owner_key == owner.lower(),
                    models.Attachment.policy_arn == arn,
                )
            )
            if exists is None:  # attaching twice is a no-op on AWS
                s.add(
                    models.Attachment(
                        account_id=account_id, owner_type=owner_type, owner_key=owner.lower(), policy_arn=arn
                    )
                )

    def detach_policy(self, account_id: str, owner_type: str, owner: str, arn: str) -> None:
        with self._tx(account_id) as s:
            self._owner(s, account_id, owner_type, owner)
            row = s.scalar(
                select(models.Attachment).where(
                    models.Attachment.account_id == account_id,
                    models.Attachment.owner_type == owner_type,
                    models.Attachment.owner_key == owner.lower(),
                    models.Attachment.policy_arn == arn,
                )
            )
            if row is None:
                raise NoSuchEntity(f"Policy {arn} was not found.")
            s.delete(row)

    # --- MFA ----------------------------------------------------------------------------
    def create_virtual_mfa(self, account_id: str, name: str, path: str, seed: bytes) -> str:
        serial = ids.mfa_arn(account_id, path, name)
        with self._tx(account_id) as s:
            if s.get(models.MfaDevice, serial) is not None:
                raise EntityAlreadyExists("MFA device already exists.")
            s.add(
                models.MfaDevice(
                    serial=serial,
                    account_id=account_id,
                    name=name,
                    path=path,
                    seed_wrapped=self._wrapper.wrap(seed, "mfa-seed"),
                    created_at=now(),
                )
            )
        return serial

    def enable_mfa(self, account_id: str, user_name: str, serial: str, step: int) -> None:
        with self._tx(account_id) as s:
            user = self._user(s, account_id, user_name)
            device = s.get(models.MfaDevice, serial)
            if device is None or device.account_id != account_id:
                raise NoSuchEntity(f"VirtualMFADevice with serial number {serial} doesn't exist.")
            if device.user_name is not None:
                raise EntityAlreadyExists("MFA Device is already in use.")
            device.user_name = user.name
            device.enabled_at = now()
            device.last_step = step

    def deactivate_mfa(self, account_id: str, user_name: str, serial: str) -> None:
        """Detach a device from its user (the device itself stays, unassigned)."""
        with self._tx(account_id) as s:
            user = self._user(s, account_id, user_name)
            device = s.get(models.MfaDevice, serial)
            if device is None or device.account_id != account_id or (device.user_name or "").lower() != user.name_key:
                raise NoSuchEntity(f"MFA Device with serial number {serial} doesn't exist.")
            device.user_name = None
            device.enabled_at = None

    def delete_virtual_mfa(self, account_id: str, serial: str) -> None:
        with self._tx(account_id) as s:
            device = s.get(models.MfaDevice, serial)
            if device is None or device.account_id != account_id:
                raise NoSuchEntity(f"VirtualMFADevice with serial number {serial} doesn't exist.")
            if device.user_name is not None:
                raise DeleteConflict("MFA device is still in use.")
            s.delete(device)

    def consume_mfa_step(self, serial: str, step: int) -> bool:
        """Record a TOTP time-step as used; False when it (or a later one) was used already.

        Done as one conditional UPDATE so two workers cannot both accept the same code.
        """
        with self._sessions.begin() as s:
            result = s.execute(
                update(models.MfaDevice)
                .where(models.MfaDevice.serial == serial, models.MfaDevice.last_step < step)
                .values(last_step=step)
            )
            return result.rowcount == 1

    # --- OpenID Connect providers ------------------------------------------------------
    def create_oidc_provider(
        self, account_id: str, url: str, given_url: str, client_ids: list[str], thumbprints: list[str],
        tags: list[dict[str, str]],
    ) -> None:
        """``url`` is the issuer without ``https://`` (the ARN's tail); ``given_url`` is what
        the caller sent, which IAM's EntityAlreadyExists text repeats."""
        with self._tx(account_id) as s:
            if self._oidc(s, account_id, url, missing_ok=True) is not None:
                raise EntityAlreadyExists(f"Provider with url {given_url} already exists.")
            s.add(
                models.OidcProvider(
                    account_id=account_id,
                    url=url,
                    client_ids=client_ids,
                    thumbprints=thumbprints,
                    tags=tags,
                    created_at=now(),
                )
            )

    def delete_oidc_provider(self, account_id: str, url: str, arn: str) -> None:
        with self._tx(account_id) as s:
            row = self._oidc(s, account_id, url, missing_ok=True)
            if row is None:
                raise NoSuchEntity(MSG_OIDC_NOT_FOUND_DELETE.format(arn=arn))
            s.delete(row)

    def add_oidc_client_id(self, account_id: str, url: str, arn: str, client_id: str) -> None:
        """Idempotent, as IAM's AddClientIDToOpenIDConnectProvider is."""
        with self._tx(account_id) as s:
            row = self._oidc(s, account_id, url, arn=arn)
            current = list(row.client_ids or ())
            if client_id in current:
                return
            if len(current) >= OIDC_CLIENT_IDS:
                raise LimitExceeded(MSG_OIDC_CLIENT_IDS)
            row.client_ids = [*current, client_id]  # a new list: the JSON column sees the change

    def remove_oidc_client_id(self, account_id: str, url: str, arn: str, client_id: str) -> None:
        """Idempotent: removing a client id the provider does not have is not an error."""
        with self._tx(account_id) as s:
            row = self._oidc(s, account_id, url, arn=arn)
            row.client_ids = [c for c in (row.client_ids or ()) if c != client_id]

    def update_oidc_thumbprints(self, account_id: str, url: str, arn: str, thumbprints: list[str]) -> None:
        with self._tx(account_id) as s:
            self._oidc(s, account_id, url, arn=arn).thumbprints = list(thumbprints)

    @staticmethod
    def _oidc(s: Session, account_id: str, url: str, *, arn: str = "", missing_ok: bool = False) -> models.OidcProvider:
        row = s.scalar(
            select(models.OidcProvider).where(
                models.OidcProvider.account_id == account_id, models.OidcProvider.url == url
            )
        )
        if row is None and not missing_ok:
            raise NoSuchEntity(MSG_OIDC_NOT_FOUND.format(arn=arn))
        return row  # type: ignore[return-value]

    # --- helpers ------------------------------------------------------------------------
    @staticmethod
    def _user(s: Session, account_id: str, name: str, missing_ok: bool = False) -> models.User:
        user = s.scalar(
            select(models.User).where(models.User.account_id == account_id, models.User.name_key == name.lower())
        )
        if user is None and not missing_ok:
            raise NoSuchEntity(f"The user with name {name} cannot be found.")
        return user  # type: ignore[return-value]

    @staticmethod
    def _role(s: Session, account_id: str, name: str, missing_ok: bool = False) -> models.Role:
        role = s.scalar(
            select(models.Role).where(models.Role.account_id == account_id, models.Role.name_key == name.lower())
        )
        if role is None and not missing_ok:
            raise NoSuchEntity(f"The role with name {name} cannot be found.")
        return role  # type: ignore[return-value]

    def _owner(self, s: Session, account_id: str, owner_type: str, name: str) -> None:
        if owner_type == "user":
            self._user(s, account_id, name)
        else:
            self._role(s, account_id, name)

    @staticmethod
    def _inline(
        s: Session, account_id: str, owner_type: str, owner: str, name: str, missing_ok: bool = False
    ) -> models.InlinePolicy:
        row = s.scalar(
            select(models.InlinePolicy).where(
                models.InlinePolicy.account_id == account_id,
                models.InlinePolicy.owner_type == owner_type,
                models.InlinePolicy.owner_key == owner.lower(),
                models.InlinePolicy.name_key == name.lower(),
            )
        )
        if row is None and not missing_ok:
            raise NoSuchEntity(f"The {owner_type} policy with name {name} cannot be found.")
        return row  # type: ignore[return-value]

    @staticmethod
    def _policy(s: Session, account_id: str, arn: str) -> models.ManagedPolicy:
        policy = s.get(models.ManagedPolicy, arn)
        if policy is None or policy.account_id != account_id:
            raise NoSuchEntity(MSG_POLICY_NOT_FOUND.format(arn=arn))
        return policy

    @staticmethod
    def _count_owned(s: Session, table: type, account_id: str, owner_type: str, owner_key: str) -> int:
        return s.scalar(
            select(func.count()).select_from(table).where(
                table.account_id == account_id, table.owner_type == owner_type, table.owner_key == owner_key
            )
        ) or 0

