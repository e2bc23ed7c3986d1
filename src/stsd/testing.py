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
    """A stsd process. ``accounts`` are initialised before the server starts.

    With ``tls_cert``/``tls_key`` (PEM, e.g. from ``stsd ca init``) it serves HTTPS; ``ca_file``
    is then what the readiness probe and :meth:`client` trust."""

    host: str = "127.0.0.1"
    port: int = 0
    data_dir: Path | None = None
    emulator: bool = False
    accounts: tuple[str, ...] = (DEFAULT_ACCOUNT,)
    extra_args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    admins: dict[str, Credentials] = field(default_factory=dict)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    ca_file: Path | None = None
    _process: subprocess.Popen[bytes] | None = None
    _owns_dir: bool = False
    _log: Any = None

    @property
    def endpoint_url(self) -> str:
        return f"{'https' if self.tls_cert else 'http'}://{self.host}:{self.port}"

    def __enter__(self) -> StsdServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.cleanup()  # stops it, and removes the data directory if this server made it

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
        """Start the server (a no-op while it runs: ``with start_server() as server`` must not
        start a second process on the same port)."""
        if self._process is not None and self._process.poll() is None:
            return
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
        if self.tls_cert is not None:
            args += ["--tls-cert", str(self.tls_cert), "--tls-key", str(self.tls_key)]
        self._log = open(self.data_dir / "server.log", "wb")  # noqa: SIM115 - closed in stop()
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and CLI, no shell
            _stsd(*args), stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ, **self.env}
        )
        self.wait_ready()

    def wait_ready(self, timeout: float = STARTUP_SECONDS) -> None:
        import ssl
        import urllib.request

        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None) \
            if self.tls_cert else None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"stsd exited early:\n{self.log_text()}")
            try:
                with urllib.request.urlopen(f"{self.endpoint_url}/health", timeout=1,  # noqa: S310
                                            context=context) as response:
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
            verify=str(self.ca_file) if self.ca_file else None,
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


# --- Region failures, for testing failover clients (stsd.client.RegionalSTS) -------------------
#
#     def test_survives_outage(stsd_region_fault, stsd_regional_sts):
#         sts = stsd_regional_sts("eu-west-1", ["eu-west-2"], per_attempt_timeout=0.5)
#         with stsd_region_fault("eu-west-1", "down", delay_ms=1500):
#             sts.get_caller_identity()
#         assert [a.region for a in sts.last_call.attempts] == ["eu-west-1", "eu-west-2"]
#
# Faults are written to the server's store, which the running server re-reads about once a
# second; the helpers below wait (bounded) until the server really behaves as asked.

import contextlib  # noqa: E402 - appended section, kept self-contained

FAULT_MODES = ("down", "slow", "error5xx", "throttle")
VISIBLE_SECONDS = 6.0  # bound on waiting for a store write to reach the server (it polls each second)


def start_server(accounts: tuple[str, ...] = (DEFAULT_ACCOUNT,), extra_args: tuple[str, ...] = (),
                 **kwargs: Any) -> StsdServer:
    """A started StsdServer whose accounts are bootstrapped in-process (no ``stsd init`` run each)."""
    from stsd.bootstrap import init_account
    from stsd.config import Settings
    from stsd.server.runtime import Runtime

    data_dir = Path(tempfile.mkdtemp(prefix="stsd-test-"))
    runtime = Runtime.open(Settings(data_dir=data_dir))
    try:
        admins = {}
        for account in accounts:
            boot = init_account(runtime, account)
            admins[account] = Credentials(account, boot.AccessKeyId, boot.SecretAccessKey, user_name=boot.UserName)
    finally:
        runtime.close()
    server = StsdServer(data_dir=data_dir, accounts=accounts, admins=admins, extra_args=extra_args, **kwargs)
    server._owns_dir = True  # cleanup() removes the directory
    server.start()
    return server


def _probe(server: StsdServer, region: str, timeout: float) -> tuple[int, bytes] | None:
    """An unsigned GetCallerIdentity at ``/<region>/``: (status, body), or None if no answer
    came within ``timeout`` (faults apply before authentication, so no credentials needed)."""
    import http.client

    conn = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
    try:
        conn.request("POST", f"/{region}/", body="Action=GetCallerIdentity&Version=2011-06-15",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        response = conn.getresponse()
        return response.status, response.read()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def _until(check: Any, what: str, timeout: float = VISIBLE_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"stsd did not pick up {what} within {timeout}s")
        time.sleep(0.05)


class RegionControl:
    """Fail or deactivate Regions of a running StsdServer through its store, and undo it.

    ``fault(region, mode, delay_ms)`` and ``sts_disabled(region, account)`` are context
    managers that return once the server shows the new behaviour and restore the Region on
    exit; ``restore()`` undoes whatever is still in place (fixtures call it at teardown).
    The global endpoint is served by us-east-1 for loopback callers: fail us-east-1 to fail it.
    """

    def __init__(self, server: StsdServer) -> None:
        self.server = server
        self._runtime: Any = None
        self._faults: set[str] = set()
        self._disabled: set[tuple[str, str]] = set()

    @property
    def runtime(self) -> Any:
        if self._runtime is None:
            from stsd.config import Settings
            from stsd.server.runtime import Runtime

            assert self.server.data_dir is not None, "the server has not been started"
            self._runtime = Runtime.open(Settings(data_dir=self.server.data_dir))
        return self._runtime

    # --- faults --------------------------------------------------------------------------
    def set_fault(self, region: str, mode: str, delay_ms: int = 0, *, wait: bool = True) -> None:
        if mode not in FAULT_MODES:
            raise ValueError(f"mode must be one of {FAULT_MODES}")
        self.runtime.regions.set_fault(region, mode, delay_ms)
        self._faults.add(region)
        if wait:
            self.wait_fault(region, mode, delay_ms)

    def clear_fault(self, region: str, *, wait: bool = True) -> None:
        self.runtime.regions.clear_fault(region)
        self._faults.discard(region)
        if wait:
            self.wait_cleared(region)

    @contextlib.contextmanager
    def fault(self, region: str, mode: str, delay_ms: int = 0) -> Iterator[None]:
        """One Region failing in ``mode`` (down, slow, error5xx, throttle) for the block."""
        with self.faults({region: (mode, delay_ms)}):
            yield

    @contextlib.contextmanager
    def faults(self, faults: dict[str, str | tuple[str, int]]) -> Iterator[None]:
        """Several Regions failing at once: ``{"eu-west-1": ("down", 1500), "eu-west-2": "error5xx"}``."""
        wanted = {r: (f, 0) if isinstance(f, str) else f for r, f in faults.items()}
        for region, (mode, delay_ms) in wanted.items():
            self.set_fault(region, mode, delay_ms, wait=False)
        try:
            for region, (mode, delay_ms) in wanted.items():
                self.wait_fault(region, mode, delay_ms)
            yield
        finally:
            for region in wanted:
                self.clear_fault(region, wait=False)
            for region in wanted:
                self.wait_cleared(region)

    def wait_cleared(self, region: str) -> None:
        # A healthy Region answers an unsigned request at once (403): no answer yet means still failing.
        _until(lambda: (_probe(self.server, region, 0.5) or (0, b""))[0] == 403, f"the end of {region}'s fault")

    def wait_fault(self, region: str, mode: str, delay_ms: int = 0) -> None:
        """Return once the server shows the fault (bounded)."""
        from stsd.server.faults import DEFAULT_DOWN_MS, DEFAULT_SLOW_MS

        if mode in ("error5xx", "throttle"):
            status, marker = (503, b"ServiceUnavailable") if mode == "error5xx" else (400, b"Throttling")

            def visible() -> bool:
                got = _probe(self.server, region, 1.0)
                return got is not None and got[0] == status and marker in got[1]
        else:
            delay = (delay_ms or (DEFAULT_SLOW_MS if mode == "slow" else DEFAULT_DOWN_MS)) / 1000
            if delay < 0.2:  # too short to tell from a normal answer: wait out one poll instead
                time.sleep(self.runtime.settings.cache_poll_seconds + 0.3)
                return
            window = min(0.4, delay / 2)  # a healthy Region answers an unsigned probe in milliseconds

            def visible() -> bool:
                return _probe(self.server, region, window) is None
        _until(visible, f"the {mode} fault of {region}")

    # --- STS activation ----------------------------------------------------------------------
    def set_sts_active(self, region: str, active: bool, account: str | None = None, *, wait: bool = True) -> None:
        account = account or self.server.accounts[0]
        self.runtime.regions.set_sts_active(account, region, active)
        if active:
            self._disabled.discard((account, region))
        else:
            self._disabled.add((account, region))
        if wait:
            self._wait_activation(region, active, account)

    @contextlib.contextmanager
    def sts_disabled(self, region: str, account: str | None = None) -> Iterator[None]:
        """STS deactivated in ``region`` for ``account`` (default: the server's first account)."""
        self.set_sts_active(region, False, account)
        try:
            yield
        finally:
            self.set_sts_active(region, True, account)

    def _wait_activation(self, region: str, active: bool, account: str) -> None:
        creds = self.server.admins.get(account)
        if creds is None:  # no credentials to look with: wait out a poll
            time.sleep(self.runtime.settings.cache_poll_seconds + 0.3)
            return
        client = self.server.client("sts", creds, region=region, endpoint_url=f"{self.server.endpoint_url}/{region}/")

        def visible() -> bool:
            try:
                client.get_session_token(DurationSeconds=900)
            except client.exceptions.RegionDisabledException:
                return not active
            return active
        _until(visible, f"STS {'activation' if active else 'deactivation'} in {region} for {account}")

    # --- teardown ------------------------------------------------------------------------
    def restore(self) -> None:
        regions = sorted(self._faults)
        for region in regions:
            self.clear_fault(region, wait=False)
        for region in regions:
            self.wait_cleared(region)
        for account, region in sorted(self._disabled):
            self.set_sts_active(region, True, account)

    def close(self) -> None:
        if self._runtime is not None:
            self._runtime.close()
            self._runtime = None


@pytest.fixture(scope="session")
def _stsd_region_control(stsd_server: StsdServer) -> Iterator[RegionControl]:
    control = RegionControl(stsd_server)
    yield control
    control.close()


@pytest.fixture
def stsd_regions(_stsd_region_control: RegionControl) -> Iterator[RegionControl]:
    """Region state of ``stsd_server`` (faults, STS activation), restored after the test."""
    yield _stsd_region_control
    _stsd_region_control.restore()


@pytest.fixture
def stsd_region_fault(stsd_regions: RegionControl) -> Any:
    """``with stsd_region_fault("eu-west-1", "down", delay_ms=1500): ...`` — modes: down, slow,
    error5xx, throttle. Returns once the server shows the fault; clears it on exit."""
    return stsd_regions.fault


@pytest.fixture
def stsd_region_disabled(stsd_regions: RegionControl) -> Any:
    """``with stsd_region_disabled("eu-west-1"): ...`` — STS deactivated there for the account
    (RegionDisabledException), re-activated on exit."""
    return stsd_regions.sts_disabled


@pytest.fixture(scope="session")
def stsd_endpoint_template(stsd_server: StsdServer) -> str:
    """``endpoint_url_template`` for RegionalSTS: stsd's path-prefix endpoint of each Region."""
    return f"{stsd_server.endpoint_url}/{{region}}/"


@pytest.fixture
def stsd_regional_sts(stsd_admin: Credentials, stsd_endpoint_template: str) -> Any:
    """Factory of RegionalSTS clients against ``stsd_server`` (admin credentials unless given)."""
    from stsd.client.failover import RegionalSTS

    def make(region: str = "eu-west-1", fallback_regions: list[str] | None = None, **kwargs: Any) -> RegionalSTS:
        if "session" not in kwargs:
            kwargs.setdefault("credentials", stsd_admin)
        kwargs.setdefault("endpoint_url_template", stsd_endpoint_template)
        return RegionalSTS(region, fallback_regions, **kwargs)

    return make
