"""Engine creation and schema migrations (alembic, run programmatically on start)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")
# PostgreSQL advisory lock id ("stsd") serialising schema migrations and first-start writes
# of nodes that start at the same time against one database.
STARTUP_LOCK_ID = 0x73747364
_held = threading.local()  # databases (URLs) whose startup lock this thread holds


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / 'stsd.db').resolve()}"


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            # WAL lets readers (other workers) proceed during a write; FULL makes every admin
            # write durable before its response, even across an OS crash.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    for scheme in ("postgresql://", "postgres://"):  # the driver stsd ships (psycopg 3) by default
        if url.startswith(scheme):
            url = "postgresql+psycopg://" + url[len(scheme):]
    return create_engine(url, pool_pre_ping=True)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


@contextlib.contextmanager
def startup_lock(engine: Engine) -> Iterator[None]:
    """Hold the deployment-wide startup lock of ``engine``'s database (PostgreSQL advisory
    lock; a no-op on other databases). Re-entrant within a thread.

    Nodes starting together on an empty database would otherwise all run the first migration
    (the losers fail on PostgreSQL's catalog unique indexes), and all insert the first sealing
    keys and AWS-managed policies. SQLite serves one host, where ``stsd serve`` migrates before
    it starts its workers.
    """
    held: set[str] = _held.__dict__.setdefault("databases", set())
    database = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name != "postgresql" or database in held:
        yield
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": STARTUP_LOCK_ID})
        connection.commit()  # a session-level lock outlives the transaction: none stays open
        held.add(database)
        try:
            yield
        finally:
            held.discard(database)
            try:
                connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": STARTUP_LOCK_ID})
                connection.commit()
            except DBAPIError:
                connection.invalidate()  # closing the session releases the lock as well


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent, safe for nodes starting together)."""
    with startup_lock(engine):
        command.upgrade(alembic_config(engine), "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
