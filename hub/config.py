"""The publisher and target a validator's configuration names: its Hub repo when `hub.repo_id` is set, else its
local folder."""

from __future__ import annotations

from sqlalchemy import Engine

from hub.hub_target import HubTarget
from hub.local_target import LocalTarget
from hub.publisher import Publisher
from schemas.config import GleanConfig
from schemas.domain import DomainCatalog


def publisher_from_config(engine: Engine, config: GleanConfig, catalog: DomainCatalog) -> Publisher:
    """A Publisher to the configured target with the operator's hub settings (scrub, removal contact, restricted
    text)."""
    return Publisher(engine, target_from_config(config), catalog, scrub_personal_data=config.hub.scrub_personal_data,
                     removal_contact=config.hub.removal_contact,
                     publish_restricted_text=config.hub.publish_restricted_text)


def target_from_config(config: GleanConfig) -> LocalTarget | HubTarget:
    """`HubTarget(hub.repo_id, endpoint=hub.endpoint)` (token from HF_TOKEN), or `LocalTarget(hub_dir())`."""
    if config.hub.repo_id:
        return HubTarget(config.hub.repo_id, endpoint=config.hub.endpoint)
    return LocalTarget(config.hub_dir())
