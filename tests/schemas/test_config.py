import pytest

from glean.config import load_config
from schemas import ConfigError


def test_env_overrides_toml_and_flags_override_env(tmp_path, monkeypatch):
    path = tmp_path / "glean.toml"
    path.write_text('[miner]\nport = 9000\npage_budget = 7\n')
    monkeypatch.setenv("GLEAN_MINER__PORT", "9100")
    cfg = load_config(path)
    assert cfg.miner.port == 9100 and cfg.miner.page_budget == 7
    assert load_config(path, data_dir=tmp_path / "d").data_dir == tmp_path / "d"


def test_bad_value_names_the_field(tmp_path):
    path = tmp_path / "glean.toml"
    path.write_text('[miner]\nport = "lots"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "miner.port" in info.value.message and str(path) in info.value.message


def test_unknown_key_is_rejected(tmp_path):
    path = tmp_path / "glean.toml"
    path.write_text('[miner]\nprot = 1\n')
    with pytest.raises(ConfigError, match="miner.prot"):
        load_config(path)


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_invalid_toml_is_reported(tmp_path):
    path = tmp_path / "glean.toml"
    path.write_text("[miner\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)
