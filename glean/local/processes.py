"""Role processes of a local network: real subprocesses (`glean miner run`, `glean validator run`, the sample web)
with their output in a log file, each in its own session so a Ctrl-C in the terminal reaches only `glean local up`,
which then stops them in order: SIGTERM, and SIGKILL of the whole process group after a timeout."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

LOG_TAIL_BYTES = 4_000


def child_environment(extra: Mapping[str, str]) -> dict[str, str]:
    """This environment without `GLEAN_*` variables (they would override a role's config file), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLEAN_")}
    env.update(extra)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def glean_command(*args: str) -> list[str]:
    """`glean ARGS` run by this interpreter (works without the console script on PATH)."""
    return [sys.executable, "-m", "glean", *args]


@dataclass
class RoleProcess:
    """One started subprocess and its log file."""

    name: str
    argv: Sequence[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as out:
            out.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting {' '.join(self.argv)}\n".encode())
            out.flush()
            self.proc = subprocess.Popen(list(self.argv), stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, env=self.env or None, start_new_session=True)
        log.info("started role=%s pid=%d log=%s", self.name, self.proc.pid, self.log_path)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def returncode(self) -> int | None:
        """None while running (or never started), else the exit code (negative: killed by that signal)."""
        return None if self.proc is None else self.proc.poll()

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def terminate(self) -> None:
        if self.running():
            self.proc.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL the process and whatever it started (its crawl workers share its process group)."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        except PermissionError:
            self.proc.kill()

    def tail(self, limit: int = LOG_TAIL_BYTES) -> str:
        """The end of the log, for error messages."""
        try:
            with open(self.log_path, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - limit))
                return fh.read().decode(errors="replace")
        except OSError:
            return ""


def stop_all(processes: Sequence[RoleProcess], timeout: float) -> dict[str, int | None]:
    """SIGTERM every process, wait up to `timeout` seconds for all, SIGKILL the rest; returns the exit codes."""
    for p in processes:
        p.terminate()
    deadline = time.monotonic() + timeout
    for p in processes:
        if p.proc is None:
            continue
        try:
            p.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("role=%s pid=%d did not stop within %.0f s of SIGTERM; sending SIGKILL", p.name, p.pid,
                        timeout)
            p.kill()
            p.proc.wait()
    for p in processes:  # crawl workers of a cleanly stopped miner are gone already; this is a no-op then
        if p.proc is not None:
            p.kill()
    return {p.name: p.returncode() for p in processes}


def kill_stale(pids: Mapping[str, int], timeout: float) -> None:
    """Stop processes a killed earlier run left behind (see plan.stale_pids): SIGTERM, then SIGKILL."""
    for name, pid in pids.items():
        log.warning("stopping role=%s pid=%d left running by an earlier `glean local up`", name, pid)
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + timeout
    for pid in pids.values():
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)
        if _alive(pid):
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
