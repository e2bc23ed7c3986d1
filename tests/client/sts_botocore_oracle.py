"""Ask the installed botocore which STS endpoint it would call (no network).

Same approach as shared/reference/check_botocore_sts_endpoints.py: build a real botocore
STS client, call GetCallerIdentity and abort in ``before-send``, recording the URL, the
SigV4 scope Region and ``client.meta.region_name``, or the exception botocore raised.
The caller isolates the environment (monkeypatch) and points AWS_CONFIG_FILE /
AWS_SHARED_CREDENTIALS_FILE at temp files.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import botocore.loaders
import botocore.session
import pytest
from botocore.config import Config

from stsd.client import EndpointResolutionError, resolve_endpoint

_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]*)/([^/]*)/aws4_request")
# One loader for every session: it caches the parsed service model, making a client
# ~20x cheaper to build.
_LOADER = botocore.loaders.create_loader()


class _Intercepted(Exception):
    pass


@dataclass(frozen=True)
class Outcome:
    url: str | None = None
    signing_region: str | None = None
    region: str | None = None
    error: tuple[str, str] | None = None


def request_url(endpoint_url: str) -> str:
    """botocore's _urljoin(endpoint, "/"): an empty path becomes "/", a path is kept."""
    p = urlsplit(endpoint_url)
    return urlunsplit((p.scheme, p.netloc, p.path or "/", p.query, p.fragment))


def botocore_outcome(
    *,
    region: str | None,
    use_fips: bool | None = None,
    use_dualstack: bool | None = None,
    endpoint_url: str | None = None,
    sts_regional_endpoints: str | None = None,
    profile: str | None = None,
) -> Outcome:
    seen: dict[str, Any] = {}
    try:
        session = botocore.session.Session(profile=profile)
        session.register_component("data_loader", _LOADER)
        if sts_regional_endpoints is not None:
            session.set_config_variable("sts_regional_endpoints", sts_regional_endpoints)
        variants: dict[str, bool] = {}
        if use_fips is not None:
            variants["use_fips_endpoint"] = use_fips
        if use_dualstack is not None:
            variants["use_dualstack_endpoint"] = use_dualstack
        client = session.create_client(
            "sts",
            region_name=region,
            endpoint_url=endpoint_url,
            aws_access_key_id="AKIDEXAMPLE",
            aws_secret_access_key="SECRETEXAMPLE",
            config=Config(retries={"max_attempts": 1}, **variants),
        )
        seen["region"] = client.meta.region_name

        def on_send(request: Any, **_: Any) -> None:
            seen["url"] = request.url
            auth = request.headers.get("Authorization")
            if isinstance(auth, bytes):
                auth = auth.decode()
            match = _SCOPE.search(auth or "")
            seen["signing_region"] = match.group(1) if match else None
            raise _Intercepted()

        client.meta.events.register("before-send.sts", on_send)
        client.get_caller_identity()
    except _Intercepted:
        pass
    except Exception as exc:  # botocore's refusal, verbatim
        return Outcome(error=(type(exc).__name__, str(exc)))
    return Outcome(**seen)


def stsd_outcome(**kwargs: Any) -> Outcome:
    try:
        r = resolve_endpoint(**kwargs)
    except EndpointResolutionError as exc:
        return Outcome(error=(exc.botocore_name, str(exc)))
    return Outcome(url=request_url(r.url), signing_region=r.signing_region, region=r.region)


@contextmanager
def isolated_aws_env(
    env: Mapping[str, str] | None = None,
    config_text: str = "",
    credentials_text: str = "",
) -> Iterator[Path]:
    """os.environ with every AWS_* variable removed, then ``env`` applied, and the shared
    config/credentials files replaced by temp files with the given contents."""
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        config = Path(tmp, "config")
        credentials = Path(tmp, "credentials")
        config.write_text(config_text)
        credentials.write_text(credentials_text)
        for var in list(os.environ):
            if var.startswith("AWS_"):
                mp.delenv(var)
        mp.setenv("AWS_CONFIG_FILE", str(config))
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        for var, value in (env or {}).items():
            mp.setenv(var, value)
        yield Path(tmp)


def both(**kwargs: Any) -> tuple[Outcome, Outcome]:
    """(botocore, stsd) outcomes for the same inputs, in the current environment."""
    return botocore_outcome(**kwargs), stsd_outcome(**kwargs)
