"""Held batches through real validator steps: a page gone while the validator held the batch for its own trouble
proves nothing against the miner (unknown, never unverified), and only the sampled records are re-fetched."""

from __future__ import annotations

from scoring.constants import INITIAL_CREDIBILITY
from tests.validator.harness import local_net, real_miner
from validator.precedence import STATE_KEY
from validator.service import Validator


def _key(web, record) -> str:
    return next(a.key for a in web.articles() if web.article_url(a.key) == record.uri)


async def test_pages_gone_while_held_are_unknown_and_only_the_sample_is_fetched_again(tmp_path, web):
    async with local_net(tmp_path, web) as net:
        records = await net.records(8)
        async with real_miner(net, "honest", records) as honest:
            v = Validator(net.config(), chain=net.chain, wallet=net.validator, catalog=net.catalog)
            try:
                net.web.add_fault(status=503, path_prefix="/site/")
                first = await v.step()
                uid = (await net.chain.state()).by_hotkey(honest.hotkey).uid
                [batch] = v.store.due_pending(10)
                for record in records:
                    net.web.delete(_key(web, record))
                net.web.clear_faults()
                second = await v.step()
                miner = v.store.miners()[uid]
                held = v.store.pending_records()
            finally:
                await v.close()
    assert first.outcomes[uid] == "unknown" and len(batch.sample) == 5 < len(records)
    assert second.outcomes == {uid: None}  # nothing new pulled; the held batch was re-verified after the commits
    assert miner.verify_unverified == 0 and miner.verify_fail == 0 and miner.verify_unknown == 2 * len(batch.sample)
    assert miner.credibility == INITIAL_CREDIBILITY and held == {uid: len(records)}


async def test_a_tie_between_batches_held_in_one_step_is_split_by_precedence_when_they_resolve(tmp_path, web):
    """A copier's batch held beside the original's (the source answered the validator 503 in that step) must not
    win the tie by resolving on its own: held batches of one step resolve together, ties split by precedence."""
    async with local_net(tmp_path, web) as net:
        records = await net.records(6)
        async with real_miner(net, "copier", records) as copier, real_miner(net, "original", records) as original:
            v = Validator(net.config(), chain=net.chain, wallet=net.validator, catalog=net.catalog)
            try:  # the copier has been seen delivering the original's records later 40 times
                v.store.set_state(STATE_KEY, {"firsts": [[original.hotkey, copier.hotkey, 40]], "drained": {}})
                net.web.add_fault(status=503, path_prefix="/site/")
                first = await v.step()
                held = v.store.due_pending(10)
                net.web.clear_faults()
                await v.step()
                value = {m.hotkey: m.value_total for m in v.store.miners().values()}
            finally:
                await v.close()
    assert set(first.outcomes.values()) == {"unknown"} and len(held) == 2
    assert value[original.hotkey] > 0 and value[copier.hotkey] <= 0.01 * value[original.hotkey]
