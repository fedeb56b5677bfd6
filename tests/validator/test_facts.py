"""The facts the validator establishes per accepted row, through real steps: the language its language id detected
(not the language the miner claims), its re-fetch of the row when sampled (pass; unknown_then_pass for a batch it held
for its own trouble; null when not sampled) and the licence decision of scrapers.licence.decide from what the page
declared when the validator fetched it (None for rows it did not fetch; never the miner's `license`)."""

from __future__ import annotations

from scrapers import source_for
from scrapers.licence import decide
from tests.validator.harness import local_net, real_miner
from tests.validator.test_versions import _twin, _validator


def _decision(spec, record, declared):
    return decide(spec, source_for(spec, record), record, declared)


async def test_rows_keep_the_detected_language_their_sampling_and_the_licence_decision(tmp_path, web):
    async with local_net(tmp_path, web) as net:
        honest = await net.records(12)
        lying = [_twin(r, lang="fr", license="CC0-1.0") for r in honest]  # claims the checks must not take
        async with real_miner(net, "liar", lying):
            v = _validator(net)
            try:
                report = await v.step()
                rows = v.store.accepted_after(0, 100)
            finally:
                await v.close()
    declared = {r.uri: r.license for r in honest}  # what the page declares (the miner's crawl is the same code)
    assert len(rows) == len(honest) and list(report.checks.values()) == [{"pass": 5}]
    assert {r.record.lang for r in rows} == {"fr"} and {r.detected_lang for r in rows} == {"en"}
    sampled = [r for r in rows if r.verification == "pass"]
    assert len(sampled) == 5 and all(r.verification is None for r in rows if r not in sampled)
    for row in rows:
        decision = _decision(net.spec, row.record, declared[row.record.uri] if row in sampled else None)
        assert (row.licence, row.text_allowed, row.attribution, row.licence_basis) == (
            decision.licence, decision.text_allowed, decision.attribution, decision.basis)
        assert row.licence != "CC0-1.0" or decision.licence == "CC0-1.0"


async def test_a_row_of_a_batch_held_for_the_validators_trouble_is_unknown_then_pass(tmp_path, web):
    async with local_net(tmp_path, web) as net:
        records = await net.records(8)
        async with real_miner(net, "honest", records):
            v = _validator(net)
            try:
                net.web.add_fault(status=503, path_prefix="/site/")
                await v.step()
                net.web.clear_faults()
                await v.step()
                rows = v.store.accepted_after(0, 100)
            finally:
                await v.close()
    assert len(rows) == len(records)
    assert sorted(str(r.verification) for r in rows) == ["None"] * 3 + ["unknown_then_pass"] * 5
