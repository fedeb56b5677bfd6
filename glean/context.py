"""The state every command shares: the loaded configuration, resolved once per invocation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import typer

from glean.config import load_config
from schemas.config import GleanConfig


@dataclass
class CliState:
    config_path: Path | None = None
    data_dir: Path | None = None
    _config: GleanConfig | None = None

    def config(self, **overrides) -> GleanConfig:
        if self._config is None or overrides:
            cfg = load_config(self.config_path, **({"data_dir": self.data_dir} if self.data_dir else {}))
            if overrides:
                merged = cfg.model_dump()
                for section, values in overrides.items():
                    if isinstance(values, dict):
                        merged[section].update({k: v for k, v in values.items() if v is not None})
                    elif values is not None:
                        merged[section] = values
                cfg = GleanConfig.model_validate(merged)
            self._config = cfg
        return self._config


def state(ctx: typer.Context) -> CliState:
    """The CliState of the root command."""
    return ctx.find_root().obj
