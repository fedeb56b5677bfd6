"""`glean miner run|status` from the command line: clear errors, the store's index as a table."""

from __future__ import annotations

from glean.cli import main
from miner.store import Store
from storage import sqlite_url
from tests.miner.support import make_record


def test_run_without_registration_says_how_to_register(tmp_path, capsys):
    config = tmp_path / "glean.toml"
    config.write_text(f'[wallet]\npath = "{tmp_path / "wallets"}"\n')
    code = main(["--config", str(config), "--data-dir", str(tmp_path / "data"), "miner", "run", "--domain",
                 "python-ecosystem"])
    err = capsys.readouterr().err
    assert code != 0 and "not registered" in err and "--register" in err


def test_run_without_domains_and_without_following_the_network_is_a_config_error(tmp_path, capsys):
    assert main(["--data-dir", str(tmp_path / "data"), "miner", "run", "--no-follow-network"]) == 2
    assert "glean domains list" in capsys.readouterr().err


def test_run_without_domains_follows_the_network(tmp_path, capsys):
    config = tmp_path / "glean.toml"
    config.write_text(f'[wallet]\npath = "{tmp_path / "wallets"}"\n')
    code = main(["--config", str(config), "--data-dir", str(tmp_path / "data"), "miner", "run"])
    err = capsys.readouterr().err
    assert code != 0 and "not registered" in err  # past the domain check: the network's list says what to crawl


def test_status_shows_the_index_and_checks_it_against_a_recount(tmp_path, capsys):
    data_dir = tmp_path / "data"
    store = Store.open(sqlite_url(data_dir, "miner"))
    store.add([make_record(i, domain="world-news", source="feed") for i in range(7)])
    store.close()
    assert main(["--data-dir", str(data_dir), "miner", "status", "--check"]) == 0
    out = capsys.readouterr().out
    assert "world-news" in out and "feed" in out and "index matches a recount of 7 records" in out
