"""Per-request state handed to action handlers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from stsd.auth.principal import Principal
from stsd.regions.endpoints import Endpoint

if TYPE_CHECKING:
    from stsd.server.runtime import Runtime


@dataclass(slots=True)
class RequestContext:
    runtime: Runtime
    request_id: str
    now: datetime  # UTC, second precision (AWS timestamps have none)
    endpoint: Endpoint
    serving_region: str
    source_ip: str
    user_agent: str
    host: str
    secure: bool
    principal: Principal | None = None
    tls: tuple[str, str] | None = None  # (version, cipher suite) of an HTTPS connection
    # Filled by handlers for the audit trail (CloudTrail resources, extra fields).
    audit: dict[str, Any] = field(default_factory=dict)
    # The request's global condition keys, normalised; built by the first authorisation.
    condition_keys: dict[str, object] | None = None

    @property
    def requested_region(self) -> str:
        """aws:RequestedRegion: us-east-1 on the global endpoint wherever it is served."""
        return self.endpoint.signing_region if self.endpoint.endpoint_type == "global" else self.endpoint.region

    def caller(self) -> Principal:
        assert self.principal is not None, "signed action without a principal"
        return self.principal
