"""Start real PostgreSQL and Redis servers for tests (no service manager, no mocks).

    from stsd.testing_backends import postgres_server, redis_server

    with postgres_server() as database_url, redis_server() as redis_url:
        ...  # postgresql://stsd@127.0.0.1:<port>/stsd and redis://127.0.0.1:<port>/0

Each server is a child process on a free 127.0.0.1 port with its files in a temporary
directory; leaving the ``with`` block stops it (also when the block raises) and deletes the
directory. PostgreSQL refuses to run as root, so under root the cluster belongs to the
``postgres`` system user (``nobody`` when there is none) and both ``initdb`` and ``postgres``
run as that user. When the binaries cannot be found the context managers raise
:class:`BackendUnavailable` (a pytest fixture turns it into a skip with its message).

:class:`DatabaseStsdServer` is :class:`stsd.testing.StsdServer` against an external database:
``stsd init`` gets the same ``--database`` as ``stsd serve``, so the bootstrap credentials
are those of the shared store; the first account is bootstrapped by ``stsd serve`` itself.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stsd.testing import Credentials, StsdServer, free_port

STARTUP_SECONDS = 30.0
STOP_SECONDS = 10.0
PG_USER = "stsd"
PG_DATABASE = "stsd"
_BIND_ATTEMPTS = 3  # a free port can be taken between probing and binding: retry on another
_PG_SEARCH = ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin", "/usr/local/pgsql/bin",
              "/opt/homebrew/opt/postgresql*/bin")
_REDIS_SEARCH = ("/usr/bin", "/usr/sbin", "/usr/local/bin", "/opt/homebrew/bin")


class BackendUnavailable(RuntimeError):
    """The server binaries are not installed on this machine."""


class BackendFailed(RuntimeError):
    """The binaries exist but the server did not come up (the message carries its log)."""


# --- locating binaries ---------------------------------------------------------------------
def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", str(path))) or (0,)


def postgres_bin_dir() -> Path | None:
    """The directory holding ``initdb`` and ``postgres`` (PATH first, then the usual places,
    newest major version first); None when PostgreSQL is not installed."""
    override = os.environ.get("STSD_PG_BIN")
    candidates: list[Path] = [Path(override)] if override else []
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
        candidates.append(Path(on_path).parent)
    for pattern in _PG_SEARCH:
        root = Path("/")
        candidates.extend(sorted(root.glob(pattern.lstrip("/")), key=_version_key, reverse=True))
    for directory in candidates:
        if (directory / "initdb").is_file() and (directory / "postgres").is_file():
            return directory
    return None


def redis_server_binary() -> Path | None:
    found = shutil.which("redis-server")
    if found:
        return Path(found)
    for directory in _REDIS_SEARCH:
        path = Path(directory) / "redis-server"
        if path.is_file():
            return path
    return None


# --- process helpers -------------------------------------------------------------------------
def _unprivileged_user() -> pwd.struct_passwd | None:
    """Who runs PostgreSQL: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise BackendUnavailable("running as root and neither a 'postgres' nor a 'nobody' user exists "
                             "(PostgreSQL refuses to run as root)")


def _as_user(user: pwd.struct_passwd | None) -> dict[str, Any]:
    if user is None:
        return {}
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}


def _scratch_parent(user: pwd.struct_passwd | None) -> str | None:
    """Where to create a directory another user must reach: the first temp directory whose
    every ancestor others may traverse (a private TMPDIR would lock ``postgres`` out)."""
    if user is None:
        return None
    for candidate in (tempfile.gettempdir(), "/tmp", "/var/tmp", "/dev/shm"):  # noqa: S108 - private subdirs
        path = Path(candidate).resolve()
        if path.is_dir() and all(p.stat().st_mode & stat.S_IXOTH for p in (path, *path.parents)):
            return str(path)
    raise BackendUnavailable("no temporary directory the 'postgres' user can reach")


def _child_env(user: pwd.struct_passwd | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "STSD_"))}
    env.update(LC_ALL="C", LANG="C")
    if user is not None:
        env.update(HOME=user.pw_dir or "/", USER=user.pw_name, LOGNAME=user.pw_name)
    return env


def _stop(process: subprocess.Popen[bytes], sig: int) -> None:
    """Ask the server to stop with ``sig``; then SIGKILL its process group if it lingers."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.send_signal(sig)
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # its own group (start_new_session=True)
        process.wait(timeout=STOP_SECONDS)


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return ""


# --- PostgreSQL ------------------------------------------------------------------------------
def pg_url(port: int, database: str = PG_DATABASE, user: str = PG_USER, host: str = "127.0.0.1") -> str:
    return f"postgresql://{user}@{host}:{port}/{database}"


def _pg_connect(url: str, timeout: float = 2.0) -> Any:
    import psycopg

    return psycopg.connect(url, connect_timeout=max(1, int(timeout)), autocommit=True)


def create_database(url: str, name: str) -> str:
    """Create database ``name`` on the server of ``url``; returns its URL."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise ValueError(f"not a plain database name: {name!r}")
    with _pg_connect(url) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')  # name checked above; identifiers cannot be bound
    return url.rsplit("/", 1)[0] + "/" + name


@contextlib.contextmanager
def postgres_server(*, database: str = PG_DATABASE, timeout: float = STARTUP_SECONDS) -> Iterator[str]:
    """A throwaway PostgreSQL cluster (trust auth, superuser ``stsd``, fsync off) with an
    empty database ``database``; yields its URL."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        raise BackendUnavailable("PostgreSQL binaries (initdb, postgres) not found on PATH or in "
                                 "/usr/lib/postgresql/*/bin; install the 'postgresql' package or set STSD_PG_BIN")
    user = _unprivileged_user()
    root = Path(tempfile.mkdtemp(prefix="stsd-pg-", dir=_scratch_parent(user)))
    process: subprocess.Popen[bytes] | None = None
    try:
        if user is not None:
            os.chown(root, user.pw_uid, user.pw_gid)
        data = root / "data"
        log_path = root / "postgres.log"
        with open(root / "initdb.log", "wb") as init_log:
            result = subprocess.run(  # noqa: S603 - fixed argv, no shell
                [str(bin_dir / "initdb"), "-D", str(data), "--auth=trust", "-U", PG_USER, "-E", "UTF8",
                 "--locale=C", "--no-sync"],
                stdout=init_log, stderr=subprocess.STDOUT, env=_child_env(user), cwd=root, timeout=120,
                check=False, **_as_user(user),
            )
        if result.returncode != 0:
            raise BackendFailed(f"initdb failed ({result.returncode}):\n{_tail(root / 'initdb.log')}")
        for _attempt in range(_BIND_ATTEMPTS):
            port = free_port()
            with open(log_path, "ab") as log:
                process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                    [str(bin_dir / "postgres"), "-D", str(data), "-p", str(port), "-k", str(root),
                     "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
                     "-c", "full_page_writes=off", "-c", "max_connections=200", "-c", "logging_collector=off"],
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=_child_env(user),
                    cwd=root, start_new_session=True, **_as_user(user),
                )
            if _wait_postgres(process, pg_url(port, "postgres"), timeout):
                break
            _stop(process, signal.SIGINT)
            if "already in use" not in _tail(log_path):
                raise BackendFailed(f"postgres did not start in {timeout}s:\n{_tail(log_path)}")
        else:
            raise BackendFailed(f"postgres could not bind a port:\n{_tail(log_path)}")
        yield create_database(pg_url(port, "postgres"), database)
    finally:
        if process is not None:
            _stop(process, signal.SIGINT)  # "fast" shutdown: disconnects clients, no waiting for them
        shutil.rmtree(root, ignore_errors=True)


def _wait_postgres(process: subprocess.Popen[bytes], url: str, timeout: float) -> bool:
    import psycopg

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with _pg_connect(url, timeout=1):
                return True
        except psycopg.OperationalError:
            time.sleep(0.05)
    return False


# --- Redis ----------------------------------------------------------------------------------
@contextlib.contextmanager
def redis_server(*, port: int | None = None, timeout: float = STARTUP_SECONDS) -> Iterator[str]:
    """A throwaway Redis without persistence on 127.0.0.1 (on ``port``, default a free one);
    yields ``redis://127.0.0.1:<port>/0``."""
    binary = redis_server_binary()
    if binary is None:
        raise BackendUnavailable("redis-server not found on PATH or in /usr/bin, /usr/sbin, /usr/local/bin; "
                                 "install the 'redis-server' package")
    root = Path(tempfile.mkdtemp(prefix="stsd-redis-"))
    log_path = root / "redis.log"
    process: subprocess.Popen[bytes] | None = None
    try:
        for _attempt in range(_BIND_ATTEMPTS if port is None else 1):
            chosen = port or free_port()
            with open(log_path, "ab") as log:
                process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                    [str(binary), "--port", str(chosen), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                     "--dir", str(root), "--daemonize", "no", "--protected-mode", "yes", "--logfile", ""],
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=root,
                    start_new_session=True,
                )
            url = f"redis://127.0.0.1:{chosen}/0"
            if _wait_redis(process, url, timeout):
                break
            _stop(process, signal.SIGTERM)
            if "in use" not in _tail(log_path) or port is not None:
                raise BackendFailed(f"redis-server did not start in {timeout}s:\n{_tail(log_path)}")
        else:
            raise BackendFailed(f"redis-server could not bind a port:\n{_tail(log_path)}")
        yield url
    finally:
        if process is not None:
            _stop(process, signal.SIGTERM)  # no persistence configured: exits at once
        shutil.rmtree(root, ignore_errors=True)


def _wait_redis(process: subprocess.Popen[bytes], url: str, timeout: float) -> bool:
    import redis

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            if client.ping():
                return True
        except redis.RedisError:
            time.sleep(0.05)
        finally:
            client.close()
    return False


# --- stsd against an external database -------------------------------------------------------
def new_master_key() -> str:
    """A value for ``STSD_MASTER_KEY``: nodes sharing a database must share it."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


_PENDING = Credentials("", "", "")  # stands for the admin credentials `stsd serve` is creating


def _bootstrap_credentials(path: Path) -> Credentials:
    raw = json.loads(path.read_text())
    return Credentials(raw["AccountId"], raw["AccessKeyId"], raw["SecretAccessKey"], user_name=raw["UserName"])


@dataclass
class DatabaseStsdServer(StsdServer):
    """``StsdServer`` whose ``stsd init`` and ``stsd serve`` both use ``database`` (a SQLAlchemy
    URL). Give several of them the same database, the same ``STSD_MASTER_KEY`` in ``env`` and
    the first one's ``admins`` (:meth:`joining`) to run several nodes of one deployment."""

    database: str = ""

    def run_cli(self, *args: str) -> str:
        if self.database and args and args[0] != "serve":
            args = (*args, "--database", self.database)
        return super().run_cli(*args)

    def start(self) -> None:
        if self.database and "--database" not in self.extra_args:
            self.extra_args = (*self.extra_args, "--database", self.database)
        if self.data_dir is None:
            self.data_dir = Path(tempfile.mkdtemp(prefix="stsd-test-"))
            self._owns_dir = True
        primary = self.accounts[0]
        bootstrap = self.data_dir / "bootstrap.json"
        if primary not in self.admins and bootstrap.exists():
            self.admins[primary] = _bootstrap_credentials(bootstrap)
        if primary in self.admins:
            super().start()
            return
        # `stsd serve` bootstraps the first account itself (and keeps its credentials in
        # bootstrap.json): no `stsd init` process for it, and one admin key instead of two.
        self.admins[primary] = _PENDING
        try:
            super().start()
        finally:
            if self.admins.get(primary) is _PENDING:
                del self.admins[primary]
        self.admins[primary] = _bootstrap_credentials(bootstrap)

    def joining(self, **changes: Any) -> DatabaseStsdServer:
        """Another node of the same deployment: same database, master key and admin credentials,
        its own port and data directory. ``stsd serve`` would mint a bootstrap key on its first
        start (and IAM allows only two per user), so the node gets this one's ``bootstrap.json``."""
        assert self.data_dir is not None, "start this server first"
        node = DatabaseStsdServer(database=self.database, accounts=self.accounts, env=dict(self.env),
                                  admins=dict(self.admins), **changes)
        node.data_dir = Path(tempfile.mkdtemp(prefix="stsd-test-"))
        node._owns_dir = True
        bootstrap = self.data_dir / "bootstrap.json"
        if bootstrap.exists():
            shutil.copy2(bootstrap, node.data_dir / "bootstrap.json")
        return node
