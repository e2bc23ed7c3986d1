"""The concrete fix for a caller still on the global endpoint, by SDK.

The table is the AWS SDKs and Tools reference guide's "AWS STS Regional endpoints"
compatibility table (seed 003), plus what changed since (shared/reference/
sdk-endpoint-resolution.md §2.2, §6): botocore 1.40.0 / AWS CLI v1 1.42.0 and the .NET, PHP,
C++ and PowerShell releases of 2025-07-31 default to ``regional``. An SDK that supports the
setting gets ``sts_regional_endpoints = regional`` / ``AWS_STS_REGIONAL_ENDPOINTS=regional``;
one that does not gets what makes it regional (a configured Region, no global override, or
an explicit ``endpoint_url``). The Region suggested is where the caller was served — where it
actually runs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from stsd.audit.useragent import Client, parse_user_agent, version_tuple
from stsd.regions.endpoints import regional_endpoint

SETTING = "sts_regional_endpoints = regional"
ENVIRONMENT = "AWS_STS_REGIONAL_ENDPOINTS=regional"
REGIONAL_SINCE_2025 = "regional in releases since 2025-07-31"


@dataclass(frozen=True, slots=True)
class Sdk:
    """One row of the seed table."""

    name: str
    supports_setting: bool
    default: str | None  # the setting's default ("legacy" / "regional"), None without the setting
    default_target: str  # "global" | "regional"
    no_region: str  # what the client does without a Region: "global" | "failure" | "us-east-1 regional"


SDKS: dict[str, Sdk] = {
    "aws-cli-v2": Sdk("AWS CLI v2", False, None, "regional", "global"),
    "aws-cli-v1": Sdk("AWS CLI v1", True, "legacy", "global", "global"),
    "cpp": Sdk("AWS SDK for C++", False, None, "regional", "us-east-1 regional"),
    "go-v2": Sdk("AWS SDK for Go V2", False, None, "regional", "failure"),
    "go-v1": Sdk("AWS SDK for Go 1.x (V1)", True, "legacy", "global", "global"),
    "java-v2": Sdk("AWS SDK for Java 2.x", False, None, "regional", "failure"),
    "java-v1": Sdk("AWS SDK for Java 1.x", True, "legacy", "global", "global"),
    "js-v3": Sdk("AWS SDK for JavaScript 3.x", False, None, "regional", "failure"),
    "js-v2": Sdk("AWS SDK for JavaScript 2.x", True, "legacy", "global", "global"),
    "kotlin": Sdk("AWS SDK for Kotlin", False, None, "regional", "global"),
    "dotnet": Sdk("AWS SDK for .NET", True, "legacy", "global", "global"),
    "php": Sdk("AWS SDK for PHP 3.x", True, "legacy", "global", "failure"),
    "boto3": Sdk("AWS SDK for Python (Boto3)", True, "legacy", "global", "global"),
    "botocore": Sdk("botocore", True, "legacy", "global", "global"),
    "ruby-v3": Sdk("AWS SDK for Ruby 3.x", True, "regional", "regional", "failure"),
    "ruby-v2": Sdk("AWS SDK for Ruby 2.x", False, None, "global", "global"),
    "rust": Sdk("AWS SDK for Rust", False, None, "regional", "failure"),
    "swift": Sdk("AWS SDK for Swift", False, None, "regional", "failure"),
    "powershell": Sdk("AWS Tools for PowerShell", True, "legacy", "global", "global"),
}
# botocore (boto3, AWS CLI v1) switched its default by version; these by release date only.
_BOTOCORE_REGIONAL = (1, 40)
_CLI_V1_REGIONAL = (1, 42)
_DATED_SWITCH = frozenset({"dotnet", "php", "powershell"})


@dataclass(frozen=True, slots=True)
class Remedy:
    sdk: str
    sdk_version: str | None
    supports_setting: bool
    default_setting: str | None
    region: str
    endpoint_url: str
    setting: str | None  # the shared-config line to set
    environment: str | None  # the environment variable to set
    fix: str

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        return {"sdk": out["sdk"], "sdkVersion": out["sdk_version"], "supportsSetting": out["supports_setting"],
                "defaultSetting": out["default_setting"], "region": out["region"],
                "endpointUrl": out["endpoint_url"], "setting": out["setting"], "environment": out["environment"],
                "fix": out["fix"]}


def endpoint_url(region: str) -> str:
    try:
        host = regional_endpoint(region).hostname
    except ValueError:
        host = f"sts.{region}.amazonaws.com"
    return f"https://{host}"


def _effective_default(client: Client, sdk: Sdk) -> str | None:
    if client.sdk in ("boto3", "botocore"):
        known = client.botocore is not None
        return "regional" if known and version_tuple(client.botocore) >= _BOTOCORE_REGIONAL else (
            "legacy" if known else "legacy (regional since botocore 1.40.0)")
    if client.sdk == "aws-cli-v1":
        return "regional" if client.version_tuple() >= _CLI_V1_REGIONAL else "legacy"
    if client.sdk in _DATED_SWITCH:
        return f"legacy ({REGIONAL_SINCE_2025})"
    return sdk.default


def _setting_fix(client: Client, sdk: Sdk, default: str, region: str, url: str) -> str:
    configure = f"set `{SETTING}` in the profile (or `{ENVIRONMENT}`) and region = {region} (AWS_REGION={region})"
    if default == "regional":
        # Regional already by default: the profile or environment forces legacy, or no Region is set
        # (these SDKs then fall back to the global endpoint).
        text = (f"{sdk.name} {client.version or ''} defaults to regional, so `sts_regional_endpoints = legacy` is "
                f"set explicitly or no Region is configured: remove the legacy setting ({ENVIRONMENT}) and "
                f"configure region = {region} (AWS_REGION={region})").replace("  ", " ")
        if client.sdk in ("boto3", "botocore"):
            text += "; botocore ≥ 1.40 defaults to regional but still calls the global endpoint without a Region"
        return text + f"; or pass endpoint_url={url}."
    text = f"{configure[0].upper()}{configure[1:]}"
    if client.sdk in ("boto3", "botocore"):
        text += (f", or upgrade to boto3/botocore ≥ 1.40 (default regional) with a Region, "
                 f"or pass endpoint_url={url}")
    elif client.sdk == "aws-cli-v1":
        text += f", or upgrade to AWS CLI v1 ≥ 1.42.0 or v2 (regional by default), or use --endpoint-url {url}"
    elif client.sdk == "go-v1":
        text += (" (the shared config file is read only with AWS_SDK_LOAD_CONFIG=1; the environment variable "
                 "always works); Go V1 is end-of-support: moving to Go V2 makes it regional")
    elif client.sdk == "java-v1":
        text += (f"; do not rely on setRegion (it keeps the global endpoint): build the client with "
                 f"withEndpointConfiguration(new EndpointConfiguration(\"{url}\", \"{region}\")), or move to Java "
                 "2.x (regional by default)")
    elif client.sdk == "js-v2":
        text += f", or create the client with {{region: '{region}', stsRegionalEndpoints: 'regional'}}"
    elif client.sdk in _DATED_SWITCH:
        text += f", or upgrade to a release from 2025-07-31 or later (regional by default), or use endpoint {url}"
    return text + "."


def _no_setting_fix(client: Client, sdk: Sdk, region: str, url: str) -> str:
    lead = f"{sdk.name} has no sts_regional_endpoints setting and is regional by default"
    if client.sdk == "aws-cli-v2":
        return f"{lead}; it uses the global endpoint only without a Region: `aws configure set region {region}` " \
               f"(or AWS_REGION={region})."
    if client.sdk == "kotlin":
        return f"{lead}; it falls back to the global endpoint without a Region: set region = {region} " \
               f"(AWS_REGION={region})."
    if client.sdk == "java-v2":
        return (f"{lead}, but its profile AssumeRole and web-identity credential providers fall back to the global "
                f"endpoint without a Region: set AWS_REGION={region} (or region = {region} in the profile), "
                f"or remove an endpointOverride to https://sts.amazonaws.com; else use endpointOverride {url}.")
    if client.sdk == "js-v3":
        return (f"{lead}: remove `useGlobalEndpoint` / region 'aws-global' and create the client with "
                f"region '{region}' (or endpoint '{url}').")
    if client.sdk == "cpp":
        return (f"{lead} (us-east-1 regional without a Region): remove the endpoint override to sts.amazonaws.com "
                f"and set the client Region to {region} (or endpointOverride {url}).")
    if client.sdk == "ruby-v2":
        return f"Upgrade to the AWS SDK for Ruby 3.x (regional by default) with region {region}, or set " \
               f"endpoint: '{url}'."
    return (f"{lead}, so the global endpoint is configured explicitly: remove the override to "
            f"https://sts.amazonaws.com (or region aws-global) and use region {region} / endpoint {url}.")


def remedy(client: Client, region: str | None) -> Remedy:
    region = region or "us-east-1"
    url = endpoint_url(region)
    sdk = SDKS.get(client.sdk)
    if sdk is None:
        fix = (f"Unrecognised client: point it at {url} (endpoint_url, or AWS_ENDPOINT_URL_STS={url}) with Region "
               f"{region}, or set `{SETTING}` / {ENVIRONMENT} if its SDK supports the setting.")
        return Remedy("unknown", None, False, None, region, url, SETTING, ENVIRONMENT, fix)
    if sdk.supports_setting:
        default = _effective_default(client, sdk) or "legacy"
        fix = _setting_fix(client, sdk, default, region, url)
        return Remedy(sdk.name, client.version, True, default, region, url, SETTING, ENVIRONMENT, fix)
    return Remedy(sdk.name, client.version, False, None, region, url, None, None,
                  _no_setting_fix(client, sdk, region, url))


def remedy_for(user_agent: str, serving_region: str | None) -> Remedy:
    return remedy(parse_user_agent(user_agent), serving_region)
