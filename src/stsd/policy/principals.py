"""The Principal / NotPrincipal element: validation, exact-set matching and grant levels.

AWS never matches principals by wildcard ("You cannot use a wildcard to match part of a
principal name or ARN"), so every entry lands in a frozenset and matching is set lookups.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from stsd.errors import AwsError, MalformedPolicyDocument
from stsd.policy import messages as msg

PRINCIPAL_TYPES = ("AWS", "Service", "Federated", "CanonicalUser")
PARTITIONS = (
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
)
_P = "|".join(re.escape(p) for p in PARTITIONS)
_ACCOUNT = re.compile(r"\d{12}", re.ASCII)
_ROOT = re.compile(rf"arn:(?:{_P}):iam::(\d{{12}}):root", re.ASCII)
_AWS_ARN = re.compile(
    rf"arn:(?:{_P}):(?:iam::(?:\d{{12}}|cloudfront):(?:user|role)/[^*?]+"
    rf"|sts::\d{{12}}:(?:assumed-role/[^/*?]+/[^*?]+|federated-user/[^*?]+))",
    re.ASCII,
)
# Unique ids IAM stores in place of deleted users/roles (AIDA..., AROA...).
_UNIQUE_ID = re.compile(r"A(?:IDA|ROA)[A-Z0-9]{10,}", re.ASCII)
_SERVICE = re.compile(
    r"[a-z0-9][a-z0-9.-]*\.(?:amazonaws\.com(?:\.cn)?|amazon\.com|api\.aws|c2s\.ic\.gov|sc2s\.sgov\.gov)",
    re.ASCII,
)


# How strongly a statement's Principal names the caller (higher wins). Plain ints, not an
# enum: they are compared on every evaluation.
NONE = 0
ACCOUNT = 1  # the caller's account: delegates to the caller's identity policies
ROLE = 2  # the role (or federating user) behind the caller's session
PUBLIC = 3  # "*" / {"AWS": "*"} / an Allow with NotPrincipal
PRINCIPAL = 4  # the caller itself: user ARN, session ARN, service, IdP


@dataclass(frozen=True, slots=True)
class PrincipalRef:
    """Who is asking. ``arns`` lists every ARN a Principal element may name for this caller;
    ARNs in the ``sts`` service are the session itself, the ``iam`` ones its role or user."""

    account: str
    arns: frozenset[str]
    service: str | None = None
    federated: str | None = None
    unique_id: str | None = None
    _direct: frozenset[str] = field(init=False, repr=False, compare=False)
    _parents: frozenset[str] = field(init=False, repr=False, compare=False)
    _is_session: bool = field(init=False, repr=False, compare=False)
    _is_root: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        arns = frozenset(self.arns)
        object.__setattr__(self, "arns", arns)
        sessions = frozenset(a for a in arns if a.split(":", 3)[2:3] == ["sts"])
        is_session = bool(sessions)
        object.__setattr__(self, "_is_session", is_session)
        object.__setattr__(self, "_direct", sessions if is_session else arns)
        object.__setattr__(self, "_parents", arns - sessions if is_session else frozenset())
        root = any((m := _ROOT.fullmatch(a)) is not None and m.group(1) == self.account for a in arns)
        object.__setattr__(self, "_is_root", root)

    @property
    def is_root(self) -> bool:
        """The account's root user (full access; no boundaries or session policies)."""
        return self._is_root


def _invalid(kind: str, value: object) -> AwsError:
    return MalformedPolicyDocument(msg.INVALID_PRINCIPAL.format(kind=kind.upper(), value=value))


def check_syntax(element: object) -> bool:
    """Shape check done with the rest of the grammar ("Syntax errors in policy.")."""
    if isinstance(element, str):
        return element == "*"
    if not isinstance(element, dict):
        return False
    for key, value in element.items():
        if key not in PRINCIPAL_TYPES:
            return False
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(i, str) for i in items):
            return False
    return True


@dataclass(frozen=True, slots=True)
class PrincipalMatcher:
    entries: tuple[tuple[str, str], ...]  # (type, value) as written, for existence checks
    everyone: bool  # "Principal": "*"
    any_aws: bool  # {"AWS": "*"}
    accounts: frozenset[str]
    arns: frozenset[str]
    unique_ids: frozenset[str]
    services: frozenset[str]
    federated: frozenset[str]
    canonical: frozenset[str]

    @classmethod
    def build(cls, element: object) -> PrincipalMatcher:
        """Validate values (``Invalid principal in policy: ...``) and index them."""
        if element == "*":
            return cls((("AWS", "*"),), True, False, *([frozenset()] * 6))
        assert isinstance(element, dict)
        entries: list[tuple[str, str]] = []
        for kind, value in element.items():
            entries.extend((kind, item) for item in (value if isinstance(value, list) else [value]))
        if not entries:
            raise MalformedPolicyDocument(msg.NO_PRINCIPALS)
        any_aws = False
        accounts, arns, ids, services, federated, canonical = (
            set(),
            set(),
            set(),
            set(),
            set(),
            set(),
        )
        for kind, value in entries:
            if kind == "AWS":
                root = _ROOT.fullmatch(value)
                if value == "*":
                    any_aws = True
                elif _ACCOUNT.fullmatch(value):
                    accounts.add(value)
                elif root is not None:
                    accounts.add(root.group(1))
                elif _AWS_ARN.fullmatch(value):
                    arns.add(value)
                elif _UNIQUE_ID.fullmatch(value):
                    ids.add(value)
                else:
                    raise _invalid(kind, value)
            elif kind == "Service":
                if not _SERVICE.fullmatch(value):
                    raise _invalid(kind, value)
                services.add(value.lower())
            elif kind == "Federated":
                if not value or "*" in value or "?" in value:
                    raise _invalid(kind, value)
                federated.add(value)
            else:  # CanonicalUser (S3 only; kept so resource policies parse)
                if not value or "*" in value:
                    raise _invalid(kind, value)
                canonical.add(value)
        return cls(
            tuple(entries),
            False,
            any_aws,
            frozenset(accounts),
            frozenset(arns),
            frozenset(ids),
            frozenset(services),
            frozenset(federated),
            frozenset(canonical),
        )

    def grant(self, p: PrincipalRef | None) -> int:
        """The strongest way this Principal element names ``p`` (NONE if it does not)."""
        if self.everyone:
            return PUBLIC
        if p is None:
            return PUBLIC if self.any_aws else NONE
        if p.service is not None:
            return PRINCIPAL if p.service.lower() in self.services else NONE
        if p.federated is not None:
            return PRINCIPAL if p.federated in self.federated else NONE
        arns = self.arns
        if arns:
            if not arns.isdisjoint(p._direct):
                return PRINCIPAL
            parent = not arns.isdisjoint(p._parents)
        else:
            parent = False
        if self.unique_ids and p.unique_id is not None:
            uid = p.unique_id.partition(":")[0]
            if uid in self.unique_ids or p.unique_id in self.unique_ids:
                return ROLE if p._is_session else PRINCIPAL
        if self.any_aws:
            return PUBLIC
        if parent:
            return ROLE
        if p.account in self.accounts:
            return ACCOUNT
        return NONE

    def excludes(self, p: PrincipalRef | None) -> bool:
        """NotPrincipal: True when *every* identity in the caller's chain (account, role,
        session) is listed. AWS checks each link, hence its advice to list the account too."""
        if self.everyone:
            return True
        if p is None:
            return self.any_aws
        if p.service is not None:
            return p.service.lower() in self.services
        if p.federated is not None:
            return p.federated in self.federated
        if self.any_aws:
            return True
        if p.account not in self.accounts:
            return False
        uid_listed = p.unique_id is not None and (
            p.unique_id in self.unique_ids or p.unique_id.partition(":")[0] in self.unique_ids
        )
        return all(a in self.arns or uid_listed or a.endswith(":root") for a in p.arns)
