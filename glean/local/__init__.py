"""The local network: `glean local up` runs a LocalChain, the offline sample web, miners and validators as real
processes on loopback, shows live progress, then publishes, pulls back and prints the leaderboard."""

from glean.local.leaderboard import MinerLine, Summary, ValidatorLine
from glean.local.network import LocalNetwork, LocalNetworkError, LocalOptions
from glean.local.plan import Layout, NetworkPlan, Role
from glean.local.progress import Snapshot

__all__ = ["Layout", "LocalNetwork", "LocalNetworkError", "LocalOptions", "MinerLine", "NetworkPlan", "Role",
           "Snapshot", "Summary", "ValidatorLine"]
