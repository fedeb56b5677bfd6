"""Registration, stake and validator permits on the local chain, plus what a neuron announces (axon, commitment)."""

from __future__ import annotations

import json
import logging
import math
import sqlite3
from dataclasses import asdict, replace

from chain.checks import axon_address, check_commitment
from chain.local.schema import LocalParams, Subnet
from schemas.errors import ChainError, NotRegisteredError

log = logging.getLogger(__name__)


def not_registered(hotkey: str, netuid: int) -> NotRegisteredError:
    """The error for a hotkey that holds no uid, with how to register it."""
    return NotRegisteredError(f"hotkey {hotkey} is not registered on local netuid {netuid}",
                              hint="register it first: `glean chain register` (or chain.register(wallet))")


def uid_of(conn: sqlite3.Connection, hotkey: str) -> int | None:
    """The uid a hotkey holds, or None."""
    row = conn.execute("SELECT uid FROM neurons WHERE hotkey = ?", (hotkey,)).fetchone()
    return None if row is None else row[0]


def register(conn: sqlite3.Connection, sub: Subnet, block: int, hotkey: str, coldkey: str) -> int:
    """The hotkey's uid: its existing one, the next free one, or the evicted one of a full subnet."""
    existing = uid_of(conn, hotkey)
    if existing is not None:
        return existing
    count = conn.execute("SELECT COUNT(*) FROM neurons").fetchone()[0]
    if count < sub.params.max_uids:
        conn.execute("INSERT INTO neurons (uid, hotkey, coldkey, last_update, block_at_registration) "
                     "VALUES (?, ?, ?, ?, ?)", (count, hotkey, coldkey, block, block))
        uid = count
    else:
        uid = _replace_lowest(conn, sub, block, hotkey, coldkey)
    set_permits(conn, sub, None)
    log.info("registered hotkey=%s uid=%d block=%d", hotkey, uid, block)
    return uid


def _replace_lowest(conn: sqlite3.Connection, sub: Subnet, block: int, hotkey: str, coldkey: str) -> int:
    """A full subnet evicts the non-immune uid with the lowest pruning score (older, then lower uid, first)."""
    row = conn.execute(
        "SELECT uid, hotkey FROM neurons WHERE block_at_registration + ? <= ? "
        "ORDER BY pruning_score ASC, block_at_registration ASC, uid ASC LIMIT 1",
        (sub.params.immunity_period, block)).fetchone()
    if row is None:
        raise ChainError(f"local netuid {sub.netuid} is full ({sub.params.max_uids} uids) and every uid is "
                         "still immune",
                         hint=f"retry after the immunity period ({sub.params.immunity_period} blocks)")
    uid, evicted = row
    conn.execute(
        "UPDATE neurons SET hotkey = ?, coldkey = ?, validator_permit = 0, axon = NULL, commitment = NULL, "
        "commitment_block = NULL, last_update = ?, block_at_registration = ?, consensus = 0, incentive = 0, "
        "dividends = 0, validator_trust = 0, emission = 0, pruning_score = 0 WHERE uid = ?",
        (hotkey, coldkey, block, block, uid))
    conn.execute("DELETE FROM weights WHERE uid = ?", (uid,))
    conn.execute("DELETE FROM weight_commits WHERE uid = ?", (uid,))
    conn.execute("DELETE FROM bonds WHERE uid = ?", (uid,))
    log.info("replaced uid=%d evicted=%s", uid, evicted)
    return uid


def store_max_validators(conn: sqlite3.Connection, sub: Subnet, max_validators: int) -> LocalParams:
    """Store a new permit count k in the subnet's parameters; returns the new parameters."""
    if max_validators < 1:
        raise ChainError(f"max_validators must be >= 1, got {max_validators}", hint="pass a positive k")
    params = replace(sub.params, max_validators=max_validators)
    conn.execute("UPDATE subnet SET params = ? WHERE id = 1", (json.dumps(asdict(params)),))
    return params


def set_permits(conn: sqlite3.Connection, sub: Subnet, max_validators: int | None) -> list[int]:
    """Top-k stake among stake > 0 get a permit; a validator losing its permit loses its bonds."""
    limit = max_validators or sub.params.max_validators
    rows = conn.execute("SELECT n.uid, COALESCE(s.amount, 0.0), n.validator_permit FROM neurons n "
                        "LEFT JOIN stakes s ON s.hotkey = n.hotkey").fetchall()
    eligible = sorted((row for row in rows if row[1] > 0 and row[1] >= sub.params.stake_threshold),
                      key=lambda row: (-row[1], row[0]))
    holders = sorted(row[0] for row in eligible[:limit])
    lost = [(row[0],) for row in rows if row[2] and row[0] not in holders]
    conn.execute("UPDATE neurons SET validator_permit = 0")
    conn.executemany("UPDATE neurons SET validator_permit = 1 WHERE uid = ?", [(uid,) for uid in holders])
    conn.executemany("DELETE FROM bonds WHERE uid = ?", lost)
    return holders


def add_stake(conn: sqlite3.Connection, sub: Subnet, block: int, hotkey: str, amount: float) -> float:
    """Add (negative: remove) stake on a hotkey and recompute the permits; returns the new stake."""
    if not math.isfinite(amount):
        raise ChainError(f"stake amount {amount} is not a number", hint="pass a finite amount")
    row = conn.execute("SELECT amount FROM stakes WHERE hotkey = ?", (hotkey,)).fetchone()
    new = (row[0] if row else 0.0) + amount
    if new < 0:
        raise ChainError(f"hotkey {hotkey} has {row[0] if row else 0.0:g} staked; cannot remove {-amount:g}",
                         hint="remove at most the current stake")
    conn.execute("INSERT INTO stakes (hotkey, amount) VALUES (?, ?) "
                 "ON CONFLICT (hotkey) DO UPDATE SET amount = excluded.amount", (hotkey, new))
    conn.execute("INSERT OR REPLACE INTO stake_history (hotkey, block, amount) VALUES (?, ?, ?)", (hotkey, block, new))
    set_permits(conn, sub, None)
    return new


def serve(conn: sqlite3.Connection, sub: Subnet, hotkey: str, ip: str, port: int) -> None:
    """Announce the hotkey's axon address."""
    uid = uid_of(conn, hotkey)
    if uid is None:
        raise not_registered(hotkey, sub.netuid)
    conn.execute("UPDATE neurons SET axon = ? WHERE uid = ?", (axon_address(ip, port), uid))


def commit(conn: sqlite3.Connection, sub: Subnet, block: int, hotkey: str, data: str) -> None:
    """Store the hotkey's commitment at this block (and in its history, so it can be read as of a block)."""
    uid = uid_of(conn, hotkey)
    if uid is None:
        raise not_registered(hotkey, sub.netuid)
    check_commitment(data)
    conn.execute("UPDATE neurons SET commitment = ?, commitment_block = ? WHERE uid = ?", (data, block, uid))
    conn.execute("INSERT OR REPLACE INTO commitment_history (hotkey, block, data) VALUES (?, ?, ?)",
                 (hotkey, block, data))
