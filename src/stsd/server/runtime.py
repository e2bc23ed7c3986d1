"""Everything a worker needs, opened once: settings, database, caches, keyring."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from stsd.audit.writer import AuditTrail
from stsd.config import Settings
from stsd.iam import aws_managed
from stsd.store.crypto import Wrapper, load_or_create_master_key
from stsd.store.db import make_engine, migrate, session_factory, startup_lock
from stsd.store.directory import Directory
from stsd.store.iam import IamStore
from stsd.store.regions import RegionStore
from stsd.tokens.keyring import Keyring

log = logging.getLogger("stsd")


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    directory: Directory
    iam: IamStore
    regions: RegionStore
    keyring: Keyring
    audit: AuditTrail | None = None  # its writer process is started by the app's lifespan

    @classmethod
    def open(cls, settings: Settings) -> Runtime:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.resolved_database_url())
        migrate(engine)
        wrapper = Wrapper(load_or_create_master_key(settings.data_dir))
        sessions = session_factory(engine)
        directory = Directory(sessions, wrapper)
        runtime = cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            directory=directory,
            iam=IamStore(sessions, wrapper, directory),
            regions=RegionStore(sessions, directory),
            keyring=Keyring(sessions, wrapper),
        )
        if settings.audit_enabled:
            runtime.audit = AuditTrail.create(settings, engine, directory)
        # Nodes starting together against one database take turns creating the first keys
        # and the AWS-managed policies (check-then-insert would otherwise collide).
        with startup_lock(engine):
            runtime.keyring.ensure_keys()
            for name, path, description, document in aws_managed.documents():
                runtime.iam.install_aws_policy(name, path, document, description)
        return runtime

    def ensure_account(self, account_id: str) -> None:
        """Emulator mode creates accounts on first use (a cache hit afterwards)."""
        if self.directory.account(account_id) is None:
            self.iam.ensure_account(account_id)

    def close(self) -> None:
        if self.audit is not None:
            self.audit.close()  # delivers what is still queued before the engine goes
        self.engine.dispose()
