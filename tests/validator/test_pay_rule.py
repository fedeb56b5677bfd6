"""The pay rule, simulated over several steps with the validator's real sampling, judging, bound and credibility
(tests/validator/paysim.py): padding never pays more than the padder's honest part, honest deletions cost little and
the validator's own trouble costs nothing."""

from __future__ import annotations

import functools

import pytest

from tests.validator.paysim import Miner, simulate

STEPS = 40
SEEDS = (1, 2, 3)


@functools.cache
def _pay(miner: Miner, steps: int = STEPS) -> float:
    return sum(simulate(miner, steps, seed) for seed in SEEDS)


@pytest.mark.parametrize("records", [10, 1_000, 20_000])
@pytest.mark.parametrize("padded", [0.5, 0.9, 0.99])
@pytest.mark.parametrize("padding", ["invented", "spin"])
def test_padding_pays_less_than_the_padders_honest_part(records, padded, padding):
    padder = Miner(records=records, padded=padded, padding=padding)
    honest = _pay(padder.honest_part())
    assert honest > 0
    assert _pay(padder) < 1.0 * honest


@pytest.mark.parametrize("records", [1_000, 20_000])
def test_pages_deleted_between_crawl_and_check_cost_an_honest_miner_little(records):
    kept = _pay(Miner(records=records, deleted=0.02), 60) / _pay(Miner(records=records), 60)
    assert kept >= 0.97


def test_a_tiny_honest_batch_loses_to_deletions_only_what_its_sample_shows():
    """Half of a 10-record batch is sampled, so a deleted page is seen (and not paid) far more often than in a big
    batch: the cost stays under 3% all the same."""
    kept = _pay(Miner(records=10, deleted=0.02), 60) / _pay(Miner(records=10), 60)
    assert kept >= 0.97


@pytest.mark.parametrize("records", [10, 1_000])
def test_the_validators_own_trouble_costs_nothing(records):
    """5xx, 429, timeouts, DNS, a 5xx robots.txt and missing credentials hit 10% of checks: a batch with more than
    a fifth of them is held and re-verified; the pay is the same to within what one re-checked sample changes."""
    kept = _pay(Miner(records=records, faults=0.1)) / _pay(Miner(records=records))
    assert kept >= 0.99


def test_padding_a_little_with_invented_urls_earns_less_than_not_padding():
    padder = Miner(records=1_000, padded=0.3)
    assert _pay(padder) < _pay(padder.honest_part())
