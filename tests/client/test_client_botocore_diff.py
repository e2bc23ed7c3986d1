"""Differential test: stsd.client.resolve_endpoint against the installed botocore.

For each input both implementations run in the same isolated environment (AWS_* env
removed via monkeypatch, temp config/credentials files); they must agree on the request
URL, the SigV4 scope Region and the client Region -- or raise the same error
(botocore's class name and message).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from stsd.regions import partitions, regions
from tests.client.sts_botocore_oracle import both, isolated_aws_env

# -- a broad deterministic grid -------------------------------------------------------

UNKNOWN_BUT_SHAPED = [
    "us-east-3",
    "eu-south-9",
    "cn-south-7",
    "us-gov-north-9",
    "us-iso-west-3",
    "us-isob-south-2",
    "eu-isoe-south-1",
    "us-isof-north-2",
    "eusc-de-west-4",
]
PSEUDO = [
    "aws-global",
    "aws-cn-global",
    "aws-us-gov-global",
    "aws-iso-global",
    "aws-iso-b-global",
    "aws-iso-e-global",
    "aws-iso-f-global",
    "us-east-1-fips",
    "us-west-2-fips",
    "fips-us-east-2",
    "us-gov-west-1-fips",
    "us-gov-east-1-fips",
    "fips-eu-west-1",
    "cn-north-1-fips",
    "us-isof-south-1-fips",
]
ODD = [
    "moon-base-1",
    "local",
    "US-EAST-1",
    "Eu-West-1",
    "a",
    "123",
    "-bad",
    "bad-",
    "bad_1",
    "x" * 63,
    "x" * 64,
    "",
]
ALL_REGIONS = [r.name for r in regions()] + UNKNOWN_BUT_SHAPED + PSEUDO + ODD + [None]


def test_grid_region_pool_covers_every_partition():
    covered = {r.partition for r in regions()}
    assert covered == {p.id for p in partitions()}


@pytest.mark.slow
@pytest.mark.parametrize("region", ALL_REGIONS, ids=lambda r: repr(r))
def test_broad_grid_against_botocore(region):
    compared = 0
    for setting in (None, "legacy", "regional"):
        env = {} if setting is None else {"AWS_STS_REGIONAL_ENDPOINTS": setting}
        with isolated_aws_env(env):
            for fips in (False, True):
                for dualstack in (False, True):
                    theirs, ours = both(region=region, use_fips=fips, use_dualstack=dualstack)
                    assert ours == theirs, (region, setting, fips, dualstack)
                    compared += 1
    assert compared == 12


# -- hypothesis: settings from parameters, environment and shared config files --------

REGION_POOL = [r.name for r in regions()] + UNKNOWN_BUT_SHAPED + PSEUDO + ODD
regions_st = st.one_of(
    st.sampled_from(REGION_POOL),
    st.text(alphabet="abcdefiopsu-0123456789", min_size=0, max_size=16),
)
maybe_region = st.one_of(st.none(), regions_st, regions_st, regions_st)
# Repetition weights the draws towards valid values; the odd ones still turn up.
settings_st = st.sampled_from(
    ["legacy"] * 4 + ["regional"] * 3 + ["", "Legacy", "REGIONAL", "bogus", " legacy"]
)
bool_text = st.sampled_from(["true"] * 3 + ["false"] * 2 + ["TRUE", "True", "", "yes", "1"])
GOOD_URLS = [
    "https://sts.example.test",
    "http://127.0.0.1:8080/eu-west-1/",
    "http://localhost:8080/global",
    "https://[::1]:8443",
    "https://sts.example.test.",
]
BAD_URLS = ["sts.example.test", "not a url", "https://bad_host.test", ""]
urls = st.sampled_from(GOOD_URLS * 3 + BAD_URLS)
PROFILE_KEYS = {
    "region": regions_st,
    "sts_regional_endpoints": settings_st,
    "use_fips_endpoint": bool_text,
    "use_dualstack_endpoint": bool_text,
    "endpoint_url": urls,
    "services": st.sampled_from(["local"] * 3 + ["missing"]),
}
profile_body = st.dictionaries(
    st.sampled_from(sorted(PROFILE_KEYS)), st.just(None), max_size=4
).flatmap(lambda keys: st.fixed_dictionaries({k: PROFILE_KEYS[k] for k in keys}))
profile_names = st.sampled_from(["default", "dev", "prod"])


@st.composite
def scenarios(draw: Any) -> dict[str, Any]:
    config_profiles = draw(st.dictionaries(profile_names, profile_body, min_size=1, max_size=3))
    credential_profiles = draw(
        st.dictionaries(
            profile_names,
            st.fixed_dictionaries({}, optional={"sts_regional_endpoints": settings_st}),
            max_size=2,
        )
    )
    services_url = draw(st.one_of(st.none(), urls, urls))
    env: dict[str, str] = {}
    optional_env = {
        "AWS_DEFAULT_REGION": regions_st,
        "AWS_STS_REGIONAL_ENDPOINTS": settings_st,
        "AWS_USE_FIPS_ENDPOINT": bool_text,
        "AWS_USE_DUALSTACK_ENDPOINT": bool_text,
        "AWS_PROFILE": st.sampled_from(["dev", "prod", "default", "missing"]),
        "AWS_DEFAULT_PROFILE": st.sampled_from(["dev", "dev", "missing"]),
        "AWS_ENDPOINT_URL_STS": urls,
        "AWS_ENDPOINT_URL": urls,
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": bool_text,
    }
    for var in draw(st.lists(st.sampled_from(sorted(optional_env)), unique=True, max_size=4)):
        env[var] = draw(optional_env[var])
    return {
        "config_text": _ini(config_profiles, services_url),
        "credentials_text": _ini_plain(credential_profiles),
        "env": env,
        "kwargs": {
            "region": draw(maybe_region),
            "use_fips": draw(st.none() | st.booleans()),
            "use_dualstack": draw(st.none() | st.booleans()),
            "endpoint_url": draw(st.one_of(st.none(), st.none(), st.none(), urls)),
            "sts_regional_endpoints": draw(st.one_of(st.none(), settings_st)),
            "profile": draw(st.sampled_from([None] * 6 + ["dev", "default", "missing"])),
        },
    }


def _ini(profiles: dict[str, dict[str, str]], services_url: str | None) -> str:
    lines = []
    for name, body in profiles.items():
        lines.append("[default]" if name == "default" else f"[profile {name}]")
        lines.extend(f"{k} = {v}" for k, v in body.items())
    if services_url is not None:
        lines += ["[services local]", "sts =", f"  endpoint_url = {services_url}"]
    return "\n".join(lines) + "\n"


def _ini_plain(profiles: dict[str, dict[str, str]]) -> str:
    lines = []
    for name, body in profiles.items():
        lines.append(f"[{name}]")
        lines.extend(f"{k} = {v}" for k, v in body.items())
    return "\n".join(lines) + "\n"


def _check(scenario: dict[str, Any]) -> None:
    with isolated_aws_env(scenario["env"], scenario["config_text"], scenario["credentials_text"]):
        theirs, ours = both(**scenario["kwargs"])
    assert ours == theirs


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(scenarios())
@example(
    {  # env beats the config file
        "config_text": "[default]\nsts_regional_endpoints = regional\n",
        "credentials_text": "",
        "env": {"AWS_STS_REGIONAL_ENDPOINTS": "legacy"},
        "kwargs": {"region": "eu-west-1"},
    }
)
@example(
    {  # a set-but-empty env var still shadows the config file
        "config_text": "[default]\nsts_regional_endpoints = bogus\n",
        "credentials_text": "",
        "env": {"AWS_STS_REGIONAL_ENDPOINTS": ""},
        "kwargs": {"region": "us-east-1"},
    }
)
@example(
    {  # credentials-file values override the config file's for the same profile
        "config_text": "[profile dev]\nsts_regional_endpoints = regional\n",
        "credentials_text": "[dev]\nsts_regional_endpoints = legacy\n",
        "env": {"AWS_PROFILE": "dev"},
        "kwargs": {"region": "ap-south-1"},
    }
)
@example(
    {  # region, FIPS and services-section endpoint all from the profile
        "config_text": "[profile dev]\nregion = us-gov-west-1\nuse_fips_endpoint = true\n"
        "services = local\n[services local]\nsts =\n  endpoint_url = http://127.0.0.1:8080/us-gov-west-1/\n",
        "credentials_text": "",
        "env": {},
        "kwargs": {"region": None, "profile": "dev"},
    }
)
@example(
    {  # an empty endpoint_url is no custom endpoint for the setting check: the bad setting wins
        "config_text": "[default]\n",
        "credentials_text": "",
        "env": {},
        "kwargs": {"region": None, "endpoint_url": "", "sts_regional_endpoints": "Legacy"},
    }
)
def test_generated_settings_agree_with_botocore(scenario):
    _check(scenario)
