"""Shared fixtures: isolated HOME/HF/bittensor caches, loopback sites, and a throwaway PostgreSQL cluster."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.pg_cluster import pg_bin
from tests.support.site import LoopbackSite


@pytest.fixture(autouse=True, scope="session")
def _isolated_caches(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test writes into the real home: HF, bittensor and glean state go to a temp dir."""
    root = tmp_path_factory.mktemp("home")
    saved = dict(os.environ)
    os.environ.update({
        "HF_HOME": str(root / "hf"),
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "BTCLI_TOKEN_SYMBOLS_CACHE": str(root / "bt-token-symbols.json"),
        "GLEAN_DATA_DIR": str(root / "glean"),
    })
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def site() -> Iterator[LoopbackSite]:
    """An empty loopback site; add pages with `site.add(path, Page(...))`."""
    with LoopbackSite() as s:
        yield s


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster (initdb + pg_ctl in a temp dir); the suites need the server binaries."""
    bindir = pg_bin()
    if bindir is None:  # a failure, not a skip: a skipped storage suite would hide a broken PostgreSQL path
        pytest.fail("PostgreSQL server binaries not found: run scripts/system-deps as root (make test does), "
                    "or apt-get install postgresql; deselect with -m 'not postgres' to run without them")
    workdir = Path(tempfile.mkdtemp(prefix="glean-pg-"))
    datadir, sockdir = workdir / "data", workdir / "sock"
    sockdir.mkdir()
    as_root = os.geteuid() == 0
    run_as: list[str] = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        shutil.chown(workdir, "postgres")
        shutil.chown(sockdir, "postgres")
    port = _free_port()
    subprocess.run([*run_as, str(bindir / "initdb"), "-D", str(datadir), "-U", "postgres", "--auth=trust",
                    "-E", "UTF8", "--no-sync"], check=True, capture_output=True)
    subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(datadir), "-l", str(workdir / "log"), "-w",
                    "-o", f"-p {port} -k {sockdir} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
                   check=True, capture_output=True)
    try:  # pg_ctl -w returns once the server accepts connections
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same suite on SQLite and on a real PostgreSQL; each PostgreSQL test gets a fresh database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite'}"
    base = request.getfixturevalue("postgres_url")
    import psycopg

    name = f"t_{os.getpid()}_{time.monotonic_ns()}"
    with psycopg.connect(base.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return base.rsplit("/", 1)[0] + f"/{name}"
