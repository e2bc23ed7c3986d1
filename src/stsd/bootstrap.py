"""Account bootstrap: an account, an ``admin`` user with AdministratorAccess and a key."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from stsd.errors import AwsError
from stsd.server.runtime import Runtime
from stsd.store.db import startup_lock

ADMIN = "admin"
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"


@dataclass(frozen=True)
class BootstrapCredentials:
    AccountId: str
    UserName: str | None
    AccessKeyId: str
    SecretAccessKey: str


def init_account(runtime: Runtime, account_id: str, *, root_key: bool = False) -> BootstrapCredentials:
    """Idempotent for the account and the admin user; always mints a new access key."""
    runtime.iam.ensure_account(account_id)
    if root_key:
        key_id, secret = runtime.iam.create_access_key(account_id, None)
        return BootstrapCredentials(account_id, None, key_id, secret)
    account = runtime.directory.account(account_id)
    assert account is not None
    if account.user(ADMIN) is None:
        runtime.iam.create_user(account_id, ADMIN, "/", [])
        runtime.iam.attach_policy(account_id, "user", ADMIN, ADMIN_POLICY)
    try:
        key_id, secret = runtime.iam.create_access_key(account_id, ADMIN)
    except AwsError as error:
        raise SystemExit(f"cannot create a key for {ADMIN}: {error.message}") from error
    return BootstrapCredentials(account_id, ADMIN, key_id, secret)


def bootstrap_file(data_dir: Path) -> Path:
    return data_dir / "bootstrap.json"


def first_start(runtime: Runtime, account_id: str) -> tuple[BootstrapCredentials, bool]:
    """Credentials of the bootstrap admin: created on the first start and kept (mode 0600)
    in ``<data-dir>/bootstrap.json`` so later starts can print them again."""
    path = bootstrap_file(runtime.settings.data_dir)
    if path.exists():
        return BootstrapCredentials(**json.loads(path.read_text())), False
    with startup_lock(runtime.engine):
        creds = init_account(runtime, account_id)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(asdict(creds), handle, indent=2)
    return creds, True
