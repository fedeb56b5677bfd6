"""`glean miner run` as a real process crawling a loopback site: killed mid-crawl (SIGKILL) and restarted, nothing
is lost or duplicated and seq continues; SIGTERM stops it cleanly."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from miner.store import Store
from tests.scrapers.recorded import article
from tests.support.site import LoopbackSite, Page

PAGES = 30
DOMAIN_YAML = """id: restart-test
title: Restart test
sources:
  - kind: web
    params:
      seeds: ["{base}/"]
      max_depth: 1
      delay: 0
      autothrottle: false
      concurrency: 2
      sitemaps: false
relevance:
  keywords: {{python: 1.0}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_config(tmp_path: Path, site: LoopbackSite) -> Path:
    domains = tmp_path / "domains"
    domains.mkdir()
    (domains / "restart-test.yaml").write_text(DOMAIN_YAML.format(base=site.base_url))
    config = tmp_path / "glean.toml"
    config.write_text(f'domain_dirs = ["{domains}"]\n'
                      f'[wallet]\npath = "{tmp_path / "wallets"}"\n'
                      f'[miner]\nhost = "127.0.0.1"\nport = {_free_port()}\ndomains = ["restart-test"]\n'
                      "cadence_seconds = 3600\n")
    return config


def _serve_pages(site: LoopbackSite) -> set[str]:
    links = tuple(f"/p{i}" for i in range(PAGES))
    site.add("/", Page(article("Index of the test site", links=links)))
    for i, path in enumerate(links):
        site.add(path, Page(article(f"Test page number {i}", first=i), delay=0.15))
    return {site.url("/"), *(site.url(p) for p in links)}


def _start(config: Path, log: Path) -> subprocess.Popen:
    data_dir = config.parent / "data"
    return subprocess.Popen(
        [sys.executable, "-m", "glean", "--config", str(config), "--data-dir", str(data_dir), "miner", "run",
         "--register"],
        stdout=subprocess.DEVNULL, stderr=log.open("ab"), start_new_session=True, cwd=Path(__file__).parents[2])


def _rows(db: Path) -> list[tuple[int, bytes, bytes]]:
    if not db.exists():
        return []
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as conn:
        try:
            return conn.execute("SELECT seq, content_hash, uri_key FROM miner_records ORDER BY seq").fetchall()
        except sqlite3.OperationalError:  # tables not created yet
            return []


def _wait_for(predicate, timeout: float, what: str, proc: subprocess.Popen, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc.poll() is not None:
            pytest.fail(f"miner exited ({proc.returncode}) while waiting for {what}:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}:\n{log.read_text()[-3000:]}")


def _reap(proc: subprocess.Popen) -> None:
    """Kill what is left of a miner's session (its orphaned crawl process after a SIGKILL)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


@pytest.mark.slow
def test_sigkill_mid_crawl_then_restart_loses_and_duplicates_nothing(tmp_path, site):
    expected = _serve_pages(site)
    config, log = _write_config(tmp_path, site), tmp_path / "miner.log"
    db = tmp_path / "data" / "miner" / "miner.sqlite"

    first = _start(config, log)
    try:
        _wait_for(lambda: len(_rows(db)) >= 3, 60, "the first records", first, log)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        _reap(first)
    before = _rows(db)
    assert 3 <= len(before) < len(expected), "the kill must land mid-crawl"

    second = _start(config, log)
    try:
        _wait_for(lambda: len(_rows(db)) >= len(expected), 90, "the whole site", second, log)
        time.sleep(1.0)  # a duplicate, if any, would arrive with the crawl's last batches
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0
    finally:
        _reap(second)

    after = _rows(db)
    assert set(before) <= set(after), "a committed record was lost"
    assert len({(h, u) for _, h, u in after}) == len(after) == len(expected), "a record was stored twice"
    assert max(seq for seq, _, _ in after) > max(seq for seq, _, _ in before)
    store = Store.open(f"sqlite:///{db}")
    try:
        assert {rec.uri for _, rec in store.iter_records()} == expected
        assert store.buckets() == store.recount()
        assert store.newest_seq == after[-1][0]
    finally:
        store.close()
    assert "miner stopped" in log.read_text()
