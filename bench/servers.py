"""The servers under test, on loopback: stsd (1 worker, strict mode, via ``stsd.testing``)
and moto_server (its defaults). Start, pin to a core, measure RSS/CPU, set up, stop."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import suppress
from pathlib import Path
from typing import Any, Protocol

from bench.signing import REGION, Keys
from stsd.testing import StsdServer, free_port

HOST = "127.0.0.1"
ACCOUNT = "123456789012"  # stsd's and moto's default account
ROLE_NAME = "stsd-bench"


def pin(pid: int, cpus: set[int]) -> int:
    """Pin every current thread of ``pid`` (threads created later inherit); returns the count."""
    count = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with suppress(ProcessLookupError, FileNotFoundError):
            os.sched_setaffinity(int(task.name), cpus)
            count += 1
    return count


class Target(Protocol):
    name: str
    host: str
    port: int

    @property
    def pid(self) -> int: ...

    @property
    def endpoint_url(self) -> str: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


@functools.cache
def _serve_options() -> str:
    out = subprocess.run([sys.executable, "-m", "stsd", "serve", "--help"], capture_output=True, timeout=60,
                         env={**os.environ, "COLUMNS": "200"}, check=False)
    return out.stdout.decode(errors="replace")


def unthrottled_stsd(**kwargs: Any) -> StsdServer:
    """A ``StsdServer`` with 1 worker and the per-account request quota off.

    stsd answers ``Throttling`` above ``--quota-rate`` (600 req/s per account and Region by
    default, like AWS); a throughput benchmark must measure the server, not the quota. The
    quota is switched off with ``--quota-rate 0`` where ``stsd serve`` has that option, and
    with ``STSD_QUOTA_RATE=0`` (read by every worker) in any case.
    """
    args = ["--workers", "1"]
    if "--quota-rate" in _serve_options():
        args += ["--quota-rate", "0"]
    env = {"STSD_QUOTA_RATE": "0", **kwargs.pop("env", {})}
    return StsdServer(extra_args=(*args, *kwargs.pop("extra_args", ())), env=env, **kwargs)


class StsdTarget:
    """``stsd serve --workers 1`` (strict: real SigV4 verification against its own IAM),
    request quota off (see ``unthrottled_stsd``)."""

    def __init__(self, name: str = "stsd", env: dict[str, str] | None = None,
                 extra_args: tuple[str, ...] = ()) -> None:
        self.name = name
        self.server = unthrottled_stsd(host=HOST, accounts=(ACCOUNT,), env=env or {}, extra_args=extra_args)
        self.host = HOST
        self.port = 0

    @property
    def pid(self) -> int:
        process = self.server._process  # stsd.testing keeps the Popen private
        assert process is not None
        return process.pid

    @property
    def endpoint_url(self) -> str:
        return self.server.endpoint_url

    @property
    def admin_keys(self) -> Keys:
        creds = self.server.admins[ACCOUNT]
        return Keys(creds.access_key_id, creds.secret_access_key)

    def start(self) -> None:
        self.server.start()
        self.port = self.server.port

    def stop(self) -> None:
        self.server.cleanup()


class MotoTarget:
    """``moto_server -H 127.0.0.1 -p PORT`` from the same virtualenv (werkzeug, threaded)."""

    name = "moto"

    def __init__(self) -> None:
        self.host = HOST
        self.port = free_port(HOST)
        self.process: subprocess.Popen[bytes] | None = None
        self.tmp = Path(tempfile.mkdtemp(prefix="stsd-bench-moto-"))
        self.log: Any = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        executable = Path(sys.executable).parent / "moto_server"
        self.log = open(self.tmp / "moto.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [str(executable), "-H", self.host, "-p", str(self.port)],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=self.tmp)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto_server exited early:\n{self.log_text()}")
            try:
                with urllib.request.urlopen(f"{self.endpoint_url}/moto-api/", timeout=1):
                    return
            except urllib.error.HTTPError:
                return  # any HTTP answer means it is serving
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"moto_server did not become ready in {timeout}s:\n{self.log_text()}")

    def log_text(self) -> str:
        path = self.tmp / "moto.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self.log is not None:
            self.log.close()
            self.log = None
        shutil.rmtree(self.tmp, ignore_errors=True)


def create_bench_role(target: Target, keys: Keys) -> str:
    """The same role on both servers, trusting the account root; returns its ARN."""
    import boto3
    from botocore.config import Config

    iam = boto3.client(
        "iam", endpoint_url=target.endpoint_url, region_name=REGION,
        aws_access_key_id=keys.access_key_id, aws_secret_access_key=keys.secret_access_key,
        config=Config(retries={"max_attempts": 1}),
    )
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "sts:AssumeRole"}
    ]}
    role = iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust),
                           Description="stsd benchmark role")
    return str(role["Role"]["Arn"])


def versions() -> dict[str, str]:
    from importlib.metadata import version

    out = {"python": sys.version.split()[0]}
    with suppress(Exception):
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=Path(__file__).resolve().parents[1], timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "src"],
                               capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1],
                               timeout=10, check=True).stdout.strip()
        out["stsd_git"] = head + (" + uncommitted changes in src/" if dirty else "")
    for package in ("stsd", "moto", "botocore", "uvicorn", "uvloop", "httptools", "werkzeug"):
        with suppress(Exception):
            out[package] = version(package)
    return out
