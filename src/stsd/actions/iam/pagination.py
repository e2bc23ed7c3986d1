"""IAM's ``MaxItems``/``Marker`` pagination, shared by every paginated IAM List* action.

IAM answers at most ``MaxItems`` items (default 100; the model bounds it to 1..1000, checked
by the declared :func:`stsd.iam.api.max_items`); when more exist it answers
``IsTruncated=true`` and a ``Marker`` that the next call passes back. Elements follow the
model's output shape: the list, then ``IsTruncated`` (always present), then ``Marker`` (only
when truncated).

The marker is opaque (URL-safe base64 of a small binary record) and carries no data, only a
position within one listing:

* the index where the next page starts, and a short digest of the sort key of the last item
  the previous page returned (its "anchor");
* a check digest over that position *and* the listing it belongs to: the caller's partition
  and account, the action, and the parameters that select the listing (owner, PathPrefix,
  Scope...).

The account listed is always the authenticated caller's, never something read from the
marker, so a marker cannot reach another account's data; a marker minted for another account,
action, owner or filter fails the check and is refused rather than misapplied. The check is a
plain digest, not a keyed MAC: someone who forges a well-formed marker can only choose a
position within a listing they are allowed to read anyway.

Resuming: when the anchor is still just before the stored index the page starts there; when
items were added or removed before it, the anchor is looked up and the page starts right
after it; when the anchor itself was deleted, the page starts one before the stored index
(where the item that followed the anchor now is).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from stsd.errors import ValidationError
from stsd.protocol.render import Members, Node
from stsd.server.context import RequestContext

T = TypeVar("T")

DEFAULT_MAX_ITEMS = 100

# A marker that does not decode (not ours, corrupted, or from another listing): 400
# ValidationError "Invalid Marker.". NOTE: this exact text is not from a recorded AWS response.
# Real IAM is known to refuse a marker reused across actions ("Invalid Marker" errors reported
# by users passing a ListUsers marker to ListAccessKeys), and other IAM emulators answer
# ValidationError "Invalid Marker."; the code and text here follow that, unverified.
MSG_INVALID_MARKER = "Invalid Marker."

_VERSION = 1
_LAYOUT = struct.Struct(">BI8s")  # version, index of the next item, anchor digest
_CHECK_SIZE = 14  # 27 bytes in all: 36 base64 characters, no padding


def _digest(data: bytes, size: int) -> bytes:
    return hashlib.blake2b(data, digest_size=size, person=b"stsd-iam-marker").digest()


def _anchor(key: str) -> bytes:
    return _digest(key.encode(), 8)


def _check(ctx: RequestContext, action: str, scope: tuple[str, ...], body: bytes) -> bytes:
    caller = ctx.caller()
    listing = "\x00".join((caller.partition, caller.account, action, *scope)).encode()
    return _digest(listing + b"\x01" + body, _CHECK_SIZE)


def _encode(ctx: RequestContext, action: str, scope: tuple[str, ...], index: int, anchor_key: str) -> str:
    body = _LAYOUT.pack(_VERSION, index, _anchor(anchor_key))
    blob = body + _check(ctx, action, scope, body)
    return base64.urlsafe_b64encode(blob).decode()


def _decode(ctx: RequestContext, action: str, scope: tuple[str, ...], marker: str) -> tuple[int, bytes]:
    try:
        blob = base64.urlsafe_b64decode(marker)
    except (binascii.Error, ValueError):
        raise ValidationError(MSG_INVALID_MARKER) from None
    # Only the exact text this server wrote (the decoder skips stray characters).
    if len(blob) != _LAYOUT.size + _CHECK_SIZE or base64.urlsafe_b64encode(blob).decode() != marker:
        raise ValidationError(MSG_INVALID_MARKER)
    body, check = blob[:_LAYOUT.size], blob[_LAYOUT.size:]
    version, index, anchor = _LAYOUT.unpack(body)
    if version != _VERSION or index < 1 or check != _check(ctx, action, scope, body):
        raise ValidationError(MSG_INVALID_MARKER)
    return index, anchor


def _start(items: Sequence[T], key: Callable[[T], str], index: int, anchor: bytes) -> int:
    if index <= len(items) and _anchor(key(items[index - 1])) == anchor:
        return index
    for position, item in enumerate(items):
        if _anchor(key(item)) == anchor:
            return position + 1
    return min(index - 1, len(items))


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    marker: str | None  # None: the listing ends with this page

    def result(self, name: str, render: Callable[[T], Any] | None = None) -> list[Node]:
        """``<name>`` members, ``IsTruncated``, then ``Marker`` when truncated."""
        rows = self.items if render is None else [render(item) for item in self.items]
        return [(name, Members(rows)), ("IsTruncated", self.marker is not None), ("Marker", self.marker)]


def paginate(ctx: RequestContext, params: dict[str, Any], action: str, items: Sequence[T],
             key: Callable[[T], str], *scope: str) -> Page[T]:
    """One page of ``items`` (already in the listing's order) for the request's ``MaxItems``
    and ``Marker``. ``key`` names an item uniquely within the listing; ``scope`` are the
    request values that select the listing (a marker is valid only for the same ones).
    Call it after authorisation, so AccessDenied comes before a marker's errors."""
    start = 0
    marker = params.get("Marker")
    if marker is not None:
        start = _start(items, key, *_decode(ctx, action, scope, marker))
    end = start + params.get("MaxItems", DEFAULT_MAX_ITEMS)
    page = list(items[start:end])
    if end >= len(items):
        return Page(page, None)
    return Page(page, _encode(ctx, action, scope, end, key(page[-1])))
