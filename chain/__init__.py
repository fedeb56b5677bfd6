"""The Chain seam: one small protocol, `LocalChain` (embedded SQLite + Yuma) and `BittensorChain` (the real SDK)."""

from __future__ import annotations

from pathlib import Path

from chain.bittensor_chain import BittensorChain
from chain.local import EmissionRecord, EpochRecord, LocalChain, LocalParams
from chain.protocol import Chain
from chain.state import Neuron, SubnetState
from chain.wallets import create_local_wallets, load_or_create_wallet
from schemas.config import ChainConfig

LOCAL_CHAIN_FILE = "chain.sqlite"


def open_chain(config: ChainConfig, data_dir: Path) -> Chain:
    """The configured chain: the LocalChain file (default `<data_dir>/chain.sqlite`) or a real network."""
    if config.kind == "bittensor":
        return BittensorChain.for_network(config.network, config.netuid)
    path = config.local_path or Path(data_dir).expanduser() / LOCAL_CHAIN_FILE
    return LocalChain(path, netuid=config.netuid, block_time=config.block_time)


__all__ = [
    "BittensorChain",
    "Chain",
    "EmissionRecord",
    "EpochRecord",
    "LocalChain",
    "LocalParams",
    "Neuron",
    "SubnetState",
    "create_local_wallets",
    "load_or_create_wallet",
    "open_chain",
]
