"""Padding through a real validator step with real miners on loopback: records under URLs that do not exist are
unverified, never paid, and a padder earns no more per real page than an honest miner (under the old rule, where a
gone page was "unknown" and one pass passed the batch, 1 real + 4 invented earned ~5.8x per real page)."""

from __future__ import annotations

from schemas.record import Record
from tests.validator.harness import DOMAIN, local_net, real_miner
from validator.service import Validator

REAL = 5
INVENTED_PER_REAL = 4


def _invented(web, records: list[Record]) -> list[Record]:
    """Real prose under URLs of the sample site that do not exist (a 404 for anyone who checks)."""
    return [Record.build(uri=web.url(f"/site/language/invented-{i}.html"), text=r.text, title=r.title,
                         source=r.source, domain=r.domain, fetched_at=r.fetched_at) for i, r in enumerate(records)]


async def test_a_padder_earns_no_more_per_real_page_than_an_honest_miner(tmp_path, web):
    async with local_net(tmp_path, web) as net:
        honest_pages = await net.records(REAL)
        padder_pages = await net.records(REAL, start=REAL)
        invented = _invented(web, await net.records(REAL * INVENTED_PER_REAL, start=2 * REAL))
        async with real_miner(net, "honest", honest_pages) as honest, \
                real_miner(net, "padder", padder_pages + invented) as padder:
            v = Validator(net.config(), chain=net.chain, wallet=net.validator, catalog=net.catalog)
            try:
                report = await v.step()
                state = await net.chain.state()
                uh, up = state.by_hotkey(honest.hotkey).uid, state.by_hotkey(padder.hotkey).uid
                miners = v.store.miners()
                rejections = v.store.rejections(up)
                board = {row.uid: row for row in v.store.leaderboard()}
            finally:
                await v.close()
    per_real = {uid: miners[uid].value_total / REAL for uid in (uh, up)}
    assert per_real[uh] > 0 and per_real[up] <= per_real[uh]
    assert report.checks[up].get("unverified", 0) > 0 and report.unverified >= report.checks[up]["unverified"]
    assert miners[up].verify_unverified == report.checks[up]["unverified"] == board[up].verify_unverified
    assert rejections.get((up, DOMAIN, "unverified"), 0) > 0
    assert miners[up].credibility <= miners[uh].credibility
