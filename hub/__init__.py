"""Publish accepted data as versioned Hugging Face datasets (local folder or Hub repo), and pull it back."""

from hub.config import publisher_from_config, target_from_config
from hub.hub_target import HubTarget
from hub.local_target import LocalTarget
from hub.publisher import Publisher
from hub.pull import pull
from hub.release import ReleaseInfo, parse_location
from hub.takedowns import DenyList

__all__ = ["DenyList", "HubTarget", "LocalTarget", "Publisher", "ReleaseInfo", "parse_location",
           "publisher_from_config", "pull", "target_from_config"]
