"""``stsd endpoint explain``: which STS endpoint each SDK would call here, why, and what follows.

For every SDK of :mod:`stsd.client.sdk_table` and the current environment/profile (or
given settings) this works out the endpoint URL and signing Region, the reasons (which
setting, from where, the SDK's default, its no-Region fallback), and the consequences:

* token: the global endpoint issues tokens of the account's ``GlobalEndpointTokenVersion``
  (``v1Token`` by default), which are not valid in opt-in Regions; Regional endpoints issue
  tokens valid in every Region;
* CloudTrail: global calls are recorded in us-east-1 (``endpointType: global``,
  ``awsServingRegion`` naming the Region that served them); Regional calls in their Region.

botocore rows come from :func:`stsd.client.resolver.resolve_endpoint` (botocore, case for
case); the other SDKs from the STS endpoint ruleset fed with their seed-table facts.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from stsd.client import sdk_table
from stsd.client.config import CONFIG, DEFAULT, ENV, PARAMETER, ConfigSources, ensure_boolean
from stsd.client.errors import EndpointResolutionError
from stsd.client.resolver import VALID_SETTINGS, resolve_endpoint
from stsd.client.rules import GLOBAL_URL, RuleParams, evaluate
from stsd.client.sdk_table import BOTOCORE, SdkBehaviour
from stsd.regions.catalogue import GLOBAL_SIGNING_REGION, legacy_global_regions, region
from stsd.regions.endpoints import parse_host, parse_path_prefix

TOKEN_VERSIONS = ("v1Token", "v2Token")
DEFAULT_TOKEN_VERSION = TOKEN_VERSIONS[0]  # IAM's default GlobalEndpointTokenVersion
GLOBAL = "global"
REGIONAL = "regional"
CUSTOM = "custom"


@dataclass(frozen=True, slots=True)
class Value:
    value: Any
    source: str  # "--region", "env AWS_REGION", "profile dev (~/.aws/config)", "default", "not set", ...

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "source": self.source}


@dataclass
class SdkResult:
    sdk: SdkBehaviour
    region: Value
    setting: Value | None  # None: the SDK has no sts_regional_endpoints setting
    endpoint: str | None = None
    signing_region: str | None = None
    endpoint_type: str | None = None  # global | regional | custom (None: error)
    error: str | None = None
    summary: str = ""
    why: list[str] = field(default_factory=list)
    meaning: dict[str, Any] = field(default_factory=dict)

    @property
    def resolved_by(self) -> str:
        if self.sdk.engine == BOTOCORE:
            return "stsd resolver (identical to botocore)"
        return "seed table 003 + STS endpoint ruleset"

    def to_dict(self) -> dict[str, Any]:
        s = self.sdk
        return {
            "sdk": s.key,
            "name": s.name,
            "versions": s.versions,
            "table": {
                "supports_setting": s.supports_setting,
                "default_setting": s.default_setting,
                "default_target": s.default_target,
                "no_region_fallback": s.no_region,
                "credential_providers_no_region": s.providers_no_region,
                "source": s.source,
            },
            "region": self.region.to_dict(),
            "sts_regional_endpoints": None if self.setting is None else self.setting.to_dict(),
            "endpoint": self.endpoint,
            "signing_region": self.signing_region,
            "endpoint_type": self.endpoint_type,
            "error": self.error,
            "summary": self.summary,
            "why": list(self.why),
            **self.meaning,
            "notes": list(s.notes),
            "resolved_by": self.resolved_by,
        }


@dataclass
class Explanation:
    inputs: dict[str, Value]
    results: list[SdkResult]
    global_token_version: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": {k: v.to_dict() for k, v in self.inputs.items()},
            "global_endpoint_token_version": self.global_token_version,
            "results": [r.to_dict() for r in self.results],
        }


class _Inputs:
    """Where each setting comes from, for one explanation (parameters > env > profile)."""

    def __init__(self, *, env: Mapping[str, str], config_file: Any, credentials_file: Any,
                 profile: str | None, params: dict[str, Any]) -> None:
        self.env = env
        self.params = params
        self.sources = ConfigSources.create(env=env, config_file=config_file, credentials_file=credentials_file,
                                            profile=profile)
        self.profile_error: str | None = None
        try:
            self.profile: dict[str, Any] = self.sources.scoped()
        except EndpointResolutionError as exc:  # a named profile that does not exist
            self.profile, self.profile_error = {}, str(exc)

    def profile_label(self) -> str:
        name = self.sources.profile_name() or "default"
        return f"profile {name} ({self.sources.config_file})"

    def lookup(self, param: str, key: str, env_vars: Iterable[str], *, profile_ok: bool = True,
               option: str | None = None) -> Value:
        if self.params.get(param) is not None:
            return Value(self.params[param], option or f"--{param.replace('_', '-')}")
        for var in env_vars:
            if var in self.env:
                return Value(self.env[var], f"env {var}")
        if profile_ok and self.profile.get(key) is not None:
            return Value(self.profile[key], self.profile_label())
        return Value(None, "not set")


def explain(
    *,
    region: str | None = None,
    profile: str | None = None,
    sts_regional_endpoints: str | None = None,
    use_fips: bool | None = None,
    use_dualstack: bool | None = None,
    endpoint_url: str | None = None,
    env: Mapping[str, str] | None = None,
    config_file: str | os.PathLike[str] | None = None,
    credentials_file: str | os.PathLike[str] | None = None,
    global_token_version: str = DEFAULT_TOKEN_VERSION,
    sdks: Iterable[str] | None = None,
) -> Explanation:
    """Explain every SDK's STS endpoint choice (``None`` settings: from env / shared config)."""
    if global_token_version not in TOKEN_VERSIONS:
        raise ValueError(f"global_token_version must be one of {TOKEN_VERSIONS}")
    environ: Mapping[str, str] = os.environ if env is None else env
    params = {"region": region, "sts_regional_endpoints": sts_regional_endpoints, "use_fips": use_fips,
              "use_dualstack": use_dualstack, "endpoint_url": endpoint_url}
    ctx = _Inputs(env=environ, config_file=config_file, credentials_file=credentials_file, profile=profile,
                  params=params)
    chosen = [sdk_table.sdk(k) for k in sdks] if sdks is not None else list(sdk_table.SDKS)
    results = []
    for behaviour in chosen:
        result = _botocore_row(behaviour, ctx) if behaviour.engine == BOTOCORE else _table_row(behaviour, ctx)
        if result.error is None:
            result.meaning = _meaning(result, global_token_version)
        else:
            result.meaning = {"token": None, "cloudtrail": None, "requested_region": None, "warnings": []}
        results.append(result)
    inputs = {
        "profile": Value(ctx.sources.profile_name() or "default",
                         "--profile" if profile is not None else _profile_source(environ)),
        "region": ctx.lookup("region", "region", ("AWS_REGION", "AWS_DEFAULT_REGION")),
        "sts_regional_endpoints": ctx.lookup("sts_regional_endpoints", "sts_regional_endpoints",
                                             ("AWS_STS_REGIONAL_ENDPOINTS",)),
        "use_fips": ctx.lookup("use_fips", "use_fips_endpoint", ("AWS_USE_FIPS_ENDPOINT",)),
        "use_dualstack": ctx.lookup("use_dualstack", "use_dualstack_endpoint", ("AWS_USE_DUALSTACK_ENDPOINT",)),
        "endpoint_url": ctx.lookup("endpoint_url", "endpoint_url", ("AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL")),
    }
    return Explanation(inputs, results, global_token_version)


def _profile_source(env: Mapping[str, str]) -> str:
    for var in ("AWS_DEFAULT_PROFILE", "AWS_PROFILE"):
        if var in env:
            return f"env {var}"
    return "default"


# --- botocore family: the stsd resolver -------------------------------------------------


def _source_label(source: str, ctx: _Inputs, env_var: str, option: str) -> str:
    return {PARAMETER: option, ENV: f"env {env_var}", CONFIG: ctx.profile_label(), DEFAULT: "default"}.get(
        source, source)


def _botocore_row(sdk: SdkBehaviour, ctx: _Inputs) -> SdkResult:
    region_param = ctx.params["region"]
    region_value = ctx.lookup("region", "region", sdk.region_env)
    if region_param is None and sdk.key == "aws-cli-v2" and ctx.env.get("AWS_REGION"):
        region_param = ctx.env["AWS_REGION"]  # CLI v2 reads AWS_REGION before AWS_DEFAULT_REGION
    setting_param = ctx.params["sts_regional_endpoints"]
    setting_note: str | None = None
    raw = ctx.lookup("sts_regional_endpoints", "sts_regional_endpoints", ("AWS_STS_REGIONAL_ENDPOINTS",))
    if sdk.setting_ignored:
        if raw.value:
            setting_note = f"{sdk.name} ignores sts_regional_endpoints={raw.value} ({raw.source}): always regional"
        setting_param = "regional"
    elif sdk.default_setting == "legacy" and not raw.value:
        setting_param = "legacy"  # before botocore 1.40.0 unset or empty meant legacy
    why: list[str] = []
    result = SdkResult(sdk, region_value, None)
    try:
        r = resolve_endpoint(
            region=region_param,
            use_fips=ctx.params["use_fips"],
            use_dualstack=ctx.params["use_dualstack"],
            endpoint_url=ctx.params["endpoint_url"],
            sts_regional_endpoints=setting_param,
            env=ctx.env,
            config_file=ctx.sources.config_file,
            credentials_file=ctx.sources.credentials_file,
            profile=ctx.sources.profile,
        )
    except EndpointResolutionError as exc:
        result.setting = _botocore_setting(sdk, raw, None)
        result.error = f"{type(exc).botocore_name}: {exc}"
        result.summary = "client creation fails"
        result.why = [result.error]
        return result
    result.setting = _botocore_setting(sdk, raw, r.sts_regional_endpoints)
    no_region = region_value.value is None and r.region == "aws-global" and r.endpoint_source == "rules"
    if no_region:
        why.append("no Region configured: botocore uses STS's partition endpoint aws-global (global endpoint)")
    elif region_value.value is not None:
        why.append(f"Region {r.region} from {region_value.source}")
    if sdk.setting_ignored:
        why.append(setting_note or f"{sdk.name} ignores sts_regional_endpoints: always regional")
    elif result.setting is not None:
        why.append(f"sts_regional_endpoints={result.setting.value} ({result.setting.source})")
    why.append(r.reason.rsplit("; ", 1)[-1])
    result.endpoint, result.signing_region = r.url, r.signing_region
    if r.endpoint_source != "rules":
        result.endpoint_type = CUSTOM
        why[-1] = f"custom endpoint from {_endpoint_source(r.endpoint_source, ctx)}: used verbatim"
    else:
        result.endpoint_type = GLOBAL if r.global_endpoint else REGIONAL
    result.why = why
    result.summary = _summary(result, no_region=no_region)
    return result


def _botocore_setting(sdk: SdkBehaviour, raw: Value, effective: str | None) -> Value:
    if sdk.setting_ignored:
        return Value("regional", f"{sdk.name} ignores the setting: always regional")
    if raw.value:
        return Value(effective or raw.value, raw.source)
    return _default_setting(sdk, empty=raw.value == "")


def _default_setting(sdk: SdkBehaviour, *, empty: bool = False) -> Value:
    label = "SDK default" + (f" for {sdk.versions}" if sdk.versions else "")
    return Value(sdk.default_setting, f"empty value: {label}" if empty else label)


def _endpoint_source(source: str, ctx: _Inputs) -> str:
    if source == PARAMETER:
        return "--endpoint-url"
    if source == ENV:
        var = "AWS_ENDPOINT_URL_STS" if ctx.env.get("AWS_ENDPOINT_URL_STS") else "AWS_ENDPOINT_URL"
        return f"env {var}"
    return ctx.profile_label()


# --- other SDKs: seed-table facts through the ruleset -------------------------------------


def _table_row(sdk: SdkBehaviour, ctx: _Inputs) -> SdkResult:
    shared_ok = sdk.shared_config_env is None or ensure_boolean(ctx.env.get(sdk.shared_config_env, "false")) \
        or ctx.env.get(sdk.shared_config_env) == "1"
    region_value = ctx.lookup("region", "region", sdk.region_env, profile_ok=shared_ok)
    if region_value.value == "":
        region_value = Value(None, f"{region_value.source} (empty)")
    result = SdkResult(sdk, region_value, None)
    why: list[str] = []
    if ctx.profile_error is not None:
        why.append(f"{ctx.profile_error}: treated as an empty profile")
    if region_value.value is None:
        ignored = [v for v in ("AWS_DEFAULT_REGION", "AWS_REGION") if ctx.env.get(v) and v not in sdk.region_env]
        if ignored:
            why.append(f"{ignored[0]} is set, but {sdk.name} reads {' / '.join(sdk.region_env)}")
    if not shared_ok and ctx.profile.get("region") is not None:
        why.append(f"the profile's region is not read: {sdk.shared_config_env} is not set")
    setting = "regional"
    if sdk.supports_setting:
        raw = ctx.lookup("sts_regional_endpoints", "sts_regional_endpoints", ("AWS_STS_REGIONAL_ENDPOINTS",),
                         profile_ok=shared_ok)
        if raw.value:
            if raw.value not in VALID_SETTINGS:
                result.setting = raw
                result.error = f"invalid sts_regional_endpoints value {raw.value!r} (valid: legacy, regional)"
                result.summary = "invalid setting"
                result.why = [result.error]
                return result
            result.setting = raw
        else:
            result.setting = _default_setting(sdk, empty=raw.value == "")
        setting = result.setting.value
        why.append(f"sts_regional_endpoints={setting} ({result.setting.source})")
    else:
        why.append(f"{sdk.name} has no sts_regional_endpoints setting: always {sdk.default_target}")
    fips = _flag(ctx, "use_fips", "use_fips_endpoint", "AWS_USE_FIPS_ENDPOINT", shared_ok)
    dualstack = _flag(ctx, "use_dualstack", "use_dualstack_endpoint", "AWS_USE_DUALSTACK_ENDPOINT", shared_ok)
    custom = ctx.lookup("endpoint_url", "endpoint_url", ("AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"),
                        profile_ok=shared_ok)
    name = region_value.value
    try:
        if custom.value:
            rule = evaluate(RuleParams(region=name, use_fips=fips, use_dualstack=dualstack, endpoint=custom.value))
            result.endpoint_type = CUSTOM
            why.append(f"custom endpoint from {custom.source}: used verbatim")
        elif name is None:
            return _no_region(result, why, fips, dualstack)
        else:
            use_global = setting == "legacy" and name in legacy_global_regions()
            rule = evaluate(RuleParams(region=name, use_fips=fips, use_dualstack=dualstack,
                                       use_global_endpoint=use_global))
            why.insert(0, f"Region {name} from {region_value.source}")
            why.append(_branch_reason(rule.branch, name))
            result.endpoint_type = GLOBAL if rule.url == GLOBAL_URL else REGIONAL
    except EndpointResolutionError as exc:
        result.error = str(exc)
        result.summary = "request failure"
        result.why = [*why, result.error]
        return result
    result.endpoint = rule.url
    result.signing_region = rule.signing_region or name
    result.why = why
    result.summary = _summary(result)
    return result


def _no_region(result: SdkResult, why: list[str], fips: bool, dualstack: bool) -> SdkResult:
    sdk = result.sdk
    if sdk.no_region == sdk_table.ERROR:
        message = sdk.no_region_error or "no Region configured"
        result.error = f"request failure: {message}"
        result.summary = "request failure (no Region)"
        why.append(f"no Region configured: {sdk.name} fails the request")
    else:
        fallback = "aws-global" if sdk.no_region == sdk_table.GLOBAL else "us-east-1"
        rule = evaluate(RuleParams(region=fallback, use_fips=fips, use_dualstack=dualstack))
        result.endpoint, result.signing_region = rule.url, rule.signing_region or fallback
        result.endpoint_type = GLOBAL if rule.url == GLOBAL_URL else REGIONAL
        target = "the global endpoint" if fallback == "aws-global" else "the us-east-1 Regional endpoint"
        why.append(f"no Region configured: {sdk.name} falls back to {target}")
        result.summary = _summary(result, no_region=True)
    if sdk.providers_no_region is not None:
        target = "global endpoint" if sdk.providers_no_region == sdk_table.GLOBAL else "us-east-1 Regional endpoint"
        why.append(f"its AssumeRole/web-identity credential providers use the {target} instead")
    result.why = why
    return result


def _flag(ctx: _Inputs, param: str, key: str, env_var: str, profile_ok: bool) -> bool:
    value = ctx.lookup(param, key, (env_var,), profile_ok=profile_ok).value
    return ensure_boolean(value)


def _branch_reason(branch: str, name: str) -> str:
    return {
        "legacy-global": f"legacy mode and {name} is one of the 16 legacy names: global endpoint",
        "legacy-regional": f"legacy mode but {name} is not in the legacy list: Regional endpoint",
        "fips-dualstack": "FIPS and dual-stack endpoint",
        "fips": "FIPS endpoint",
        "dualstack": "dual-stack endpoint",
        "aws-global": "Region aws-global: global endpoint",
        "regional": f"Regional endpoint of {name}",
    }.get(branch, branch)


def _summary(result: SdkResult, *, no_region: bool = False) -> str:
    """The decisive reason in a few words (the full chain is in ``why``)."""
    kind = {GLOBAL: "global", REGIONAL: "Regional", CUSTOM: "custom"}[result.endpoint_type or REGIONAL]
    if result.endpoint_type == CUSTOM:
        return "custom endpoint URL, used verbatim"
    if no_region:
        return f"no Region configured: {kind} fallback"
    sdk, setting = result.sdk, result.setting
    if sdk.setting_ignored:
        return f"{kind}: ignores sts_regional_endpoints"
    if setting is None:
        return f"{kind}: no sts_regional_endpoints setting"
    text = f"{kind}: sts_regional_endpoints={setting.value} ({_short(setting.source)})"
    if setting.value == "legacy":
        text += ", a legacy-list Region" if result.endpoint_type == GLOBAL else ", Region not in the legacy list"
    return text


def _short(source: str) -> str:
    if source.startswith("env "):
        return source[4:]
    if source.startswith("profile "):
        return "profile"
    if "default" in source:
        return "SDK default"
    return source


# --- consequences ---------------------------------------------------------------------------


def _served_by(result: SdkResult) -> tuple[str | None, str | None, bool]:
    """(endpoint type, Region, known host) the URL really reaches. Known STS host names and
    stsd path-prefix endpoints are recognised (also behind a custom endpoint URL)."""
    assert result.endpoint is not None
    try:
        parts = urlsplit(result.endpoint)
        ep = parse_host(parts.netloc) or parse_path_prefix(parts.path or "/")[0]
    except ValueError:
        ep = None
    if ep is not None:
        return ep.endpoint_type, ep.region, True
    if result.endpoint_type == GLOBAL:
        return GLOBAL, GLOBAL_SIGNING_REGION, False
    if result.endpoint_type == REGIONAL:
        return REGIONAL, result.signing_region, False
    return None, None, False


def _meaning(result: SdkResult, token_version: str) -> dict[str, Any]:
    kind, where, known_host = _served_by(result)
    warnings: list[str] = []
    configured = region(str(result.region.value)) if result.region.value else None
    if kind is None:
        return {"token": None, "cloudtrail": None, "requested_region": None,
                "warnings": ["custom endpoint: what it issues and where it is recorded depends on what it is"]}
    if result.endpoint_type == CUSTOM:
        warnings.append(f"custom endpoint recognised as the {kind} endpoint"
                        + ("" if kind == GLOBAL else f" of {where}"))
    if kind == GLOBAL:
        v1 = token_version == "v1Token"
        token = {
            "issued_by": "global endpoint",
            "version": f"{token_version} (the account's GlobalEndpointTokenVersion"
                       + (", v1Token by default)" if v1 else ")"),
            "valid_in_opt_in_regions": not v1,
            "detail": ("v1 tokens are valid only in Regions enabled by default; in opt-in Regions (e.g. "
                       "ap-east-1) they are rejected as InvalidClientTokenId" if v1
                       else "v2 tokens are valid in all Regions (longer: mind token storage limits)"),
        }
        cloudtrail = {
            "region": "us-east-1",
            "endpointType": "global",
            "awsServingRegion": ("the caller's Region if it calls from a VPC of a Region enabled by default "
                                 "using the Amazon DNS resolver (2025 change), otherwise us-east-1"),
        }
        requested = "us-east-1"
        if configured is not None and configured.opt_in and v1:
            warnings.append(f"{configured.name} is an opt-in Region: v1 tokens from the global endpoint do not "
                            "work there")
        if result.signing_region != GLOBAL_SIGNING_REGION and result.endpoint_type != CUSTOM:
            warnings.append("the global endpoint only accepts requests signed for us-east-1")
    else:
        token = {
            "issued_by": f"Regional endpoint ({where})",
            "version": "Regional (valid in all Regions)",
            "valid_in_opt_in_regions": True,
            "detail": "credentials from a Regional endpoint are valid in every Region the account has enabled",
        }
        cloudtrail = {"region": where, "endpointType": "regional", "awsServingRegion": where}
        requested = where
        known = region(where) if where else None
        if known is not None and known.opt_in:
            warnings.append(f"{where} is an opt-in Region: the account (and, for AssumeRole, the role's account) "
                            "must have enabled it")
    if result.endpoint_type != CUSTOM and not known_host:
        warnings.append("the ruleset builds this host name, but no such STS endpoint is known to exist")
    return {"token": token, "cloudtrail": cloudtrail, "requested_region": requested, "warnings": warnings}
