"""How each AWS SDK and tool picks between the global and Regional STS endpoints — as data.

Source: the AWS SDKs and Tools Reference Guide's "AWS STS Regional endpoints" compatibility
table (shared seed ``003``), one row per SDK, kept verbatim in meaning:

* ``supports_setting`` — reads ``sts_regional_endpoints`` / ``AWS_STS_REGIONAL_ENDPOINTS``;
* ``default_setting`` — its default when supported (None: "N/A");
* ``default_target`` — the endpoint a client targets by default;
* ``no_region`` — "Service client fallback behavior" when a Regional endpoint is due but no
  Region is configured: ``global`` (sts.amazonaws.com), ``error`` (request failure) or
  ``us-east-1`` (the us-east-1 Regional endpoint).

botocore-based rows (boto3, AWS CLI v1/v2) are not computed from this table but by
stsd's resolver, which matches botocore case for case; the table splits them at the
2025 default change (botocore 1.40.0 / AWS CLI v1 1.42.0, 2025-07-31; see
shared/reference/sdk-endpoint-resolution.md §2.2). Facts beyond the seed table carry
their source in ``notes`` (reference §6).
"""

from __future__ import annotations

from dataclasses import dataclass

GLOBAL = "global"
REGIONAL = "regional"
ERROR = "error"
US_EAST_1 = "us-east-1"

#: Engines: "botocore" rows are resolved by stsd.client.resolver; "table" rows by the
#: STS endpoint ruleset fed with the row's facts.
BOTOCORE = "botocore"
TABLE = "table"

SEED = "SDK reference guide table (seed 003)"
#: Region environment variables, first set wins: AWS_REGION is the SDK reference guide's
#: standard; botocore (boto3, CLI v1) reads only AWS_DEFAULT_REGION, CLI v2 and Go v2
#: AWS_REGION then AWS_DEFAULT_REGION, Ruby also AMAZON_REGION (from each SDK's source/docs).
STANDARD_REGION_ENV = ("AWS_REGION",)
BOTOCORE_REGION_ENV = ("AWS_DEFAULT_REGION",)

DEFAULT_CHANGE_NOTE = (
    "AWS announced on 2025-07-31 that this SDK's default changes to regional (AWS Developer Tools blog); "
    "the seed table predates it - set sts_regional_endpoints explicitly to be sure"
)


@dataclass(frozen=True, slots=True)
class SdkBehaviour:
    key: str
    name: str
    supports_setting: bool
    default_setting: str | None  # legacy | regional | None (N/A)
    default_target: str  # global | regional
    no_region: str  # global | error | us-east-1
    engine: str = TABLE
    versions: str | None = None  # version range the row describes
    setting_ignored: bool = False  # accepts the setting in config files but ignores it (CLI v2)
    region_env: tuple[str, ...] = STANDARD_REGION_ENV
    shared_config_env: str | None = None  # env var that must be set before ~/.aws/config is read
    no_region_error: str | None = None  # the SDK's message, where recorded
    providers_no_region: str | None = None  # AssumeRole/web identity *credential providers* without a Region
    notes: tuple[str, ...] = ()
    source: str = SEED


SDKS: tuple[SdkBehaviour, ...] = (
    SdkBehaviour(
        "aws-cli-v2", "AWS CLI v2", False, None, REGIONAL, GLOBAL, engine=BOTOCORE, setting_ignored=True,
        region_env=("AWS_REGION", "AWS_DEFAULT_REGION"),
        notes=("its botocore fork hard-codes UseGlobalEndpoint=false: sts_regional_endpoints is ignored "
               "(reference §6.1)",),
    ),
    SdkBehaviour(
        "aws-cli-v1-legacy", "AWS CLI v1", True, "legacy", GLOBAL, GLOBAL, engine=BOTOCORE, versions="< 1.42.0",
        region_env=BOTOCORE_REGION_ENV,
    ),
    SdkBehaviour(
        "aws-cli-v1", "AWS CLI v1", True, "regional", REGIONAL, GLOBAL, engine=BOTOCORE, versions=">= 1.42.0",
        region_env=BOTOCORE_REGION_ENV, source="botocore 1.40.0 changelog (AWS CLI v1 1.42.0), reference §2.2",
    ),
    SdkBehaviour(
        "cpp", "SDK for C++", False, None, REGIONAL, US_EAST_1,
        notes=("us-east-1 (Regional) fallback uses longer session tokens than typical global requests",),
    ),
    SdkBehaviour(
        "go-v2", "SDK for Go V2 (1.x)", False, None, REGIONAL, ERROR,
        region_env=("AWS_REGION", "AWS_DEFAULT_REGION"),  # aws-sdk-go-v2 config/env_config.go regionEnvKeys
        no_region_error="Invalid Configuration: Missing Region",
        notes=("message confirmed by a maintainer in aws/aws-sdk-go-v2#2846 (reference §6.3)",),
    ),
    SdkBehaviour(
        "go-v1", "SDK for Go 1.x (V1)", True, "legacy", GLOBAL, GLOBAL, shared_config_env="AWS_SDK_LOAD_CONFIG",
        notes=("reads the shared config file only when loading it is turned on (AWS_SDK_LOAD_CONFIG)",),
    ),
    SdkBehaviour(
        "java-v2", "SDK for Java 2.x", False, None, REGIONAL, ERROR, providers_no_region=GLOBAL,
        notes=("without a Region, AssumeRole and AssumeRoleWithWebIdentity (credential providers) use the "
               "global STS endpoint",),
    ),
    SdkBehaviour("java-v1", "SDK for Java 1.x", True, "legacy", GLOBAL, GLOBAL),
    SdkBehaviour(
        "js-v3", "SDK for JavaScript 3.x", False, None, REGIONAL, ERROR, no_region_error="Region is missing",
        providers_no_region=US_EAST_1,
        notes=("credential providers without a Region fall back to the us-east-1 Regional endpoint with a "
               "warning (reference §6.2)",),
    ),
    SdkBehaviour(
        "js-v2", "SDK for JavaScript 2.x", True, "legacy", GLOBAL, GLOBAL, shared_config_env="AWS_SDK_LOAD_CONFIG",
        notes=("reads the shared config file only with AWS_SDK_LOAD_CONFIG set",),
    ),
    SdkBehaviour("kotlin", "SDK for Kotlin", False, None, REGIONAL, GLOBAL),
    SdkBehaviour("dotnet", "SDK for .NET 3.x", True, "legacy", GLOBAL, GLOBAL, notes=(DEFAULT_CHANGE_NOTE,)),
    SdkBehaviour("php", "SDK for PHP 3.x", True, "legacy", GLOBAL, ERROR, notes=(DEFAULT_CHANGE_NOTE,)),
    SdkBehaviour(
        "boto3-legacy", "SDK for Python (Boto3)", True, "legacy", GLOBAL, GLOBAL, engine=BOTOCORE,
        versions="< 1.40.0 (botocore < 1.40.0)", region_env=BOTOCORE_REGION_ENV,
    ),
    SdkBehaviour(
        "boto3", "SDK for Python (Boto3)", True, "regional", REGIONAL, GLOBAL, engine=BOTOCORE,
        versions=">= 1.40.0 (botocore >= 1.40.0)", region_env=BOTOCORE_REGION_ENV,
        source="botocore 1.40.0 changelog, commit 23581d12 (reference §2.2)",
    ),
    SdkBehaviour(
        "ruby", "SDK for Ruby 3.x", True, "regional", REGIONAL, ERROR,
        region_env=("AWS_REGION", "AMAZON_REGION", "AWS_DEFAULT_REGION"),  # aws-sdk-ruby client docs
    ),
    SdkBehaviour("rust", "SDK for Rust", False, None, REGIONAL, ERROR),
    SdkBehaviour("swift", "SDK for Swift", False, None, REGIONAL, ERROR),
    SdkBehaviour("powershell", "Tools for PowerShell", True, "legacy", GLOBAL, GLOBAL, notes=(DEFAULT_CHANGE_NOTE,)),
)

BY_KEY: dict[str, SdkBehaviour] = {sdk.key: sdk for sdk in SDKS}


def sdk(key: str) -> SdkBehaviour:
    try:
        return BY_KEY[key]
    except KeyError:
        raise KeyError(f"unknown SDK {key!r}; known: {', '.join(BY_KEY)}") from None
