"""Configuration models: environment `GLEAN_*` (nested with `__`), an optional TOML file, CLI flags on top."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource


def default_data_dir() -> Path:
    return Path.home() / ".glean"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChainConfig(_Section):
    """`local` is the embedded LocalChain (a SQLite file); `bittensor` is a real network."""

    kind: Literal["local", "bittensor"] = "local"
    network: str = "finney"  # finney | test | local | ws://host:port (kind=bittensor)
    netuid: Annotated[int, Field(ge=0, le=65535)] = 1
    local_path: Path | None = None  # default: <data_dir>/chain.sqlite
    block_time: Annotated[float, Field(gt=0)] = 1.0  # seconds per block on the LocalChain


class WalletConfig(_Section):
    name: str = "default"
    hotkey: str = "default"
    path: Path = Field(default_factory=lambda: Path.home() / ".bittensor" / "wallets")


class DomainSchedule(_Section):
    """Per-domain override of the miner's crawl cadence and page budget (pages per round, split over sources)."""

    cadence_seconds: Annotated[float, Field(gt=0)] | None = None
    page_budget: Annotated[int, Field(ge=1)] | None = None


class MinerConfig(_Section):
    domains: list[str] = Field(default_factory=list)
    host: str = "0.0.0.0"
    port: Annotated[int, Field(ge=1, le=65535)] = 8091
    external_ip: str | None = None  # announced on chain; default: the host if not 0.0.0.0
    database_url: str | None = None  # default: sqlite under <data_dir>/miner
    cadence_seconds: Annotated[float, Field(gt=0)] = 600.0
    page_budget: Annotated[int, Field(ge=1)] = 500
    max_store_bytes: Annotated[int, Field(ge=1024 * 1024)] = 20 * 1024**3
    retention_days: Annotated[float, Field(gt=0)] = 30.0
    min_validator_stake: Annotated[float, Field(ge=0)] = 0.0
    requests_per_minute: Annotated[int, Field(ge=1)] = 120
    request_burst: Annotated[int, Field(ge=1)] = 30  # requests a validator may send at once (token bucket size)
    schedules: dict[str, DomainSchedule] = Field(default_factory=dict)  # per-domain overrides, by domain id
    user_agent: str | None = None  # default: the scrapers' user agent
    # Follow the network's desirability (docs/miner.md): True takes `network_domains` domains from the network's list
    # besides the pinned ones; False crawls the pins only; None: `glean miner run` follows when no domain is pinned.
    follow_network: bool | None = None
    network_domains: Annotated[int, Field(ge=1, le=64)] = 2  # domains taken from the network's list
    network_refresh_seconds: Annotated[float, Field(gt=0)] = 12.0  # how often a new epoch (a new list) is looked for


class RequestPolicy(_Section):
    """Which dataset requests a validator adopts without its operator (docs/requests.md): those of listed requester
    hotkeys, or of requesters with at least `min_stake` on the subnet; each with `weight`, at most
    `max_active_requests` adopted at once (the operator may adopt beyond it by hand)."""

    adopt_hotkeys: list[str] = Field(default_factory=list)
    min_stake: Annotated[float, Field(ge=0)] | None = None  # None: stake alone never adopts
    weight: Annotated[float, Field(gt=0, le=10)] = 1.0
    max_active_requests: Annotated[int, Field(ge=0, le=1000)] = 10


class ValidatorConfig(_Section):
    domains: list[str] = Field(default_factory=list)  # empty: every known domain
    database_url: str | None = None  # default: sqlite under <data_dir>/validator
    step_seconds: Annotated[float, Field(gt=0)] = 60.0
    step_bytes_budget: Annotated[int, Field(ge=1024)] = 64 * 1024 * 1024
    miner_bytes_budget: Annotated[int, Field(ge=1024)] = 16 * 1024 * 1024
    concurrency: Annotated[int, Field(ge=1, le=64)] = 4
    sample_size: Annotated[int, Field(ge=1)] = 5
    publish_interval_seconds: Annotated[float, Field(ge=0)] = 0.0  # 0: publish only on demand
    dashboard_host: str = "127.0.0.1"
    dashboard_port: Annotated[int, Field(ge=0, le=65535)] = 8092
    miners_per_step: Annotated[int, Field(ge=1, le=4096)] = 16  # every uid is visited once before any repeats
    miner_timeout_seconds: Annotated[float, Field(gt=0)] = 30.0  # one miner's pull, hard bound
    miner_records_budget: Annotated[int, Field(ge=1)] = 20_000  # records parsed per miner per step
    ladder_processes: Annotated[int, Field(ge=0, le=64)] | None = None  # None: one per core; 0: in a thread
    # Where the novelty index lives: "memory" (a snapshot file beside the database; one process) or "postgres" (tables
    # of the validator's PostgreSQL database, shared by several processes under one hotkey; docs/scoring.md).
    novelty_backend: Literal["memory", "postgres"] = "memory"
    # The public listener (dataset requests, desirability lists, miner feedback), announced on chain; the dashboard
    # stays on dashboard_host. Port 0: any free port (the one bound is announced).
    listener_host: str = "0.0.0.0"
    listener_port: Annotated[int, Field(ge=0, le=65535)] = 8093
    listener_external_ip: str | None = None  # announced on chain; default: listener_host unless it is 0.0.0.0
    request_policy: RequestPolicy = Field(default_factory=RequestPolicy)

    @model_validator(mode="after")
    def _postgres_novelty_needs_postgres(self) -> ValidatorConfig:
        if self.novelty_backend == "postgres" and not (self.database_url or "").startswith("postgresql"):
            raise ValueError("novelty_backend 'postgres' keeps the novelty index in the validator's database, which "
                             "is SQLite here: set validator.database_url to postgresql+psycopg://... "
                             "(GLEAN_VALIDATOR__DATABASE_URL) or novelty_backend to 'memory'")
        return self


class HubConfig(_Section):
    repo_id: str | None = None  # e.g. org/glean-data; the token comes from HF_TOKEN
    local_dir: Path | None = None  # default: <data_dir>/hub
    endpoint: str | None = None  # a Hub-compatible server; default huggingface.co
    # E-mail addresses, public IPs and phone numbers become placeholders in published text (docs/hub.md). Only the
    # operator may turn this off, and the card then says so.
    scrub_personal_data: bool = True
    # Where the card tells people to ask for removal (e.g. an e-mail address or a form); default: an issue on the
    # dataset repo or the validator's operator.
    removal_contact: str | None = None
    # Rows whose licence does not allow redistributing their text (news, Reddit, pages without a free licence) are
    # published as metadata only: uri, title, dates, hashes, signals, empty `text` (docs/hub.md#licences). True
    # publishes their text too, on the operator's own responsibility; the card says so.
    publish_restricted_text: bool = False


class GleanConfig(BaseSettings):
    """The whole configuration; every role reads the sections it needs."""

    model_config = SettingsConfigDict(env_prefix="GLEAN_", env_nested_delimiter="__", extra="forbid")

    data_dir: Path = Field(default_factory=default_data_dir)
    domain_dirs: list[Path] = Field(default_factory=list)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    chain: ChainConfig = Field(default_factory=ChainConfig)
    wallet: WalletConfig = Field(default_factory=WalletConfig)
    miner: MinerConfig = Field(default_factory=MinerConfig)
    validator: ValidatorConfig = Field(default_factory=ValidatorConfig)
    hub: HubConfig = Field(default_factory=HubConfig)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Flags (init) beat the environment, which beats the TOML file named by `toml_file`.
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls)

    def chain_path(self) -> Path:
        return self.chain.local_path or self.data_dir / "chain.sqlite"

    def hub_dir(self) -> Path:
        return self.hub.local_dir or self.data_dir / "hub"
