"""Every tunable of the chain seam in one place: Yuma defaults mirror the subtensor runtime, local defaults are fast.

Runtime values (subtensor `runtime/src/lib.rs`, see ../shared/bittensor11.md §6) are kept as the fractions the
epoch uses; the raw storage encodings are noted beside them.
"""

from __future__ import annotations

U16_MAX = 65535

# --- Yuma consensus (runtime defaults) -------------------------------------------------------------------------
# Kappa 32767/65535: the share of active validator stake that must agree for a weight to stand in consensus.
KAPPA = 32767 / U16_MAX
# BondsPenalty 65535/65535: bonds follow the clipped weights entirely (1.0) rather than the raw ones (0.0).
BONDS_PENALTY = 1.0
# BondsMovingAverage 900_000 (per million): bonds move 10% toward the new bond weights each epoch.
BONDS_MOVING_AVERAGE = 900_000
BONDS_ALPHA = 1.0 - BONDS_MOVING_AVERAGE / 1_000_000
# ActivityCutoffFactorMilli 13_889: a validator is inactive after factor × tempo / 1000 blocks without weights.
ACTIVITY_CUTOFF_FACTOR_MILLI = 13_889
# StakeThreshold: stake below it counts as zero in the epoch (mainnet ≈ 1,000; 0 on a fresh subnet).
STAKE_THRESHOLD = 0.0

# --- Emission split of each block's subnet alpha (run_coinbase.rs) --------------------------------------------
# SubnetOwnerCut 11796/65535 ≈ 18% to the owner; the rest splits evenly between miners and validators (41% / 41%).
OWNER_CUT = 11796 / U16_MAX
MINER_SHARE_OF_REST = 0.5

# --- LocalChain defaults (fast, for one machine) ---------------------------------------------------------------
LOCAL_BLOCK_TIME = 1.0  # seconds per block; ChainConfig.block_time overrides it when the file is created
LOCAL_TEMPO = 20  # blocks per epoch (360 on mainnet, 10 on fast-runtime localnets)
LOCAL_WEIGHTS_RATE_LIMIT = 10  # blocks between two weight sets of one hotkey (100 on mainnet)
LOCAL_IMMUNITY_PERIOD = 200  # blocks a new uid cannot be replaced (4096 on mainnet)
LOCAL_MAX_UIDS = 256  # MaxAllowedUids
LOCAL_MAX_VALIDATORS = 64  # MaxAllowedValidators: permits go to the top-k stakes (128 on mainnet)
LOCAL_EMISSION_PER_BLOCK = 1.0  # alpha injected into the subnet per block, split owner / miners / validators
LOCAL_GENESIS_BLOCK = 1  # the block clock starts here; LastUpdate 0 means "never set weights"
# Commit-reveal is off on a new local chain: the demo and the tests pay miners from the epoch after the first
# weights (on, every payment would come `reveal_period` epochs later). Turn it on per chain file (LocalChain(...,
# commit_reveal=True)) to rehearse a real subnet. Mainnet's default is on, with a reveal period of 1 epoch.
LOCAL_COMMIT_REVEAL = False
LOCAL_REVEAL_PERIOD = 1  # epochs between a weights commit and its reveal (RevealPeriodEpochs)
LOCAL_BUSY_TIMEOUT = 30.0  # seconds a writer waits for the SQLite write lock before giving up

# --- Launch checks (chain.launch) -------------------------------------------------------------------------------
# Epochs beyond the reveal delay the immunity period should cover: one for a validator to pull and score a new
# miner, one for its weights to go through an epoch. The advice asks for (reveal_period + 2) × tempo blocks.
IMMUNITY_MARGIN_EPOCHS = 2

# --- Commitments (Commitments pallet limits) -------------------------------------------------------------------
RAW_FIELD_BYTES = 128  # one `RawN` field holds at most 128 bytes
MAX_COMMITMENT_FIELDS = 3  # at most 3 fields per commitment
MAX_COMMITMENT_BYTES = RAW_FIELD_BYTES * MAX_COMMITMENT_FIELDS


def activity_cutoff(tempo: int, factor_milli: int = ACTIVITY_CUTOFF_FACTOR_MILLI) -> int:
    """Blocks without weights after which a validator is inactive, as the runtime derives it from the tempo."""
    return max(1, factor_milli * tempo // 1000)

# --- Network desirability (chain.desirability) ------------------------------------------------------------------
DESIRABILITY_FETCH_SECONDS = 10.0  # one fetch of a committed desirability list, connect to last byte
DESIRABILITY_MIRRORS = 3  # other validators' listeners asked for a list its owner did not serve
