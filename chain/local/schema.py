"""The local chain file's tables and the plain values read from them: parameters, epochs, emissions, the subnet row."""

from __future__ import annotations

from dataclasses import dataclass

from chain import constants as k
from chain.yuma import YumaParams
from schemas.errors import ChainError

SCHEMA_VERSION = 3  # 2: weight_commits (commit-reveal); 3: stake and commitment history

SCHEMA = """
CREATE TABLE IF NOT EXISTS subnet (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    netuid INTEGER NOT NULL,
    params TEXT NOT NULL,              -- LocalParams as JSON, fixed when the file is created
    seed TEXT NOT NULL,                -- block hashes are sha256(seed:block)
    genesis REAL NOT NULL,             -- wall time of the genesis block
    block_offset INTEGER NOT NULL DEFAULT 0,   -- blocks added by advance()
    last_epoch_block INTEGER NOT NULL DEFAULT 0,
    epoch_index INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS neurons (
    uid INTEGER PRIMARY KEY,
    hotkey TEXT NOT NULL UNIQUE,
    coldkey TEXT NOT NULL,
    validator_permit INTEGER NOT NULL DEFAULT 0,
    axon TEXT,
    commitment TEXT,
    commitment_block INTEGER,
    last_update INTEGER NOT NULL,
    block_at_registration INTEGER NOT NULL,
    consensus REAL NOT NULL DEFAULT 0,
    incentive REAL NOT NULL DEFAULT 0,
    dividends REAL NOT NULL DEFAULT 0,
    validator_trust REAL NOT NULL DEFAULT 0,
    emission REAL NOT NULL DEFAULT 0,
    pruning_score REAL NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS stakes (
    hotkey TEXT PRIMARY KEY,
    amount REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS stake_history (
    hotkey TEXT NOT NULL,
    block INTEGER NOT NULL,
    amount REAL NOT NULL,              -- the hotkey's stake from this block on
    PRIMARY KEY (hotkey, block)
);
CREATE TABLE IF NOT EXISTS commitment_history (
    hotkey TEXT NOT NULL,
    block INTEGER NOT NULL,
    data TEXT NOT NULL,                -- the hotkey's commitment from this block on
    PRIMARY KEY (hotkey, block)
);
CREATE TABLE IF NOT EXISTS weights (
    uid INTEGER NOT NULL,
    dest INTEGER NOT NULL,
    value INTEGER NOT NULL,            -- u16, max-upscaled like the chain stores them
    PRIMARY KEY (uid, dest)
);
CREATE TABLE IF NOT EXISTS weight_commits (
    uid INTEGER NOT NULL,
    commit_block INTEGER NOT NULL,
    reveal_epoch INTEGER NOT NULL,     -- the epoch whose run first sees these weights
    dest INTEGER NOT NULL,
    value INTEGER NOT NULL,            -- u16, as in weights
    PRIMARY KEY (uid, commit_block, dest)
);
CREATE TABLE IF NOT EXISTS bonds (
    uid INTEGER PRIMARY KEY,
    row BLOB NOT NULL                  -- float64 bonds of this validator toward each uid
);
CREATE TABLE IF NOT EXISTS epochs (
    epoch INTEGER PRIMARY KEY,
    block INTEGER NOT NULL,
    blocks INTEGER NOT NULL,
    emission REAL NOT NULL,
    owner REAL NOT NULL,
    miners REAL NOT NULL,
    validators REAL NOT NULL,
    recycled REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS emissions (
    epoch INTEGER NOT NULL,
    uid INTEGER NOT NULL,
    hotkey TEXT NOT NULL,
    stake REAL NOT NULL,
    active INTEGER NOT NULL,
    validator_permit INTEGER NOT NULL,
    consensus REAL NOT NULL,
    incentive REAL NOT NULL,
    dividends REAL NOT NULL,
    validator_trust REAL NOT NULL,
    miner_emission REAL NOT NULL,
    validator_emission REAL NOT NULL,
    PRIMARY KEY (epoch, uid)
);
CREATE INDEX IF NOT EXISTS emissions_hotkey ON emissions (hotkey);
"""

# A file made before schema 3 has no history: its stakes count from genesis, its commitments from their block.
HISTORY_BACKFILL = (
    "INSERT OR IGNORE INTO stake_history (hotkey, block, amount) SELECT hotkey, 0, amount FROM stakes",
    "INSERT OR IGNORE INTO commitment_history (hotkey, block, data) "
    "SELECT hotkey, COALESCE(commitment_block, 0), commitment FROM neurons WHERE commitment IS NOT NULL",
)


@dataclass(frozen=True)
class LocalParams:
    """The subnet's hyperparameters, fixed when the chain file is created (every process reads them back)."""

    tempo: int = k.LOCAL_TEMPO
    block_time: float = k.LOCAL_BLOCK_TIME
    weights_rate_limit: int = k.LOCAL_WEIGHTS_RATE_LIMIT
    immunity_period: int = k.LOCAL_IMMUNITY_PERIOD
    max_uids: int = k.LOCAL_MAX_UIDS
    max_validators: int = k.LOCAL_MAX_VALIDATORS
    activity_cutoff: int | None = None  # None: derived from the tempo as the runtime does
    emission_per_block: float = k.LOCAL_EMISSION_PER_BLOCK
    owner_cut: float = k.OWNER_CUT
    kappa: float = k.KAPPA
    bonds_penalty: float = k.BONDS_PENALTY
    bonds_alpha: float = k.BONDS_ALPHA
    stake_threshold: float = k.STAKE_THRESHOLD
    # Commit-reveal: weights set while it is on stay hidden (a commit) until `reveal_period` epochs have run.
    commit_reveal: bool = k.LOCAL_COMMIT_REVEAL
    reveal_period: int = k.LOCAL_REVEAL_PERIOD

    def __post_init__(self) -> None:
        if self.activity_cutoff is None:
            object.__setattr__(self, "activity_cutoff", k.activity_cutoff(self.tempo))
        if (self.tempo < 1 or self.block_time <= 0 or self.max_uids < 1 or self.max_validators < 1
                or self.reveal_period < 1):
            raise ChainError(f"invalid LocalChain parameters {self}",
                             hint="tempo, max_uids, max_validators and reveal_period must be >= 1 and block_time > 0")

    def yuma(self) -> YumaParams:
        return YumaParams(activity_cutoff=int(self.activity_cutoff), kappa=self.kappa,
                          bonds_penalty=self.bonds_penalty, bonds_alpha=self.bonds_alpha,
                          stake_threshold=self.stake_threshold)


@dataclass(frozen=True)
class EpochRecord:
    """One epoch's emission: `emission` = per-block emission × `blocks` = owner + miners + validators + recycled."""

    epoch: int
    block: int
    blocks: int
    emission: float
    owner: float
    miners: float
    validators: float
    recycled: float


@dataclass(frozen=True)
class EmissionRecord:
    """What one uid was and earned in one epoch."""

    epoch: int
    block: int
    uid: int
    hotkey: str
    stake: float
    active: bool
    validator_permit: bool
    consensus: float
    incentive: float
    dividends: float
    validator_trust: float
    miner_emission: float
    validator_emission: float

    @property
    def emission(self) -> float:
        return self.miner_emission + self.validator_emission


@dataclass(frozen=True)
class Subnet:
    netuid: int
    params: LocalParams
    seed: str
    genesis: float
    block_offset: int
    last_epoch_block: int
    epoch_index: int

    def block_at(self, now: float) -> int:
        elapsed = max(0.0, now - self.genesis)
        return k.LOCAL_GENESIS_BLOCK + self.block_offset + int(elapsed // self.params.block_time)

    def next_epoch_block(self) -> int:
        return self.last_epoch_block + self.params.tempo

