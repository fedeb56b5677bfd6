"""What a local network run leaves behind: each validator's release, the rows pulled back, and the summary.

Everything here runs after the role processes have stopped: it opens their stores directly.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from glean.local.leaderboard import TOP_REASONS, MinerLine, Summary, ValidatorLine
from glean.local.plan import Role
from schemas.domain import DomainCatalog
from schemas.errors import GleanError

if TYPE_CHECKING:
    from chain import SubnetState
    from glean.local.network import LocalNetwork

log = logging.getLogger(__name__)


async def publish(net: LocalNetwork) -> dict[str, dict | None]:
    """Publish each validator's new accepted records (as `glean validator publish` does); its last release."""
    from validator.service import Validator

    releases: dict[str, dict | None] = {}
    for role in net.plan.validators:
        config = net.role_config(role)
        validator = Validator(config, chain=net.chain, wallet=net.wallets[role.name],
                              catalog=DomainCatalog.load(config.domain_dirs), serve_http=False)
        try:
            info = await validator.publish()
            if info is not None:
                log.info("published validator=%s release=%s location=%s rows=%s", role.name, info.release,
                         info.location, info.rows_by_domain)
            releases[role.name] = await asyncio.to_thread(validator.store.get_state, "last_release")
        except GleanError as exc:
            log.error("publishing failed validator=%s: %s", role.name, exc)
            releases[role.name] = None
        finally:
            await validator.close()
    return releases


def pull_back(net: LocalNetwork, releases: dict[str, dict | None]) -> dict[str, int]:
    """Rows per domain of the first validator's release, loaded back with `datasets` (hub.pull)."""
    from hub import pull

    first = net.plan.validators[0].name
    if not releases.get(first):
        return {}
    folder = net.layout.hub_dir(first)
    domains = sorted(p.name for p in (folder / "data").iterdir() if p.is_dir()) if (folder / "data").is_dir() \
        else []
    rows = dict.fromkeys(net.plan.curated_domains, 0)
    rows.update({domain: len(pull(domain, path=folder)) for domain in domains})
    return rows


@dataclass(frozen=True)
class _Board:
    """The first validator's view of the miners: its last weights, leaderboard rows and rejection reasons."""

    weights: dict[int, float]
    rows: dict[int, Any]
    reasons: dict[int, Counter[str]]


async def summarise(net: LocalNetwork, rows: dict[str, int], epochs_before: int, epochs_running: int,
                    epochs_end: int | None) -> Summary:
    """The run's summary: emission of this run's epochs (up to `epochs_end`), per-miner and per-validator lines."""
    state = await net.chain.state()
    # Emission of this run only (the chain's clock runs on while nobody is up, and a resumed run catches up on
    # those epochs), up to the moment the roles were stopped.
    epochs = (await net.chain.epochs())[epochs_before:epochs_end]
    run = {e.epoch for e in epochs}
    totals: Counter[str] = Counter()
    for record in await net.chain.emissions():
        if record.epoch in run:
            totals[record.hotkey] += record.emission
    split = {"owner": sum(e.owner for e in epochs), "miners": sum(e.miners for e in epochs),
             "validators": sum(e.validators for e in epochs), "recycled": sum(e.recycled for e in epochs)}
    first = net.plan.validators[0]
    board = _board(net, first)
    miners = [_miner_line(net, role, state, board, totals) for role in net.plan.miners]
    validators = [_validator_line(net, role, state, totals) for role in net.plan.validators]
    hub_dir = net.layout.hub_dir(first.name)
    primary = validators[0]
    commands = [f"glean pull {domain} --path {shlex.quote(str(hub_dir))}"
                for domain in sorted(rows) if rows[domain]]
    return Summary(data_dir=str(net.layout.root), epochs=max(0, epochs_before + len(epochs) - epochs_running),
                   epochs_in_run=len(epochs), block=state.block,
                   seconds=time.monotonic() - net.started, interrupted=net.interrupted, miners=miners,
                   validators=validators, emission_split=split, rows_by_domain=rows, release=primary.release,
                   location=primary.location, hub_dir=str(hub_dir) if primary.location else None,
                   pull_commands=commands, sampleweb=_living(net), request=_request(net),
                   accepted_by_domain=_by_domain(net, miners))


def _request(net: LocalNetwork) -> dict[str, Any] | None:
    """Offline: the dataset request, what each validator did with it and when its first record was accepted."""
    from glean.local import request_flow

    try:
        return request_flow.outcome(net, net.request)
    except (GleanError, OSError, ValueError) as exc:  # the summary reports what it can; the run itself succeeded
        log.warning("request summary unavailable: %s", exc)
        return None


def _by_domain(net: LocalNetwork, miners: list[MinerLine]) -> dict[str, dict[str, int]]:
    """Accepted records per domain and miner (by name), as the first validator holds them."""
    from glean.local import request_flow

    try:
        counts = request_flow.accepted_by_domain(net)
    except (GleanError, OSError) as exc:
        log.warning("accepted records per domain unavailable: %s", exc)
        return {}
    names = {m.uid: m.name for m in miners}
    return {domain: {names.get(uid, f"uid {uid}"): n for uid, n in sorted(per.items())}
            for domain, per in sorted(counts.items())}


def _living(net: LocalNetwork) -> dict[str, Any] | None:
    """With --offline: pages the sample web published, changed and removed, and how the network answered."""
    if not net.plan.offline:
        return None
    from glean.local import living

    try:
        return living.summarise(net, living.accepted_pages(net), living.unverified_uris(net))
    except (GleanError, OSError, ValueError) as exc:  # the summary reports what it can; the run itself succeeded
        log.warning("sample web summary unavailable: %s", exc)
        return None


def _board(net: LocalNetwork, role: Role) -> _Board:
    from validator.store import ValidatorStore, database_url

    store = ValidatorStore.open(database_url(net.role_config(role)))
    try:
        last = store.last_weights()
        weights = {int(k): float(v) for k, v in last.weights.items()} if last is not None else {}
        return _Board(weights, {row.uid: row for row in store.leaderboard(weights)}, store.rejection_reasons())
    finally:
        store.close()


def _miner_line(net: LocalNetwork, role: Role, state: SubnetState, board: _Board,
                totals: Counter[str]) -> MinerLine:
    from miner.app import database_url
    from miner.store import Store

    hotkey = net.wallets[role.name].hotkey.ss58_address
    neuron = state.by_hotkey(hotkey)
    uid = neuron.uid if neuron else None
    row = board.rows.get(uid)
    miner_store = Store.open(database_url(net.role_config(role)))
    try:
        stored = miner_store.total_count
    finally:
        miner_store.close()
    return MinerLine(
        name=role.name, uid=uid, hotkey=hotkey, domains=list(role.domains), stored=stored,
        accepted=row.accepted if row else 0, shared=row.shared if row else 0,
        rejected=row.rejected if row else 0,
        top_reasons=board.reasons.get(uid, Counter()).most_common(TOP_REASONS) if uid is not None else [],
        value=row.value_total if row else 0.0, credibility=row.credibility if row else 0.0,
        score=row.score if row else 0.0, weight=board.weights.get(uid, 0.0) if uid is not None else 0.0,
        incentive=neuron.incentive if neuron else 0.0, emission=totals.get(hotkey, 0.0),
        unverified=row.verify_unverified if row else 0)


def _validator_line(net: LocalNetwork, role: Role, state: SubnetState, totals: Counter[str]) -> ValidatorLine:
    from validator.store import ValidatorStore, database_url

    hotkey = net.wallets[role.name].hotkey.ss58_address
    neuron = state.by_hotkey(hotkey)
    store = ValidatorStore.open(database_url(net.role_config(role)))
    try:
        steps = int(store.get_state("step", 0))
        accepted = store.accepted_stats()[0]
        release = store.get_state("last_release")
    finally:
        store.close()
    return ValidatorLine(
        name=role.name, uid=neuron.uid if neuron else None, hotkey=hotkey,
        stake=neuron.stake if neuron else 0.0, steps=steps, accepted=accepted,
        dividends=neuron.dividends if neuron else 0.0, emission=totals.get(hotkey, 0.0),
        dashboard=f"{role.url}/dashboard", release=release["release"] if release else None,
        location=release["location"] if release else None)
