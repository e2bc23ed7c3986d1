"""IAM OpenID Connect identity providers: CreateOpenIDConnectProvider,
GetOpenIDConnectProvider, ListOpenIDConnectProviders, DeleteOpenIDConnectProvider,
AddClientIDToOpenIDConnectProvider, RemoveClientIDFromOpenIDConnectProvider,
UpdateOpenIDConnectProviderThumbprint.

A provider is named by its issuer URL without ``https://`` (host and optional path), which is
what its ARN ends with: ``arn:aws:iam::<account>:oidc-provider/<host/path>``. IAM does not
normalise the URL (a trailing slash or another case is another provider). Texts and statuses
are IAM's as recorded against AWS in LocalStack's AWS-validated
``tests/aws/services/iam/test_iam_oidc.snapshot.json`` (2026):

* ``Url`` not ``https://…``: 400 ValidationError "Invalid Open ID Connect Provider URL";
* same URL twice: 409 EntityAlreadyExists "Provider with url <Url> already exists.";
* more than 5 thumbprints: 400 InvalidInput "Thumbprint list must contain fewer than 5 entries."
  (sic: 5 are accepted);
* more than 100 client ids: 409 LimitExceeded "Cannot exceed quota for
  ClientIdsPerOpenIdConnectProvider: 100";
* list members of the wrong length: one validation clause per list, naming every constraint
  of its members (``Member must satisfy constraint: [...]``), clauses in member-name order;
* a missing provider: 404 NoSuchEntity "OpenIDConnect Provider not found for arn <arn>"
  (Get), "OpenId connect Provider <arn> cannot be found." (Delete).

``ThumbprintList`` is optional since 2024 (IAM then relies on its library of trusted CAs). Its
members are 40 characters (the model sets no pattern); stsd uses them when the issuer's
certificate chain does not verify against the trust store (see :mod:`stsd.sts.oidc`).
Get/List read the in-memory snapshot; the writes run in a worker thread (``write=True``).
"""

from __future__ import annotations

import re
from typing import Any

from stsd import ids
from stsd.errors import InvalidInput, LimitExceeded, NoSuchEntity, ValidationError
from stsd.iam import api
from stsd.protocol.params import Str, StrList, validation_error
from stsd.protocol.render import Members, Node
from stsd.server.context import RequestContext
from stsd.store.directory import AccountView, OidcProviderView
from stsd.store.iam import MSG_OIDC_CLIENT_IDS, MSG_OIDC_NOT_FOUND, MSG_OIDC_NOT_FOUND_DELETE, OIDC_CLIENT_IDS

MAX_THUMBPRINTS = 5
MSG_BAD_URL = "Invalid Open ID Connect Provider URL"
MSG_THUMBPRINTS = "Thumbprint list must contain fewer than 5 entries."

# Lengths of Url and of the list members are checked by :func:`_model_checks`, which writes
# AWS's combined message; the declarations carry no bounds so the generic checks stay quiet.
URL = Str("Url", "url", required=True)
CLIENT_IDS = StrList("ClientIDList", "clientIDList", Str("member", "member"))
THUMBPRINTS = StrList("ThumbprintList", "thumbprintList", Str("member", "member"))
PROVIDER_ARN = Str("OpenIDConnectProviderArn", "openIDConnectProviderArn", required=True, min=20, max=2048)
CLIENT_ID = Str("ClientID", "clientID", required=True, min=1, max=255)

_LIST_RULES = {  # wire name → (member, min, max) of the members' own shapes
    "ClientIDList": ("clientIDList", 1, 255),
    "ThumbprintList": ("thumbprintList", 40, 40),
}
# After ``https://``: a host (letters, digits, dots, dashes; an IPv6 literal in brackets), an
# optional port, an optional path. No query, no fragment, no user info, no spaces.
_URL_TAIL = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?(?:/[^\s?#@]*)?", re.ASCII
)


def _model_checks(params: dict[str, Any]) -> None:
    problems: list[tuple[str, str]] = []
    for wire, (member, low, high) in _LIST_RULES.items():
        values = params.get(wire)
        if values and any(not low <= len(v) <= high for v in values):
            problems.append((member, f"Value at '{member}' failed to satisfy constraint: Member must satisfy "
                                     f"constraint: [Member must have length less than or equal to {high}, "
                                     f"Member must have length greater than or equal to {low}]"))
    url = params.get("Url")
    if url is not None and len(url) > 255:
        problems.append(("url", "Value at 'url' failed to satisfy constraint: Member must have length less than "
                                "or equal to 255"))
    elif url is not None and not url:
        problems.append(("url", "Value at 'url' failed to satisfy constraint: Member must have length greater "
                                "than or equal to 1"))
    if problems:
        raise validation_error([text for _member, text in sorted(problems)])


def issuer_key(url: str) -> str | None:
    """The provider's name (its ARN's tail) for a ``Url``; None when IAM refuses the URL."""
    if not url.startswith("https://"):
        return None
    tail = url[len("https://"):]
    return tail if _URL_TAIL.fullmatch(tail) else None


def provider_arn(ctx: RequestContext, key: str) -> str:
    caller = ctx.caller()
    return ids.iam_arn(caller.partition, caller.account, f"oidc-provider/{key}")


def _key_of(ctx: RequestContext, arn: str) -> str | None:
    """The provider name an ARN names in the caller's account (None: not a provider of it)."""
    parts = ids.split_arn(arn)
    if parts is None:
        return None
    partition, service, region, account, resource = parts
    caller = ctx.caller()
    if (service != "iam" or region or account != caller.account or partition != caller.partition
            or not resource.startswith("oidc-provider/")):
        return None
    return resource[len("oidc-provider/"):] or None


def _require(account: AccountView, key: str | None, arn: str) -> OidcProviderView:
    provider = account.oidc_provider(key) if key else None
    if provider is None:
        raise NoSuchEntity(MSG_OIDC_NOT_FOUND.format(arn=arn))
    return provider


def _thumbprint_count(thumbprints: list[str]) -> None:
    if len(thumbprints) > MAX_THUMBPRINTS:
        raise InvalidInput(MSG_THUMBPRINTS)


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def create(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    _model_checks(params)
    url: str = params["Url"]
    key = issuer_key(url)
    arn = provider_arn(ctx, key) if key else ids.iam_arn(ctx.caller().partition, ctx.caller().account,
                                                           "oidc-provider/*")
    api.authorize(ctx, "iam:CreateOpenIDConnectProvider", arn, request_tags=api.tag_list(params))
    if key is None:
        raise ValidationError(MSG_BAD_URL)
    thumbprints = list(params.get("ThumbprintList", []))
    _thumbprint_count(thumbprints)
    client_ids = _unique(list(params.get("ClientIDList", [])))
    if len(client_ids) > OIDC_CLIENT_IDS:
        raise LimitExceeded(MSG_OIDC_CLIENT_IDS)
    tags = api.tag_list(params)
    ctx.runtime.iam.create_oidc_provider(ctx.caller().account, key, url, client_ids, thumbprints, tags)
    return [("OpenIDConnectProviderArn", arn), ("Tags", api.tags_node(tuple((t["Key"], t["Value"]) for t in tags)))]


def get(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    arn: str = params["OpenIDConnectProviderArn"]
    account = api.authorize(ctx, "iam:GetOpenIDConnectProvider", arn)
    provider = _require(account, _key_of(ctx, arn), arn)
    return [
        ("Url", provider.url),  # without https://, as IAM answers
        ("ClientIDList", Members(list(provider.client_ids))),
        ("ThumbprintList", Members(list(provider.thumbprints))),
        ("CreateDate", provider.created_at),
        ("Tags", Members([[("Key", k), ("Value", v)] for k, v in provider.tags])),
    ]


def list_providers(ctx: RequestContext, _params: dict[str, Any]) -> list[Node]:
    account = api.authorize(ctx, "iam:ListOpenIDConnectProviders", "*")
    providers = sorted(account.oidc_providers.values(), key=lambda p: p.arn)
    return [("OpenIDConnectProviderList", Members([[("Arn", p.arn)] for p in providers]))]


def delete(ctx: RequestContext, params: dict[str, Any]) -> None:
    arn: str = params["OpenIDConnectProviderArn"]
    api.authorize(ctx, "iam:DeleteOpenIDConnectProvider", arn)
    key = _key_of(ctx, arn)
    if key is None:
        raise NoSuchEntity(MSG_OIDC_NOT_FOUND_DELETE.format(arn=arn))
    ctx.runtime.iam.delete_oidc_provider(ctx.caller().account, key, arn)


def add_client_id(ctx: RequestContext, params: dict[str, Any]) -> None:
    arn: str = params["OpenIDConnectProviderArn"]
    api.authorize(ctx, "iam:AddClientIDToOpenIDConnectProvider", arn)
    key = _key_of(ctx, arn)
    if key is None:
        raise NoSuchEntity(MSG_OIDC_NOT_FOUND.format(arn=arn))
    ctx.runtime.iam.add_oidc_client_id(ctx.caller().account, key, arn, params["ClientID"])


def remove_client_id(ctx: RequestContext, params: dict[str, Any]) -> None:
    arn: str = params["OpenIDConnectProviderArn"]
    api.authorize(ctx, "iam:RemoveClientIDFromOpenIDConnectProvider", arn)
    key = _key_of(ctx, arn)
    if key is None:
        raise NoSuchEntity(MSG_OIDC_NOT_FOUND.format(arn=arn))
    ctx.runtime.iam.remove_oidc_client_id(ctx.caller().account, key, arn, params["ClientID"])


def update_thumbprint(ctx: RequestContext, params: dict[str, Any]) -> None:
    _model_checks(params)
    arn: str = params["OpenIDConnectProviderArn"]
    api.authorize(ctx, "iam:UpdateOpenIDConnectProviderThumbprint", arn)
    thumbprints = list(params["ThumbprintList"])
    _thumbprint_count(thumbprints)
    key = _key_of(ctx, arn)
    if key is None:
        raise NoSuchEntity(MSG_OIDC_NOT_FOUND.format(arn=arn))
    ctx.runtime.iam.update_oidc_thumbprints(ctx.caller().account, key, arn, thumbprints)


ACTIONS = (
    api.action("CreateOpenIDConnectProvider", (URL, CLIENT_IDS, THUMBPRINTS, api.TAGS), create, write=True),
    api.action("GetOpenIDConnectProvider", (PROVIDER_ARN,), get),
    api.action("ListOpenIDConnectProviders", (), list_providers),
    api.action("DeleteOpenIDConnectProvider", (PROVIDER_ARN,), delete, write=True),
    api.action("AddClientIDToOpenIDConnectProvider", (PROVIDER_ARN, CLIENT_ID), add_client_id, write=True),
    api.action("RemoveClientIDFromOpenIDConnectProvider", (PROVIDER_ARN, CLIENT_ID), remove_client_id, write=True),
    api.action("UpdateOpenIDConnectProviderThumbprint",
               (PROVIDER_ARN, StrList("ThumbprintList", "thumbprintList", Str("member", "member"), required=True)),
               update_thumbprint, write=True),
)
