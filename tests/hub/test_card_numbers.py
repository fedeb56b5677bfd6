"""The card's figures are the parquet files' figures; personal data is scrubbed by default and only the operator
turns it off; a target keeps one column layout."""

from __future__ import annotations

import re
from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from hub import LocalTarget, Publisher
from hub.columns import CLAIMED, PROVENANCE, SCHEMA, VALIDATOR_DERIVED
from schemas.config import GleanConfig
from schemas.errors import PublishError
from schemas.text import content_hash
from tests.hub.conftest import mixed_records
from tests.hub.records import AcceptedStore, accepted
from tests.hub.test_pii import oracle_leaks

PLANTED = "Write to jane.doe@university.edu or call +44 20 7946 0958; server 8.8.4.4; docs use 192.0.2.1."


def _with_pii(i: int, **kw):
    rec = accepted(i, **kw)
    text = f"{rec.record.text} {PLANTED} Раураl stays."
    return rec.model_copy(update={"record": rec.record.model_copy(update={"text": text,
                                                                          "content_hash": content_hash(text)})})


def _table(folder, domain: str) -> pa.Table:
    return pa.concat_tables(pq.read_table(p) for p in sorted(folder.glob(f"data/{domain}/*/*.parquet")))


def _glance(card: str, domain: str) -> list[str]:
    row = next(line for line in card.splitlines() if line.startswith(f"| `{domain}` | ") and "%)" in line)
    return [c.strip() for c in row.strip("|").split("|")]


def test_card_figures_match_the_parquet_files(engine, tmp_path, catalog, store):
    # The miner claims English; the validator's language id found German in three and nothing in two.
    detected = {121: "de", 122: "de", 123: "de", 124: None, 125: None}
    store.add([_with_pii(i, domain="world-news", quality=0.95, detected_lang=detected.get(i, "en"))
               for i in range(121, 131)])
    publisher = Publisher(engine, LocalTarget(tmp_path / "hub"), catalog)
    publisher.publish(store.fetch_after, validator_hotkey="5V")
    store.add(mixed_records(131, 160))
    publisher.publish(store.fetch_after, validator_hotkey="5V")
    card = (tmp_path / "hub" / "README.md").read_text()

    for domain in ("ml-research", "world-news"):
        t = _table(tmp_path / "hub", domain)
        cells = _glance(card, domain)
        day = pc.strftime(pc.coalesce(t["claimed_published_at"], t["claimed_fetched_at"]), format="%Y-%m-%d")
        assert cells[1].startswith(f"{t.num_rows:,} (")
        assert cells[2] == f"{pc.sum(t['words']).as_py():,}"
        langs = Counter("unknown" if v is None else v for v in t["lang"].to_pylist()).most_common()
        assert cells[3] == ", ".join(f"{k} {n:,}" for k, n in langs[:3])  # detected, never the claim
        assert cells[6] == f"{min(day.to_pylist())} → {max(day.to_pylist())}"
        assert cells[7].startswith(f"mean {pc.mean(t['quality']).as_py():.3f}")
        assert cells[8] == f"{len(set(t['contributor_hotkey'].to_pylist())):,}"
        assert cells[9] == f"{pc.sum(t['pii_replacements']).as_py():,}"
        bins = Counter(min(int(q * 10), 9) for q in t["quality"].to_pylist())
        row = next(line for line in card.splitlines() if line.startswith(f"| `{domain}` |") and "%)" not in line
                   and line.count("|") == 12)
        assert [c.strip() for c in row.strip("|").split("|")][1:] == [f"{bins.get(i, 0):,}" for i in range(10)]
    assert "![rows per day and quality histogram per config](overview.png)" in card
    assert (tmp_path / "hub" / "overview.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_published_text_is_scrubbed_and_keeps_the_verified_hash(engine, tmp_path, catalog):
    records = [_with_pii(i) for i in range(1, 6)]
    Publisher(engine, LocalTarget(tmp_path / "hub"), catalog).publish(AcceptedStore(records).fetch_after,
                                                                      validator_hotkey="5V")

    t = _table(tmp_path / "hub", "ml-research")
    for row, source in zip(t.to_pylist(), records, strict=True):
        assert oracle_leaks(row["text"]) == [] and "192.0.2.1" in row["text"] and "Раураl stays." in row["text"]
        assert row["content_hash"] == source.record.content_hash and row["pii_replacements"] == 3
    card = (tmp_path / "hub" / "README.md").read_text()
    assert "15 replacements in all releases so far" in card


def test_the_operator_can_turn_the_scrub_off_and_the_card_says_so(engine, tmp_path, catalog):
    records = [_with_pii(i) for i in range(1, 3)]
    config = GleanConfig(hub={"scrub_personal_data": False, "local_dir": tmp_path / "hub"}, data_dir=tmp_path)
    from hub import publisher_from_config

    publisher_from_config(engine, config, catalog).publish(AcceptedStore(records).fetch_after, validator_hotkey="5V")

    t = _table(tmp_path / "hub", "ml-research")
    assert t["text"].to_pylist() == [r.record.text for r in records] and pc.sum(t["pii_replacements"]).as_py() == 0
    assert "turned the personal data scrub off" in (tmp_path / "hub" / "README.md").read_text()
    assert GleanConfig().hub.scrub_personal_data is True


def test_columns_are_grouped_into_provenance_derived_and_claimed():
    assert sorted(["text", *PROVENANCE, *VALIDATOR_DERIVED, *CLAIMED]) == sorted(SCHEMA.names)
    assert all(name.startswith("claimed_") for name in CLAIMED)


def test_a_target_with_releases_of_an_older_column_layout_is_refused(engine, tmp_path, catalog, store):
    publisher = Publisher(engine, LocalTarget(tmp_path / "hub"), catalog)
    publisher.publish(store.fetch_after, validator_hotkey="5V")
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE hub_releases SET schema_version = 1")
    store.add(mixed_records(121, 130))

    with pytest.raises(PublishError, match="version") as err:
        publisher.publish(store.fetch_after, validator_hotkey="5V")
    assert "new hub.repo_id or hub.local_dir" in err.value.hint
    assert re.search("r00000121", str(list((tmp_path / "hub" / "releases").iterdir()))) is None


def test_the_card_names_the_request_a_domain_was_collected_for_and_its_requester(engine, tmp_path, catalog, store):
    from hub.card import RequestNote

    request = RequestNote("ab" * 32, "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty", "for a small news model")
    Publisher(engine, LocalTarget(tmp_path / "hub"), catalog).publish(
        store.fetch_after, validator_hotkey="5V", requests={"world-news": request})
    card = (tmp_path / "hub" / "README.md").read_text()
    section = card[card.index("### `world-news`"):]
    assert (f"- collected for dataset request `{'ab' * 32}`, asked by `{request.requester}`: "
            "“for a small news model”") in section.splitlines()
    assert "collected for dataset request" not in card[card.index("### `ml-research`"):card.index("### `world-news`")]
