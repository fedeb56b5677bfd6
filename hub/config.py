"""The target a validator's configuration names: its Hub repo when `hub.repo_id` is set, else its local folder."""

from __future__ import annotations

from hub.hub_target import HubTarget
from hub.local_target import LocalTarget
from schemas.config import GleanConfig


def target_from_config(config: GleanConfig) -> LocalTarget | HubTarget:
    """`HubTarget(hub.repo_id, endpoint=hub.endpoint)` (token from HF_TOKEN), or `LocalTarget(hub_dir())`."""
    if config.hub.repo_id:
        return HubTarget(config.hub.repo_id, endpoint=config.hub.endpoint)
    return LocalTarget(config.hub_dir())
