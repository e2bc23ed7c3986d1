"""Replay the recorded botocore 1.44.5 grid (check_botocore_sts_endpoints.py output).

Needs no botocore: it pins our resolver to what botocore 1.44.5 did, 515 cases
(41 Regions x setting x FIPS x dual-stack, plus invalid settings, custom endpoints,
unsigned operations and env-vs-config precedence).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stsd.client import EndpointResolutionError, resolve_endpoint

GRID = json.loads((Path(__file__).parent / "data" / "botocore-sts-endpoint-grid.json").read_text())
CASES = GRID["grid"] + GRID["extra_cases"]


def test_grid_size():
    assert len(GRID["grid"]) == 492 and len(GRID["extra_cases"]) == 23


def _id(case):
    return "|".join(
        str(case[k])
        for k in (
            "operation",
            "region",
            "env_AWS_STS_REGIONAL_ENDPOINTS",
            "config_file_sts_regional_endpoints",
            "use_fips_endpoint",
            "use_dualstack_endpoint",
            "endpoint_url",
        )
    )


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_recorded_botocore_case(case, tmp_path):
    env = {}
    if case["env_AWS_STS_REGIONAL_ENDPOINTS"] is not None:
        env["AWS_STS_REGIONAL_ENDPOINTS"] = case["env_AWS_STS_REGIONAL_ENDPOINTS"]
    config = tmp_path / "config"
    config.write_text(
        f"[default]\nsts_regional_endpoints = {case['config_file_sts_regional_endpoints']}\n"
        if case["config_file_sts_regional_endpoints"]
        else ""
    )
    kwargs = dict(
        region=case["region"],
        use_fips=case["use_fips_endpoint"],
        use_dualstack=case["use_dualstack_endpoint"],
        endpoint_url=case["endpoint_url"],
        env=env,
        config_file=config,
        credentials_file=tmp_path / "missing",
    )
    if "error" in case:
        with pytest.raises(EndpointResolutionError) as err:
            resolve_endpoint(**kwargs)
        assert (err.value.botocore_name, str(err.value)) == (
            case["error"]["type"],
            case["error"]["message"],
        )
        return
    got = resolve_endpoint(**kwargs)
    # botocore's request URL is the endpoint joined with "/".
    assert got.url + "/" == case["url"]
    assert got.region == case["client_region_name"]
    assert got.global_endpoint is case["is_global_endpoint"]
    if case["signing_region"] is not None:  # None: unsigned AssumeRoleWithWebIdentity
        assert got.signing_region == case["signing_region"]
    builtins = case["builtins"]
    assert got.fips is builtins["AWS::UseFIPS"]
    assert got.dualstack is builtins["AWS::UseDualStack"]
