"""Where records go: the store (``audit_events``) and CloudTrail's S3 layout on disk.

File layout, as CloudTrail delivers to a bucket::

    <root>/AWSLogs/<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/
        <account>_CloudTrail_<region>_<yyyymmddThhmmZ>_<random16>.json.gz   → {"Records":[…]}

One file per (account, Region) per flush and writer process; the random suffix keeps the files
of several writers (``stsd serve --workers N``: one writer per worker) apart. A file is written
under a temporary name and renamed, so a reader (or a crash) never sees half a file.
"""

from __future__ import annotations

import gzip
import logging
import os
import secrets
import string
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import orjson
from sqlalchemy import Engine

from stsd.audit.fields import COLUMNS, index_values
from stsd.store.models import AuditEvent

log = logging.getLogger("stsd.audit")
_ALPHABET = string.ascii_letters + string.digits


class Sink(Protocol):
    name: str

    def write(self, records: list[dict[str, Any]], encoded: list[bytes]) -> int:
        """Deliver; return how many records could not be delivered (or raise: none were)."""
        ...


def _insert_sql(paramstyle: str) -> str:
    """A plain positional INSERT for the driver: SQLAlchemy's per-row parameter processing
    cost more than SQLite's own insert (the writer process's CPU is the audit trail's cost too)."""
    columns = (*COLUMNS, "record")
    marks = {"qmark": "?", "format": "%s"}.get(paramstyle)
    if marks is None:
        raise ValueError(f"unsupported DB-API paramstyle {paramstyle!r}")
    return f"INSERT INTO audit_events ({', '.join(columns)}) VALUES ({', '.join([marks] * len(columns))})"  # noqa: S608 - constant names


class StoreSink:
    name = "store"

    def __init__(self, engine: Engine):
        self.engine = engine

    def write(self, records: list[dict[str, Any]], encoded: list[bytes]) -> int:
        rows = [(*index_values(record), raw.decode()) for record, raw in zip(records, encoded, strict=True)]
        with self.engine.begin() as connection:
            paramstyle = connection.dialect.paramstyle
            if paramstyle in ("qmark", "format"):
                connection.exec_driver_sql(_insert_sql(paramstyle), rows)
            else:  # other drivers: Core, with named parameters
                connection.execute(AuditEvent.__table__.insert(),
                                   [dict(zip((*COLUMNS, "record"), row, strict=True)) for row in rows])
        return 0


def file_name(account: str, region: str, moment: datetime, unique: str) -> str:
    stamp = moment.strftime("%Y%m%dT%H%MZ")
    return f"{account}_CloudTrail_{region}_{stamp}_{unique}.json.gz"


def file_dir(root: Path, account: str, region: str, moment: datetime) -> Path:
    return root / "AWSLogs" / account / "CloudTrail" / region / f"{moment:%Y}" / f"{moment:%m}" / f"{moment:%d}"


class FileSink:
    name = "file"

    def __init__(self, root: Path):
        self.root = root

    def write(self, records: list[dict[str, Any]], encoded: list[bytes]) -> int:
        groups: dict[tuple[str, str], list[bytes]] = defaultdict(list)
        for record, raw in zip(records, encoded, strict=True):
            account = record.get("recipientAccountId")
            if account:  # a call no account owns is delivered to no trail (it stays in the store)
                groups[(account, record["awsRegion"])].append(raw)
        now = datetime.now(UTC)
        failed = 0
        for (account, region), raws in groups.items():
            try:
                self._write_file(account, region, now, raws)
            except OSError as error:  # full disk, permissions, a file where a directory should be…
                failed += len(raws)
                log.error("audit: %d record(s) for %s/%s not written to files: %s", len(raws), account, region,
                          error)
        return failed

    def _write_file(self, account: str, region: str, now: datetime, raws: list[bytes]) -> None:
        directory = file_dir(self.root, account, region, now)
        directory.mkdir(parents=True, exist_ok=True)
        name = file_name(account, region, now, "".join(secrets.choice(_ALPHABET) for _ in range(16)))
        body = b'{"Records":[' + b",".join(raws) + b"]}"
        temporary = directory / f".{name}.tmp"
        try:
            with open(temporary, "wb") as handle:
                # mtime=0: the bytes depend on the records only; level 1: cheap on the writer's CPU.
                handle.write(gzip.compress(body, compresslevel=1, mtime=0))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, directory / name)
        except OSError:
            temporary.unlink(missing_ok=True)
            raise


def encode(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record)
