"""Takedowns: the deny-list (SQLite and PostgreSQL), `glean validator deny`, and releases that honour it."""

from __future__ import annotations

import re

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from glean.cli import app
from hub import DenyList, LocalTarget, Publisher
from hub.takedowns import parse_entry
from schemas.errors import PublishError
from storage import make_engine
from tests.hub.conftest import mixed_records
from tests.hub.records import accepted


def test_entries_are_read_as_uri_host_or_hash():
    digest = "AB" * 32

    assert parse_entry("HTTPS://Example.org/a/../b?utm_source=x#frag") == ("uri", "https://example.org/b")
    assert parse_entry("Example.ORG") == ("host", "example.org")
    assert parse_entry("*.example.org") == ("host", "*.example.org")
    assert parse_entry(digest) == ("hash", digest.lower())
    with pytest.raises(PublishError, match="neither a URL"):
        parse_entry("not a host!")


def test_deny_list_adds_lists_and_removes_on_both_databases(database_url):
    deny = DenyList(make_engine(database_url))
    deny.add("https://example.org/ml-research/doc/3", reason="request 12")
    deny.add("*.spam.example")

    assert [(e.kind, e.value, e.reason) for e in deny.entries()] == [
        ("host", "*.spam.example", ""), ("uri", "https://example.org/ml-research/doc/3", "request 12")]
    assert deny.remove("*.spam.example") and not deny.remove("*.spam.example")


def test_host_rules_match_the_host_and_wildcards_its_subdomains(engine):
    deny = DenyList(engine)
    deny.add("*.blog.example")
    deny.add("exact.example")
    denied = deny.load()

    def on(host: str):
        rec = accepted(1)
        return rec.model_copy(update={"record": rec.record.model_copy(update={"uri": f"https://{host}/p"})})

    assert [denied.blocks(on(h)) for h in ("blog.example", "a.b.blog.example", "exact.example",
                                           "sub.exact.example", "notblog.example")] == [True, True, True, False, False]


def _published_uris(folder, release: str) -> list[str]:
    return sorted(u for p in folder.glob(f"data/*/{release}/*.parquet") for u in pq.read_table(p)["uri"].to_pylist())


def test_a_denied_row_is_left_out_of_every_later_release_and_counted_on_the_card(engine, tmp_path, catalog, store):
    publisher = Publisher(engine, LocalTarget(tmp_path / "hub"), catalog)
    publisher.publish(store.fetch_after, validator_hotkey="5V")
    later = mixed_records(121, 150)
    store.add(later)
    deny = DenyList(engine)
    deny.add("https://example.org/ml-research/doc/121")            # a URI
    deny.add(later[2].record.content_hash)                          # id 123 by its hash
    deny.add("https://example.org/world-news/doc/9")                # already published: stays in r00000001

    info = publisher.publish(store.fetch_after, validator_hotkey="5V")

    uris = _published_uris(tmp_path / "hub", "r00000121")
    assert "https://example.org/ml-research/doc/121" not in uris
    assert "https://example.org/world-news/doc/123" not in uris and len(uris) == 28
    assert sum(info.rows_by_domain.values()) == 28
    assert "https://example.org/world-news/doc/9" in _published_uris(tmp_path / "hub", "r00000001")
    card = (tmp_path / "hub" / "README.md").read_text()
    assert re.search(r"\| `r00000121` \| .* \| 121–150 \| 0 \| 2 \|", card)
    assert "## Removal requests" in card and "open an issue on the dataset's repository" in card


def test_a_release_whose_rows_are_all_denied_moves_on_without_them(engine, tmp_path, catalog, store):
    deny = DenyList(engine)
    deny.add("example.org")
    publisher = Publisher(engine, LocalTarget(tmp_path / "hub"), catalog, removal_contact="takedown@glean.example")

    info = publisher.publish(store.fetch_after, validator_hotkey="5V")

    assert info.rows_by_domain == {} and not list((tmp_path / "hub").glob("data/*/*/*.parquet"))
    assert publisher.publish(store.fetch_after, validator_hotkey="5V") is None
    assert "takedown@glean.example" in (tmp_path / "hub" / "README.md").read_text()


def test_glean_validator_deny_commands_manage_the_list(tmp_path):
    env = {"GLEAN_DATA_DIR": str(tmp_path)}
    runner = CliRunner()

    added = runner.invoke(app, ["validator", "deny", "add", "https://Example.org/x?utm_source=a", "--reason", "r1"],
                          env=env)
    listed = runner.invoke(app, ["validator", "deny", "list", "--json"], env=env)
    removed = runner.invoke(app, ["validator", "deny", "remove", "https://example.org/x"], env=env)
    again = runner.invoke(app, ["validator", "deny", "remove", "https://example.org/x"], env=env)
    bad = runner.invoke(app, ["validator", "deny", "add", "no such thing!"], env=env)

    assert added.exit_code == 0, added.output
    assert '"value": "https://example.org/x"' in listed.output and '"reason": "r1"' in listed.output
    assert removed.exit_code == 0 and again.exit_code == 1
    assert isinstance(bad.exception, PublishError) and "sha256" in str(bad.exception)
