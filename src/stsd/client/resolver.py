"""Resolve an STS endpoint exactly as boto3/botocore (>= 1.40) would, without botocore.

Pipeline, in botocore's order (the order decides which error wins):

1. Region: parameter, else ``AWS_DEFAULT_REGION``, else the profile's ``region``;
   validated as a host label (InvalidRegionError); the profile must exist
   (ProfileNotFound).
2. Deprecated FIPS pseudo-Regions: ``fips-`` / ``-fips`` are stripped and FIPS is forced on.
3. FIPS / dual-stack flags: parameter, else ``AWS_USE_FIPS_ENDPOINT`` /
   ``AWS_USE_DUALSTACK_ENDPOINT``, else the profile; only "true" (any case) is true.
4. Custom endpoint: parameter, else ``AWS_ENDPOINT_URL_STS``, ``AWS_ENDPOINT_URL``, the
   profile's services section, the profile's ``endpoint_url``.
5. The endpoints.json layer (:mod:`stsd.client.legacy`): client Region (no Region ->
   ``aws-global``), default signing Region, EndpointVariantError.
6. ``sts_regional_endpoints``: parameter > ``AWS_STS_REGIONAL_ENDPOINTS`` > profile >
   ``regional`` (the default since botocore 1.40.0); empty means regional; anything but
   ``legacy``/``regional`` raises InvalidSTSRegionalEndpointsConfigError.
7. The ruleset (:mod:`stsd.client.rules`) with botocore's builtins: FIPS/dual-stack are
   passed as false when a custom endpoint is set, UseGlobalEndpoint is
   ``setting == "legacy" and region in the 16 legacy names``.
8. Signing Region: the rule's authSchemes Region, else the one from step 5; a custom
   endpoint without any Region raises NoRegionError.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from ipaddress import IPv6Address
from typing import Literal
from urllib.parse import urlsplit

from stsd.client.config import DEFAULT, PARAMETER, ConfigSources, ensure_boolean
from stsd.client.errors import (
    EndpointResolutionError,
    InvalidEndpointError,
    InvalidRegionError,
    InvalidSTSRegionalEndpointsConfigError,
    NoRegionError,
    RulesetError,
)
from stsd.client.legacy import resolve_legacy
from stsd.client.rules import GLOBAL_URL, MISSING_REGION, RuleParams, evaluate
from stsd.regions.catalogue import legacy_global_regions, partition_of

__all__ = [
    "EndpointResolutionError",
    "ResolvedEndpoint",
    "resolve_endpoint",
    "sts_regional_endpoints_setting",
]

LEGACY = "legacy"
REGIONAL = "regional"
VALID_SETTINGS = (LEGACY, REGIONAL)
#: botocore >= 1.40.0 (2025-07-31); it was "legacy" before.
DEFAULT_SETTING = REGIONAL

MissingRegionPolicy = Literal["global", "error", "us-east-1"]


@dataclass(frozen=True, kw_only=True)
class ResolvedEndpoint:
    url: str  # as the rules return it: no trailing "/" (custom endpoints verbatim)
    signing_region: str
    signing_name: str = "sts"
    global_endpoint: bool  # https://sts.amazonaws.com
    reason: str  # one line per decision, for humans (``stsd`` explainer)
    region: str | None = None  # the client's Region (botocore's client.meta.region_name)
    partition: str | None = None  # None for custom endpoints
    fips: bool = False  # effective flags passed to the rules
    dualstack: bool = False
    sts_regional_endpoints: str = DEFAULT_SETTING
    sts_regional_endpoints_source: str = DEFAULT  # parameter | env | config | default
    endpoint_source: str = "rules"  # rules | parameter | env | config


# botocore.utils.validate_region_name: a DNS label, not all digits (re.match: "$" also
# matches before a final newline, which the URL check below then rejects).
_REGION_LABEL = re.compile(r"^(?![0-9]+$)(?!-)[a-zA-Z0-9-]{,63}(?<!-)$")
_HOST = re.compile(r"^((?!-)[A-Z\d-]{1,63}(?<!-)\.)*((?!-)[A-Z\d-]{1,63}(?<!-))$", re.IGNORECASE)
_UNSAFE = frozenset("\t\r\n")
_ZONE_ID = re.compile(r"^(?:%25|%)(?:[A-Za-z0-9\-._~]|%[a-fA-F0-9]{2})+$")


def _valid_endpoint_url(url: str) -> bool:
    """botocore's is_valid_endpoint_url / is_valid_ipv6_endpoint_url, re-implemented."""
    if _UNSAFE.intersection(url):
        return False
    try:
        hostname = urlsplit(url).hostname
    except ValueError:
        return False
    if hostname is None or not hostname or len(hostname) > 255:
        return False
    name = hostname[:-1] if hostname.endswith(".") else hostname
    if _HOST.match(name):
        return True
    address, percent, zone = hostname.partition("%")
    try:
        IPv6Address(address)
    except ValueError:
        return False
    return not percent or _ZONE_ID.match("%" + zone) is not None


def _validate_region(region: str) -> None:
    if _REGION_LABEL.match(region) is None:
        raise InvalidRegionError(region)


def _normalise_fips_region(region: str) -> str:
    # botocore.client.ClientCreator._normalize_fips_region, substring for substring.
    return region.replace("fips-", "").replace("-fips", "")


def sts_regional_endpoints_setting(
    value: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    config_file: str | os.PathLike[str] | None = None,
    credentials_file: str | os.PathLike[str] | None = None,
    profile: str | None = None,
) -> tuple[str, str]:
    """The effective ``sts_regional_endpoints`` value and where it came from.

    Returns ``(value, source)`` with source ``parameter``, ``env``, ``config`` or
    ``default``. A set-but-empty value means ``regional``; other values than
    ``legacy``/``regional`` (case-sensitive) raise InvalidSTSRegionalEndpointsConfigError.
    """
    sources = ConfigSources.create(
        env=env, config_file=config_file, credentials_file=credentials_file, profile=profile
    )
    return _setting(sources, value)


def _setting(sources: ConfigSources, parameter: str | None) -> tuple[str, str]:
    raw, source = sources.lookup("sts_regional_endpoints", "AWS_STS_REGIONAL_ENDPOINTS", parameter)
    value = raw or DEFAULT_SETTING
    if value not in VALID_SETTINGS:
        raise InvalidSTSRegionalEndpointsConfigError(value)
    return value, source


def _flag(sources: ConfigSources, key: str, env_var: str, parameter: bool | None) -> bool:
    if parameter is not None:
        return parameter
    value, _ = sources.lookup(key, env_var)
    return ensure_boolean(value)


def resolve_endpoint(
    *,
    region: str | None,
    use_fips: bool | None = None,
    use_dualstack: bool | None = None,
    endpoint_url: str | None = None,
    sts_regional_endpoints: str | None = None,
    env: Mapping[str, str] | None = None,
    config_file: str | os.PathLike[str] | None = None,
    profile: str | None = None,
    credentials_file: str | os.PathLike[str] | None = None,
    missing_region: MissingRegionPolicy = "global",
) -> ResolvedEndpoint:
    """The STS endpoint and signing Region a boto3 STS client would use.

    ``None`` for ``region``, ``use_fips``, ``use_dualstack``, ``endpoint_url`` and
    ``sts_regional_endpoints`` means "not given here": the value is looked up in ``env``
    (default ``os.environ``) and the shared config files, as botocore does.
    ``missing_region`` picks what happens when no Region is found anywhere: ``global``
    (botocore, AWS CLI), ``error`` (Go v2, JS v3: "Invalid Configuration: Missing Region")
    or ``us-east-1`` (C++ SDK, JS v3 credential providers).
    """
    sources = ConfigSources.create(
        env=env, config_file=config_file, credentials_file=credentials_file, profile=profile
    )
    why: list[str] = []

    # 1. Region, then the profile must exist (botocore touches it right after).
    if region is not None:
        region_source = PARAMETER
    else:
        region, region_source = sources.lookup("region", "AWS_DEFAULT_REGION")
    if region is not None:
        _validate_region(region)
    sources.scoped()
    if region is not None:
        why.append(f"Region {region!r} from {region_source}")

    # 2. Deprecated FIPS pseudo-Regions.
    forced_fips = False
    if region is not None:
        normalised = _normalise_fips_region(region)
        if normalised != region:
            why.append(f"FIPS pseudo-Region {region!r}: Region {normalised!r} with FIPS forced on")
            region, forced_fips = normalised, True

    # 3. Variant flags.
    fips = (
        True
        if forced_fips
        else _flag(sources, "use_fips_endpoint", "AWS_USE_FIPS_ENDPOINT", use_fips)
    )
    dualstack = _flag(
        sources, "use_dualstack_endpoint", "AWS_USE_DUALSTACK_ENDPOINT", use_dualstack
    )

    # 4. Custom endpoint.
    if endpoint_url is not None:
        endpoint_source = PARAMETER
    else:
        endpoint_url, endpoint_source = sources.configured_endpoint_url()
        if endpoint_url is None:
            endpoint_source = "rules"

    if region is None:
        if missing_region == "error" and endpoint_url is None:
            raise RulesetError(MISSING_REGION)
        if missing_region == "us-east-1":
            region = "us-east-1"
            why.append("no Region configured: using us-east-1 (missing_region policy)")
        elif endpoint_url is None:
            why.append("no Region configured: botocore uses the STS partition endpoint aws-global")

    # 5. endpoints.json layer.
    legacy = resolve_legacy(region, fips=fips, dualstack=dualstack, endpoint_url=endpoint_url)

    # 6./7. The setting is read early unless a custom endpoint or a variant is in play
    # (then only after the URL check) - which decides between two errors, as in botocore.
    setting: tuple[str, str] | None = None
    if not endpoint_url and not fips and not dualstack:  # botocore: `if endpoint_url or has_variant_tags`
        setting = _setting(sources, sts_regional_endpoints)
    checked_url = endpoint_url if endpoint_url is not None else legacy.url
    if checked_url is not None and not _valid_endpoint_url(checked_url):
        raise InvalidEndpointError(checked_url)
    if setting is None:
        setting = _setting(sources, sts_regional_endpoints)
    value, setting_source = setting

    client_region = legacy.region_name
    custom = endpoint_url or None  # botocore passes only a non-empty URL to the rules
    use_global = value == LEGACY and client_region in legacy_global_regions()
    result = evaluate(
        RuleParams(
            region=client_region,
            use_fips=fips and custom is None,
            use_dualstack=dualstack and custom is None,
            endpoint=custom,
            use_global_endpoint=use_global,
        )
    )

    # 8. Signing Region.
    signing_region = result.signing_region or legacy.signing_region
    if signing_region is None:
        raise NoRegionError()

    why.append(f"sts_regional_endpoints={value} ({setting_source})")
    why.append(_explain(result.branch, client_region, value, endpoint_source))
    return ResolvedEndpoint(
        url=result.url,
        signing_region=signing_region,
        global_endpoint=custom is None and result.url == GLOBAL_URL,
        reason="; ".join(why),
        region=client_region,
        partition=None if custom else partition_of(client_region or "").id,
        fips=fips and custom is None,
        dualstack=dualstack and custom is None,
        sts_regional_endpoints=value,
        sts_regional_endpoints_source=setting_source,
        endpoint_source=endpoint_source,
    )


def _explain(branch: str, region: str | None, setting: str, endpoint_source: str) -> str:
    return {
        "legacy-global": f"legacy mode and {region} is in the legacy list: global endpoint",
        "legacy-regional": f"legacy mode but {region} is not in the legacy list: regional endpoint",
        "custom-endpoint": f"custom endpoint from {endpoint_source}: used verbatim",
        "fips-dualstack": "FIPS and dual-stack endpoint",
        "fips": "FIPS endpoint",
        "dualstack": "dual-stack endpoint",
        "aws-global": "Region aws-global: global endpoint",
        "regional": f"regional endpoint of {region}",
    }.get(branch, branch)
