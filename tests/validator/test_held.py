"""Held batches through real validator steps: a page gone while the validator held the batch for its own trouble
proves nothing against the miner (unknown, never unverified), and only the sampled records are re-fetched."""

from __future__ import annotations

from scoring.constants import INITIAL_CREDIBILITY
from tests.validator.harness import local_net, real_miner
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
