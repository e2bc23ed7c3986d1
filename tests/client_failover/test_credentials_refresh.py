"""stsd.client.credentials: role credentials that refresh before expiry through RegionalSTS,
so a refresh during an outage of the primary Region is served by a fallback Region."""

from __future__ import annotations

from datetime import datetime, timedelta

import boto3
import botocore.session
import pytest
from botocore.config import Config
from dateutil.tz import tzlocal

from stsd.client.credentials import (
    RegionalAssumeRoleProvider,
    RegionalWebIdentityProvider,
    WebIdentityFetcher,
    add_to_session,
    assume_role_session,
    refreshable_credentials,
    web_identity_session,
)
from stsd.client.errors import FailoverError
from stsd.client.failover import RegionalSTS


class Clock:
    """Real local time plus an offset the test moves (botocore's time_fetcher contract)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(tzlocal()) + self.offset


def sts_client(session: boto3.Session, template: str, region: str):
    return session.client("sts", region_name=region, endpoint_url=template.format(region=region),
                          config=Config(retries={"total_max_attempts": 1}))


def test_refresh_during_an_outage_goes_to_a_fallback_region(
    stsd_regional_sts, stsd_region_fault, stsd_endpoint_template, role_arn
):
    clock = Clock()
    sts = stsd_regional_sts("eu-west-1", ["eu-west-2"], per_attempt_timeout=0.5, deadline=3.0)
    session = assume_role_session(role_arn, "refresher", "eu-west-1", sts=sts, duration_seconds=900,
                                  advisory_timeout=300, mandatory_timeout=120, time_fetcher=clock)
    creds = session.get_credentials()
    assert creds.method == "stsd-assume-role"
    first = creds.get_frozen_credentials()
    assert len(sts.history) == 1 and sts.last_call.regions == ["eu-west-1"]
    assert creds.get_frozen_credentials() == first  # 900 s left: no refresh

    with stsd_region_fault("eu-west-1", "down", delay_ms=1500):
        clock.offset = timedelta(seconds=800)  # 100 s left: inside the mandatory window
        second = creds.get_frozen_credentials()
        assert second.access_key != first.access_key
        assert [(a.region, a.signing_region, a.outcome) for a in sts.last_call.attempts] == [
            ("eu-west-1", "eu-west-1", "failover"), ("eu-west-2", "eu-west-2", "success")]
        clock.offset = timedelta(0)  # back to real time: the refreshed credentials are fresh
        # boto3 clients of the session keep working while the primary Region is down...
        identity = sts_client(session, stsd_endpoint_template, "eu-west-2").get_caller_identity()
        assert ":assumed-role/" in identity["Arn"] and identity["Arn"].endswith("/refresher")
        assert creds.get_frozen_credentials() == second  # ...without another refresh
    assert len(sts.history) == 2
    # Credentials from a Regional endpoint work in any Region, including the recovered primary.
    assert sts_client(session, stsd_endpoint_template, "eu-west-1").get_caller_identity()["Arn"] == identity["Arn"]


def test_advisory_refresh_failures_keep_the_credentials_mandatory_ones_raise(
    stsd_regional_sts, stsd_regions, role_arn
):
    clock = Clock()
    sts = stsd_regional_sts("eu-west-1", ["eu-west-2"], per_attempt_timeout=0.3, deadline=1.0)
    creds = refreshable_credentials(
        lambda: _assume(sts, role_arn), advisory_timeout=300, mandatory_timeout=120, time_fetcher=clock
    )
    current = creds.get_frozen_credentials()
    with stsd_regions.faults({"eu-west-1": "error5xx", "eu-west-2": "error5xx"}):
        clock.offset = timedelta(seconds=700)  # 200 s left: advisory window only
        assert creds.get_frozen_credentials() == current  # refresh failed quietly, as botocore does
        assert sts.last_call.outcome == "all-failed"
        clock.offset = timedelta(seconds=850)  # 50 s left: a refresh is mandatory
        with pytest.raises(FailoverError):
            creds.get_frozen_credentials()


def _assume(sts, role_arn: str) -> dict:
    from stsd.client.credentials import AssumeRoleFetcher

    return AssumeRoleFetcher(sts, role_arn, "windows", DurationSeconds=900)()


def test_provider_in_a_botocore_chain_is_deferred_and_shared(stsd_regional_sts, stsd_endpoint_template, role_arn):
    sts = stsd_regional_sts("eu-central-1", ["eu-west-1"])
    provider = RegionalAssumeRoleProvider(role_arn, "chained", sts=sts, DurationSeconds=900)
    bs = botocore.session.Session()
    add_to_session(bs, provider, before=None)  # ahead of env, config files and IMDS
    session = boto3.Session(botocore_session=bs)
    assert len(sts.history) == 0  # deferred: nothing fetched yet
    identity = sts_client(session, stsd_endpoint_template, "eu-central-1").get_caller_identity()
    assert identity["Arn"].endswith("/chained")
    assert bs.get_credentials().method == "stsd-assume-role"
    sts_client(session, stsd_endpoint_template, "eu-west-1").get_caller_identity()
    assert len(sts.history) == 1  # one AssumeRole for every client of the session


def test_access_denied_surfaces_when_the_session_is_built(stsd_regional_sts, make_role):
    untrusting = make_role(trusted="arn:aws:iam::111111111111:root")
    sts = stsd_regional_sts("eu-west-1", ["eu-west-2"])
    with pytest.raises(Exception, match="AccessDenied"):
        assume_role_session(untrusting, "denied", "eu-west-1", sts=sts)
    assert len(sts.attempts) == 1


# --- web identity: stsd's AssumeRoleWithWebIdentity with tokens of a real OIDC issuer (TLS) ------------


class Recorder:
    """Wraps a RegionalSTS: records each AssumeRoleWithWebIdentity's arguments and answer."""

    def __init__(self, sts: RegionalSTS) -> None:
        self.sts = sts
        self.region = sts.region
        self.calls: list[tuple[dict, dict]] = []

    def assume_role_with_web_identity(self, **kwargs):
        response = self.sts.assume_role_with_web_identity(**kwargs)
        self.calls.append((kwargs, response))
        return response


def unsigned_sts(template: str, region: str = "eu-west-1", fallbacks: list[str] | None = None,
                 **kwargs) -> RegionalSTS:
    return RegionalSTS(region, fallbacks or ["eu-west-2"], unsigned=True, endpoint_url_template=template, **kwargs)


def test_web_identity_token_file_is_read_on_every_refresh(tmp_path, stsd_endpoint_template, web_issuer, web_role):
    token_file = tmp_path / "token"
    first_token = web_issuer.token(sub="first")
    token_file.write_text(first_token + "\n")
    sts = Recorder(unsigned_sts(stsd_endpoint_template))
    clock = Clock()
    provider = RegionalWebIdentityProvider(web_role, "app", token_file=token_file, sts=sts,
                                           advisory_timeout=300, mandatory_timeout=120, time_fetcher=clock,
                                           DurationSeconds=900)
    creds = provider.load()
    assert creds.method == "stsd-assume-role-with-web-identity"
    first = creds.get_frozen_credentials()
    assert [call for call, _ in sts.calls] == [{"RoleArn": web_role, "RoleSessionName": "app",
                                                "WebIdentityToken": first_token, "DurationSeconds": 900}]
    assert sts.calls[0][1]["SubjectFromWebIdentityToken"] == "first"
    assert creds.account_id == "123456789012"
    second_token = web_issuer.token(sub="second")
    token_file.write_text(second_token + "\n")  # the issuer rotated the token
    clock.offset = timedelta(seconds=850)
    second = creds.get_frozen_credentials()
    assert second != first
    assert sts.calls[-1][0]["WebIdentityToken"] == second_token
    assert sts.calls[-1][1]["SubjectFromWebIdentityToken"] == "second"
    client = boto3.client("sts", region_name="eu-west-1",
                          endpoint_url=stsd_endpoint_template.format(region="eu-west-1"),
                          aws_access_key_id=second.access_key, aws_secret_access_key=second.secret_key,
                          aws_session_token=second.token)
    assert client.get_caller_identity()["Arn"] == "arn:aws:sts::123456789012:assumed-role/web/app"


def test_web_identity_token_callable_and_argument_checks(stsd_endpoint_template, web_issuer, web_role):
    sts = Recorder(unsigned_sts(stsd_endpoint_template))
    tokens = iter([web_issuer.token(sub="a"), web_issuer.token(sub="b")])
    fetcher = WebIdentityFetcher(sts, web_role, token=lambda: next(tokens))
    fetcher(), fetcher()
    assert [response["SubjectFromWebIdentityToken"] for _, response in sts.calls] == ["a", "b"]
    assert sts.calls[0][0]["RoleSessionName"].startswith("stsd-session-")
    with pytest.raises(ValueError, match="exactly one"):
        WebIdentityFetcher(sts, web_role)
    with pytest.raises(ValueError, match="advisory_timeout"):
        refreshable_credentials(fetcher, advisory_timeout=60, mandatory_timeout=120)


def test_web_identity_refresh_during_an_outage_goes_to_a_fallback_region(
    tmp_path, stsd_region_fault, stsd_endpoint_template, web_issuer, web_role
):
    token_file = tmp_path / "token"
    token_file.write_text(web_issuer.token(sub="ci-job"))
    clock = Clock()
    sts = unsigned_sts(stsd_endpoint_template, per_attempt_timeout=0.5, deadline=3.0)
    session = web_identity_session(web_role, "ci", "eu-west-1", token_file=token_file, sts=sts, duration_seconds=900,
                                   advisory_timeout=300, mandatory_timeout=120, time_fetcher=clock)
    creds = session.get_credentials()
    assert creds.method == "stsd-assume-role-with-web-identity"
    first = creds.get_frozen_credentials()
    assert sts.last_call.regions == ["eu-west-1"]

    with stsd_region_fault("eu-west-1", "down", delay_ms=1500):
        token_file.write_text(web_issuer.token(sub="ci-job"))  # a fresh token, as a projected token file gets
        clock.offset = timedelta(seconds=800)  # 100 s left: inside the mandatory window
        second = creds.get_frozen_credentials()
        assert second.access_key != first.access_key
        assert [(a.region, a.outcome) for a in sts.last_call.attempts] == [
            ("eu-west-1", "failover"), ("eu-west-2", "success")]
        clock.offset = timedelta(0)
        identity = sts_client(session, stsd_endpoint_template, "eu-west-2").get_caller_identity()
        assert identity["Arn"] == "arn:aws:sts::123456789012:assumed-role/web/ci"
    assert len(sts.history) == 2
