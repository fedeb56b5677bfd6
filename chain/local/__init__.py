"""LocalChain: an embedded subnet in one SQLite file that miners, validators and the CLI share across processes.

The block clock is wall time: `genesis block + offset + elapsed / block_time`, so every process agrees on it without
a ticker; tests move it with `advance()`. Epochs are lazy: whoever touches the chain first after a tempo boundary
runs every pending epoch (Yuma consensus + emission split) inside its write transaction, before its own write, so
each epoch runs exactly once and sees only the writes made before its block.

`schema` holds the tables and values, `store` the file and its transactions, `epoch` the Yuma step, `neurons`
registration, stake and permits, `weights` the weights and their rate limit, `reads` the state and the history.
"""

from chain.local.local_chain import LocalChain
from chain.local.schema import EmissionRecord, EpochRecord, LocalParams

__all__ = ["EmissionRecord", "EpochRecord", "LocalChain", "LocalParams"]
