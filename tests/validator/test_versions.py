"""New versions of accepted pages through real validator steps (real miners, the sample web as the live pages): a
version the validator's own re-fetch confirms supersedes the page's row, one it does not (the live page still has
the old text; a spin) is rejected and the old row stays current, two versions of one URI in a step give one current
row, and a version the re-fetch budget cannot reach waits instead of being lost."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace

from schemas.record import Record, utcnow
from tests.adversarial.cheats import spun
from tests.validator.harness import DOMAIN, honest_records, local_net, real_miner
from validator import reasons as R
from validator import sampling
from validator.service import Validator


def _validator(net) -> Validator:
    return Validator(net.config(), chain=net.chain, wallet=net.validator, catalog=net.catalog)


def _key(web, record) -> str:
    return next(a.key for a in web.articles() if web.article_url(a.key) == record.uri)


def _twin(record: Record, **changes) -> Record:
    fields = {"uri": record.uri, "text": record.text, "source": record.source, "domain": record.domain,
              "title": record.title, "fetched_at": utcnow(), "published_at": record.published_at,
              "lang": record.lang, "license": record.license, "labels": list(record.labels), "meta": dict(record.meta)}
    return Record.build(**{**fields, **changes})


async def _uid(net, hotkey: str) -> int:
    return (await net.chain.state()).by_hotkey(hotkey).uid


def _one_word_changed(record: Record) -> Record:
    """The record with the middle word of its text replaced: a near copy of it under its own URI."""
    words = record.text.split(" ")
    words[len(words) // 2] = "notably"
    return _twin(record, text=" ".join(words))


async def _rewrite_beside_a_rival(net, v: Validator, honest, rival, base: list[Record], other: Record, monkeypatch,
                                  *, rival_record) -> Record:
    """Accept `base` (the honest miner's) in a first step, then rewrite the live page of base[0] with `other`'s
    text: the honest miner gets its re-crawl, `rival` (registered first: it wins ties for re-fetches) the record
    `rival_record(re-crawl)`, and the kind's re-fetch budget is 2 (1 kept for versions). Returns the re-crawl."""
    await v.step()
    fresh = await _rewrite(net, base[0], other.text)
    honest.miner.store.store.add([fresh])
    rival.miner.store.store.add([rival_record(fresh)])
    monkeypatch.setattr(sampling, "refetch_budget", lambda _source: 2)
    return fresh


async def _rewrite(net, page: Record, text: str) -> Record:
    """Edit the live page to `text`; what an honest re-crawl of it gives now."""
    net.web.edit(_key(net.web, page), text=text)
    [fresh] = await honest_records(net.web, net.spec, [_key(net.web, page)])
    return fresh


async def test_a_new_version_confirmed_by_refetch_supersedes_the_old_row(tmp_path, web):
    async with local_net(tmp_path, web) as net:
        base, other = await net.records(6), (await net.records(1, start=6))[0]
        async with real_miner(net, "honest", base) as honest:
            v = _validator(net)
            try:
                await v.step()
                [(old_id, old_hash, _)] = v.store.versions_of(DOMAIN, base[0].uri)
                fresh = await _rewrite(net, base[0], other.text)
                honest.miner.store.store.add([fresh])
                report = await v.step()
                rows = v.store.versions_of(DOMAIN, base[0].uri)
            finally:
                await v.close()
    assert report.accepted == 1
    [(_, _, new_id), (newest, new_hash, current)] = rows
    assert (rows[0][:2], new_id, newest, new_hash, current) == ((old_id, old_hash), newest, newest,
                                                                 fresh.content_hash, None)


async def test_a_spin_under_the_pages_own_uri_is_rejected_and_the_old_row_stays_current(tmp_path, web):
    async with local_net(tmp_path, web) as net:
        base, more = await net.records(6), await net.records(5, start=6)
        async with real_miner(net, "honest", base) as honest:
            v = _validator(net)
            try:
                await v.step()
                before = v.store.versions_of(DOMAIN, base[0].uri)
                spin = _twin(base[0], text=spun(base[0].text, random.Random(7)))
                honest.miner.store.store.add([*more, spin])  # the live page still has the old text
                report = await v.step()
                after = v.store.versions_of(DOMAIN, base[0].uri)
                uid = await _uid(net, honest.hotkey)
                rejected = v.store.rejections(uid)
            finally:
                await v.close()
    assert report.accepted == len(more) and after == before and len(before) == 1
    assert rejected == {(uid, DOMAIN, R.UNCONFIRMED_VERSION): 1}


async def test_two_miners_delivering_two_versions_of_one_uri_in_a_step_yield_one_current_row(tmp_path, web):
    async with local_net(tmp_path, web) as net:
        base, other = await net.records(6), (await net.records(1, start=6))[0]
        fresh_pages = await net.records(6, start=7)
        async with real_miner(net, "honest", base) as honest:
            v = _validator(net)
            try:
                await v.step()
                fresh = await _rewrite(net, base[0], other.text)
                spin = _twin(fresh, text=spun(fresh.text, random.Random(3)))
                honest.miner.store.store.add([fresh])
                async with real_miner(net, "spinner", [*fresh_pages, spin]) as spinner:
                    uid = await _uid(net, spinner.hotkey)
                    # A new miner's batch with one unverified check among its first few waits for more checks
                    # (scoring/constants.py EVIDENCE_JUDGE_CHECKS): step until the spinner's batch is judged.
                    for _ in range(8):
                        await v.step()
                        rows = v.store.versions_of(DOMAIN, base[0].uri)
                        rejected = v.store.rejections(uid)
                        if rejected:
                            break
            finally:
                await v.close()
    current = [(h, s) for _, h, s in rows if s is None]
    assert current == [(fresh.content_hash, None)] and len(rows) == 2
    assert rejected.get((uid, DOMAIN, R.UNCONFIRMED_VERSION)) == 1


async def test_a_version_the_refetch_budget_cannot_reach_waits_and_is_accepted_later(tmp_path, web, monkeypatch):
    async with local_net(tmp_path, web) as net:
        base, other = await net.records(6), (await net.records(1, start=6))[0]
        async with real_miner(net, "honest", base) as honest:
            v = _validator(net)
            try:
                await v.step()
                fresh = await _rewrite(net, base[0], other.text)
                honest.miner.store.store.add([fresh])
                uid = await _uid(net, honest.hotkey)
                cursors = v.store.cursors(uid)
                with monkeypatch.context() as m:
                    m.setattr(sampling, "refetch_budget", lambda _source: 0)  # no re-fetch at all this step
                    waited = await v.step()
                    kept = v.store.cursors(uid) == cursors and len(v.store.versions_of(DOMAIN, base[0].uri)) == 1
                confirmed = await v.step()
                rows = v.store.versions_of(DOMAIN, base[0].uri)
            finally:
                await v.close()
    assert kept and waited.accepted == 0 and not v.store.rejections(uid)
    assert confirmed.accepted == 1 and [h for _, h, s in rows if s is None] == [fresh.content_hash]


async def test_a_version_is_confirmed_in_a_step_whose_random_samples_want_the_whole_budget(tmp_path, web, monkeypatch):
    """Two new miners (no evidence: their samples come first) want more re-fetches than the kind allows; the honest
    miner's re-crawl of an edited page is still re-fetched (in the share of the budget kept for versions)."""
    async with local_net(tmp_path, web) as net:
        base, other = await net.records(6), (await net.records(1, start=6))[0]
        first, second = await net.records(6, start=7), await net.records(6, start=13)
        async with real_miner(net, "honest", base) as honest:
            v = _validator(net)
            try:
                await v.step()
                fresh = await _rewrite(net, base[0], other.text)
                honest.miner.store.store.add([fresh])
                monkeypatch.setattr(sampling, "refetch_budget", lambda _source: 2)
                async with real_miner(net, "new1", first), real_miner(net, "new2", second):
                    await v.step()
                    rows = v.store.versions_of(DOMAIN, base[0].uri)
            finally:
                await v.close()
    assert [h for _, h, s in rows if s is None] == [fresh.content_hash]


async def test_a_small_edit_of_an_accepted_page_supersedes_it_and_earns_its_new_share(tmp_path, web):
    """An edit that appends a paragraph leaves the text a near duplicate of the accepted row (word-shingle similarity
    ≥ 0.8): it is the page's new version, not a copy, so the dataset follows the page; it is worth the share of its
    text that is new."""
    async with local_net(tmp_path, web) as net:
        base = await net.records(6)
        async with real_miner(net, "honest", base) as honest:
            v = _validator(net)
            try:
                await v.step()
                net.web.edit(_key(net.web, base[0]), append="The maintainers revised this page in December: they "
                             "checked every example against the current release and clarified two sentences.")
                [fresh] = await honest_records(net.web, net.spec, [_key(net.web, base[0])])
                honest.miner.store.store.add([fresh])
                report = await v.step()
                rows = v.store.versions_of(DOMAIN, base[0].uri)
                newest = [r for r in v.store.accepted_after(0, 100) if r.accepted_id == rows[-1][0]]
            finally:
                await v.close()
    assert report.accepted == 1 and len(rows) == 2 and rows[0][2] == rows[1][0] and rows[1][2] is None
    assert rows[1][1] == fresh.content_hash
    assert 0 < newest[0].novelty < 0.5  # most of its text was accepted before


async def test_a_one_word_spin_under_the_pages_own_uri_does_not_replace_the_page(tmp_path, web):
    """A copy of an accepted page with one word changed, under the page's own URI, is a near duplicate of the row
    (an edit, by its text) and its re-fetch passes the similarity band; but the live page is no closer to it than to
    the current row, so it is refused and the dataset keeps the page's text."""
    async with local_net(tmp_path, web) as net:
        base = await net.records(6)
        async with real_miner(net, "honest", base) as honest:
            v = _validator(net)
            try:
                await v.step()
                before = v.store.versions_of(DOMAIN, base[0].uri)
                honest.miner.store.store.add([_one_word_changed(base[0])])
                await v.step()
                after = v.store.versions_of(DOMAIN, base[0].uri)
                uid = await _uid(net, honest.hotkey)
                rejected = v.store.rejections(uid)
            finally:
                await v.close()
    assert after == before and len(before) == 1
    assert rejected.get((uid, DOMAIN, R.UNCONFIRMED_VERSION)) == 1


async def test_a_near_copy_under_an_accepted_url_never_takes_the_refetch_of_a_rewritten_pages_version(
        tmp_path, web, monkeypatch):
    """Edits of accepted pages (near copies of their rows) are re-fetched last, from what versions, rivals and the
    random samples left. A miner (registered first, so it would win a tie for the version share) delivers a near copy
    of an accepted page under its own URI in the step in which an honest miner re-crawls a rewritten page: the one
    re-fetch kept for versions goes to the rewritten page, whose new text is current after that step; the copy the
    budget did not reach is refused at once and its page keeps its row."""
    async with local_net(tmp_path, web) as net:
        base, other = await net.records(6), (await net.records(1, start=6))[0]
        async with real_miner(net, "near-copier", []) as copier, real_miner(net, "honest", base) as honest:
            v = _validator(net)
            try:
                fresh = await _rewrite_beside_a_rival(net, v, honest, copier, base, other, monkeypatch,
                                                      rival_record=lambda _fresh: _one_word_changed(base[1]))
                before = v.store.versions_of(DOMAIN, base[1].uri)  # as the first step accepted it
                await v.step()
                rows = v.store.versions_of(DOMAIN, base[0].uri)
                after = v.store.versions_of(DOMAIN, base[1].uri)
                uids = await _uid(net, copier.hotkey), await _uid(net, honest.hotkey)
            finally:
                await v.close()
    assert uids[0] < uids[1]
    assert [h for _, h, s in rows if s is None] == [fresh.content_hash]
    assert after == before and len(before) == 1


async def test_one_refetch_of_a_page_judges_every_text_of_it_in_the_step(tmp_path, web, monkeypatch):
    """A spinner (registered first, so it wins the tie for the one re-fetch kept for versions) delivers a spin of a
    rewritten page in the step in which an honest miner re-crawls it. The spin's re-fetch sees the live page; the
    honest text, which no re-fetch of its own reached, is judged against that same live page (no second fetch): it
    has the page's exact text, so it becomes the page's row in that step and the spin is refused (by its own check
    or as the page's other text). Before, the honest version waited for a re-fetch of its own."""
    async with local_net(tmp_path, web) as net:
        base, other = await net.records(6), (await net.records(1, start=6))[0]
        async with real_miner(net, "spinner", []) as spinner, real_miner(net, "honest", base) as honest:
            v = _validator(net)
            try:
                fresh = await _rewrite_beside_a_rival(
                    net, v, honest, spinner, base, other, monkeypatch,
                    rival_record=lambda fresh: _twin(fresh, text=spun(fresh.text, random.Random(5))))
                report = await v.step()
                rows = v.store.versions_of(DOMAIN, base[0].uri)
                uids = await _uid(net, spinner.hotkey), await _uid(net, honest.hotkey)
                rejected = v.store.rejections(uids[0])
            finally:
                await v.close()
    assert uids[0] < uids[1]
    assert [h for _, h, s in rows if s is None] == [fresh.content_hash] and report.accepted == 1
    assert sum(rejected.get((uids[0], DOMAIN, r), 0) for r in (R.DUPLICATE_URI, R.UNCONFIRMED_VERSION)) == 1


async def test_versions_in_a_batch_held_for_the_sources_outage_are_all_confirmed_when_it_resolves(tmp_path, web,
                                                                                                  monkeypatch):
    """An honest re-crawl of two rewritten pages meets a 503 from the source: the batch is held (the validator's
    trouble). When it resolves, its sample covers one page (a budget of two re-fetches when it was held, one kept for
    versions); the other version is re-fetched then too, so both pages carry their new text. Before, the version
    outside the sample was rejected and the page kept its old text."""
    async with local_net(tmp_path, web) as net:
        base, others = await net.records(6), await net.records(2, start=6)
        async with real_miner(net, "honest", base) as honest:
            v = _validator(net)
            try:
                await v.step()
                fresh = [await _rewrite(net, page, other.text) for page, other in zip(base, others, strict=False)]
                honest.miner.store.store.add(fresh)
                net.web.add_fault(status=503, path_prefix="/site/")
                with monkeypatch.context() as m:
                    m.setattr(sampling, "refetch_budget", lambda _source: 2)
                    held = await v.step()
                [batch] = v.store.due_pending(10)
                net.web.clear_faults()
                await v.step()
                current = [[h for _, h, s in v.store.versions_of(DOMAIN, page.uri) if s is None] for page in base[:2]]
                uid = await _uid(net, honest.hotkey)
                rejected = v.store.rejections(uid)
            finally:
                await v.close()
    assert held.outcomes[uid] == "unknown" and len(batch.sample) < len(fresh)
    assert current == [[f.content_hash] for f in fresh] and not rejected


@asynccontextmanager
async def _page_rewritten_after_a_step(tmp_path, web) -> AsyncIterator[SimpleNamespace]:
    """An honest miner (six pages) and a copier (six pages of its own) through a validator's first step, then the
    live page of the honest miner's first record rewritten: the scene, with `fresh` its honest re-crawl (stored by
    nobody yet) and `uids` (honest, copier)."""
    async with local_net(tmp_path, web) as net:
        base, own, other = await net.records(6), await net.records(6, start=7), (await net.records(1, start=6))[0]
        async with real_miner(net, "honest", base) as honest, real_miner(net, "copier", own) as copier:
            v = _validator(net)
            try:
                await v.step()
                fresh = await _rewrite(net, base[0], other.text)
                uids = await _uid(net, honest.hotkey), await _uid(net, copier.hotkey)
                yield SimpleNamespace(net=net, v=v, honest=honest.miner.store.store, copier=copier.miner.store.store,
                                      page=base[0], fresh=fresh, uids=uids)
            finally:
                await v.close()


def _accepted_from(v: Validator, uri: str) -> set[int]:
    return {r.miner_uid for r in v.store.accepted_after(0, 1000) if r.record.uri == uri}


async def test_a_near_copy_of_a_held_batchs_version_waits_for_it_and_never_becomes_the_pages_row(tmp_path, web):
    """The honest re-crawl of a rewritten page is held (the source answered the validator 503). A miner with a good
    record copies it with one word changed and delivers it in the next step, when the source answers again: its
    re-fetch would pass ("similar") and make the copy the page's new row. It shares the held record's content, so
    its batch waits; the held batch resolves and the honest text is the row; the copy is refused after that."""
    async with _page_rewritten_after_a_step(tmp_path, web) as sc:
        sc.honest.add([sc.fresh])
        sc.net.web.add_fault(status=503, path_prefix="/site/")
        held = await sc.v.step()
        sc.net.web.clear_faults()
        sc.copier.add([_one_word_changed(sc.fresh)])
        waited = await sc.v.step()
        after_wait = sc.v.store.versions_of(DOMAIN, sc.page.uri)
        await sc.v.step()
        rows = sc.v.store.versions_of(DOMAIN, sc.page.uri)
        accepted, rejected = _accepted_from(sc.v, sc.page.uri), sc.v.store.rejections(sc.uids[1])
    uids, fresh = sc.uids, sc.fresh
    assert held.outcomes[uids[0]] == "unknown" and waited.accepted == 0  # the copy waited; the held batch resolved
    assert [h for _, h, s in after_wait if s is None] == [h for _, h, s in rows if s is None] == [fresh.content_hash]
    assert accepted == {uids[0]}
    assert sum(rejected.get((uids[1], DOMAIN, r), 0) for r in (R.UNCONFIRMED_VERSION, "duplicate:near")) == 1


async def test_a_near_copy_of_a_rewritten_page_a_step_ahead_of_the_honest_recrawl_never_becomes_its_row(tmp_path,
                                                                                                      web):
    """A copier pulled after an honest miner's crawl of a rewritten page delivers the new text with one word
    changed a step before the honest miner does. Its re-fetch finds the live page similar, not identical: it waits a
    step and is fetched again, beside the honest re-crawl, which has the page's exact text: the two tie as near
    copies, and the text closest to the live page (not the tie's order) is the page's row."""
    async with _page_rewritten_after_a_step(tmp_path, web) as sc:
        sc.copier.add([_one_word_changed(sc.fresh)])
        ahead = await sc.v.step()
        sc.honest.add([sc.fresh])
        await sc.v.step()
        rows = sc.v.store.versions_of(DOMAIN, sc.page.uri)
        accepted = _accepted_from(sc.v, sc.page.uri)
    uids, fresh = sc.uids, sc.fresh
    assert ahead.accepted == 0 and [h for _, h, s in rows if s is None] == [fresh.content_hash]
    assert accepted == {uids[0]}


async def test_a_held_near_copy_of_a_rewritten_page_is_refused_and_the_honest_recrawl_that_waited_is_the_row(
        tmp_path, web):
    """A copier got a one-word copy of a rewritten page ahead of the honest re-crawl, and the source's 503 held its
    batch. The honest text, delivered in the next step, waits for the held batch; when that resolves, its copy (the
    live page only similar to it) is refused, not paid; the honest text is the page's row a step later."""
    async with _page_rewritten_after_a_step(tmp_path, web) as sc:
        earned = sc.v.store.miners()[sc.uids[1]].value_total  # its own six pages
        sc.copier.add([_one_word_changed(sc.fresh)])
        sc.net.web.add_fault(status=503, path_prefix="/site/")
        held = await sc.v.step()
        sc.net.web.clear_faults()
        sc.honest.add([sc.fresh])
        await sc.v.step()
        await sc.v.step()
        rows = sc.v.store.versions_of(DOMAIN, sc.page.uri)
        copier_value = sc.v.store.miners()[sc.uids[1]].value_total
        rejected = sc.v.store.rejections(sc.uids[1])
    uids, fresh = sc.uids, sc.fresh
    assert held.outcomes[uids[1]] == "unknown"
    assert [h for _, h, s in rows if s is None] == [fresh.content_hash] and len(rows) == 2
    assert rejected.get((uids[1], DOMAIN, R.UNCONFIRMED_VERSION)) == 1
    assert copier_value == earned
