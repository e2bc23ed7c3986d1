"""``stsd endpoint explain``: exact answers for a few SDKs and settings (library and CLI),
and the boto3 rows checked against the installed botocore (>= 1.40.0) itself."""

from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

from stsd.cli import app
from stsd.client import sdk_table
from stsd.client.explain import explain
from tests.client.sts_botocore_oracle import botocore_outcome, isolated_aws_env, request_url


def run(env: dict[str, str] | None = None, config: str = "", **kwargs):
    """explain() in an isolated environment: only ``env`` and the given config file text."""
    with isolated_aws_env(env or {}, config) as tmp:
        result = explain(env=dict(os.environ), config_file=tmp / "config", credentials_file=tmp / "credentials",
                         **kwargs)
    return {r.sdk.key: r.to_dict() for r in result.results}


def brief(row: dict) -> tuple:
    return (row["endpoint"], row["signing_region"], row["endpoint_type"], row["error"])


def test_table_covers_every_sdk_of_the_seed_and_both_boto3_defaults():
    names = {s.name for s in sdk_table.SDKS}
    assert len(names) == 17  # the seed table's 17 rows
    assert {s.key for s in sdk_table.SDKS} >= {"aws-cli-v1-legacy", "aws-cli-v1", "boto3-legacy", "boto3"}
    legacy, current = sdk_table.sdk("boto3-legacy"), sdk_table.sdk("boto3")
    assert (legacy.default_setting, current.default_setting) == ("legacy", "regional")
    with pytest.raises(KeyError, match="unknown SDK"):
        sdk_table.sdk("cobol")


# Seed 003, "Compatibility with AWS SDKs", row by row: (SDK, supports setting, default setting
# value, default target, no-Region fallback). "Request failure" is "error".
SEED_003 = [
    ("AWS CLI v2", False, None, "regional", "global"),
    ("AWS CLI v1", True, "legacy", "global", "global"),
    ("SDK for C++", False, None, "regional", "us-east-1"),
    ("SDK for Go V2 (1.x)", False, None, "regional", "error"),
    ("SDK for Go 1.x (V1)", True, "legacy", "global", "global"),
    ("SDK for Java 2.x", False, None, "regional", "error"),
    ("SDK for Java 1.x", True, "legacy", "global", "global"),
    ("SDK for JavaScript 3.x", False, None, "regional", "error"),
    ("SDK for JavaScript 2.x", True, "legacy", "global", "global"),
    ("SDK for Kotlin", False, None, "regional", "global"),
    ("SDK for .NET 3.x", True, "legacy", "global", "global"),
    ("SDK for PHP 3.x", True, "legacy", "global", "error"),
    ("SDK for Python (Boto3)", True, "legacy", "global", "global"),
    ("SDK for Ruby 3.x", True, "regional", "regional", "error"),
    ("SDK for Rust", False, None, "regional", "error"),
    ("SDK for Swift", False, None, "regional", "error"),
    ("Tools for PowerShell", True, "legacy", "global", "global"),
]
# The rows after the 2025 default change (botocore 1.40.0 / AWS CLI v1 1.42.0), added to the seed's.
AFTER_2025 = {"aws-cli-v1": ("AWS CLI v1", True, "regional", "regional", "global"),
              "boto3": ("SDK for Python (Boto3)", True, "regional", "regional", "global")}
ALL_KEYS = ["aws-cli-v2", "aws-cli-v1-legacy", "aws-cli-v1", "cpp", "go-v2", "go-v1", "java-v2", "java-v1", "js-v3",
            "js-v2", "kotlin", "dotnet", "php", "boto3-legacy", "boto3", "ruby", "rust", "swift", "powershell"]


def test_table_is_the_seed_table_row_for_row_plus_the_2025_rows():
    def facts(s):
        return (s.name, s.supports_setting, s.default_setting, s.default_target, s.no_region)

    assert [s.key for s in sdk_table.SDKS] == ALL_KEYS
    assert [facts(s) for s in sdk_table.SDKS if s.key not in AFTER_2025] == SEED_003
    assert {k: facts(sdk_table.sdk(k)) for k in AFTER_2025} == AFTER_2025


def test_cli_json_reports_every_sdk_with_endpoint_reasons_and_meaning(tmp_path):
    config = tmp_path / "config"
    config.write_text("[profile dev]\nregion = ap-east-1\nsts_regional_endpoints = legacy\n")
    with isolated_aws_env({}):
        result = CliRunner().invoke(app, ["endpoint", "explain", "--json", "--profile", "dev",
                                          "--config-file", str(config)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["inputs"]["profile"] == {"value": "dev", "source": "--profile"}
    assert data["inputs"]["region"] == {"value": "ap-east-1", "source": f"profile dev ({config})"}
    rows = {r["sdk"]: r for r in data["results"]}
    assert list(rows) == ALL_KEYS
    # ap-east-1 is opt-in, not in the legacy list: Regional for every SDK that reads the profile...
    regional = ("https://sts.ap-east-1.amazonaws.com", "ap-east-1", "regional", None)
    for key in ALL_KEYS:
        if key in ("go-v1", "js-v2"):  # ...except those that read it only with AWS_SDK_LOAD_CONFIG
            assert rows[key]["region"] == {"value": None, "source": "not set"}, key
            assert brief(rows[key]) == ("https://sts.amazonaws.com", "us-east-1", "global", None), key
            assert rows[key]["token"]["valid_in_opt_in_regions"] is False, key
            assert rows[key]["cloudtrail"]["region"] == "us-east-1", key
            continue
        assert brief(rows[key]) == regional, key
        assert rows[key]["token"]["valid_in_opt_in_regions"] is True, key
        assert rows[key]["cloudtrail"] == {"region": "ap-east-1", "endpointType": "regional",
                                           "awsServingRegion": "ap-east-1"}, key
        assert rows[key]["requested_region"] == "ap-east-1", key
        assert rows[key]["why"], key


def test_eu_west_1_with_nothing_else_configured():
    rows = run(region="eu-west-1")
    regional = ("https://sts.eu-west-1.amazonaws.com", "eu-west-1", "regional", None)
    global_ = ("https://sts.amazonaws.com", "us-east-1", "global", None)
    assert brief(rows["boto3"]) == regional
    assert brief(rows["boto3-legacy"]) == global_
    assert brief(rows["aws-cli-v1"]) == regional and brief(rows["aws-cli-v1-legacy"]) == global_
    assert brief(rows["aws-cli-v2"]) == regional
    for key in ("java-v1", "js-v2", "go-v1", "dotnet", "php", "powershell"):
        assert brief(rows[key]) == global_, key  # seed table: legacy by default
    for key in ("cpp", "go-v2", "java-v2", "js-v3", "kotlin", "ruby", "rust", "swift"):
        assert brief(rows[key]) == regional, key
    boto3 = rows["boto3"]
    assert boto3["sts_regional_endpoints"] == {"value": "regional", "source": "SDK default for >= 1.40.0 "
                                                                               "(botocore >= 1.40.0)"}
    assert boto3["token"]["valid_in_opt_in_regions"] is True
    assert boto3["cloudtrail"] == {"region": "eu-west-1", "endpointType": "regional", "awsServingRegion": "eu-west-1"}
    assert boto3["requested_region"] == "eu-west-1"
    legacy = rows["boto3-legacy"]
    assert legacy["summary"] == "global: sts_regional_endpoints=legacy (SDK default), a legacy-list Region"
    assert legacy["token"]["valid_in_opt_in_regions"] is False
    assert legacy["token"]["version"].startswith("v1Token")
    assert legacy["cloudtrail"]["region"] == "us-east-1" and legacy["cloudtrail"]["endpointType"] == "global"
    assert legacy["requested_region"] == "us-east-1"


def test_no_region_anywhere_shows_each_sdks_fallback():
    rows = run()
    assert brief(rows["boto3"]) == ("https://sts.amazonaws.com", "us-east-1", "global", None)
    assert brief(rows["aws-cli-v2"]) == ("https://sts.amazonaws.com", "us-east-1", "global", None)
    assert brief(rows["cpp"]) == ("https://sts.us-east-1.amazonaws.com", "us-east-1", "regional", None)
    assert rows["go-v2"]["error"] == "request failure: Invalid Configuration: Missing Region"
    assert rows["js-v3"]["error"] == "request failure: Region is missing"
    assert rows["java-v2"]["error"] == "request failure: no Region configured"
    assert rows["java-v2"]["table"]["credential_providers_no_region"] == "global"
    assert brief(rows["kotlin"])[2] == "global" and rows["php"]["error"] is not None
    assert rows["kotlin"]["summary"] == "no Region configured: global fallback"


def test_env_beats_profile_and_cli_v2_ignores_the_setting():
    config = "[default]\nregion = eu-central-1\nsts_regional_endpoints = regional\n"
    rows = run({"AWS_STS_REGIONAL_ENDPOINTS": "legacy"}, config)
    assert rows["boto3"]["region"]["value"] == "eu-central-1"
    assert rows["boto3"]["region"]["source"].startswith("profile default (")
    assert rows["boto3"]["sts_regional_endpoints"] == {"value": "legacy", "source": "env AWS_STS_REGIONAL_ENDPOINTS"}
    assert brief(rows["boto3"]) == ("https://sts.amazonaws.com", "us-east-1", "global", None)
    assert brief(rows["aws-cli-v2"]) == ("https://sts.eu-central-1.amazonaws.com", "eu-central-1", "regional", None)
    assert any("ignores sts_regional_endpoints=legacy" in line for line in rows["aws-cli-v2"]["why"])
    # Without the env var the profile's value counts, for every SDK that reads it.
    rows = run({}, "[default]\nregion = eu-central-1\nsts_regional_endpoints = legacy\n")
    assert rows["boto3"]["sts_regional_endpoints"]["source"].startswith("profile default")
    assert brief(rows["boto3"])[2] == brief(rows["java-v1"])[2] == "global"


def test_region_env_vars_differ_between_sdks():
    rows = run({"AWS_DEFAULT_REGION": "eu-west-1"})
    assert rows["boto3"]["region"] == {"value": "eu-west-1", "source": "env AWS_DEFAULT_REGION"}
    assert rows["go-v2"]["region"] == {"value": "eu-west-1", "source": "env AWS_DEFAULT_REGION"}
    assert rows["java-v2"]["region"]["value"] is None  # Java reads AWS_REGION only
    assert "AWS_DEFAULT_REGION is set, but SDK for Java 2.x reads AWS_REGION" in rows["java-v2"]["why"]
    rows = run({"AWS_REGION": "ap-east-1", "AWS_DEFAULT_REGION": "eu-west-1"})
    assert rows["aws-cli-v2"]["signing_region"] == "ap-east-1"  # CLI v2: AWS_REGION first
    assert rows["boto3"]["signing_region"] == "eu-west-1"  # botocore: AWS_DEFAULT_REGION only
    assert any("opt-in Region" in w for w in rows["aws-cli-v2"]["warnings"])


def test_go_v1_reads_the_profile_only_with_load_config():
    config = "[default]\nregion = eu-west-2\n"
    assert run({}, config)["go-v1"]["region"]["value"] is None
    loaded = run({"AWS_SDK_LOAD_CONFIG": "1"}, config)["go-v1"]
    assert brief(loaded) == ("https://sts.amazonaws.com", "us-east-1", "global", None)
    assert loaded["region"]["value"] == "eu-west-2"


def test_legacy_mode_keeps_seoul_and_opt_in_regions_regional():
    rows = run(region="ap-northeast-2", sts_regional_endpoints="legacy")
    assert brief(rows["boto3"]) == brief(rows["dotnet"]) == (
        "https://sts.ap-northeast-2.amazonaws.com", "ap-northeast-2", "regional", None)
    assert rows["dotnet"]["summary"].endswith("Region not in the legacy list")


def test_fips_custom_endpoint_and_invalid_setting():
    rows = run(region="us-east-1", use_fips=True)
    assert rows["boto3"]["endpoint"] == rows["rust"]["endpoint"] == "https://sts-fips.us-east-1.amazonaws.com"
    custom = run(region="eu-west-1", endpoint_url="http://127.0.0.1:8080/eu-west-1/")["boto3"]
    assert (custom["endpoint_type"], custom["signing_region"]) == ("custom", "eu-west-1")
    assert custom["cloudtrail"]["region"] == "eu-west-1"  # an stsd path-prefix endpoint, recognised
    assert "custom endpoint recognised as the regional endpoint of eu-west-1" in custom["warnings"]
    bogus = run({"AWS_STS_REGIONAL_ENDPOINTS": "bogus"}, region="eu-west-1")
    assert bogus["boto3"]["error"].startswith("InvalidSTSRegionalEndpointsConfigError: STS regional endpoints "
                                              "option bogus is invalid.")
    assert bogus["ruby"]["error"] == "invalid sts_regional_endpoints value 'bogus' (valid: legacy, regional)"
    assert bogus["aws-cli-v2"]["error"] is None
    global_v2 = run(region="eu-west-1", sts_regional_endpoints="legacy", global_token_version="v2Token")["boto3"]
    assert global_v2["token"]["valid_in_opt_in_regions"] is True


@pytest.mark.parametrize(
    ("env", "config", "region"),
    [
        ({}, "", "eu-west-1"),
        ({"AWS_STS_REGIONAL_ENDPOINTS": "legacy"}, "", "us-west-2"),
        ({}, "[default]\nsts_regional_endpoints = legacy\nregion = sa-east-1\n", None),
        ({"AWS_DEFAULT_REGION": "ap-northeast-2", "AWS_STS_REGIONAL_ENDPOINTS": "legacy"}, "", None),
        ({"AWS_USE_FIPS_ENDPOINT": "true"}, "", "us-gov-west-1"),
        ({}, "", None),
    ],
)
def test_boto3_row_is_what_the_installed_botocore_does(env, config, region):
    with isolated_aws_env(env, config) as tmp:
        theirs = botocore_outcome(region=region)
        ours = explain(env=dict(os.environ), config_file=tmp / "config", credentials_file=tmp / "credentials",
                       region=region, sdks=["boto3"]).results[0]
    assert (request_url(ours.endpoint), ours.signing_region) == (theirs.url, theirs.signing_region)


def test_cli_json_output():
    runner = CliRunner()
    with isolated_aws_env({"AWS_REGION": "eu-north-1"}):
        result = runner.invoke(app, ["endpoint", "explain", "--json", "--sdk", "js-v3", "--sdk", "boto3-legacy",
                                     "--sts-regional-endpoints", "legacy", "--region", "eu-north-1"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["inputs"]["region"] == {"value": "eu-north-1", "source": "--region"}
    assert data["global_endpoint_token_version"] == "v1Token"
    js, boto3 = data["results"]
    assert (js["sdk"], js["endpoint"], js["sts_regional_endpoints"]) == (
        "js-v3", "https://sts.eu-north-1.amazonaws.com", None)
    assert (boto3["sdk"], boto3["endpoint"], boto3["signing_region"]) == (
        "boto3-legacy", "https://sts.amazonaws.com", "us-east-1")
    assert boto3["sts_regional_endpoints"] == {"value": "legacy", "source": "--sts-regional-endpoints"}
    assert boto3["cloudtrail"]["region"] == "us-east-1" and boto3["token"]["valid_in_opt_in_regions"] is False
    assert boto3["resolved_by"] == "stsd resolver (identical to botocore)"


def test_cli_table_and_errors():
    runner = CliRunner()
    with isolated_aws_env({}):
        table = runner.invoke(app, ["endpoint", "explain", "--region", "eu-west-1", "--details"],
                              env={"COLUMNS": "200"})
        bad = runner.invoke(app, ["endpoint", "explain", "--sdk", "cobol"])
    assert table.exit_code == 0, table.output
    assert "sts.eu-west-1.amazonaws.com (eu-west-1)" in table.output
    assert "SDK for Python (Boto3) < 1.40.0" in table.output and "v1 token: NOT valid" in table.output
    assert "legacy mode and eu-west-1 is in the legacy list: global endpoint" in table.output
    assert bad.exit_code != 0 and "unknown SDK" in bad.output
