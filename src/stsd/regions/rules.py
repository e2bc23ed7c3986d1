"""The Region rules applied to every STS request (aws-sts-behaviour.md §3.5–§3.6).

- A caller's credentials exist in an opt-in Region only when the caller's account enabled
  it; elsewhere they are unknown there (InvalidClientTokenId, as AWS answers).
- Credentials are generated at a Regional endpoint only if STS is active in that Region for
  the account that generates them (for AssumeRole: the role's account); in an opt-in Region
  the calling account must have the Region enabled too. Otherwise 403
  RegionDisabledException. The global endpoint cannot be deactivated.
"""

from __future__ import annotations

from stsd.auth.principal import Principal
from stsd.errors import MSG_INVALID_TOKEN, InvalidClientTokenId, RegionDisabled
from stsd.regions import catalogue
from stsd.server.context import RequestContext


def region_disabled_message(account: str) -> str:
    return (
        f"STS is not activated in this region for account:{account}. Your account administrator can "
        "activate STS in this region using the IAM Console."
    )


def check_caller(ctx: RequestContext, caller: Principal) -> None:
    """The caller's credentials must exist where the request is served."""
    region = catalogue.region(ctx.serving_region)
    if region is None or not region.opt_in:
        return
    account = ctx.runtime.directory.account(caller.account)
    if account is None or not account.region_status(region.name, ctx.now).enabled:
        raise InvalidClientTokenId(MSG_INVALID_TOKEN)


def require_sts_active(ctx: RequestContext, *, issuing_account: str, caller_account: str | None) -> None:
    """Raise RegionDisabledException unless this endpoint may issue credentials for
    ``issuing_account`` on behalf of ``caller_account``."""
    if ctx.endpoint.endpoint_type == "global":
        return
    region = catalogue.region(ctx.endpoint.region)
    if region is None:
        return
    accounts = [issuing_account]
    if region.opt_in and caller_account is not None and caller_account != issuing_account:
        accounts.append(caller_account)
    for account_id in accounts:
        account = ctx.runtime.directory.account(account_id)
        if account is None or not account.region_status(region.name, ctx.now).sts_active:
            raise RegionDisabled(region_disabled_message(account_id))
