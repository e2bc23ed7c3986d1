"""``/etc/hosts`` lines pointing the STS/IAM host names at one address.

The block is wrapped in marker comments so it can be removed again with
``sed -i '/^# >>> stsd/,/^# <<< stsd/d' /etc/hosts``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

BEGIN = "# >>> stsd: STS/IAM host names served by stsd"
END = "# <<< stsd"


def hosts_lines(address: str, names: Iterable[str], *, markers: bool = True) -> list[str]:
    """``address  name`` for every name (address validated as IPv4 or IPv6)."""
    ip = str(ipaddress.ip_address(address.strip()))
    body = [f"{ip}  {name}" for name in dict.fromkeys(names)]
    return [BEGIN, *body, END] if markers else body
