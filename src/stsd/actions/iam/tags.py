"""IAM tagging: Tag/Untag/List{Role,User,Policy,OpenIDConnectProvider}Tags.

Rules, as IAM has them (texts recorded against AWS in LocalStack's AWS-validated
``tests/aws/services/iam/test_iam_roles.snapshot.json``, 2026, unless marked otherwise):

* ``Tags`` is validated by the model (1..128-character keys, 0..256-character values of
  ``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]``, at most 50 per request: ``Value at 'tags' failed to
  satisfy constraint: Member must have length less than or equal to 50``), before the entity
  is looked up: a bad request about a missing role is a ValidationError, not NoSuchEntity;
* ``TagKeys`` (at most 50) states all the member constraints in one clause, whichever failed:
  ``Value at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: [...]``;
* two keys that differ only in case in one request: 400 InvalidInput "Duplicate tag keys
  found. Please note that Tag keys are case insensitive." (:func:`stsd.iam.api.check_tags`,
  which also refuses the reserved ``aws:`` prefix);
* a missing role or user: 404 NoSuchEntity "The role with name X cannot be found." (Tag,
  Untag and List alike); a missing customer managed policy: "Policy ARN was not found." (the
  GetPolicy text); a missing OIDC provider: GetOpenIDConnectProvider's text (recorded for Get
  only, used for these calls too, as for the provider's other calls);
* a tag whose key is already there replaces it (users and roles: in any case of the key);
  the resource may hold 50 tags, more is 409 LimitExceeded (see :mod:`stsd.store.iam`);
* untagging keys the resource does not have is not an error;
* List*Tags: the tags in the order they were added, paginated with ``MaxItems``/``Marker``
  (:mod:`stsd.actions.iam.pagination`), then ``IsTruncated`` and ``Marker``.

Authorisation is ``iam:<Action>`` on the resource's ARN (a role's or user's ARN includes its
path). Writes run in a worker thread and bump the account's generation, so the next request
sees the new tags as aws:PrincipalTag/aws:ResourceTag.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from stsd.actions.base import Action
from stsd.actions.iam import managed_policies, oidc_providers
from stsd.actions.iam.pagination import paginate
from stsd.errors import NoSuchEntity
from stsd.iam import api
from stsd.protocol.params import Str, StrList, tag_chars, validation_error
from stsd.protocol.render import Node
from stsd.server.context import RequestContext
from stsd.store.iam import CASE_INSENSITIVE_TAGS, MSG_OIDC_NOT_FOUND, MSG_POLICY_NOT_FOUND

MAX_TAG_KEYS = 50
TAG_KEY_PATTERN = "[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+"
# The members are checked by :func:`_check_tag_keys`, which writes IAM's combined clause; the
# declaration carries no bounds so the generic per-member checks stay quiet.
TAG_KEYS = StrList("TagKeys", "tagKeys", Str("member", "member"), required=True)
MSG_TAG_KEYS_MEMBER = (
    "Value at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: [Member must have length "
    f"less than or equal to 128, Member must have length greater than or equal to 1, Member must satisfy regular "
    f"expression pattern: {TAG_KEY_PATTERN}, Member must not be null]"
)
MSG_TAG_KEYS_COUNT = (
    f"Value at 'tagKeys' failed to satisfy constraint: Member must have length less than or equal to {MAX_TAG_KEYS}"
)
POLICY_ARN = api.policy_arn()
PROVIDER_ARN = oidc_providers.PROVIDER_ARN


# ``Tags`` as the create calls declare it, but required (Tag* calls must name some).
TAGS = dataclasses.replace(api.TAGS, required=True)


def _user_name() -> Str:
    """``existingUserNameType``: the Tag/Untag/ListUserTags calls accept up to 128 characters."""
    return Str("UserName", "userName", required=True, min=1, max=128)


def _check_tag_keys(params: dict[str, Any]) -> None:
    keys = params.get("TagKeys")
    if keys is None:
        return
    problems = []
    if any(not 1 <= len(k) <= 128 or not tag_chars(k) for k in keys):
        problems.append(MSG_TAG_KEYS_MEMBER)
    if len(keys) > MAX_TAG_KEYS:
        problems.append(MSG_TAG_KEYS_COUNT)
    if problems:
        raise validation_error(problems)


def _tags_page(ctx: RequestContext, params: dict[str, Any], action: str, kind: str,
               tags: tuple[tuple[str, str], ...], scope: str) -> list[Node]:
    fold = str.lower if kind in CASE_INSENSITIVE_TAGS else str
    page = paginate(ctx, params, action, list(tags), lambda t: fold(t[0]), scope)
    return page.result("Tags", lambda t: [("Key", t[0]), ("Value", t[1])])


# --- roles and users ----------------------------------------------------------------------
def _owner_actions(kind: str, title: str, name_param: Any) -> tuple[Action, ...]:
    wire = f"{title}Name"

    def require(ctx: RequestContext, action: str, name: str) -> Any:
        account = api.authorize(ctx, action, *api.target(ctx, kind, name))
        return api.require_role(account, name) if kind == "role" else api.require_user(account, name)

    def tag(ctx: RequestContext, params: dict[str, Any]) -> None:
        name = params[wire]
        api.authorize(ctx, f"iam:Tag{title}", *api.target(ctx, kind, name), request_tags=api.tag_list(params))
        ctx.runtime.iam.tag_owner(ctx.caller().account, kind, name, api.tag_list(params))

    def untag(ctx: RequestContext, params: dict[str, Any]) -> None:
        name = params[wire]
        api.authorize(ctx, f"iam:Untag{title}", *api.target(ctx, kind, name), tag_keys=params["TagKeys"])
        ctx.runtime.iam.untag_owner(ctx.caller().account, kind, name, list(params["TagKeys"]))

    def list_tags(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
        owner = require(ctx, f"iam:List{title}Tags", params[wire])
        return _tags_page(ctx, params, f"List{title}Tags", kind, owner.tags, owner.name.lower())

    return (
        api.action(f"Tag{title}", (name_param(), TAGS), tag, write=True),
        api.action(f"Untag{title}", (name_param(), TAG_KEYS), untag, write=True, model_check=_check_tag_keys),
        api.action(f"List{title}Tags", (name_param(), api.marker(), api.max_items()), list_tags),
    )


# --- customer managed policies ------------------------------------------------------------
def _shown(arn: str) -> str:
    return f"policy {arn}"


def tag_policy(ctx: RequestContext, params: dict[str, Any]) -> None:
    arn = params["PolicyArn"]
    api.authorize(ctx, "iam:TagPolicy", arn, _shown(arn), request_tags=api.tag_list(params))
    ctx.runtime.iam.tag_policy(ctx.caller().account, arn, api.tag_list(params))


def untag_policy(ctx: RequestContext, params: dict[str, Any]) -> None:
    arn = params["PolicyArn"]
    api.authorize(ctx, "iam:UntagPolicy", arn, _shown(arn), tag_keys=params["TagKeys"])
    ctx.runtime.iam.untag_policy(ctx.caller().account, arn, list(params["TagKeys"]))


def list_policy_tags(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    arn = params["PolicyArn"]
    api.authorize(ctx, "iam:ListPolicyTags", arn, _shown(arn))
    policy = managed_policies._visible(ctx, arn)  # the caller's own or AWS-managed, as GetPolicy
    if policy is None:
        raise NoSuchEntity(MSG_POLICY_NOT_FOUND.format(arn=arn))
    return _tags_page(ctx, params, "ListPolicyTags", "policy", policy.tags, arn)


# --- OpenID Connect providers -------------------------------------------------------------
def _provider_key(ctx: RequestContext, arn: str) -> str:
    key = oidc_providers._key_of(ctx, arn)
    if key is None:
        raise NoSuchEntity(MSG_OIDC_NOT_FOUND.format(arn=arn))
    return key


def tag_provider(ctx: RequestContext, params: dict[str, Any]) -> None:
    arn = params["OpenIDConnectProviderArn"]
    api.authorize(ctx, "iam:TagOpenIDConnectProvider", arn, request_tags=api.tag_list(params))
    ctx.runtime.iam.tag_oidc_provider(ctx.caller().account, _provider_key(ctx, arn), arn, api.tag_list(params))


def untag_provider(ctx: RequestContext, params: dict[str, Any]) -> None:
    arn = params["OpenIDConnectProviderArn"]
    api.authorize(ctx, "iam:UntagOpenIDConnectProvider", arn, tag_keys=params["TagKeys"])
    ctx.runtime.iam.untag_oidc_provider(ctx.caller().account, _provider_key(ctx, arn), arn,
                                        list(params["TagKeys"]))


def list_provider_tags(ctx: RequestContext, params: dict[str, Any]) -> list[Node]:
    arn = params["OpenIDConnectProviderArn"]
    account = api.authorize(ctx, "iam:ListOpenIDConnectProviderTags", arn)
    provider = account.oidc_provider(_provider_key(ctx, arn))
    if provider is None:
        raise NoSuchEntity(MSG_OIDC_NOT_FOUND.format(arn=arn))
    return _tags_page(ctx, params, "ListOpenIDConnectProviderTags", "oidc-provider", provider.tags, arn)


ACTIONS = (
    *_owner_actions("role", "Role", api.role_name),
    *_owner_actions("user", "User", _user_name),
    api.action("TagPolicy", (POLICY_ARN, TAGS), tag_policy, write=True),
    api.action("UntagPolicy", (POLICY_ARN, TAG_KEYS), untag_policy, write=True, model_check=_check_tag_keys),
    api.action("ListPolicyTags", (POLICY_ARN, api.marker(), api.max_items()), list_policy_tags),
    api.action("TagOpenIDConnectProvider", (PROVIDER_ARN, TAGS), tag_provider, write=True),
    api.action("UntagOpenIDConnectProvider", (PROVIDER_ARN, TAG_KEYS), untag_provider, write=True,
               model_check=_check_tag_keys),
    api.action("ListOpenIDConnectProviderTags", (PROVIDER_ARN, api.marker(), api.max_items()), list_provider_tags),
)
