"""Load the configuration: flags over environment (`GLEAN_*`) over an optional TOML file."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from schemas.config import GleanConfig
from schemas.domain import DomainCatalog
from schemas.errors import ConfigError
from schemas.validation import first_problem

CONFIG_ENV = "GLEAN_CONFIG"


def load_config(path: Path | None = None, **overrides: Any) -> GleanConfig:
    """Validated configuration; a bad file or value raises ConfigError naming the field and the fix."""
    settings_cls = GleanConfig
    if path is not None:
        path = Path(path).expanduser()
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist", hint="pass an existing TOML file to --config")
        try:
            tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}", hint="fix the TOML syntax") from exc
        settings_cls = type("GleanConfigFile", (GleanConfig,),
                            {"model_config": SettingsConfigDict(**{**GleanConfig.model_config, "toml_file": path})})
    try:
        return settings_cls(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        where = f" in {path}" if path else ""
        raise ConfigError(
            f"bad configuration{where}: {first_problem(exc)}",
            hint="fix the value (env vars are GLEAN_SECTION__KEY, e.g. GLEAN_MINER__PORT)",
        ) from exc


def load_catalog(config: GleanConfig) -> DomainCatalog:
    """Built-in domains plus the configured extra folders."""
    return DomainCatalog.load(config.domain_dirs)
