"""The dataset card: YAML the Hub and `datasets` read, and numbers that match the published data."""

from __future__ import annotations

import re

import yaml

from hub import LocalTarget, Publisher
from hub.columns import SCHEMA, features_yaml
from tests.hub.conftest import mixed_records


def _front_matter(text: str) -> dict:
    match = re.match(r"^---\n(.*?)\n---\n", text, re.S)
    assert match, "card has no YAML front matter"
    return yaml.safe_load(match.group(1))


def _publish_twice(engine, folder, catalog, store):
    publisher = Publisher(engine, LocalTarget(folder), catalog)
    publisher.publish(store.fetch_after, validator_hotkey="5Validator", verification_stats={"pass": 7, "fail": 1})
    store.add(mixed_records(121, 150))
    publisher.publish(store.fetch_after, validator_hotkey="5Validator",
                      verification_stats={"pass": 9, "fail": 1, "unknown": 2})
    return (folder / "README.md").read_text(encoding="utf-8")


def test_feature_yaml_is_what_datasets_writes_for_the_schema():
    import datasets

    assert features_yaml() == datasets.Features.from_arrow_schema(SCHEMA)._to_yaml_list()


def test_card_configs_glob_every_release_and_mark_the_largest_default(engine, tmp_path, catalog, store):
    meta = _front_matter(_publish_twice(engine, tmp_path / "hub", catalog, store))

    assert meta["configs"] == [
        {"config_name": "ml-research", "data_files": [{"split": "train", "path": "data/ml-research/*/*.parquet"}],
         "default": True},
        {"config_name": "world-news", "data_files": [{"split": "train", "path": "data/world-news/*/*.parquet"}]},
    ]
    assert meta["language"] == ["en"] and "glean" in meta["tags"] and meta["license"]


def test_card_split_sizes_match_the_data(engine, tmp_path, catalog, store):
    import datasets

    meta = _front_matter(_publish_twice(engine, tmp_path / "hub", catalog, store))

    for info in meta["dataset_info"]:
        ds = datasets.load_dataset(str(tmp_path / "hub"), info["config_name"], split="train")
        assert info["splits"][0]["num_examples"] == len(ds)
        assert info["features"] == features_yaml()
        shards = (tmp_path / "hub" / "data" / info["config_name"]).rglob("*.parquet")
        assert info["download_size"] == sum(p.stat().st_size for p in shards)


def test_card_body_counts_contributors_sources_and_releases(engine, tmp_path, catalog, store):
    card = _publish_twice(engine, tmp_path / "hub", catalog, store)

    per_miner = {f"5Miner{k}": sum(1 for i in range(1, 151) if i % 3 == k) for k in range(3)}
    for hotkey, n in per_miner.items():
        assert f"| `{hotkey}` | {n:,} |" in card
    assert "- `world-news` — sources: arxiv 25, feed 25; languages (detected): en 50; licences: CC0-1.0 50" in card
    assert re.search(r"\| `r00000121` \| .* \| ml-research \+20, world-news \+10 \| 121–150 \| 0 \| 0 "
                     r"\| this commit \|", card)
    assert re.search(r"\| `r00000001` \| .* \| ml-research \+80, world-news \+40 \| 1–120 \| 0 \| 0 "
                     r"\| `[0-9a-f]{12}` \|", card)
    assert "| unknown | 2 |" in card and "| pass | 9 |" in card
    assert "150 rows in 2 domain(s) over 2 release(s)" in card


def test_card_states_the_domain_thresholds(engine, tmp_path, catalog, store):
    card = _publish_twice(engine, tmp_path / "hub", catalog, store)

    spec = catalog.get("ml-research")
    assert f"- relevance: minimum score {spec.relevance.min_score:g}" in card
    assert f"- quality: minimum score {spec.quality.min_quality:g}, {spec.quality.min_words}–" in card
    assert "## How records are scored" in card and "## How to load" in card
