"""The README's client-library examples, run as a user would paste them: the scripts against
``stsd serve --emulator`` (only its address differs), the pytest examples in a separate pytest
run of a fresh project that loads ``stsd.testing`` the documented way."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from stsd.testing import StsdServer, start_server

README = Path(__file__).resolve().parents[2] / "README.md"
DOCUMENTED_URL = "http://127.0.0.1:8080"


def section(title: str) -> str:
    text = README.read_text()
    start = text.index(f"\n## {title}")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def python_blocks(title: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", section(title), flags=re.DOTALL)


CLIENT = "Client library"
BLOCKS = python_blocks(CLIENT)


def user_env() -> dict[str, str]:
    """The test process's environment without any AWS settings (the user's own are unknown)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
    return env


def run_script(code: str, tmp_path: Path) -> str:
    script = tmp_path / "example.py"
    script.write_text(code)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60,
                          env=user_env(), cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def emulator() -> Iterator[StsdServer]:
    server = start_server(("123456789012",), emulator=True)
    yield server
    server.cleanup()


def test_the_section_has_the_examples_this_file_runs():
    assert len(BLOCKS) == 4
    assert [DOCUMENTED_URL in block for block in BLOCKS] == [False, True, True, False]


def test_resolver_example():
    assert "# https://sts.amazonaws.com us-east-1" in BLOCKS[0]


def test_resolver_example_output(tmp_path):
    assert run_script(BLOCKS[0], tmp_path) == "https://sts.amazonaws.com us-east-1\n"


def test_failover_client_example(emulator, tmp_path):
    out = run_script(BLOCKS[1].replace(DOCUMENTED_URL, emulator.endpoint_url), tmp_path)
    (line,) = out.splitlines()
    region, endpoint, signing_region, outcome, reason, duration = line.split(" ")
    assert (region, endpoint, signing_region, outcome, reason) == (
        "eu-west-1", f"{emulator.endpoint_url}/eu-west-1/", "eu-west-1", "success", "ok")
    assert re.fullmatch(r"\d+\.\d{3}s", duration)


def test_refreshing_session_example(emulator, tmp_path):
    out = run_script(BLOCKS[2].replace(DOCUMENTED_URL, emulator.endpoint_url), tmp_path)
    assert out == "arn:aws:sts::123456789012:assumed-role/app/app\n"
    assert "# arn:aws:sts::123456789012:assumed-role/app/app" in BLOCKS[2]


def run_user_pytest(tmp_path: Path, tests: str, *args: str, conftest: str | None = None) -> subprocess.CompletedProcess:
    """pytest in a fresh project; the servers' data directories go to ``tmp_path/tmp``."""
    project, tmp = tmp_path / "project", tmp_path / "tmp"
    project.mkdir()
    tmp.mkdir()
    (project / "test_mine.py").write_text(tests)
    if conftest is not None:
        (project / "conftest.py").write_text(conftest)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args], cwd=project,
                          capture_output=True, text=True, timeout=180, env={**user_env(), "TMPDIR": str(tmp)},
                          check=False)


@pytest.mark.slow
def test_pytest_fixtures_example_in_a_users_project(tmp_path):
    """The README's fixture tests, with the conftest.py line it documents and nothing else."""
    assert 'pytest_plugins = ["stsd.testing"]' in section(CLIENT)
    done = run_user_pytest(tmp_path, BLOCKS[3], conftest='pytest_plugins = ["stsd.testing"]\n')
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1].startswith("2 passed")


@pytest.mark.slow
def test_testing_section_example_and_plugin_switch(tmp_path):
    """``StsdServer`` as documented, and ``pytest -p stsd.testing`` giving stsd_server/stsd_admin."""
    (example,) = python_blocks("Testing your own code against stsd")
    tests = (
        "def test_documented_example():\n"
        + "".join(f"    {line}\n" for line in example.splitlines())
        + "\n\ndef test_fixtures(stsd_server, stsd_admin):\n"
        "    identity = stsd_server.client('sts', stsd_admin).get_caller_identity()\n"
        "    assert identity['Arn'] == f'arn:aws:iam::{stsd_admin.account_id}:user/{stsd_admin.user_name}'\n"
    )
    done = run_user_pytest(tmp_path, tests, "-p", "stsd.testing")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1].startswith("2 passed")
    assert [p.name for p in (tmp_path / "tmp").iterdir()] == []  # both servers removed their data


def _serving_pids(port: int) -> list[int]:
    """Processes running ``stsd serve`` on ``port``."""
    marker = b"\x00".join([b"serve", b"--host", b"127.0.0.1", b"--port", str(port).encode(), b""])
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and marker in (proc / "cmdline").read_bytes():
                pids.append(int(proc.name))
        except OSError:  # gone meanwhile
            pass
    return pids


def test_a_started_server_used_as_a_context_manager_runs_one_process():
    # start_server() returns a running server; entering it must not start a second one (which
    # would fail to bind and orphan the first).
    with start_server() as server:
        pid = server._process.pid
        server.start()
        assert server._process.pid == pid
        assert server._process.poll() is None
        assert _serving_pids(server.port) == [pid]
    assert _serving_pids(server.port) == []
