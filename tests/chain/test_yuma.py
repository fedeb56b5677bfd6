"""Yuma consensus on hand-worked cases (numbers derived on paper from bittensor11.md §6)."""

from __future__ import annotations

import numpy as np
import pytest

from chain.constants import KAPPA, OWNER_CUT
from chain.yuma import EpochInputs, EpochResult, YumaParams, split_emission, weighted_median_columns, yuma_epoch

PARAMS = YumaParams(activity_cutoff=100)
STAKES = [60.0, 30.0, 10.0, 0.0, 0.0]  # uids 0-2 validators, 3-4 miners
U16 = 65535


def epoch(weights: dict[int, dict[int, float]], *, bonds: np.ndarray | None = None, block: int = 50,
          last_epoch_block: int = 30, last_update: list[int] | None = None, stakes: list[float] = STAKES,
          registered: list[int] | None = None, params: YumaParams = PARAMS) -> EpochResult:
    n = len(stakes)
    matrix = np.zeros((n, n))
    for uid, row in weights.items():
        for dest, value in row.items():
            matrix[uid, dest] = value
    return yuma_epoch(EpochInputs(
        block=block, last_epoch_block=last_epoch_block, stake=np.array(stakes),
        validator_permit=np.array([s > 0 for s in stakes]),
        last_update=np.array(last_update or [block - 1] * n),
        block_at_registration=np.array(registered or [1] * n),
        weights=matrix, bonds=np.zeros((n, n)) if bonds is None else bonds), params)


def test_weighted_median_is_the_value_kappa_of_the_stake_agrees_on() -> None:
    stake = np.array([0.6, 0.3, 0.1])
    weights = np.array([[0.2, 0.0], [0.5, 1.0], [0.9, 1.0]])
    # Column 0: stake(W < 0.5) = 0.6 > 1 - κ, so 0.2 stands; column 1: 0.6 of the stake says 0.
    assert weighted_median_columns(stake, weights, KAPPA).tolist() == [0.2, 0.0]


def test_weighted_median_with_an_even_split_takes_the_upper_value() -> None:
    stake = np.array([0.5, 0.5])
    weights = np.array([[0.0], [1.0]])
    assert weighted_median_columns(stake, weights, KAPPA).tolist() == [1.0]  # κ is just under one half


def test_majority_agreeing_sets_consensus_and_incentive_to_their_weights() -> None:
    result = epoch({v: {3: U16, 4: U16 / 3} for v in range(3)})
    assert result.consensus[3:].tolist() == pytest.approx([0.75, 0.25])
    assert result.incentive[3:].tolist() == pytest.approx([0.75, 0.25])
    assert result.validator_trust[:3].tolist() == pytest.approx([1.0, 1.0, 1.0])


def test_majority_agreeing_pays_dividends_in_proportion_to_stake() -> None:
    result = epoch({v: {3: U16, 4: U16 / 3} for v in range(3)})
    assert result.dividends[:3].tolist() == pytest.approx([0.6, 0.3, 0.1])


def test_outlier_weighting_its_own_miner_is_clipped_to_zero() -> None:
    result = epoch({0: {3: U16}, 1: {3: U16}, 2: {4: U16}})
    assert result.consensus[4] == 0.0
    assert result.incentive[4] == 0.0 and result.incentive[3] == pytest.approx(1.0)
    assert result.validator_trust[2] == 0.0


def test_outlier_loses_its_dividends_to_the_agreeing_validators() -> None:
    result = epoch({0: {3: U16}, 1: {3: U16}, 2: {4: U16}})
    assert result.dividends[:3].tolist() == pytest.approx([2 / 3, 1 / 3, 0.0])


def test_validator_that_stops_setting_weights_becomes_inactive_and_loses_its_stake_vote() -> None:
    # Validator 0 (60%) last set weights long ago; the remaining 40% now decide consensus alone.
    result = epoch({0: {3: U16}, 1: {4: U16}, 2: {4: U16}}, block=500, last_update=[100, 499, 499, 1, 1])
    assert result.active[:3].tolist() == [False, True, True]
    assert result.active_stake[:3].tolist() == pytest.approx([0.0, 0.75, 0.25])
    assert result.incentive[4] == pytest.approx(1.0)


def test_inactive_validator_earns_no_new_bonds() -> None:
    result = epoch({0: {3: U16}, 1: {3: U16}, 2: {3: U16}}, block=500, last_update=[100, 499, 499, 1, 1])
    assert result.bonds[0, 3] == 0.0
    assert result.dividends[:3].tolist() == pytest.approx([0.0, 0.75, 0.25])


def test_bonds_of_a_validator_that_defects_decay_by_the_moving_average() -> None:
    agreed = epoch({0: {3: U16}, 1: {3: U16}, 2: {4: U16}})
    bonds, shares = agreed.bonds, [agreed.dividends[1]]
    for _ in range(3):  # validator 1 (30%) joins the outlier: 40% < κ, so its new weight is clipped away
        result = epoch({0: {3: U16}, 1: {4: U16}, 2: {4: U16}}, bonds=bonds)
        bonds = result.bonds
        shares.append(result.dividends[1])
    assert shares == pytest.approx([1 / 3, 0.3, 0.27, 0.243])  # × (1 − α) with α = 0.1 each epoch


def test_incentive_and_dividends_each_sum_to_one_when_weights_exist() -> None:
    rng = np.random.default_rng(7)
    stakes = list(rng.uniform(1, 100, 8)) + [0.0] * 24
    weights = {v: {m: float(rng.uniform(0, U16)) for m in range(8, 32)} for v in range(8)}
    result = epoch(weights, stakes=stakes)
    assert result.incentive.sum() == pytest.approx(1.0)
    assert result.dividends.sum() == pytest.approx(1.0)


def test_without_weights_incentive_and_dividends_are_zero() -> None:
    result = epoch({})
    assert result.incentive.sum() == 0.0 and result.dividends.sum() == 0.0


def test_self_weight_is_ignored() -> None:
    result = epoch({0: {0: U16, 3: U16}, 1: {3: U16}, 2: {3: U16}})
    assert result.incentive[0] == 0.0 and result.incentive[3] == pytest.approx(1.0)


def test_weights_set_before_the_target_registered_are_dropped() -> None:
    # uid 4 was re-registered at block 45, after every validator last set weights (block 40).
    result = epoch({v: {3: U16, 4: U16} for v in range(3)}, last_update=[40, 40, 40, 1, 1],
                   registered=[1, 1, 1, 1, 45])
    assert result.incentive[4] == 0.0 and result.incentive[3] == pytest.approx(1.0)


def test_bonds_toward_a_newly_registered_uid_start_from_zero() -> None:
    old = epoch({v: {3: U16, 4: U16} for v in range(3)}).bonds
    old[:, 4] = [0.0, 0.0, 1.0, 0.0, 0.0]  # stale bonds of the uid's previous holder
    result = epoch({v: {3: U16, 4: U16} for v in range(3)}, bonds=old, registered=[1, 1, 1, 1, 35])
    assert result.bonds[:3, 4].tolist() == pytest.approx([0.6, 0.3, 0.1])


def test_emission_split_gives_owner_miners_and_validators_their_shares() -> None:
    result = epoch({0: {3: U16}, 1: {3: U16}, 2: {4: U16}})
    split = split_emission(100.0, result)
    rest = 100.0 * (1 - OWNER_CUT)
    assert split.owner == pytest.approx(100.0 * OWNER_CUT)
    assert split.miner.tolist() == pytest.approx([0, 0, 0, rest / 2, 0])
    assert split.validator.tolist() == pytest.approx([rest / 3, rest / 6, 0, 0, 0])
    assert split.owner + split.per_uid.sum() + split.recycled == pytest.approx(100.0)


def test_without_incentive_the_miner_half_goes_to_validators_by_stake() -> None:
    split = split_emission(10.0, epoch({}))
    assert split.miner.sum() == 0.0
    assert split.validator[:3].tolist() == pytest.approx([6 * 0.82, 3 * 0.82, 1 * 0.82], rel=1e-3)


def test_without_any_stake_the_emission_is_recycled() -> None:
    split = split_emission(10.0, epoch({}, stakes=[0.0, 0.0, 0.0]))
    assert split.recycled == pytest.approx(10.0 * (1 - OWNER_CUT))
    assert split.per_uid.sum() == 0.0
