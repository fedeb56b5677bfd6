"""`glean miner check` (glean/miner_check.py) against a real validator step: a miner sees the rejections it will get.

Here rather than under tests/glean because it needs the validator harness: a real miner serving a store of honest
pages mixed with the usual mistakes, one real validator step over it, and the check run over the same store.
"""

from __future__ import annotations

from glean.miner_check import advice, check_store
from schemas.record import Record
from tests.validator.harness import local_net, real_miner
from tests.validator.test_validator import _uid, _validator

OFF_TOPIC = ("The bakery on the corner opens at six, and by seven the line reaches the street. Regulars order the "
             "rye loaf, which comes out of the oven still crackling, and a coffee that the owner roasts herself on "
             "Sundays. In spring the windows fill with tulips from the market across the river, and children stop "
             "on their way to school to count the colours. Nobody there has ever written a line of code, and the "
             "conversation is about the weather, the harvest and whose grandson is getting married this summer. ")


def _variant(record: Record, uri: str, text: str) -> Record:
    return Record.build(uri=uri, text=text, source=record.source, domain=record.domain, title=record.title,
                        published_at=record.published_at, lang=record.lang)


def _mistakes(honest: list[Record]) -> list[Record]:
    """A copy under another URL, a near copy, boilerplate, an off-topic page and a page no source covers."""
    base = honest[0]
    words = honest[1].text.split(" ")
    near = " ".join(("zebra" if i % 97 == 0 else w) for i, w in enumerate(words))
    return [
        _variant(base, f"{base.uri}?copy=1", base.text),
        _variant(honest[1], f"{honest[1].uri}?near=1", near),
        _variant(base, f"{base.uri}?menu=1", "\n".join(["Home | About | Contact | Subscribe"] * 60)),
        _variant(base, f"{base.uri}?bakery=1", OFF_TOPIC * 3),
        _variant(base, "https://elsewhere.example.org/post/1", honest[2].text + " Reposted."),
    ]


async def test_the_check_finds_what_a_validator_step_rejects_reason_by_reason(tmp_path, web):
    async with local_net(tmp_path, web) as net:
        honest = await net.records(6)
        async with real_miner(net, "mixed", honest + _mistakes(honest)) as miner:
            v = _validator(net)
            try:
                report = await v.step()
                uid = await _uid(net, miner.hotkey)
                judged = v.store.rejection_reasons().get(uid)
            finally:
                await v.close()
            [check] = check_store(miner.miner.store.store, net.catalog, limit=1_000)
    assert report.accepted == len(honest) == check.would_accept
    assert judged is not None and sum(judged.values()) == 5
    assert check.rejected == judged and check.checked == len(honest) + 5
    assert {"duplicate_in_batch", "unknown_source"} <= set(check.rejected)
    assert check.examples["unknown_source"] == ["https://elsewhere.example.org/post/1"]
    assert all(advice(reason) != "see docs/scoring.md" for reason in check.rejected)


async def test_the_check_reads_only_the_newest_records_it_is_asked_for(tmp_path, web):
    async with local_net(tmp_path, web) as net:
        honest = await net.records(6)
        async with real_miner(net, "honest", honest) as miner:
            store = miner.miner.store.store
            [every] = check_store(store, net.catalog, limit=1_000)
            [newest] = check_store(store, net.catalog, limit=2)
            assert check_store(store, net.catalog, domains=["world-news"], limit=10) == []
    assert (every.checked, every.would_accept, every.rejected) == (6, 6, {})
    assert newest.checked == 2
