"""Rows whose licence does not allow redistribution are published as metadata only unless the operator opts in; the
licence decision the validator stored is what the row carries; the card counts both per config."""

from __future__ import annotations

import pyarrow.compute as pc
from sqlalchemy import create_engine

from hub import LocalTarget, Publisher
from hub.config import publisher_from_config
from schemas.config import GleanConfig
from tests.hub.records import AcceptedStore, accepted
from tests.hub.test_card_numbers import _table, _with_pii


def _licence_row(card: str, domain: str) -> list[str]:
    section = card.split("## Licences", 1)[1]
    row = next(line for line in section.splitlines() if line.startswith(f"| `{domain}` |"))
    return [c.strip() for c in row.strip("|").split("|")]


def _publish(engine, folder, catalog, records, **kw) -> str:
    Publisher(engine, LocalTarget(folder), catalog, **kw).publish(AcceptedStore(records).fetch_after,
                                                                   validator_hotkey="5V")
    return (folder / "README.md").read_text()


def _decided(i: int, licence: str | None, allowed: bool | None, **kw):
    # The miner claimed CC0 on every row: the decision, not the claim, must count.
    return _with_pii(i, licence=licence, text_allowed=allowed, claimed_license="CC0-1.0", **kw)


def test_rows_whose_licence_does_not_allow_it_are_metadata_only(engine, tmp_path, catalog):
    decisions = [(None, False), ("CC-BY-NC-4.0", False), ("CC-BY-SA-4.0", True), ("CC-BY-4.0", None)]
    records = [_decided(i, lic, allowed) for i, (lic, allowed) in enumerate(decisions, 1)]
    _publish(engine, tmp_path / "hub", catalog, records)
    rows = {r["uri"]: r for r in _table(tmp_path / "hub", "ml-research").to_pylist()}
    for rec in records:
        row = rows[rec.record.uri]
        free = rec.text_allowed is True  # no decision recorded (None): metadata only, whatever the licence says
        assert row["text_allowed"] is free and bool(row["text"]) is free
        assert row["license"] == rec.licence
        # metadata stays: hash of the verified text, title, dates, signals, word count
        assert row["content_hash"] == rec.record.content_hash and row["claimed_title"] == rec.record.title
        assert row["words"] == len(rec.record.text.split()) and row["signals"]


def test_the_stored_decision_wins_over_the_miners_licence_claim(engine, tmp_path, catalog):
    attribution = '"Page", https://example.org/ml-research/doc/2, licensed CC-BY-SA-4.0 (...)'
    records = [_decided(1, None, False), _decided(2, "CC-BY-SA-4.0", True).model_copy(
        update={"attribution": attribution})]
    _publish(engine, tmp_path / "hub", catalog, records)
    rows = sorted(_table(tmp_path / "hub", "ml-research").to_pylist(), key=lambda r: r["uri"])
    assert [(r["license"], r["text_allowed"], r["attribution"], bool(r["text"])) for r in rows] == [
        (None, False, None, False), ("CC-BY-SA-4.0", True, attribution, True)]


def test_restricted_text_is_published_only_when_the_operator_opts_in(engine, tmp_path, catalog):
    records = [_decided(1, None, False), accepted(2)]
    card = _publish(engine, tmp_path / "hub", catalog, records, publish_restricted_text=True)
    rows = sorted(_table(tmp_path / "hub", "ml-research").to_pylist(), key=lambda r: r["uri"])
    assert [(r["text_allowed"], bool(r["text"])) for r in rows] == [(False, True), (True, True)]
    assert "<email>" in rows[0]["text"]  # the scrub still runs on opted-in text
    assert "publish_restricted_text = true" in card
    assert _licence_row(card, "ml-research")[1:4] == ["1", "0", "1"]


def test_the_cards_licence_counts_match_the_parquet_files(engine, tmp_path, catalog):
    decisions = [("CC0-1.0", True), (None, False), ("CC-BY-SA-4.0", True), ("CC-BY-ND-4.0", False), (None, False)]
    records = [accepted(i, licence=lic, text_allowed=ok) for i, (lic, ok) in enumerate(decisions, 1)]
    card = _publish(engine, tmp_path / "hub", catalog, records)
    t = _table(tmp_path / "hub", "ml-research")
    with_text = pc.sum(pc.greater(pc.binary_length(t["text"]), 0)).as_py()
    assert _licence_row(card, "ml-research")[1:4] == [str(with_text), str(t.num_rows - with_text), "0"]
    assert with_text == 2
    assert "- `CC-BY-SA-4.0` (1 rows): credit as in `attribution`" in card
    assert "- `unknown` (2 rows): no licence known: metadata only" in card
    assert "publish_restricted_text = true" not in card


def test_the_hub_setting_defaults_to_metadata_only_and_reaches_the_publisher(tmp_path, catalog):
    engine = create_engine(f"sqlite:///{tmp_path / 'v.sqlite'}")
    assert GleanConfig().hub.publish_restricted_text is False
    config = GleanConfig(data_dir=tmp_path, hub={"publish_restricted_text": True})
    assert publisher_from_config(engine, config, catalog).publish_restricted_text is True


def test_personal_data_in_an_attribution_is_scrubbed_like_the_title(engine, tmp_path, catalog):
    credit = '"Call +44 20 7946 0958", https://example.org/ml-research/doc/1, by jane.doe@university.edu, licensed ...'
    record = accepted(1, attribution=credit)
    _publish(engine, tmp_path / "hub", catalog, [record])
    row = _table(tmp_path / "hub", "ml-research").to_pylist()[0]
    assert row["attribution"] == '"Call <phone>", https://example.org/ml-research/doc/1, by <email>, licensed ...'
