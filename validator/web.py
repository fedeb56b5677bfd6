"""The validator's small HTTP server: Prometheus `/metrics`, `/v1/health`, read-only JSON under `/api/` for the
leaderboard, acceptance, rejections, steps and weights, and the `/dashboard` page (validator/dashboard.py)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict

import uvicorn
from fastapi import APIRouter, FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST

from schemas.version import package_version
from validator import dashboard
from validator.metrics import ValidatorMetrics
from validator.store import ValidatorStore


def build_app(store: ValidatorStore, metrics: ValidatorMetrics, hotkey: str, *,
              routers: Sequence[APIRouter] = ()) -> FastAPI:
    """The FastAPI app; sync handlers run in FastAPI's thread pool, so database reads never block the loop."""
    app = FastAPI(title="glean validator", version=package_version(), docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/metrics")
    def prometheus() -> Response:
        metrics.accepted_total.set(store.accepted_stats()[0])
        metrics.pending.set(len(store.pending_records()))
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/health")
    def health() -> dict:
        return {"version": package_version(), "role": "validator", "hotkey": hotkey,
                "step": int(store.get_state("step", 0)), "accepted": store.accepted_stats()[0]}

    @app.get("/api/leaderboard")
    def leaderboard() -> list[dict]:
        return [asdict(row) for row in store.leaderboard()]

    @app.get("/api/accepted")
    def accepted() -> dict:
        return {"by_domain": store.accepted_by_domain(), "total": store.accepted_stats()[0]}

    @app.get("/api/rejections")
    def rejections() -> dict:
        by_reason: Counter[str] = Counter()
        by_miner: dict[str, Counter[str]] = {}
        for (uid, _domain, reason), n in store.rejections().items():
            by_reason[reason] += n
            by_miner.setdefault(str(uid), Counter())[reason] += n
        return {"by_reason": dict(by_reason.most_common()), "by_miner": {k: dict(v) for k, v in by_miner.items()}}

    @app.get("/api/steps")
    def steps(limit: int = 100) -> list[dict]:
        return [{"step": s.step, "block": s.block, "started_at": s.started_at.isoformat(), "miners": s.miners,
                 "pulled": s.pulled, "accepted": s.accepted, "rejected": s.rejected, "seconds": s.seconds}
                for s in store.steps(min(max(limit, 1), 1000))]

    @app.get("/api/weights")
    def weights() -> dict:
        last = store.last_weights()
        if last is None:
            return {"block": None, "weights": {}}
        return {"block": last.block, "set_at": last.set_at.isoformat(), "weights": last.weights}

    # Extra routers (tests, an operator's plugin) first, then the `/dashboard` page (validator/dashboard.py).
    for router in routers:
        app.include_router(router)
    app.include_router(dashboard.router(store, hotkey))  # /dashboard: the page, its assets, its JSON (dashboard.py)
    return app


class _Server(uvicorn.Server):
    """Uvicorn inside the validator's loop: the validator, not uvicorn, owns SIGINT/SIGTERM."""

    def capture_signals(self):
        return contextlib.nullcontext()


class HttpServer:
    """Binds first (so port 0 works and the port is known), then serves as a task of the running loop."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        self._socket = socket.create_server((host, port), reuse_port=False)
        self.host, self.port = self._socket.getsockname()[:2]
        self._server = _Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(sockets=[self._socket]))

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._task, 5)
        self._socket.close()
