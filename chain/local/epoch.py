"""Lazy epochs: every tempo the stored weights, bonds and stakes go through Yuma and the emission split is recorded."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import replace
from pathlib import Path

import numpy as np

from chain.local.neurons import set_permits
from chain.local.schema import Subnet
from chain.local.weights import reveal_due
from chain.yuma import EmissionSplit, EpochInputs, EpochResult, split_emission, yuma_epoch
from schemas.errors import ChainError

log = logging.getLogger(__name__)

# The neurons an epoch reads, by uid: (uid, hotkey, stake, validator_permit, last_update, block_at_registration).
_NEURONS = ("SELECT n.uid, n.hotkey, COALESCE(s.amount, 0.0), n.validator_permit, n.last_update, "
            "n.block_at_registration FROM neurons n LEFT JOIN stakes s ON s.hotkey = n.hotkey ORDER BY n.uid")


def catch_up(conn: sqlite3.Connection, sub: Subnet, block: int, path: Path) -> Subnet:
    """Run every epoch whose block has been reached, in order, and record where the schedule stands."""
    if sub.next_epoch_block() > block:
        return sub
    while sub.next_epoch_block() <= block:
        epoch_block = sub.next_epoch_block()
        run_epoch(conn, sub, epoch_block, path)
        sub = replace(sub, last_epoch_block=epoch_block, epoch_index=sub.epoch_index + 1)
    conn.execute("UPDATE subnet SET last_epoch_block = ?, epoch_index = ? WHERE id = 1",
                 (sub.last_epoch_block, sub.epoch_index))
    return sub


def run_epoch(conn: sqlite3.Connection, sub: Subnet, epoch_block: int, path: Path) -> None:
    """One epoch at `epoch_block`: commits due are revealed, Yuma runs over the stored state, then its results,
    bonds and emissions are written back."""
    revealed = reveal_due(conn, sub.epoch_index)
    if revealed:
        log.debug("weights revealed epoch=%d uids=%s", sub.epoch_index, revealed)
    rows = conn.execute(_NEURONS).fetchall()
    blocks = epoch_block - sub.last_epoch_block
    total = sub.params.emission_per_block * blocks
    n = len(rows)
    if n == 0:
        owner = total * sub.params.owner_cut
        conn.execute("INSERT INTO epochs VALUES (?, ?, ?, ?, ?, 0, 0, ?)",
                     (sub.epoch_index, epoch_block, blocks, total, owner, total - owner))
        return
    uids = [row[0] for row in rows]
    if uids != list(range(n)):
        raise ChainError(f"local chain {path} has gaps in its uids", hint="the file is corrupt; recreate it")
    inputs = EpochInputs(
        block=epoch_block, last_epoch_block=sub.last_epoch_block,
        stake=np.array([row[2] for row in rows], dtype=float),
        validator_permit=np.array([bool(row[3]) for row in rows]),
        last_update=np.array([row[4] for row in rows], dtype=np.int64),
        block_at_registration=np.array([row[5] for row in rows], dtype=np.int64),
        weights=_weight_matrix(conn, n), bonds=_bond_matrix(conn, n))
    result = yuma_epoch(inputs, sub.params.yuma())
    split = split_emission(total, result, owner_cut=sub.params.owner_cut)
    _record(conn, sub, epoch_block, blocks, total, rows, result, split)
    set_permits(conn, sub, None)
    log.debug("epoch ran epoch=%d block=%d uids=%d emission=%.6f", sub.epoch_index, epoch_block, n, total)


def _record(conn: sqlite3.Connection, sub: Subnet, epoch_block: int, blocks: int, total: float,
            rows: list[tuple], result: EpochResult, split: EmissionSplit) -> None:
    """Write one epoch's outcome: the neurons' new values, the bonds, the epoch row and each uid's emission."""
    n = len(rows)
    earned = split.per_uid
    conn.executemany(
        "UPDATE neurons SET consensus = ?, incentive = ?, dividends = ?, validator_trust = ?, emission = ?, "
        "pruning_score = ? WHERE uid = ?",
        [(float(result.consensus[u]), float(result.incentive[u]), float(result.dividends[u]),
          float(result.validator_trust[u]), float(earned[u]), float(earned[u]), u) for u in range(n)])
    conn.execute("DELETE FROM bonds")
    conn.executemany("INSERT INTO bonds (uid, row) VALUES (?, ?)",
                     [(u, result.bonds[u].tobytes()) for u in range(n) if result.bonds[u].any()])
    conn.execute("INSERT INTO epochs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                 (sub.epoch_index, epoch_block, blocks, total, split.owner, float(split.miner.sum()),
                  float(split.validator.sum()), split.recycled))
    conn.executemany(
        "INSERT INTO emissions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(sub.epoch_index, u, rows[u][1], float(rows[u][2]), bool(result.active[u]), bool(rows[u][3]),
          float(result.consensus[u]), float(result.incentive[u]), float(result.dividends[u]),
          float(result.validator_trust[u]), float(split.miner[u]), float(split.validator[u]))
         for u in range(n)])


def _weight_matrix(conn: sqlite3.Connection, n: int) -> np.ndarray:
    matrix = np.zeros((n, n))
    entries = np.array(conn.execute("SELECT uid, dest, value FROM weights").fetchall(), dtype=np.int64)
    if entries.size:
        matrix[entries[:, 0], entries[:, 1]] = entries[:, 2]
    return matrix


def _bond_matrix(conn: sqlite3.Connection, n: int) -> np.ndarray:
    matrix = np.zeros((n, n))
    for uid, blob in conn.execute("SELECT uid, row FROM bonds"):
        row = np.frombuffer(blob, dtype=np.float64)[:n]
        matrix[uid, : len(row)] = row
    return matrix
