"""Migration 0008 (audit_events keyed by insertion order instead of the random event id) on
SQLite and a real PostgreSQL: existing records survive, new ones get later keys, the event
id is no longer indexed, and the downgrade restores the old key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text

from stsd.store.db import alembic_config, make_engine

ROWS = [  # (event_id, event_time)
    ("f0000000-0000-4000-8000-000000000001", "2026-12-07T10:00:02Z"),
    ("00000000-0000-4000-8000-000000000002", "2026-12-07T10:00:01Z"),
    ("80000000-0000-4000-8000-000000000003", "2026-12-07T10:00:03Z"),
]


def _insert(engine: Engine, event_id: str, event_time: str) -> None:
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO audit_events (event_id, event_time, account_id, region, event_source, event_name, record) "
            "VALUES (:id, :time, '123456789012', 'us-east-1', 'sts.amazonaws.com', 'GetCallerIdentity', :record)"),
            {"id": event_id, "time": event_time, "record": f'{{"eventID":"{event_id}"}}'})


def _round_trip(engine: Engine) -> None:
    config = alembic_config(engine)
    command.upgrade(config, "0007")
    for event_id, event_time in ROWS:
        _insert(engine, event_id, event_time)

    command.upgrade(config, "0008")
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, event_id FROM audit_events ORDER BY id")).all()
    assert sorted(event_id for _, event_id in rows) == sorted(event_id for event_id, _ in ROWS)
    schema = inspect(engine)
    assert schema.get_pk_constraint("audit_events")["constrained_columns"] == ["id"]
    assert sorted(tuple(index["column_names"]) for index in schema.get_indexes("audit_events")) == [
        ("account_id", "event_time"), ("event_time",)]
    _insert(engine, "40000000-0000-4000-8000-000000000004", "2026-12-07T10:00:00Z")
    with engine.connect() as connection:
        last = connection.execute(text("SELECT event_id FROM audit_events ORDER BY id DESC LIMIT 1")).scalar()
    assert last == "40000000-0000-4000-8000-000000000004"  # keyed by insertion, whatever its time

    command.downgrade(config, "0007")
    assert inspect(engine).get_pk_constraint("audit_events")["constrained_columns"] == ["event_id"]
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM audit_events")).scalar() == 4


def test_sqlite(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'stsd.db'}")
    try:
        _round_trip(engine)
    finally:
        engine.dispose()


@pytest.mark.timeout(120)
def test_postgresql(new_pg_database: Callable[[], str]) -> None:
    engine = make_engine(new_pg_database())
    try:
        _round_trip(engine)
    finally:
        engine.dispose()
