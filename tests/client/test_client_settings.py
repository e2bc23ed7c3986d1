"""Where sts_regional_endpoints (and friends) come from, and which source wins.

Each case states the expected answer explicitly *and* checks the installed botocore
gives the same one, so a botocore behaviour change shows up as a clear failure here.
"""

from __future__ import annotations

import pytest

from stsd.client import resolve_endpoint, sts_regional_endpoints_setting
from stsd.client.errors import (
    ConfigParseError,
    InvalidSTSRegionalEndpointsConfigError,
    ProfileNotFound,
)
from tests.client.sts_botocore_oracle import both, botocore_outcome, isolated_aws_env

GLOBAL = "https://sts.amazonaws.com/"
EU_WEST_1 = "https://sts.eu-west-1.amazonaws.com/"


def _cfg(profile: str, **values: str) -> str:
    header = "[default]" if profile == "default" else f"[profile {profile}]"
    return header + "\n" + "".join(f"{k} = {v}\n" for k, v in values.items())


PRECEDENCE = [
    # (id, env, config, credentials, parameter, profile, expected setting, source, url)
    ("default-is-regional", {}, "", "", None, None, "regional", "default", EU_WEST_1),
    (
        "env-legacy",
        {"AWS_STS_REGIONAL_ENDPOINTS": "legacy"},
        "",
        "",
        None,
        None,
        "legacy",
        "env",
        GLOBAL,
    ),
    (
        "config-legacy",
        {},
        _cfg("default", sts_regional_endpoints="legacy"),
        "",
        None,
        None,
        "legacy",
        "config",
        GLOBAL,
    ),
    (
        "env-regional-beats-config-legacy",
        {"AWS_STS_REGIONAL_ENDPOINTS": "regional"},
        _cfg("default", sts_regional_endpoints="legacy"),
        "",
        None,
        None,
        "regional",
        "env",
        EU_WEST_1,
    ),
    (
        "env-legacy-beats-config-regional",
        {"AWS_STS_REGIONAL_ENDPOINTS": "legacy"},
        _cfg("default", sts_regional_endpoints="regional"),
        "",
        None,
        None,
        "legacy",
        "env",
        GLOBAL,
    ),
    (
        "empty-env-shadows-config",
        {"AWS_STS_REGIONAL_ENDPOINTS": ""},
        _cfg("default", sts_regional_endpoints="legacy"),
        "",
        None,
        None,
        "regional",
        "env",
        EU_WEST_1,
    ),
    (
        "parameter-beats-env",
        {"AWS_STS_REGIONAL_ENDPOINTS": "legacy"},
        "",
        "",
        "regional",
        None,
        "regional",
        "parameter",
        EU_WEST_1,
    ),
    (
        "profile-from-AWS_PROFILE",
        {"AWS_PROFILE": "dev"},
        _cfg("default", sts_regional_endpoints="regional")
        + _cfg("dev", sts_regional_endpoints="legacy"),
        "",
        None,
        None,
        "legacy",
        "config",
        GLOBAL,
    ),
    (
        "AWS_DEFAULT_PROFILE-beats-AWS_PROFILE",
        {"AWS_PROFILE": "dev", "AWS_DEFAULT_PROFILE": "prod"},
        _cfg("dev", sts_regional_endpoints="legacy")
        + _cfg("prod", sts_regional_endpoints="regional"),
        "",
        None,
        None,
        "regional",
        "config",
        EU_WEST_1,
    ),
    (
        "explicit-profile-beats-env-profile",
        {"AWS_PROFILE": "dev"},
        _cfg("dev", sts_regional_endpoints="regional")
        + _cfg("prod", sts_regional_endpoints="legacy"),
        "",
        None,
        "prod",
        "legacy",
        "config",
        GLOBAL,
    ),
    (
        "other-profile-ignored",
        {},
        _cfg("dev", sts_regional_endpoints="legacy"),
        "",
        None,
        None,
        "regional",
        "default",
        EU_WEST_1,
    ),
    (
        "credentials-file-overrides-config",
        {"AWS_PROFILE": "dev"},
        _cfg("dev", sts_regional_endpoints="regional"),
        "[dev]\nsts_regional_endpoints = legacy\n",
        None,
        None,
        "legacy",
        "config",
        GLOBAL,
    ),
    (
        "bare-section-in-config-is-not-a-profile",
        {"AWS_PROFILE": "dev"},
        "[dev]\nsts_regional_endpoints = legacy\n",
        "[dev]\n",
        None,
        None,
        "regional",
        "default",
        EU_WEST_1,
    ),
]


@pytest.mark.parametrize(
    ("env", "config", "credentials", "parameter", "profile", "value", "source", "url"),
    [pytest.param(*case[1:], id=case[0]) for case in PRECEDENCE],
)
def test_setting_precedence(env, config, credentials, parameter, profile, value, source, url):
    with isolated_aws_env(env, config, credentials):
        assert sts_regional_endpoints_setting(parameter, profile=profile) == (value, source)
        theirs, ours = both(region="eu-west-1", sts_regional_endpoints=parameter, profile=profile)
        assert theirs.url == url
        assert ours == theirs
        resolved = resolve_endpoint(
            region="eu-west-1", sts_regional_endpoints=parameter, profile=profile
        )
        assert (resolved.sts_regional_endpoints, resolved.sts_regional_endpoints_source) == (
            value,
            source,
        )
        assert resolved.global_endpoint is (url == GLOBAL)


@pytest.mark.parametrize("bad", ["bogus", "Legacy", "REGIONAL", " legacy", "legacy "])
@pytest.mark.parametrize("where", ["env", "config", "parameter"])
def test_invalid_setting_error_matches_botocore(bad, where):
    env = {"AWS_STS_REGIONAL_ENDPOINTS": bad} if where == "env" else {}
    # configparser strips values, so surrounding blanks only reach botocore via env/parameter.
    config = _cfg("default", sts_regional_endpoints=bad) if where == "config" else ""
    parameter = bad if where == "parameter" else None
    with isolated_aws_env(env, config):
        theirs, ours = both(region="us-east-1", sts_regional_endpoints=parameter)
        assert ours == theirs
        if where == "config" and bad.strip() != bad:
            assert ours.error is None
            return
        assert ours.error == (
            "InvalidSTSRegionalEndpointsConfigError",
            f"STS regional endpoints option {bad} is invalid. "
            'Valid options are: "legacy", "regional"',
        )
        with pytest.raises(InvalidSTSRegionalEndpointsConfigError):
            sts_regional_endpoints_setting(parameter)


def test_invalid_setting_raises_even_with_custom_endpoint_or_fips():
    with isolated_aws_env({"AWS_STS_REGIONAL_ENDPOINTS": "bogus"}):
        for kwargs in ({"endpoint_url": "https://sts.example.test"}, {"use_fips": True}):
            theirs, ours = both(region="eu-west-1", **kwargs)
            assert ours == theirs and ours.error is not None
            assert ours.error[0] == "InvalidSTSRegionalEndpointsConfigError"


def test_invalid_endpoint_is_reported_before_invalid_setting():
    with isolated_aws_env({"AWS_STS_REGIONAL_ENDPOINTS": "bogus"}):
        theirs, ours = both(region="eu-west-1", endpoint_url="not a url")
        assert ours == theirs
        assert ours.error == ("ValueError", "Invalid endpoint: not a url")


def test_region_and_flags_from_env_and_profile():
    config = _cfg("dev", region="us-gov-east-1", use_fips_endpoint="true")
    with isolated_aws_env({"AWS_PROFILE": "dev"}, config):
        theirs, ours = both(region=None)
        assert ours == theirs
        assert ours.url == "https://sts.us-gov-east-1.amazonaws.com/"
    with isolated_aws_env(
        {"AWS_DEFAULT_REGION": "ap-east-1", "AWS_USE_DUALSTACK_ENDPOINT": "TRUE"}
    ):
        theirs, ours = both(region=None)
        assert ours == theirs
        assert ours.url == "https://sts.ap-east-1.api.aws/"
    with isolated_aws_env({"AWS_USE_FIPS_ENDPOINT": "true"}):
        # The parameter (botocore: Config(use_fips_endpoint=False)) beats the environment.
        theirs, ours = both(region="us-east-1", use_fips=False)
        assert ours == theirs and ours.url == "https://sts.us-east-1.amazonaws.com/"


def test_configured_endpoint_urls():
    services = "[services local]\nsts =\n  endpoint_url = http://127.0.0.1:8080/eu-west-1/\n"
    cases = [
        (
            {"AWS_ENDPOINT_URL_STS": "http://a.test", "AWS_ENDPOINT_URL": "http://b.test"},
            "",
            "http://a.test/",
        ),
        (
            {"AWS_ENDPOINT_URL": "http://b.test"},
            _cfg("default", endpoint_url="http://c.test"),
            "http://b.test/",
        ),
        (
            {},
            _cfg("default", services="local", endpoint_url="http://c.test") + services,
            "http://127.0.0.1:8080/eu-west-1/",
        ),
        ({}, _cfg("default", endpoint_url="http://c.test"), "http://c.test/"),
        (
            {
                "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true",
                "AWS_ENDPOINT_URL_STS": "http://a.test",
            },
            "",
            EU_WEST_1,
        ),
    ]
    for env, config, url in cases:
        with isolated_aws_env(env, config):
            theirs, ours = both(region="eu-west-1")
            assert ours == theirs
            assert ours.url == url


def test_missing_profile_and_missing_services_section():
    with isolated_aws_env({"AWS_PROFILE": "nope"}):
        theirs, ours = both(region="eu-west-1")
        assert ours == theirs
        assert ours.error == ("ProfileNotFound", "The config profile (nope) could not be found")
        with pytest.raises(ProfileNotFound):
            sts_regional_endpoints_setting()
    with isolated_aws_env({}, _cfg("default", services="gone")):
        theirs, ours = both(region="eu-west-1")
        assert ours == theirs
        assert ours.error is not None and ours.error[0] == "InvalidConfigError"


def test_unparsable_config_file():
    with isolated_aws_env({}, "[default]\nregion = eu-west-1\n[default]\n"):
        assert botocore_outcome(region="eu-west-1").error is not None
        with pytest.raises(ConfigParseError, match="Unable to parse config file"):
            resolve_endpoint(region="eu-west-1")


def test_explicit_env_mapping_and_config_file_do_not_read_the_process(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_STS_REGIONAL_ENDPOINTS", "bogus")
    monkeypatch.setenv("AWS_PROFILE", "nope")
    config = tmp_path / "config"
    config.write_text(_cfg("default", sts_regional_endpoints="legacy"))
    got = resolve_endpoint(
        region="eu-west-1", env={}, config_file=config, credentials_file=tmp_path / "x"
    )
    assert got.url == "https://sts.amazonaws.com" and got.sts_regional_endpoints_source == "config"
    assert sts_regional_endpoints_setting(env={}, config_file=config) == ("legacy", "config")
    assert sts_regional_endpoints_setting(env={}, config_file=tmp_path / "none") == (
        "regional",
        "default",
    )
