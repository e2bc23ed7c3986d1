"""The ASGI application: the Query API on every path, plus /health and /metrics.

The STS/IAM pipeline owns the request unless the path is one of the few server paths
(AWS answers 404 ``<UnknownOperationException/>`` for any other path, and so do we).
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from typing import Any

import anyio
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from stsd.account_api.http import ACCOUNT_PATHS, AccountApi
from stsd.admin_api.http import AdminApi
from stsd.audit.admin import AuditApi
from stsd.config import Settings
from stsd.server.pipeline import Outcome, QueryPipeline
from stsd.server.runtime import Runtime

log = logging.getLogger("stsd")
SERVER_PATHS = ("/health", "/metrics", "/admin", *ACCOUNT_PATHS)


class StsdApp:
    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        self.pipeline = QueryPipeline(runtime)
        self.server_app = Starlette(
            routes=[
                Route("/health", self.health, methods=["GET", "HEAD"]),
                Route("/metrics", self.metrics, methods=["GET"]),
                *AccountApi(runtime).routes(),  # Account API Region operations (REST-JSON)
                *AuditApi(runtime).routes(),  # /admin/audit/... (before the /admin catch-all)
                *AdminApi(runtime).routes(),  # /admin/... (JSON)
            ],
            lifespan=self.lifespan,
        )

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self.is_query_path(scope["path"]):
            await self.pipeline(scope, receive, send)
            return
        await self.server_app(scope, receive, send)

    @staticmethod
    def is_query_path(path: str) -> bool:
        """Whether the Query API pipeline owns a path (every path but the server's own)."""
        return not path.startswith(SERVER_PATHS)

    def respond_now(self, scope: dict[str, Any], body: bytes) -> Outcome | None:
        """The HTTP layer's fast path into the pipeline (see QueryPipeline.respond_now)."""
        return self.pipeline.respond_now(scope, body)

    async def health(self, _request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def metrics(self, _request: Request) -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        # Everything loaded so far (modules, catalogue, caches) lives as long as the worker:
        # move it out of the collector's reach, so full collections walk only request garbage
        # (without this, each full collection paused requests for tens of milliseconds).
        gc.collect()
        gc.freeze()
        audit = self.runtime.audit
        if audit is not None:
            audit.start()  # the audit trail's writer process and its send timer
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(self._poll_control_plane)
            yield
            tasks.cancel_scope.cancel()
        if audit is not None:  # shutdown (SIGTERM/SIGINT): deliver every queued record
            await audit.aclose()
        self.runtime.close()

    async def _poll_control_plane(self) -> None:
        """Pick up IAM writes and key rotations made by other workers or nodes."""
        interval = self.runtime.settings.cache_poll_seconds
        while True:
            await anyio.sleep(interval)
            try:
                await anyio.to_thread.run_sync(self._poll_once)
            except Exception:  # a database hiccup must not kill the poller
                log.exception("control-plane poll failed")

    def _poll_once(self) -> None:
        self.runtime.directory.poll()
        self.runtime.keyring.reload()


def create_app(settings: Settings | None = None) -> StsdApp:
    return StsdApp(Runtime.open(settings or Settings()))


def app_from_env() -> StsdApp:
    """uvicorn factory for ``stsd serve`` (each worker process builds its own app)."""
    import os
    from pathlib import Path

    env = os.environ
    return create_app(
        Settings(
            data_dir=Path(env.get("STSD_DATA_DIR", ".stsd")),
            database_url=env.get("STSD_DATABASE") or None,
            emulator=env.get("STSD_EMULATOR") == "1",
            topology_file=Path(env["STSD_TOPOLOGY"]) if env.get("STSD_TOPOLOGY") else None,
            global_endpoint_mode=env.get("STSD_GLOBAL_ENDPOINT_MODE", "local"),
            quota_rate=int(env.get("STSD_QUOTA_RATE", "600")),
            quota_burst=int(env.get("STSD_QUOTA_BURST", "600")),
            redis_url=env.get("STSD_REDIS") or None,
            workers=int(env.get("STSD_WORKERS", "1")),
            region_transition_seconds=float(env.get("STSD_REGION_TRANSITION_SECONDS", "5")),
            trust_forwarded_for=env.get("STSD_TRUST_FORWARDED_FOR") == "1",
            audit_enabled=env.get("STSD_AUDIT", "1") != "0",
            audit_flush_seconds=float(env.get("STSD_AUDIT_FLUSH_SECONDS", "1")),
            audit_queue_size=int(env.get("STSD_AUDIT_QUEUE_SIZE", "20000")),
            audit_files=env.get("STSD_AUDIT_FILES", "1") != "0",
            audit_dir=Path(env["STSD_AUDIT_DIR"]) if env.get("STSD_AUDIT_DIR") else None,
        )
    )
