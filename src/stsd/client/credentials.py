"""Refreshing role credentials that survive a Regional STS outage.

Built on :class:`~stsd.client.failover.RegionalSTS` and botocore's own refresh machinery
(:class:`botocore.credentials.RefreshableCredentials`): credentials are refreshed once
they are inside the *advisory* window (a failed refresh keeps the current credentials)
and must be refreshed inside the *mandatory* window (a failed refresh raises). Each
refresh is one RegionalSTS call, so a refresh during an outage of the primary Region is
served by a fallback Region, re-signed for it.

Three ways in:

* :func:`assume_role_session` / :func:`web_identity_session` — a ready ``boto3.Session``;
* :class:`RegionalAssumeRoleProvider` / :class:`RegionalWebIdentityProvider` — botocore
  credential providers to insert into a session's provider chain (:func:`add_to_session`);
* :func:`refreshable_credentials` with :class:`AssumeRoleFetcher` / :class:`WebIdentityFetcher`
  — the pieces, for callers that manage sessions themselves.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.credentials import (
    CredentialProvider,
    CredentialResolver,
    DeferredRefreshableCredentials,
    RefreshableCredentials,
)
from dateutil.parser import parse
from dateutil.tz import tzlocal

from stsd.client.failover import RegionalSTS

ASSUME_ROLE_METHOD = "stsd-assume-role"
WEB_IDENTITY_METHOD = "stsd-assume-role-with-web-identity"

TimeFetcher = Callable[[], datetime]
# botocore RefreshableCredentials' defaults.
DEFAULT_ADVISORY_SECONDS = 15 * 60
DEFAULT_MANDATORY_SECONDS = 10 * 60


def _local_now() -> datetime:
    return datetime.now(tzlocal())  # what botocore's RefreshableCredentials compare expiry with


def default_session_name(prefix: str = "stsd") -> str:
    """Like botocore's ``botocore-session-<epoch>``: unique enough, valid for STS."""
    return f"{prefix}-session-{int(time.time())}"


def _metadata(response: Mapping[str, Any]) -> dict[str, Any]:
    """An STS credentials response in the shape RefreshableCredentials refreshes from."""
    c = response["Credentials"]
    expiry = c["Expiration"]
    metadata = {
        "access_key": c["AccessKeyId"],
        "secret_key": c["SecretAccessKey"],
        "token": c["SessionToken"],
        "expiry_time": expiry.isoformat() if isinstance(expiry, datetime) else str(expiry),
    }
    arn = (response.get("AssumedRoleUser") or {}).get("Arn", "")
    parts = arn.split(":")
    if len(parts) > 4 and parts[4]:
        metadata["account_id"] = parts[4]
    return metadata


class AssumeRoleFetcher:
    """Calls AssumeRole through RegionalSTS; each call returns fresh credential metadata."""

    def __init__(self, sts: RegionalSTS, role_arn: str, role_session_name: str | None = None,
                 **assume_role_kwargs: Any) -> None:
        self.sts = sts
        self.role_arn = role_arn
        self.role_session_name = role_session_name or default_session_name()
        self.kwargs = assume_role_kwargs

    def __call__(self) -> dict[str, Any]:
        response = self.sts.assume_role(RoleArn=self.role_arn, RoleSessionName=self.role_session_name, **self.kwargs)
        return _metadata(response)


class WebIdentityFetcher:
    """AssumeRoleWithWebIdentity through RegionalSTS, reading the token anew on every call
    (Kubernetes and other issuers rotate the token file)."""

    def __init__(self, sts: RegionalSTS, role_arn: str, role_session_name: str | None = None, *,
                 token_file: str | Path | None = None, token: Callable[[], str] | None = None,
                 **kwargs: Any) -> None:
        if (token_file is None) == (token is None):
            raise ValueError("give exactly one of token_file and token")
        self.sts = sts
        self.role_arn = role_arn
        self.role_session_name = role_session_name or default_session_name()
        self._token_file = None if token_file is None else Path(token_file)
        self._token = token
        self.kwargs = kwargs

    def load_token(self) -> str:
        if self._token_file is not None:
            return self._token_file.read_text().strip()
        assert self._token is not None
        return self._token()

    def __call__(self) -> dict[str, Any]:
        response = self.sts.assume_role_with_web_identity(
            RoleArn=self.role_arn, RoleSessionName=self.role_session_name, WebIdentityToken=self.load_token(),
            **self.kwargs,
        )
        return _metadata(response)


class _DeferredWithWindows(DeferredRefreshableCredentials):
    """botocore's deferred credentials take no refresh windows; these do."""

    def __init__(self, refresh_using: Callable[[], dict[str, Any]], method: str, *,
                 time_fetcher: TimeFetcher | None, advisory_timeout: float | None,
                 mandatory_timeout: float | None) -> None:
        if time_fetcher is None:
            super().__init__(refresh_using, method)
        else:
            super().__init__(refresh_using, method, time_fetcher=time_fetcher)
        if advisory_timeout is not None:
            self._advisory_refresh_timeout = advisory_timeout
        if mandatory_timeout is not None:
            self._mandatory_refresh_timeout = mandatory_timeout


def refreshable_credentials(
    fetch: Callable[[], dict[str, Any]],
    *,
    method: str = ASSUME_ROLE_METHOD,
    advisory_timeout: float | None = None,
    mandatory_timeout: float | None = None,
    deferred: bool = False,
    time_fetcher: TimeFetcher | None = None,
) -> RefreshableCredentials:
    """botocore RefreshableCredentials driven by ``fetch``.

    ``advisory_timeout``/``mandatory_timeout``: seconds before expiry at which a refresh
    is attempted / required. Unset, they are botocore's (15 and 10 minutes) but at most a
    half / a third of the credentials' lifetime — botocore's own windows would refresh
    15-minute sessions on every use. ``deferred`` fetches on first use instead of now.
    ``time_fetcher`` replaces the clock (tests).
    """
    if advisory_timeout is not None and mandatory_timeout is not None and advisory_timeout < mandatory_timeout:
        raise ValueError("advisory_timeout must not be shorter than mandatory_timeout")
    now = time_fetcher or _local_now
    holder: list[RefreshableCredentials] = []

    def fetch_and_fit() -> dict[str, Any]:
        metadata = fetch()
        if holder:
            _fit_windows(holder[0], metadata, now, advisory_timeout, mandatory_timeout)
        return metadata

    if deferred:
        creds: RefreshableCredentials = _DeferredWithWindows(
            fetch_and_fit, method, time_fetcher=time_fetcher, advisory_timeout=advisory_timeout,
            mandatory_timeout=mandatory_timeout)
    else:
        first = fetch()
        extra: dict[str, Any] = {}
        if time_fetcher is not None:
            extra["time_fetcher"] = time_fetcher
        creds = RefreshableCredentials(
            access_key=first["access_key"],
            secret_key=first["secret_key"],
            token=first["token"],
            expiry_time=RefreshableCredentials._expiry_datetime(first["expiry_time"]),
            refresh_using=fetch_and_fit,
            method=method,
            advisory_timeout=advisory_timeout,
            mandatory_timeout=mandatory_timeout,
            account_id=first.get("account_id"),
            **extra,
        )
        _fit_windows(creds, first, now, advisory_timeout, mandatory_timeout)
    holder.append(creds)
    return creds


def _fit_windows(creds: RefreshableCredentials, metadata: Mapping[str, Any], now: TimeFetcher,
                 advisory: float | None, mandatory: float | None) -> None:
    lifetime = max(0.0, (parse(metadata["expiry_time"]) - now()).total_seconds())
    if advisory is None:
        creds._advisory_refresh_timeout = min(DEFAULT_ADVISORY_SECONDS, lifetime / 2)
    if mandatory is None:
        creds._mandatory_refresh_timeout = min(DEFAULT_MANDATORY_SECONDS, lifetime / 3,
                                               creds._advisory_refresh_timeout)


# --- botocore credential providers -----------------------------------------------------


class _RefreshingProvider(CredentialProvider):
    METHOD = ASSUME_ROLE_METHOD
    CANONICAL_NAME = "StsdAssumeRole"

    def __init__(self, fetcher: Callable[[], dict[str, Any]], *, advisory_timeout: float | None,
                 mandatory_timeout: float | None, deferred: bool, time_fetcher: TimeFetcher | None) -> None:
        super().__init__()
        self.fetcher = fetcher
        self._options = {"advisory_timeout": advisory_timeout, "mandatory_timeout": mandatory_timeout,
                         "deferred": deferred, "time_fetcher": time_fetcher}
        self._credentials: RefreshableCredentials | None = None

    def load(self) -> RefreshableCredentials:
        # One credentials object per provider: every client of the session shares its refreshes.
        if self._credentials is None:
            self._credentials = refreshable_credentials(self.fetcher, method=self.METHOD, **self._options)
        return self._credentials


class RegionalAssumeRoleProvider(_RefreshingProvider):
    """A botocore credential provider: AssumeRole with Regional failover, refreshed before expiry.

    ``sts`` is a ready RegionalSTS (the source credentials are its credentials); otherwise
    one is built from ``region``, ``fallback_regions`` and ``sts_options`` (RegionalSTS
    keyword arguments, e.g. ``session``, ``allow_global``, ``endpoint_url_template``).
    Extra keyword arguments go to AssumeRole (``DurationSeconds``, ``ExternalId``,
    ``Policy``, ``Tags``...). Credentials are fetched on first use (deferred) by default.
    """

    METHOD = ASSUME_ROLE_METHOD
    CANONICAL_NAME = "StsdAssumeRole"

    def __init__(self, role_arn: str, role_session_name: str | None = None, *, sts: RegionalSTS | None = None,
                 region: str | None = None, fallback_regions: list[str] | None = None,
                 sts_options: Mapping[str, Any] | None = None, advisory_timeout: float | None = None,
                 mandatory_timeout: float | None = None, deferred: bool = True,
                 time_fetcher: TimeFetcher | None = None, **assume_role_kwargs: Any) -> None:
        self.sts = sts or _build_sts(region, fallback_regions, sts_options)
        fetcher = AssumeRoleFetcher(self.sts, role_arn, role_session_name, **assume_role_kwargs)
        super().__init__(fetcher, advisory_timeout=advisory_timeout, mandatory_timeout=mandatory_timeout,
                         deferred=deferred, time_fetcher=time_fetcher)


class RegionalWebIdentityProvider(_RefreshingProvider):
    """Like RegionalAssumeRoleProvider, for AssumeRoleWithWebIdentity with a token file or
    a token callable. The STS calls are unsigned unless ``sts``/``sts_options`` say otherwise."""

    METHOD = WEB_IDENTITY_METHOD
    CANONICAL_NAME = "StsdAssumeRoleWithWebIdentity"

    def __init__(self, role_arn: str, role_session_name: str | None = None, *,
                 token_file: str | Path | None = None, token: Callable[[], str] | None = None,
                 sts: RegionalSTS | None = None, region: str | None = None,
                 fallback_regions: list[str] | None = None, sts_options: Mapping[str, Any] | None = None,
                 advisory_timeout: float | None = None, mandatory_timeout: float | None = None,
                 deferred: bool = True, time_fetcher: TimeFetcher | None = None, **kwargs: Any) -> None:
        options = {"unsigned": True, **(sts_options or {})}
        self.sts = sts or _build_sts(region, fallback_regions, options)
        fetcher = WebIdentityFetcher(self.sts, role_arn, role_session_name, token_file=token_file, token=token,
                                     **kwargs)
        super().__init__(fetcher, advisory_timeout=advisory_timeout, mandatory_timeout=mandatory_timeout,
                         deferred=deferred, time_fetcher=time_fetcher)


def _build_sts(region: str | None, fallback_regions: list[str] | None,
               options: Mapping[str, Any] | None) -> RegionalSTS:
    if region is None:
        raise ValueError("give either sts= or region=")
    return RegionalSTS(region, fallback_regions, **dict(options or {}))


def add_to_session(botocore_session: Any, provider: CredentialProvider, *, before: str | None = "env") -> None:
    """Insert ``provider`` into a botocore session's credential chain (before ``before``;
    None puts it first). Do this before the session has resolved its credentials."""
    resolver = botocore_session.get_component("credential_provider")
    if before is None:
        resolver.providers.insert(0, provider)
    else:
        resolver.insert_before(before, provider)


def _session_with(provider: CredentialProvider, region: str) -> Any:
    import boto3
    import botocore.session

    bs = botocore.session.Session()
    # The only provider: nothing else in the environment can shadow the role credentials.
    bs.register_component("credential_provider", CredentialResolver([provider]))
    return boto3.Session(botocore_session=bs, region_name=region)


# --- boto3 sessions ----------------------------------------------------------------------


def assume_role_session(
    role_arn: str,
    session_name: str | None = None,
    region: str | None = None,
    source_session: Any = None,
    fallback_regions: list[str] | None = None,
    *,
    sts: RegionalSTS | None = None,
    duration_seconds: int | None = None,
    external_id: str | None = None,
    allow_global: bool = False,
    endpoint_url_template: str | Callable[[str], str] | None = None,
    sts_options: Mapping[str, Any] | None = None,
    advisory_timeout: float | None = None,
    mandatory_timeout: float | None = None,
    deferred: bool = False,
    time_fetcher: TimeFetcher | None = None,
    session_region: str | None = None,
    **assume_role_kwargs: Any,
) -> Any:
    """A ``boto3.Session`` whose credentials come from AssumeRole with Regional failover.

    ``source_session`` (boto3 or botocore session; default: the default credential chain)
    supplies the credentials that call AssumeRole. The session's own Region is
    ``session_region`` (default ``region``). Credentials are fetched now (AccessDenied
    surfaces here) unless ``deferred``; then refreshed before they expire.
    """
    if sts is None:
        if region is None:
            raise ValueError("give region= (or a ready sts=)")
        options: dict[str, Any] = {"allow_global": allow_global, "endpoint_url_template": endpoint_url_template,
                                   **(sts_options or {})}
        if source_session is not None:
            options["session"] = source_session
        sts = RegionalSTS(region, fallback_regions, **options)
    if duration_seconds is not None:
        assume_role_kwargs["DurationSeconds"] = duration_seconds
    if external_id is not None:
        assume_role_kwargs["ExternalId"] = external_id
    provider = RegionalAssumeRoleProvider(role_arn, session_name, sts=sts, advisory_timeout=advisory_timeout,
                                          mandatory_timeout=mandatory_timeout, deferred=deferred,
                                          time_fetcher=time_fetcher, **assume_role_kwargs)
    provider.load()  # fetch now unless deferred
    return _session_with(provider, session_region or region or sts.region)


def web_identity_session(
    role_arn: str,
    session_name: str | None = None,
    region: str | None = None,
    *,
    token_file: str | Path | None = None,
    token: Callable[[], str] | None = None,
    fallback_regions: list[str] | None = None,
    sts: RegionalSTS | None = None,
    duration_seconds: int | None = None,
    allow_global: bool = False,
    endpoint_url_template: str | Callable[[str], str] | None = None,
    sts_options: Mapping[str, Any] | None = None,
    advisory_timeout: float | None = None,
    mandatory_timeout: float | None = None,
    deferred: bool = False,
    time_fetcher: TimeFetcher | None = None,
    session_region: str | None = None,
    **kwargs: Any,
) -> Any:
    """A ``boto3.Session`` from AssumeRoleWithWebIdentity (token file or callable), with
    Regional failover and refresh before expiry; the STS calls are unsigned."""
    if sts is None:
        if region is None:
            raise ValueError("give region= (or a ready sts=)")
        sts = RegionalSTS(region, fallback_regions, unsigned=True, allow_global=allow_global,
                          endpoint_url_template=endpoint_url_template, **dict(sts_options or {}))
    if duration_seconds is not None:
        kwargs["DurationSeconds"] = duration_seconds
    provider = RegionalWebIdentityProvider(role_arn, session_name, token_file=token_file, token=token, sts=sts,
                                           advisory_timeout=advisory_timeout, mandatory_timeout=mandatory_timeout,
                                           deferred=deferred, time_fetcher=time_fetcher, **kwargs)
    provider.load()
    return _session_with(provider, session_region or region or sts.region)
