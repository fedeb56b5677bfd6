"""Releases to a local folder: loadable with `datasets`, incremental, deterministic, crash-safe."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from hub import LocalTarget, Publisher
from hub.columns import SCHEMA
from hub.state import PublishState
from tests.hub.conftest import mixed_records


def _load(folder: Path, domain: str):
    import datasets

    return datasets.load_dataset(str(folder), domain, split="train")


def _publisher(engine, folder: Path, catalog) -> Publisher:
    return Publisher(engine, LocalTarget(folder), catalog)


def test_release_loads_with_load_dataset_with_features_and_counts(engine, tmp_path, catalog, store):
    import datasets

    info = _publisher(engine, tmp_path / "hub", catalog).publish(store.fetch_after, validator_hotkey="5V")

    ds = _load(tmp_path / "hub", "ml-research")
    assert info is not None and info.rows_by_domain == {"ml-research": 80, "world-news": 40}
    assert ds.features == datasets.Features.from_arrow_schema(SCHEMA)
    assert len(ds) == 80
    assert sorted(list(ds["uri"])) == sorted(r.record.uri for r in store.records if r.record.domain == "ml-research")
    assert len(_load(tmp_path / "hub", "world-news")) == 40


def test_release_is_laid_out_as_a_hub_dataset_repo(engine, tmp_path, catalog, store):
    info = _publisher(engine, tmp_path / "hub", catalog).publish(store.fetch_after, validator_hotkey="5V")

    files = sorted(str(p.relative_to(tmp_path / "hub")) for p in (tmp_path / "hub").rglob("*") if p.is_file())
    assert files == ["README.md", "data/ml-research/r00000001/part-00000.parquet",
                     "data/world-news/r00000001/part-00000.parquet", "overview.png", "releases/r00000001.json"]
    assert info.release == "r00000001"
    assert info.location == f"{(tmp_path / 'hub').resolve()}@r00000001"


def test_rows_carry_scores_signals_contributor_and_release(engine, tmp_path, catalog, store):
    _publisher(engine, tmp_path / "hub", catalog).publish(store.fetch_after, validator_hotkey="5V")

    row = min(_load(tmp_path / "hub", "world-news").to_list(), key=lambda r: r["uri"])
    source = next(r for r in store.records if r.record.uri == row["uri"])
    assert row["content_hash"] == source.record.content_hash and row["text"] == source.record.text
    assert (row["quality"], row["relevance"], row["novelty"]) == (source.quality, source.relevance, source.novelty)
    assert {s["name"]: s["value"] for s in row["signals"]} == source.signals
    assert row["contributor_hotkey"] == source.miner_hotkey
    assert row["claimed_fetched_at"] == source.record.fetched_at and row["accepted_at"] == source.accepted_at
    assert row["claimed_title"] == source.record.title and row["validator_hotkey"] == source.validator_hotkey
    assert row["release"] == "r00000001"


def test_second_release_adds_only_new_rows(engine, tmp_path, catalog, store):
    publisher = _publisher(engine, tmp_path / "hub", catalog)
    publisher.publish(store.fetch_after, validator_hotkey="5V")
    store.add(mixed_records(121, 150))

    info = publisher.publish(store.fetch_after, validator_hotkey="5V")

    new_shards = list((tmp_path / "hub" / "data").glob("*/r00000121/*.parquet"))
    new_ids = sorted(int(u.rsplit("/", 1)[1]) for p in new_shards for u in pq.read_table(p, columns=["uri"])["uri"]
                     .to_pylist())
    assert info.release == "r00000121" and new_ids == list(range(121, 151))
    ds = _load(tmp_path / "hub", "ml-research")
    assert len(ds) == len(set(ds["uri"])) == 100


def test_nothing_new_publishes_nothing(engine, tmp_path, catalog, store):
    publisher = _publisher(engine, tmp_path / "hub", catalog)
    publisher.publish(store.fetch_after, validator_hotkey="5V")

    assert publisher.publish(store.fetch_after, validator_hotkey="5V") is None
    assert len(list((tmp_path / "hub" / "releases").glob("*.json"))) == 1


def test_same_records_give_byte_identical_shards(engine, tmp_path, catalog, store):
    from storage import make_engine

    _publisher(engine, tmp_path / "a", catalog).publish(store.fetch_after, validator_hotkey="5V")
    other = make_engine(f"sqlite:///{tmp_path / 'other.sqlite'}")
    _publisher(other, tmp_path / "b", catalog).publish(store.fetch_after, validator_hotkey="5V")

    for shard in (tmp_path / "a" / "data").rglob("*.parquet"):
        twin = tmp_path / "b" / shard.relative_to(tmp_path / "a")
        assert shard.read_bytes() == twin.read_bytes()


def test_crash_after_write_before_state_is_recorded_reruns_without_duplicates(engine, tmp_path, catalog, store):
    publisher = _publisher(engine, tmp_path / "hub", catalog)
    with pytest.MonkeyPatch.context() as patch, pytest.raises(SystemExit):
        patch.setattr(PublishState, "complete", _crash)
        publisher.publish(store.fetch_after, validator_hotkey="5V")
    store.add(mixed_records(121, 150))  # more accepted while the validator was down

    rerun = _publisher(engine, tmp_path / "hub", catalog)
    first = rerun.publish(store.fetch_after, validator_hotkey="5V")
    second = rerun.publish(store.fetch_after, validator_hotkey="5V")

    assert first.rows_by_domain == {"ml-research": 80, "world-news": 40}
    assert second.release == "r00000121" and sum(second.rows_by_domain.values()) == 30
    urls = list(_load(tmp_path / "hub", "ml-research")["uri"]) + list(_load(tmp_path / "hub", "world-news")["uri"])
    assert len(urls) == len(set(urls)) == 150


def test_crash_half_way_through_moving_shards_reruns_without_duplicates(engine, tmp_path, catalog, store):
    import hub.local_target as local_target

    real_replace = local_target.os.replace
    moved = []

    def replace_then_die(src, dst):
        real_replace(src, dst)
        moved.append(dst)
        if Path(dst).parent.name == "ml-research":
            raise SystemExit("killed after moving the first domain")

    with pytest.MonkeyPatch.context() as patch, pytest.raises(SystemExit):
        patch.setattr(local_target.os, "replace", replace_then_die)
        _publisher(engine, tmp_path / "hub", catalog).publish(store.fetch_after, validator_hotkey="5V")

    _publisher(engine, tmp_path / "hub", catalog).publish(store.fetch_after, validator_hotkey="5V")

    assert len(moved) == 1
    ds = _load(tmp_path / "hub", "ml-research")
    assert len(ds) == len(set(ds["uri"])) == 80


def test_release_tag_file_lists_its_files_and_rows(engine, tmp_path, catalog, store):
    info = _publisher(engine, tmp_path / "hub", catalog).publish(store.fetch_after, validator_hotkey="5V")

    tag = json.loads((tmp_path / "hub" / "releases" / "r00000001.json").read_text())
    assert tag["revision"] == info.revision
    assert (tag["first_accepted_id"], tag["last_accepted_id"]) == (1, 120)
    assert sum(f["rows"] for f in tag["files"]) == 120
    assert all((tmp_path / "hub" / f["path"]).stat().st_size == f["bytes"] for f in tag["files"])


def _crash(*args, **kwargs):
    raise SystemExit("killed before the state recorded the release")
