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
)
from stsd.client.errors import FailoverError


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


# --- web identity (stsd has no AssumeRoleWithWebIdentity yet: a stand-in STS) ----------------


class FakeSTS:
    region = "eu-west-1"

    def __init__(self) -> None:
        self.calls: list[dict] = []

    def assume_role_with_web_identity(self, **kwargs):
        self.calls.append(kwargs)
        n = len(self.calls)
        return {
            "Credentials": {"AccessKeyId": f"ASIA{n:016d}", "SecretAccessKey": "s" * 40, "SessionToken": f"t{n}",
                            "Expiration": datetime.now(tzlocal()) + timedelta(seconds=900)},
            "AssumedRoleUser": {"Arn": "arn:aws:sts::123456789012:assumed-role/web/app"},
        }


def test_web_identity_token_file_is_read_on_every_refresh(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("jwt-1\n")
    fake = FakeSTS()
    clock = Clock()
    provider = RegionalWebIdentityProvider("arn:aws:iam::123456789012:role/web", "app", token_file=token_file,
                                           sts=fake, advisory_timeout=300, mandatory_timeout=120,
                                           time_fetcher=clock, DurationSeconds=900)
    creds = provider.load()
    assert creds.method == "stsd-assume-role-with-web-identity"
    first = creds.get_frozen_credentials()
    assert fake.calls == [{"RoleArn": "arn:aws:iam::123456789012:role/web", "RoleSessionName": "app",
                           "WebIdentityToken": "jwt-1", "DurationSeconds": 900}]
    assert creds.account_id == "123456789012"
    token_file.write_text("jwt-2\n")  # the issuer rotated the token
    clock.offset = timedelta(seconds=850)
    assert creds.get_frozen_credentials() != first
    assert fake.calls[-1]["WebIdentityToken"] == "jwt-2"


def test_web_identity_token_callable_and_argument_checks():
    fake = FakeSTS()
    tokens = iter(["a", "b"])
    fetcher = WebIdentityFetcher(fake, "arn:aws:iam::123456789012:role/web", token=lambda: next(tokens))
    fetcher(), fetcher()
    assert [c["WebIdentityToken"] for c in fake.calls] == ["a", "b"]
    assert fake.calls[0]["RoleSessionName"].startswith("stsd-session-")
    with pytest.raises(ValueError, match="exactly one"):
        WebIdentityFetcher(fake, "arn:aws:iam::123456789012:role/web")
    with pytest.raises(ValueError, match="advisory_timeout"):
        refreshable_credentials(fetcher, advisory_timeout=60, mandatory_timeout=120)
