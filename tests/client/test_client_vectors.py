"""The 69 official STS endpoint test vectors (boto/botocore endpoint-tests-1.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stsd.client import resolve_endpoint
from stsd.client.errors import RulesetError
from stsd.client.rules import RuleParams, evaluate

VECTORS = json.loads((Path(__file__).parent / "data" / "sts-endpoint-tests.json").read_text())[
    "testCases"
]


def _ids(cases):
    return [f"{i}-{c['documentation']}" for i, c in cases]


ALL = list(enumerate(VECTORS))
WITH_SDK_INPUTS = [(i, c) for i, c in ALL if "operationInputs" in c]


def test_there_are_69_vectors_18_with_sdk_inputs():
    assert len(ALL) == 69
    assert len(WITH_SDK_INPUTS) == 18


def _expected_signing_region(expect):
    schemes = expect["endpoint"].get("properties", {}).get("authSchemes")
    if not schemes:
        return None
    (scheme,) = schemes
    assert (scheme["name"], scheme["signingName"]) == ("sigv4", "sts")
    return scheme["signingRegion"]


@pytest.mark.parametrize(("index", "case"), ALL, ids=_ids(ALL))
def test_ruleset_vector(index, case):
    params = case.get("params", {})
    rule_params = RuleParams(
        region=params.get("Region"),
        use_fips=params.get("UseFIPS", False),
        use_dualstack=params.get("UseDualStack", False),
        endpoint=params.get("Endpoint"),
        use_global_endpoint=params.get("UseGlobalEndpoint", False),
    )
    expect = case["expect"]
    if "error" in expect:
        with pytest.raises(RulesetError) as err:
            evaluate(rule_params)
        assert str(err.value) == expect["error"]
        return
    got = evaluate(rule_params)
    assert got.url == expect["endpoint"]["url"]
    assert got.signing_region == _expected_signing_region(expect)


@pytest.mark.parametrize(("index", "case"), WITH_SDK_INPUTS, ids=_ids(WITH_SDK_INPUTS))
def test_sdk_level_vector(index, case, tmp_path):
    """operationInputs: the builtins an SDK sets; run them through the whole resolver.

    AWS::STS::UseGlobalEndpoint=true is what botocore derives from
    sts_regional_endpoints=legacy, so that is how we feed it.
    """
    (op,) = case["operationInputs"]
    builtins = op["builtInParams"]
    got = resolve_endpoint(
        region=builtins.get("AWS::Region"),
        endpoint_url=builtins.get("SDK::Endpoint"),
        sts_regional_endpoints="legacy"
        if builtins.get("AWS::STS::UseGlobalEndpoint")
        else "regional",
        env={},
        config_file=tmp_path / "none",
        credentials_file=tmp_path / "none",
    )
    expect = case["expect"]["endpoint"]
    assert got.url == expect["url"]
    assert got.signing_region == (
        _expected_signing_region(case["expect"]) or builtins["AWS::Region"]
    )
    assert got.global_endpoint is (expect["url"] == "https://sts.amazonaws.com")
