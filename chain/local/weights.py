"""Setting weights on the local chain (permit and rate limit as the runtime checks them) and reading them back.

With commit-reveal on, a weight set is stored as a commit and becomes the uid's weights (seen by Yuma and by
`stored_weights`) only when the epoch `reveal_period` epochs later runs; the rate limit counts from the commit."""

from __future__ import annotations

import sqlite3

from chain.checks import quantize_weights
from chain.local.neurons import not_registered
from chain.local.schema import Subnet
from schemas.errors import ChainError, RateLimitedError


def set_weights(conn: sqlite3.Connection, sub: Subnet, block: int, hotkey: str, weights: dict[int, float]) -> None:
    """Replace the hotkey's weights (u16, max-upscaled) and stamp its last update with this block."""
    row = conn.execute("SELECT uid, last_update, validator_permit FROM neurons WHERE hotkey = ?",
                       (hotkey,)).fetchone()
    if row is None:
        raise not_registered(hotkey, sub.netuid)
    uid, last_update, permit = row
    since = block - last_update
    limit = sub.params.weights_rate_limit
    if last_update > 0 and since < limit:
        raise RateLimitedError(
            f"weights of uid {uid} were set {since} blocks ago; the rate limit is {limit} blocks",
            hint=f"retry in {limit - since} blocks", retry_after_blocks=limit - since)
    count = conn.execute("SELECT COUNT(*) FROM neurons").fetchone()[0]
    dests, values = quantize_weights(weights, count)
    if not permit and dests != [uid]:
        raise ChainError(f"uid {uid} has no validator permit, so its weights would not count",
                         hint="stake on the hotkey (`glean chain stake`) until it ranks in the top "
                              f"{sub.params.max_validators}")
    if sub.params.commit_reveal:
        reveal = sub.epoch_index + sub.params.reveal_period
        conn.executemany("INSERT OR REPLACE INTO weight_commits (uid, commit_block, reveal_epoch, dest, value) "
                         "VALUES (?, ?, ?, ?, ?)",
                         [(uid, block, reveal, dest, value) for dest, value in zip(dests, values, strict=True)])
    else:
        _replace_row(conn, uid, list(zip(dests, values, strict=True)))
    conn.execute("UPDATE neurons SET last_update = ? WHERE uid = ?", (block, uid))


def _replace_row(conn: sqlite3.Connection, uid: int, row: list[tuple[int, int]]) -> None:
    conn.execute("DELETE FROM weights WHERE uid = ?", (uid,))
    conn.executemany("INSERT INTO weights (uid, dest, value) VALUES (?, ?, ?)",
                     [(uid, dest, value) for dest, value in row])


def reveal_due(conn: sqlite3.Connection, epoch: int) -> list[int]:
    """Before epoch `epoch` runs: each uid's latest commit due by then becomes its weights. Returns the uids."""
    due = conn.execute("SELECT uid, MAX(commit_block) FROM weight_commits WHERE reveal_epoch <= ? GROUP BY uid",
                       (epoch,)).fetchall()
    for uid, commit_block in due:
        row = conn.execute("SELECT dest, value FROM weight_commits WHERE uid = ? AND commit_block = ? ORDER BY dest",
                           (uid, commit_block)).fetchall()
        _replace_row(conn, uid, row)
    conn.execute("DELETE FROM weight_commits WHERE reveal_epoch <= ?", (epoch,))
    return [uid for uid, _ in due]


def pending_commits(conn: sqlite3.Connection) -> dict[int, int]:
    """uid -> the epoch its latest pending commit reveals at."""
    return dict(conn.execute("SELECT uid, MAX(reveal_epoch) FROM weight_commits GROUP BY uid").fetchall())


def blocks_since_last_update(conn: sqlite3.Connection, block: int, uid: int) -> int:
    """Blocks since the uid last set weights (or registered)."""
    row = conn.execute("SELECT last_update FROM neurons WHERE uid = ?", (uid,)).fetchone()
    if row is None:
        raise ChainError(f"uid {uid} does not exist on the local chain", hint="read the state for valid uids")
    return block - row[0]


def stored_weights(conn: sqlite3.Connection) -> dict[int, dict[int, float]]:
    """The stored weights per setter uid, row-normalised."""
    rows: dict[int, dict[int, float]] = {}
    for uid, dest, value in conn.execute("SELECT uid, dest, value FROM weights ORDER BY uid, dest"):
        rows.setdefault(uid, {})[dest] = float(value)
    return {uid: {dest: value / sum(row.values()) for dest, value in row.items()} for uid, row in rows.items()}
