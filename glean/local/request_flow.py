"""The dataset request of an offline `glean local up` (docs/local.md, docs/requests.md).

A local requester wallet (unregistered: the validators' policy lists its hotkey, so it needs no stake) asks every
validator, once the first epoch with the validators up has passed, for `python-builtins`: the sample web's built-ins
area, which no demo domain crawls (glean/sampleweb/builtin_types.py). The first `request_adopters` validators'
policies list the requester and adopt it on arrival; the others' list nobody, so it stays pending there. Validators
put it in the desirability list they commit, the network's list holds it from the next epoch, and the miners, which
follow that list on top of their pinned demo domains, crawl it. After the run, `outcome` reads what each validator
did with it and when its first record was accepted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from glean.local import constants as K
from glean.local.plan import Layout, NetworkPlan
from schemas.errors import GleanError

if TYPE_CHECKING:
    from glean.local.network import LocalNetwork

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Submitted:
    """The request as sent: its id and domain, when (wall time, chain block) and what each validator answered."""

    request_id: str
    domain: str
    requester: str
    at: datetime
    block: int
    epoch: int  # epochs that had passed with the validators up (the live view's count)
    answers: dict[str, str]  # validator hotkey -> status it answered (or the refusal)


def requester_hotkey(layout: Layout) -> str:
    """The local requester's hotkey (its wallet is created beside the roles' on first use)."""
    from chain import create_local_wallets

    return create_local_wallets([K.REQUESTER_WALLET], layout.wallets)[0].hotkey.ss58_address


def with_requester(plan: NetworkPlan, layout: Layout, adopters: int | None) -> NetworkPlan:
    """Offline: the plan with the requester's hotkey and how many validators (the first ones) adopt by policy."""
    if not plan.offline:
        return plan
    count = len(plan.validators) if adopters is None else max(0, min(adopters, len(plan.validators)))
    return replace(plan, requester=requester_hotkey(layout), request_adopters=count)


def policy(plan: NetworkPlan, index: int) -> dict[str, Any] | None:
    """`[validator.request_policy]` of validator `index` (1-based): list the requester, or nobody."""
    if plan.requester is None:
        return None
    adopt = [plan.requester] if index <= plan.request_adopters else []
    return {"adopt_hotkeys": adopt, "weight": K.REQUEST_WEIGHT}


async def submit(net: LocalNetwork, stop: asyncio.Event, epoch: int) -> Submitted | None:
    """Send the request, signed by the requester, to every validator announcing a listener (waiting, bounded, until
    each has announced one). None when the run stops first or nobody took it (logged)."""
    from chain import create_local_wallets
    from glean.listeners import ask_all, call
    from glean.sampleweb.domains import request_spec
    from schemas.request import request_from

    wallet = (await asyncio.to_thread(create_local_wallets, [K.REQUESTER_WALLET], net.layout.wallets))[0]
    request = request_from({"spec": request_spec(net.sampleweb_url), "requester": wallet.hotkey.ss58_address,
                            "target": {"records": K.REQUEST_TARGET_RECORDS}, "note": K.REQUEST_NOTE})
    hotkeys = {net.wallets[v.name].hotkey.ss58_address for v in net.plan.validators}
    neurons = await _announced(net, hotkeys, stop)
    if not neurons:
        return None
    state = await net.chain.state()
    at = datetime.now(UTC)
    answers = await ask_all(neurons, local=True, one=lambda client, n: call(
        client, n, "POST", "/v1/requests", body=request.canonical(), signer=wallet.hotkey))
    told = {a.hotkey: a.body.get("status", "?") if a.ok else a.problem for a in answers}
    log.info("request submitted id=%s domain=%s block=%d answers=%s", request.request_id[:16], request.spec["id"],
             state.block, " ".join(f"{k[:8]}={v}" for k, v in told.items()))
    if not any(a.ok for a in answers):
        log.error("no validator took the request: %s", "; ".join(a.problem for a in answers))
        return None
    return Submitted(request.request_id, request.spec["id"], wallet.hotkey.ss58_address, at, state.block, epoch,
                     told)


async def _announced(net: LocalNetwork, hotkeys: set[str], stop: asyncio.Event) -> list:
    deadline = time.monotonic() + K.START_TIMEOUT_SECONDS
    while not stop.is_set():
        state = await net.chain.state()
        found = [n for n in state.neurons if n.hotkey in hotkeys and n.axon]
        if len(found) == len(hotkeys):
            return found
        if time.monotonic() > deadline:
            log.error("validators announced no listener within %.0f s; the request is not sent",
                      K.START_TIMEOUT_SECONDS)
            return []
        await asyncio.sleep(0.25)
    return []


def outcome(net: LocalNetwork, sent: Submitted | None) -> dict[str, Any] | None:
    """The request's part of the summary: per validator its status, who decided and the first accepted record of
    the domain. Epochs as the live view counts them (passed since the validators started); the first record's is
    the submission's plus the epoch boundaries of the chain between them (its block read from the chain's clock)."""
    if sent is None:
        return None
    tempo, block_time = net.plan.tempo, net.plan.block_time
    validators = {role.name: _validator_view(net, role, sent) for role in net.plan.validators}
    firsts = [datetime.fromisoformat(v["first_accepted_at"]) for v in validators.values()
              if v.get("first_accepted_at")]
    first = min(firsts) if firsts else None
    seconds = (first - sent.at).total_seconds() if first else None
    block = sent.block + round(seconds / block_time) if seconds is not None else None
    return {"request_id": sent.request_id, "domain": sent.domain, "requester": sent.requester,
            "submitted_at": sent.at.isoformat(), "submitted_block": sent.block, "submitted_epoch": sent.epoch,
            "adopted_by": [name for name, v in validators.items() if v["status"] in ("adopted", "done")],
            "first_accepted_at": first.isoformat() if first else None, "first_accepted_block": block,
            "first_accepted_epoch": sent.epoch + block // tempo - sent.block // tempo if block is not None else None,
            "seconds_to_first_accepted": seconds, "validators": validators}


def _validator_view(net: LocalNetwork, role, sent: Submitted) -> dict[str, Any]:
    import sqlalchemy as sa

    from validator.store import ValidatorStore, database_url
    from validator.store.tables import AcceptedRow

    try:
        store = ValidatorStore.open(database_url(net.role_config(role)))
    except GleanError as exc:
        return {"status": f"unreadable: {exc.message}"}
    try:
        stored = store.get_request(sent.request_id)
        with store.engine.connect() as conn:
            # since this run's submission (a resumed run sends the same request again)
            first = conn.execute(sa.select(sa.func.min(AcceptedRow.accepted_at))
                                 .where(AcceptedRow.domain == sent.domain, AcceptedRow.accepted_at >= sent.at)
                                 ).scalar()
        return {"status": stored.status if stored else "not received",
                "decided_by": stored.decided_by if stored else None,
                "weight": stored.weight if stored else None,
                "first_accepted_at": _utc(first).isoformat() if first else None}
    finally:
        store.close()


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def accepted_by_domain(net: LocalNetwork) -> dict[str, dict[int, int]]:
    """Current accepted records per domain and miner uid, as the first validator holds them."""
    import sqlalchemy as sa

    from validator.store import ValidatorStore, database_url
    from validator.store.tables import AcceptedRow as A

    store = ValidatorStore.open(database_url(net.role_config(net.plan.validators[0])))
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(sa.select(A.domain, A.miner_uid, sa.func.count()).where(A.superseded_by.is_(None))
                                .group_by(A.domain, A.miner_uid)).all()
    finally:
        store.close()
    out: dict[str, dict[int, int]] = {}
    for domain, uid, count in rows:
        out.setdefault(domain, {})[int(uid)] = int(count)
    return out
