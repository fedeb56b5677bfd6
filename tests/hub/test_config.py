"""The target a configuration names."""

from __future__ import annotations

from hub import HubTarget, LocalTarget, target_from_config
from schemas.config import GleanConfig


def test_configured_repo_means_the_hub_target(tmp_path):
    config = GleanConfig(data_dir=tmp_path, hub={"repo_id": "org/glean", "endpoint": "http://127.0.0.1:9"})

    target = target_from_config(config)

    assert isinstance(target, HubTarget) and target.repo_id == "org/glean"
    assert target.key == "hub:http://127.0.0.1:9/datasets/org/glean"


def test_no_repo_means_the_local_hub_folder(tmp_path):
    target = target_from_config(GleanConfig(data_dir=tmp_path))

    assert isinstance(target, LocalTarget) and target.folder == (tmp_path / "hub").resolve()
