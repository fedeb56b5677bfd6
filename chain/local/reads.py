"""Reads of the local chain: the subnet state with its block hashes, and the epoch and emission history."""

from __future__ import annotations

import hashlib
import sqlite3

from chain.local.schema import EmissionRecord, EpochRecord, Subnet
from chain.state import Neuron, NeuronAt, SubnetState
from schemas.errors import ChainError


def subnet_state(conn: sqlite3.Connection, sub: Subnet, block: int) -> SubnetState:
    """Every neuron with its stake, permit, activity and last epoch's results, at `block`."""
    cutoff = sub.params.activity_cutoff
    rows = conn.execute(
        "SELECT n.uid, n.hotkey, n.coldkey, COALESCE(s.amount, 0.0), n.validator_permit, n.axon, n.commitment, "
        "n.incentive, n.dividends, n.emission, n.last_update, n.block_at_registration, n.validator_trust "
        "FROM neurons n LEFT JOIN stakes s ON s.hotkey = n.hotkey ORDER BY n.uid").fetchall()
    neurons = tuple(
        Neuron(uid=r[0], hotkey=r[1], coldkey=r[2], stake=r[3], validator_permit=bool(r[4]),
               active=r[10] + cutoff >= block, axon=r[5], commitment=r[6], incentive=r[7], dividends=r[8],
               emission=r[9], last_update=r[10], block_at_registration=r[11], validator_trust=r[12])
        for r in rows)
    return SubnetState(netuid=sub.netuid, block=block, block_hash=hash_of(sub, block, block),
                       tempo=sub.params.tempo, neurons=neurons)


def neurons_at(conn: sqlite3.Connection, sub: Subnet, block: int, current: int) -> tuple[NeuronAt, ...]:
    """The uids registered by `block` with their stake and commitment then; permits go to the top-k stakes then,
    as `neurons.set_permits` gives them. (A uid replaced since `block` shows its current hotkey only.)"""
    if block < 0 or block > current:
        raise ChainError(f"block {block} does not exist yet (current block {current})",
                         hint="ask for a block at or below the current one")
    rows = conn.execute(
        "SELECT n.uid, n.hotkey, "
        "(SELECT amount FROM stake_history s WHERE s.hotkey = n.hotkey AND s.block <= ? ORDER BY block DESC LIMIT 1), "
        "c.data, c.block FROM neurons n LEFT JOIN commitment_history c ON c.hotkey = n.hotkey AND c.block = "
        "(SELECT MAX(block) FROM commitment_history h WHERE h.hotkey = n.hotkey AND h.block <= ?) "
        "WHERE n.block_at_registration <= ? ORDER BY n.uid", (block, block, block)).fetchall()
    stake = {uid: float(amount or 0.0) for uid, _, amount, _, _ in rows}
    eligible = sorted((uid for uid, value in stake.items() if value > 0 and value >= sub.params.stake_threshold),
                      key=lambda uid: (-stake[uid], uid))
    holders = set(eligible[:sub.params.max_validators])
    return tuple(NeuronAt(uid=uid, hotkey=hotkey, stake=stake[uid], validator_permit=uid in holders,
                          commitment=data, commitment_block=at) for uid, hotkey, _, data, at in rows)


def hash_of(sub: Subnet, block: int, current: int) -> str:
    """The hash of a past or current block: sha256 of the file's seed and the block number."""
    if block < 0 or block > current:
        raise ChainError(f"block {block} does not exist yet (current block {current})",
                         hint="ask for a block at or below the current one")
    return "0x" + hashlib.sha256(f"{sub.seed}:{block}".encode()).hexdigest()


def epochs(conn: sqlite3.Connection) -> list[EpochRecord]:
    """Every epoch's emission split, oldest first."""
    return [EpochRecord(*row) for row in conn.execute("SELECT * FROM epochs ORDER BY epoch")]


def emissions(conn: sqlite3.Connection, epoch: int | None, uid: int | None) -> list[EmissionRecord]:
    """Per uid per epoch history, optionally for one epoch and/or one uid, ordered by (epoch, uid)."""
    rows = conn.execute(
        "SELECT m.epoch, e.block, m.uid, m.hotkey, m.stake, m.active, m.validator_permit, m.consensus, "
        "m.incentive, m.dividends, m.validator_trust, m.miner_emission, m.validator_emission "
        "FROM emissions m JOIN epochs e ON e.epoch = m.epoch "
        "WHERE (? IS NULL OR m.epoch = ?) AND (? IS NULL OR m.uid = ?) ORDER BY m.epoch, m.uid",
        (epoch, epoch, uid, uid)).fetchall()
    return [EmissionRecord(*row[:5], bool(row[5]), bool(row[6]), *row[7:]) for row in rows]


def emission_totals(conn: sqlite3.Connection) -> dict[str, float]:
    """Total emission earned per hotkey over the chain's whole history."""
    return dict(conn.execute("SELECT hotkey, SUM(miner_emission + validator_emission) FROM emissions "
                             "GROUP BY hotkey").fetchall())
