"""Which SDK or tool sent a request, from its User-Agent.

Only what the endpoint remedy depends on: the SDK family, its major line and version (and,
for boto3 and the AWS CLI v1, the botocore version, since botocore decides the STS endpoint).
The patterns are the product tokens the SDKs put first or early in their user agents, e.g.
``Boto3/1.44.5 md/Botocore#1.44.5 ua/2.1 … Botocore/1.44.5``, ``aws-cli/2.15.33 …``,
``aws-sdk-java/1.12.0 Linux/5.10 …``, ``aws-sdk-js/3.600.0 ua/2.1 …``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Client:
    sdk: str  # a key of stsd.audit.remedies.SDKS, or "unknown"
    version: str | None = None
    botocore: str | None = None  # boto3 / AWS CLI v1 / botocore: the botocore version

    def version_tuple(self, which: str | None = None) -> tuple[int, ...]:
        return version_tuple(which if which is not None else self.version)


def version_tuple(text: str | None) -> tuple[int, ...]:
    numbers = []
    for part in (text or "").split("."):
        digits = re.match(r"\d+", part)
        if digits is None:
            break
        numbers.append(int(digits[0]))
    return tuple(numbers)


def _major(version: str) -> int | None:
    found = version_tuple(version)
    return found[0] if found else None


_BOTOCORE = re.compile(r"(?:\bbotocore/|md/botocore#)([\w.\-]+)", re.IGNORECASE)
# (pattern, sdk key or {major: key}); first match wins, so more specific tokens come first.
_PATTERNS: tuple[tuple[re.Pattern[str], str | dict[int, str]], ...] = (
    (re.compile(r"\b(?:AWSPowerShell(?:\.NetCore|\.Common)?|AWS\.Tools\.[\w.]+)/([\w.\-]+)"), "powershell"),
    (re.compile(r"\baws-cli/([\w.\-]+)"), {1: "aws-cli-v1", 2: "aws-cli-v2"}),
    (re.compile(r"\bBoto3/([\w.\-]+)", re.IGNORECASE), "boto3"),
    (re.compile(r"\baws-sdk-java/([\w.\-]+)"), {1: "java-v1", 2: "java-v2"}),
    (re.compile(r"\baws-sdk-go-v2/([\w.\-]+)"), "go-v2"),
    (re.compile(r"\baws-sdk-go/([\w.\-]+)"), "go-v1"),
    (re.compile(r"\baws-sdk-js/([\w.\-]+)"), {2: "js-v2", 3: "js-v3"}),
    (re.compile(r"\baws-sdk-nodejs/([\w.\-]+)"), "js-v2"),
    (re.compile(r"\baws-sdk-dotnet[\w\-]*/([\w.\-]+)"), "dotnet"),
    (re.compile(r"\baws-sdk-php3?/([\w.\-]+)"), "php"),
    (re.compile(r"\baws-sdk-ruby3/([\w.\-]+)"), "ruby-v3"),
    (re.compile(r"\baws-sdk-ruby2?/([\w.\-]+)"), "ruby-v2"),
    (re.compile(r"\baws-sdk-rust/([\w.\-]+)"), "rust"),
    (re.compile(r"\baws-sdk-kotlin/([\w.\-]+)"), "kotlin"),
    (re.compile(r"\baws-sdk-swift/([\w.\-]+)"), "swift"),
    (re.compile(r"\baws-sdk-cpp/([\w.\-]+)"), "cpp"),
    (re.compile(r"\bBotocore/([\w.\-]+)", re.IGNORECASE), "botocore"),
)


def parse_user_agent(user_agent: str) -> Client:
    for pattern, target in _PATTERNS:
        found = pattern.search(user_agent)
        if found is None:
            continue
        version = found[1]
        if isinstance(target, dict):
            sdk = target.get(_major(version) or 0)
            if sdk is None:
                continue
        else:
            sdk = target
        botocore = None
        if sdk in ("boto3", "aws-cli-v1", "botocore"):
            bc = _BOTOCORE.search(user_agent)
            botocore = bc[1] if bc else (version if sdk == "botocore" else None)
        return Client(sdk, version, botocore)
    return Client("unknown")
