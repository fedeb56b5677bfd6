"""The validator's `/dashboard`: one plain HTML page (Chart.js shipped in `validator/static/`, nothing loaded from the
internet) showing the leaderboard, emissions over epochs, accepted records per domain over time and rejection reasons.

The page reads the `/api/` routes of `validator.web` plus three served here:
- `/api/dashboard/accepted`: accepted records per domain, cumulative over the validator's steps (its store);
- `/api/dashboard/requests`: the dataset requests it received, with their status and what it accepted for each;
- `/api/dashboard/chain`: per uid incentive, dividends and total emission, and the emission of every epoch (the
  chain). Emission history exists on the LocalChain only; the chain is the one given, else the one this process is
  configured for (`GLEAN_CONFIG` / `GLEAN_*`), used only when this validator's hotkey is registered on it.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from chain.protocol import Chain
from validator.store import ValidatorStore

if TYPE_CHECKING:  # opened lazily: the page may never read a chain
    from chain.local import LocalChain

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
ASSETS = {"chart.umd.min.js": "text/javascript", "dashboard.js": "text/javascript", "dashboard.css": "text/css"}
MAX_POINTS = 300  # points per series sent to the page; longer histories are thinned evenly (the newest kept)
MAX_EPOCHS = 200  # epochs of emission history sent to the page


def thin(indices: int, limit: int = MAX_POINTS) -> list[int]:
    """At most `limit` evenly spread indices of range(indices), always keeping the last."""
    if indices <= limit:
        return list(range(indices))
    step = (indices - 1) / (limit - 1)
    return sorted({round(i * step) for i in range(limit)})


def accepted_over_steps(store: ValidatorStore) -> dict[str, Any]:
    """Cumulative accepted records per domain after each step (steps with nothing new included)."""
    steps, new = store.accepted_over_steps()
    domains = sorted({domain for per_step in new.values() for domain in per_step})
    totals = dict.fromkeys(domains, 0)
    series: dict[str, list[int]] = {d: [] for d in domains}
    for step, _block, _at in steps:
        for domain, n in new.get(int(step), {}).items():
            totals[domain] += n
        for domain in domains:
            series[domain].append(totals[domain])
    keep = thin(len(steps))
    # Every series starts from 0 at "step 0", so one step already draws a line rather than a lone point.
    return {"steps": [0] + [int(steps[i][0]) for i in keep],
            "blocks": [int(steps[0][1]) if steps else 0] + [int(steps[i][1]) for i in keep],
            "times": [steps[0][2].isoformat() if steps else None] + [steps[i][2].isoformat() for i in keep],
            "domains": {d: [0] + [values[i] for i in keep] for d, values in series.items()}}


class ChainReader:
    """The chain the page reads: given, or opened from this process's configuration on first use."""

    def __init__(self, hotkey: str, chain: Chain | None = None) -> None:
        self.hotkey = hotkey
        self._chain = chain
        self._looked = chain is not None
        self._lock = asyncio.Lock()

    async def chain(self) -> Chain | None:
        async with self._lock:
            if not self._looked:
                self._looked = True
                self._chain = await asyncio.to_thread(_configured_local_chain)
            return self._chain

    async def view(self) -> dict[str, Any]:
        chain = await self.chain()
        if chain is None:
            return {"available": False, "reason": "no chain configured for this process"}
        state = await chain.state()
        if state.by_hotkey(self.hotkey) is None:
            return {"available": False, "reason": "this validator is not registered on the configured chain"}
        neurons = [{"uid": n.uid, "hotkey": n.hotkey, "validator": n.validator_permit, "stake": n.stake,
                    "incentive": n.incentive, "dividends": n.dividends} for n in state.neurons]
        if not hasattr(chain, "emissions"):  # a real network keeps no per-epoch history we can read cheaply
            return {"available": True, "block": state.block, "neurons": neurons, "epochs": [], "series": []}
        history = await chain.emissions()
        totals = await chain.emission_totals()
        for n in neurons:
            n["emission"] = totals.get(n["hotkey"], 0.0)
        epochs = sorted({e.epoch for e in history})[-MAX_EPOCHS:]
        index = {epoch: i for i, epoch in enumerate(epochs)}
        per_uid: dict[int, list[float]] = {n["uid"]: [0.0] * len(epochs) for n in neurons}
        blocks = [0] * len(epochs)
        for e in history:
            if e.epoch in index and e.uid in per_uid:
                per_uid[e.uid][index[e.epoch]] = e.emission
                blocks[index[e.epoch]] = e.block
        series = [{"uid": n["uid"], "hotkey": n["hotkey"], "validator": n["validator"], "emission": per_uid[n["uid"]]}
                  for n in neurons]
        return {"available": True, "block": state.block, "neurons": neurons, "epochs": epochs, "blocks": blocks,
                "series": series}


def requests_view(store: ValidatorStore) -> list[dict[str, Any]]:
    """Dataset requests, newest first: id, domain, status, weight, requester, target, accepted so far, deadline."""
    rows = []
    for r in reversed(store.list_requests()):
        records, words = store.accepted_for(r.domain)
        deadline = r.request.deadline
        rows.append({"request_id": r.request_id, "domain": r.domain, "status": r.status, "weight": r.weight,
                     "requester": r.request.requester, "target": r.request.target.model_dump(exclude_none=True),
                     "accepted_records": records, "accepted_words": words,
                     "deadline": deadline.isoformat() if deadline else None, "decided_by": r.decided_by})
    return rows


def _configured_local_chain() -> LocalChain | None:
    """The LocalChain of this process's configuration, if its file exists (never creates one)."""
    from pydantic_settings import SettingsConfigDict

    from chain import LocalChain
    from schemas.config import GleanConfig

    settings_cls = GleanConfig
    path = os.environ.get("GLEAN_CONFIG")
    if path and Path(path).is_file():
        settings_cls = type("DashboardConfig", (GleanConfig,),
                            {"model_config": SettingsConfigDict(**{**GleanConfig.model_config, "toml_file": path})})
    try:
        config = settings_cls()
    except Exception as exc:  # a config the validator itself started with cannot be broken, but say so if it is
        log.warning("dashboard: cannot read the configuration for chain data: %s", exc)
        return None
    if config.chain.kind != "local" or not config.chain_path().is_file():
        return None
    return LocalChain(config.chain_path(), netuid=config.chain.netuid)


def router(store: ValidatorStore, hotkey: str, *, chain: Chain | None = None) -> APIRouter:
    """`/dashboard`, its assets and its JSON, for the validator whose store and hotkey are given."""
    api = APIRouter()
    reader = ChainReader(hotkey, chain)

    @api.get("/dashboard", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "dashboard.html", media_type="text/html")

    @api.get("/dashboard/static/{name}", include_in_schema=False)
    def asset(name: str) -> FileResponse:
        if name not in ASSETS:  # a fixed list: no path from the request ever reaches the file system
            raise HTTPException(status_code=404, detail="no such file")
        return FileResponse(STATIC / name, media_type=ASSETS[name],
                            headers={"Cache-Control": "max-age=3600"})

    @api.get("/api/dashboard/accepted")
    def accepted() -> dict[str, Any]:
        return accepted_over_steps(store)

    @api.get("/api/dashboard/requests")
    def requests() -> list[dict[str, Any]]:
        return requests_view(store)

    @api.get("/api/dashboard/chain")
    async def chain_view() -> dict[str, Any]:
        try:
            return await reader.view()
        except Exception as exc:  # the page shows the reason; the validator keeps running
            log.warning("dashboard: chain data unavailable: %s", exc)
            return {"available": False, "reason": f"chain unavailable: {exc}"}

    return api
