"""A throwaway PostgreSQL cluster for benchmarks (initdb + pg_ctl in a temporary directory, as the tests' fixture
does; when run as root, as the postgres user), with its disk use and its server processes' CPU.

Settings are PostgreSQL's defaults unless a benchmark passes others (`settings`); a benchmark prints what it passed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Cluster:
    url: str          # SQLAlchemy URL of the `postgres` database
    postmaster: int   # pid of the server's main process
    data: Path        # the data directory

    def database(self, name: str) -> str:
        """Create database `name` and return its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(self.url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + f"/{name}"

    def disk_bytes(self) -> int:
        """Bytes under the data directory (tables, indexes, WAL)."""
        return sum(p.stat().st_size for p in self.data.rglob("*") if p.is_file())

    def server_cpu(self) -> float:
        """CPU seconds (user + system) of the postmaster's children: the backends and background workers."""
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.postmaster:
                    total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")


def pg_bin() -> Path | None:
    """The directory of the PostgreSQL server binaries (Debian keeps them off PATH)."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    return candidates[0].parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so a benchmark stopped by `kill` still stops its cluster (pg_ctl daemonizes the
    server: nothing else would)."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


@contextlib.contextmanager
def cluster(settings: dict[str, str] | None = None, prefix: str = "glean-bench-pg-") -> Iterator[Cluster]:
    """Start a fresh cluster on a free loopback port; stop it and delete its files on exit."""
    stop_on_sigterm()
    bindir = pg_bin()
    if bindir is None:
        raise SystemExit("PostgreSQL server binaries not found: run scripts/system-deps as root")
    work = Path(tempfile.mkdtemp(prefix=prefix))
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    (work / "sock").mkdir()
    if run_as:
        shutil.chown(work, "postgres")
        shutil.chown(work / "sock", "postgres")
    port, data = _free_port(), work / "data"
    options = " ".join(f"-c {k}={v}" for k, v in (settings or {}).items())
    try:
        subprocess.run([*run_as, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                        "-E", "UTF8"], check=True, capture_output=True)
        subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(work / "log"), "-w", "-o",
                        f"-p {port} -k {work / 'sock'} -c listen_addresses=127.0.0.1 {options}", "start"],
                       check=True, capture_output=True)
        pid = int((data / "postmaster.pid").read_text().split()[0])
        yield Cluster(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", pid, data)
    finally:
        subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
