"""The STS endpoint ruleset (``endpoint-rule-set-1.json``), transcribed rule by rule.

This is the layer the 69 official test vectors exercise: inputs are the ruleset
parameters (Region, UseFIPS, UseDualStack, Endpoint, UseGlobalEndpoint), outputs a URL
plus the auth-scheme signing Region when the rule sets one. Partition facts come from
stsd's shipped catalogue. SDK behaviour *around* the rules (where the parameters come
from) lives in :mod:`stsd.client.resolver`.
"""

from __future__ import annotations

from dataclasses import dataclass

from stsd.client.errors import RulesetError
from stsd.regions.catalogue import GLOBAL_SIGNING_REGION, legacy_global_regions, partition_of

GLOBAL_URL = "https://sts.amazonaws.com"

MISSING_REGION = "Invalid Configuration: Missing Region"
FIPS_AND_CUSTOM = "Invalid Configuration: FIPS and custom endpoint are not supported"
DUALSTACK_AND_CUSTOM = "Invalid Configuration: Dualstack and custom endpoint are not supported"
NO_FIPS_DUALSTACK = (
    "FIPS and DualStack are enabled, but this partition does not support one or both"
)
NO_FIPS = "FIPS is enabled but this partition does not support FIPS"
NO_DUALSTACK = "DualStack is enabled but this partition does not support DualStack"


@dataclass(frozen=True, slots=True)
class RuleParams:
    region: str | None = None
    use_fips: bool = False
    use_dualstack: bool = False
    endpoint: str | None = None
    use_global_endpoint: bool = False


@dataclass(frozen=True, slots=True)
class RuleEndpoint:
    url: str
    # From the rule's ``authSchemes`` (sigv4, signingName sts); None when the rule sets no
    # auth properties and the SDK signs with the client's Region.
    signing_region: str | None = None
    branch: str = ""  # which rule matched, for explanations


def _signed(url: str, signing_region: str, branch: str) -> RuleEndpoint:
    return RuleEndpoint(url=url, signing_region=signing_region, branch=branch)


def evaluate(params: RuleParams) -> RuleEndpoint:
    """Evaluate the ruleset top to bottom; first matching rule wins (RulesetError on error rules).

    ``isSet`` in the rules means "not None", so an empty-string Region counts as set.
    """
    region = params.region
    # 1. SDK "legacy" mode: UseGlobalEndpoint, no custom endpoint, Region set, no variants.
    #    The partition is resolved (always succeeds) but not checked.
    if (
        params.use_global_endpoint
        and params.endpoint is None
        and region is not None
        and not params.use_fips
        and not params.use_dualstack
    ):
        p = partition_of(region)
        if region in legacy_global_regions():
            return _signed(GLOBAL_URL, GLOBAL_SIGNING_REGION, "legacy-global")
        return _signed(f"https://sts.{region}.{p.dns_suffix}", region, "legacy-regional")

    # 2. Custom endpoint: used verbatim; cannot be combined with FIPS or dual-stack.
    if params.endpoint is not None:
        if params.use_fips:
            raise RulesetError(FIPS_AND_CUSTOM)
        if params.use_dualstack:
            raise RulesetError(DUALSTACK_AND_CUSTOM)
        return RuleEndpoint(url=params.endpoint, branch="custom-endpoint")

    # 3. Region-derived endpoints.
    if region is not None:
        p = partition_of(region)
        if params.use_fips and params.use_dualstack:
            if p.supports_fips and p.supports_dual_stack:
                return RuleEndpoint(
                    url=f"https://sts-fips.{region}.{p.dual_stack_dns_suffix}",
                    branch="fips-dualstack",
                )
            raise RulesetError(NO_FIPS_DUALSTACK)
        if params.use_fips:
            if p.supports_fips:
                if p.sts_fips_uses_standard_host:  # the rule tests name == "aws-us-gov"
                    return RuleEndpoint(url=f"https://sts.{region}.amazonaws.com", branch="fips")
                return RuleEndpoint(url=f"https://sts-fips.{region}.{p.dns_suffix}", branch="fips")
            raise RulesetError(NO_FIPS)
        if params.use_dualstack:
            if p.supports_dual_stack:
                return RuleEndpoint(
                    url=f"https://sts.{region}.{p.dual_stack_dns_suffix}", branch="dualstack"
                )
            raise RulesetError(NO_DUALSTACK)
        if region == "aws-global":
            return _signed(GLOBAL_URL, GLOBAL_SIGNING_REGION, "aws-global")
        return RuleEndpoint(url=f"https://sts.{region}.{p.dns_suffix}", branch="regional")

    # 4. Nothing to go on.
    raise RulesetError(MISSING_REGION)
