"""Start a real stsd server for tests: ``StsdServer`` and pytest fixtures.

    from stsd.testing import StsdServer

    with StsdServer() as server:
        sts = server.client("sts")
        print(sts.get_caller_identity()["Arn"])

As a pytest plugin (``pytest -p stsd.testing`` or ``pytest_plugins = ["stsd.testing"]``) it
provides the fixtures ``stsd_server`` (one server per test session) and ``stsd_admin`` (its
admin credentials). The server is a separate process on a free loopback port with its own
temporary data directory; nothing is mocked.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from stsd.config import DEFAULT_ACCOUNT

STARTUP_SECONDS = 30.0


@dataclass(frozen=True)
class Credentials:
    account_id: str
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None
    user_name: str | None = None

    def as_boto(self) -> dict[str, Any]:
        out = {"aws_access_key_id": self.access_key_id, "aws_secret_access_key": self.secret_access_key}
        if self.session_token:
            out["aws_session_token"] = self.session_token
        return out


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _stsd(*args: str) -> list[str]:
    return [sys.executable, "-m", "stsd", *args]


@dataclass
class StsdServer:
    """A stsd process. ``accounts`` are initialised before the server starts."""

    host: str = "127.0.0.1"
    port: int = 0
    data_dir: Path | None = None
    emulator: bool = False
    accounts: tuple[str, ...] = (DEFAULT_ACCOUNT,)
    extra_args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    admins: dict[str, Credentials] = field(default_factory=dict)
    _process: subprocess.Popen[bytes] | None = None
    _owns_dir: bool = False
    _log: Any = None

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> StsdServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def run_cli(self, *args: str) -> str:
        out = subprocess.run(  # noqa: S603 - our own interpreter and CLI, no shell
            _stsd(*args, "--data-dir", str(self.data_dir)),
            check=True,
            capture_output=True,
            env={**os.environ, **self.env},
            timeout=120,
        )
        return out.stdout.decode()

    def init_account(self, account_id: str, *, root_key: bool = False) -> Credentials:
        args = ["init", "--account-id", account_id, "--json"] + (["--root-key"] if root_key else [])
        raw = json.loads(self.run_cli(*args))
        return Credentials(raw["AccountId"], raw["AccessKeyId"], raw["SecretAccessKey"], user_name=raw["UserName"])

    def start(self) -> None:
        if self.data_dir is None:
            self.data_dir = Path(tempfile.mkdtemp(prefix="stsd-test-"))
            self._owns_dir = True
        self.port = self.port or free_port(self.host)
        for account in self.accounts:
            if account not in self.admins:  # a restart keeps the credentials it already has
                self.admins[account] = self.init_account(account)
        args = ["serve", "--host", self.host, "--port", str(self.port), "--data-dir", str(self.data_dir),
                "--account-id", self.accounts[0], *self.extra_args]
        if self.emulator:
            args.append("--emulator")
        self._log = open(self.data_dir / "server.log", "wb")  # noqa: SIM115 - closed in stop()
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and CLI, no shell
            _stsd(*args), stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ, **self.env}
        )
        self.wait_ready()

    def wait_ready(self, timeout: float = STARTUP_SECONDS) -> None:
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"stsd exited early:\n{self.log_text()}")
            try:
                with urllib.request.urlopen(f"{self.endpoint_url}/health", timeout=1) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"stsd did not become ready in {timeout}s:\n{self.log_text()}")

    def log_text(self) -> str:
        assert self.data_dir is not None
        path = self.data_dir / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(sig)
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def cleanup(self) -> None:
        self.stop()
        if self._owns_dir and self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def client(self, service: str = "sts", credentials: Credentials | None = None, *,
               region: str = "us-east-1", endpoint_url: str | None = None, **config: Any) -> Any:
        import boto3
        from botocore.config import Config

        creds = credentials or self.admins[self.accounts[0]]
        return boto3.client(
            service,
            endpoint_url=endpoint_url or self.endpoint_url,
            region_name=region,
            config=Config(retries={"max_attempts": 1}, **config),
            **creds.as_boto(),
        )


@pytest.fixture(scope="session")
def stsd_server() -> Iterator[StsdServer]:
    server = StsdServer()
    server.start()
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def stsd_admin(stsd_server: StsdServer) -> Credentials:
    return stsd_server.admins[stsd_server.accounts[0]]
