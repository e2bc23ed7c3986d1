"""Reading the trail back: filtered events and global-endpoint usage, from the store or from a
directory of CloudTrail files (stsd's own delivery or real AWS logs).

Both sources derive their columns with :func:`stsd.audit.fields.index_row` and order results
the same way (newest first, then eventID), so they answer identically for the same records.
"""

from __future__ import annotations

import gzip
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, func, or_, select

from stsd.audit.fields import index_row
from stsd.store.models import AuditEvent

log = logging.getLogger("stsd.audit")

_RELATIVE = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_time(text: str, now: datetime | None = None) -> str:
    """``eventTime``-comparable text for ISO dates/times (naive = UTC) or ages like ``15m``, ``2h``, ``7d``."""
    text = text.strip()
    relative = _RELATIVE.fullmatch(text)
    if relative:
        moment = (now or datetime.now(UTC)) - timedelta(**{_UNITS[relative[2]]: int(relative[1])})
    else:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"not a time: {text!r} (use ISO 8601, e.g. 2025-02-12T22:16:48Z, "
                             "or an age: 15m, 2h, 7d)") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class EventFilter:
    account: str | None = None
    region: str | None = None  # awsRegion: where the record was delivered
    event_name: str | None = None
    principal: str | None = None  # userIdentity.arn (or principalId when there is no ARN)
    endpoint_type: str | None = None  # global | regional
    since: str | None = None  # inclusive, as parse_time returns
    until: str | None = None  # inclusive
    errors_only: bool = False
    limit: int | None = 100

    def matches(self, row: dict[str, Any]) -> bool:
        return (
            (self.account is None or row["account_id"] == self.account)
            and (self.region is None or row["region"] == self.region)
            and (self.event_name is None or row["event_name"] == self.event_name)
            and (self.principal is None or row["principal_arn"] == self.principal)
            and (self.endpoint_type is None or row["endpoint_type"] == self.endpoint_type)
            and (self.since is None or row["event_time"] >= self.since)
            and (self.until is None or row["event_time"] <= self.until)
            and (not self.errors_only or row["error_code"] is not None)
        )


@dataclass
class Usage:
    """Calls to the global endpoint by one caller from one place with one client."""

    account: str
    principal: str | None
    source_ip: str | None
    user_agent: str | None
    serving_region: str | None
    count: int
    first_seen: str
    last_seen: str
    remedy: dict[str, Any] = field(default_factory=dict)

    def key(self) -> tuple[Any, ...]:
        return (-self.count, _desc(self.last_seen), self.account, self.principal or "", self.source_ip or "",
                self.user_agent or "", self.serving_region or "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "accountId": self.account,
            "principal": self.principal,
            "sourceIPAddress": self.source_ip,
            "userAgent": self.user_agent,
            "awsServingRegion": self.serving_region,
            "count": self.count,
            "firstSeen": self.first_seen,
            "lastSeen": self.last_seen,
            "remedy": self.remedy,
        }


def _desc(text: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in text)


def _is_global_caller(row: dict[str, Any]) -> bool:
    # The role owner's copy of a cross-account call (AWSAccount) repeats the caller's call.
    return (row["event_source"] == "sts.amazonaws.com" and row["endpoint_type"] == "global"
            and row["identity_type"] != "AWSAccount")


def _finish(rows: Iterable[Usage], limit: int | None) -> list[Usage]:
    from stsd.audit.remedies import remedy_for

    ordered = sorted(rows, key=Usage.key)[:limit] if limit else sorted(rows, key=Usage.key)
    for row in ordered:
        row.remedy = remedy_for(row.user_agent or "", row.serving_region).as_dict()
    return ordered


class StoreSource:
    """The ``audit_events`` table."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def _where(self, f: EventFilter) -> list[Any]:
        t = AuditEvent
        conditions: list[Any] = []
        for column, value in ((t.account_id, f.account), (t.region, f.region), (t.event_name, f.event_name),
                              (t.principal_arn, f.principal), (t.endpoint_type, f.endpoint_type)):
            if value is not None:
                conditions.append(column == value)
        if f.since is not None:
            conditions.append(t.event_time >= f.since)
        if f.until is not None:
            conditions.append(t.event_time <= f.until)
        if f.errors_only:
            conditions.append(t.error_code.is_not(None))
        return conditions

    def events(self, f: EventFilter) -> list[dict[str, Any]]:
        query = (select(AuditEvent.record).where(*self._where(f))
                 .order_by(AuditEvent.event_time.desc(), AuditEvent.event_id.desc()))
        if f.limit:
            query = query.limit(f.limit)
        with self.engine.connect() as connection:
            return [orjson.loads(raw) for raw in connection.scalars(query)]

    def global_usage(self, f: EventFilter) -> list[Usage]:
        t = AuditEvent
        keys = (t.account_id, t.principal_arn, t.source_ip, t.user_agent, t.serving_region)
        query = (
            select(*keys, func.count(), func.min(t.event_time), func.max(t.event_time))
            .where(*self._where(f), t.event_source == "sts.amazonaws.com", t.endpoint_type == "global",
                   or_(t.identity_type.is_(None), t.identity_type != "AWSAccount"))
            .group_by(*keys)
        )
        with self.engine.connect() as connection:
            rows = [Usage(*row) for row in connection.execute(query)]
        return _finish(rows, f.limit)


class DirSource:
    """CloudTrail files under a directory: ``*.json.gz`` and ``*.json``, recursively."""

    def __init__(self, root: Path):
        self.root = root

    def records(self) -> Iterator[dict[str, Any]]:
        paths = sorted(p for p in self.root.rglob("*") if p.is_file() and p.name.endswith((".json.gz", ".json")))
        for path in paths:
            try:
                raw = path.read_bytes()
                document = orjson.loads(gzip.decompress(raw) if path.name.endswith(".gz") else raw)
            except (OSError, ValueError, EOFError) as error:
                log.warning("skipping %s: %s", path, error)
                continue
            # Digest files and other JSON without "Records" are not event files.
            records = document.get("Records") if isinstance(document, dict) else None
            if isinstance(records, list):
                yield from (r for r in records if isinstance(r, dict) and "eventID" in r and "eventTime" in r)

    def _rows(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        for record in self.records():
            yield index_row(record), record

    def events(self, f: EventFilter) -> list[dict[str, Any]]:
        found = [(row["event_time"], row["event_id"], record) for row, record in self._rows() if f.matches(row)]
        found.sort(key=lambda item: (item[0], item[1]), reverse=True)
        return [record for _, _, record in (found[:f.limit] if f.limit else found)]

    def global_usage(self, f: EventFilter) -> list[Usage]:
        groups: dict[tuple[Any, ...], Usage] = {}
        for row, _record in self._rows():
            if not (f.matches(row) and _is_global_caller(row)):
                continue
            key = (row["account_id"], row["principal_arn"], row["source_ip"], row["user_agent"],
                   row["serving_region"])
            usage = groups.get(key)
            if usage is None:
                groups[key] = Usage(*key, 1, row["event_time"], row["event_time"])
            else:
                usage.count += 1
                usage.first_seen = min(usage.first_seen, row["event_time"])
                usage.last_seen = max(usage.last_seen, row["event_time"])
        return _finish(groups.values(), f.limit)


def open_source(from_dir: Path | None, database_url: str | None) -> StoreSource | DirSource:
    if from_dir is not None:
        if not from_dir.is_dir():
            raise ValueError(f"{from_dir} is not a directory")
        return DirSource(from_dir)
    from stsd.store.db import make_engine, migrate

    assert database_url is not None
    engine = make_engine(database_url)
    migrate(engine)  # a store from before the audit trail gets its (empty) table
    return StoreSource(engine)
