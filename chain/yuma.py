"""Yuma consensus (classic bonds, as subtensor's `epoch_dense_mechanism`) and the emission split, in numpy.

Pure functions over dense arrays indexed by uid: the LocalChain feeds them its stored state once per tempo.
The steps and their names follow ../shared/bittensor11.md §6.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chain.constants import (
    BONDS_ALPHA,
    BONDS_PENALTY,
    KAPPA,
    MINER_SHARE_OF_REST,
    OWNER_CUT,
    STAKE_THRESHOLD,
)


@dataclass(frozen=True)
class YumaParams:
    activity_cutoff: int  # blocks without weights after which a validator's stake stops counting
    kappa: float = KAPPA
    bonds_penalty: float = BONDS_PENALTY
    bonds_alpha: float = BONDS_ALPHA  # EMA step of the bonds, 1 - BondsMovingAverage / 1e6
    stake_threshold: float = STAKE_THRESHOLD


@dataclass(frozen=True)
class EpochInputs:
    block: int
    last_epoch_block: int  # bonds toward uids registered after it are reset
    stake: np.ndarray  # (n,) stake per uid
    validator_permit: np.ndarray  # (n,) bool, the permits stored by the previous epoch
    last_update: np.ndarray  # (n,) block of each uid's last weight set
    block_at_registration: np.ndarray  # (n,)
    weights: np.ndarray  # (n, n) row i = weights set by uid i, any non-negative scale (u16 on chain)
    bonds: np.ndarray  # (n, n) bonds stored by the previous epoch
    owner_uid: int | None = None  # the owner may weight itself and is exempt from the stake threshold


@dataclass(frozen=True)
class EpochResult:
    active: np.ndarray  # (n,) bool
    stake_weight: np.ndarray  # (n,) normalised stake after the threshold
    active_stake: np.ndarray  # (n,) normalised stake of active permit holders
    consensus: np.ndarray  # (n,) per miner: the weight κ of active stake agrees on
    validator_trust: np.ndarray  # (n,) per validator: its weight mass that survived clipping
    incentive: np.ndarray  # (n,) sums to 1 when any clipped weight exists
    dividends: np.ndarray  # (n,) sums to 1 when any bond earns incentive
    bonds: np.ndarray  # (n, n) to store for the next epoch (column-normalised)


@dataclass(frozen=True)
class EmissionSplit:
    owner: float
    miner: np.ndarray  # (n,)
    validator: np.ndarray  # (n,)
    recycled: float  # nobody could receive it (no stake, no incentive)

    @property
    def per_uid(self) -> np.ndarray:
        return self.miner + self.validator


def normalize(vector: np.ndarray) -> np.ndarray:
    total = vector.sum()
    return vector / total if total > 0 else np.zeros_like(vector, dtype=float)


def _normalize_axis(matrix: np.ndarray, axis: int) -> np.ndarray:
    sums = matrix.sum(axis=axis, keepdims=True)
    return np.divide(matrix, sums, out=np.zeros_like(matrix, dtype=float), where=sums > 0)


def row_normalize(matrix: np.ndarray) -> np.ndarray:
    return _normalize_axis(matrix, 1)


def col_normalize(matrix: np.ndarray) -> np.ndarray:
    return _normalize_axis(matrix, 0)


def weighted_median_columns(stake: np.ndarray, weights: np.ndarray, kappa: float) -> np.ndarray:
    """Per column j the largest x such that validators holding at least κ of the stake set W_ij ≥ x.

    Exactly: stake(W < x) ≤ (1 − κ)·total < stake(W ≤ x), the chain's stake-weighted median.
    """
    total = stake.sum()
    if total <= 0 or weights.size == 0:
        return np.zeros(weights.shape[1])
    order = np.argsort(weights, axis=0, kind="stable")
    sorted_weights = np.take_along_axis(weights, order, axis=0)
    cumulative = np.cumsum(stake[order], axis=0)
    crossed = cumulative > (1.0 - kappa) * total
    first = crossed.argmax(axis=0)
    median = sorted_weights[first, np.arange(weights.shape[1])]
    return np.where(crossed.any(axis=0), median, 0.0)


def _effective_weights(inputs: EpochInputs, permit: np.ndarray) -> np.ndarray:
    """Row-normalised weights of permit holders, without self-weights or weights older than their target."""
    weights = np.array(inputs.weights, dtype=float)
    weights[~permit, :] = 0.0
    owner_self = weights[inputs.owner_uid, inputs.owner_uid] if inputs.owner_uid is not None else 0.0
    np.fill_diagonal(weights, 0.0)
    if inputs.owner_uid is not None:
        weights[inputs.owner_uid, inputs.owner_uid] = owner_self
    # A weight set before its target registered was meant for the uid's previous holder.
    outdated = inputs.last_update[:, None] <= inputs.block_at_registration[None, :]
    weights[outdated] = 0.0
    return row_normalize(weights)


def _stake_weight(inputs: EpochInputs, threshold: float) -> np.ndarray:
    stake = np.array(inputs.stake, dtype=float)
    below = stake < threshold
    if inputs.owner_uid is not None:
        below[inputs.owner_uid] = False
    stake[below] = 0.0
    return normalize(stake)


def yuma_epoch(inputs: EpochInputs, params: YumaParams) -> EpochResult:
    """One epoch: consensus, clipping, incentive, bonds EMA and dividends."""
    n = len(inputs.stake)
    permit = np.asarray(inputs.validator_permit, dtype=bool)
    active = ~(inputs.last_update + params.activity_cutoff < inputs.block)
    stake_weight = _stake_weight(inputs, params.stake_threshold)
    active_stake = normalize(stake_weight * active * permit)

    weights = _effective_weights(inputs, permit)
    consensus = weighted_median_columns(active_stake, weights, params.kappa)
    clipped = np.minimum(weights, consensus[None, :])
    validator_trust = clipped.sum(axis=1)
    incentive = normalize(active_stake @ clipped)

    bond_weights = (1.0 - params.bonds_penalty) * weights + params.bonds_penalty * clipped
    previous = np.array(inputs.bonds, dtype=float).reshape(n, n)
    previous[:, inputs.block_at_registration > inputs.last_epoch_block] = 0.0
    previous = col_normalize(previous)
    delta = col_normalize(bond_weights * active_stake[:, None])
    bonds = col_normalize(params.bonds_alpha * delta + (1.0 - params.bonds_alpha) * previous)
    dividends = normalize(bonds @ incentive)

    return EpochResult(active=active, stake_weight=stake_weight, active_stake=active_stake, consensus=consensus,
                       validator_trust=validator_trust, incentive=incentive, dividends=dividends, bonds=bonds)


def split_emission(total: float, result: EpochResult, *, owner_cut: float = OWNER_CUT,
                   miner_share: float = MINER_SHARE_OF_REST) -> EmissionSplit:
    """Divide an epoch's emission: owner cut, miners by incentive, validators by dividends.

    Without incentive the miner half goes to validators; without dividends validators are paid by active stake
    (then by stake); what nobody can receive is reported as recycled, so the parts always add up to `total`.
    """
    n = len(result.incentive)
    owner = total * owner_cut
    rest = total - owner
    miner_pool = rest * miner_share
    validator_pool = rest - miner_pool
    miner = np.zeros(n)
    if result.incentive.sum() > 0:
        miner = miner_pool * result.incentive
    else:
        validator_pool += miner_pool
    for share in (result.dividends, result.active_stake, result.stake_weight):
        if share.sum() > 0:
            return EmissionSplit(owner=owner, miner=miner, validator=validator_pool * normalize(share),
                                 recycled=0.0)
    return EmissionSplit(owner=owner, miner=miner, validator=np.zeros(n), recycled=validator_pool)
