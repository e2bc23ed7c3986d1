"""The hot path assembles condition contexts from normalised parts; the result must equal
normalising the merged mapping in one go (``Request(...)``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stsd.auth import authorize
from stsd.policy.conditions import merge_context, normalize_context
from stsd.policy.model import Request
from stsd.regions.endpoints import global_endpoint, regional_endpoint
from stsd.server.context import RequestContext

keys = st.sampled_from(["aws:SourceIp", "AWS:SOURCEIP", "sts:ExternalId", "aws:TagKeys", "aws:RequestTag/Team",
                        "aws:MultiFactorAuthPresent", "sts:RoleSessionName"])
values = st.one_of(st.none(), st.text(max_size=5), st.booleans(), st.integers(),
                   st.lists(st.text(max_size=3), max_size=3), st.tuples(st.text(max_size=3)))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, values, max_size=6), st.dictionaries(keys, values, max_size=6))
def test_merge_matches_normalising_the_merged_mapping(base: dict, extra: dict) -> None:
    merged: dict[str, object] = {}
    for mapping in (base, extra):
        for key, value in mapping.items():
            merged = {k: v for k, v in merged.items() if k.lower() != key.lower()} | {key: value}
    ctx = normalize_context(base)
    merge_context(ctx, extra)
    assert ctx == normalize_context(merged)


def test_prepared_request_equals_the_normalising_constructor() -> None:
    context = {"aws:SourceIp": "10.0.0.1", "aws:TagKeys": ["a", "b"], "sts:ExternalId": None}
    built = Request("sts:AssumeRole", "arn:AWS:iam::123456789012:role/R", None, context)
    prepared = Request.prepared("sts:AssumeRole", "arn:AWS:iam::123456789012:role/R", None,
                                normalize_context(context))
    assert prepared._ctx == built._ctx == {"aws:sourceip": "10.0.0.1", "aws:tagkeys": ("a", "b")}
    assert prepared._action_lc == built._action_lc == "sts:assumerole"
    assert prepared._resource_norm == built._resource_norm == "arn:aws:iam::123456789012:role/R"
    # prepared() sets every slot itself: a field added to Request must be added there too.
    assert all(hasattr(prepared, name) for name in Request.__slots__)


@pytest.mark.parametrize("source_ip", ["192.0.2.7", "", None])
@pytest.mark.parametrize("endpoint", [global_endpoint(), regional_endpoint("eu-west-1")])
def test_request_keys_are_normalised_once_as_normalize_context_would(source_ip: str | None, endpoint) -> None:
    ctx = RequestContext(runtime=None, request_id="r", now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),  # type: ignore[arg-type]
                         endpoint=endpoint, serving_region="eu-west-1", source_ip=source_ip,  # type: ignore[arg-type]
                         user_agent="Boto3/1.44.5", host="sts.amazonaws.com", secure=False)
    assert authorize._request_context(ctx) == normalize_context(authorize._request_keys(ctx))
    assert ctx.condition_keys is authorize._request_context(ctx)  # computed once per request
