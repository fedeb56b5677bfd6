"""The novelty index follows the database: snapshot when it matches, catch-up after a crash, rebuild otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from schemas.record import Record
from schemas.version import SCORING_VERSION
from scoring import Delivery, signature
from validator import corpus as corpus_module
from validator.corpus import Corpus
from validator.store import Accepted, MinerCommit, ValidatorStore

TEXT = ("Record {i} explains how the interpreter evaluates an expression statement, binds the names of a target "
        "list and raises an exception when the value cannot be assigned. Number {i} is unique to this text.")


def _record(i: int) -> Record:
    return Record.build(uri=f"https://example.org/{i}", text=TEXT.format(i=i), source="web", domain="d1")


def _accept(store: ValidatorStore, ids: range, sign=signature) -> list:
    accepted = [Accepted(record=_record(i), quality=1, relevance=1, novelty=1, freshness=1, size=1, desirability=1,
                         value=1, signals={}, minhash=sign(_record(i).text)) for i in ids]
    return store.commit_miner(MinerCommit(uid=1, hotkey="hk", step=1, validator_hotkey="v", credibility=0.1,
                                          score=0, step_score=0, accepted=accepted))


@pytest.fixture
def store(tmp_path: Path):
    s = ValidatorStore.open(f"sqlite:///{tmp_path / 'v.sqlite'}")
    s.sync_miners({1: "hk"}, 0.1)
    yield s
    s.close()


def _is_duplicate(corpus: Corpus, i: int) -> bool:
    [verdict] = corpus.assess([Delivery("9:1", 9, _record(i).content_hash, _record(i).text)])
    return verdict.novelty == 0


def test_committed_rows_make_later_deliveries_duplicates(store, tmp_path):
    corpus = Corpus(store, tmp_path / "novelty.snapshot")
    corpus.open()
    corpus.add(_accept(store, range(3)))
    assert len(corpus) == 3 and _is_duplicate(corpus, 1) and not _is_duplicate(corpus, 7)


def test_a_restart_catches_up_rows_committed_after_the_snapshot(store, tmp_path):
    corpus = Corpus(store, tmp_path / "novelty.snapshot")
    corpus.open()
    corpus.add(_accept(store, range(3)))
    corpus.save()
    _accept(store, range(3, 5))  # committed, then the process died before the index heard of them
    again = Corpus(store, tmp_path / "novelty.snapshot")
    again.open()
    assert len(again) == 5 and _is_duplicate(again, 4)


def test_a_snapshot_that_does_not_match_the_database_is_rebuilt(store, tmp_path):
    corpus = Corpus(store, tmp_path / "novelty.snapshot")
    corpus.open()
    corpus.add(_accept(store, range(3)))
    corpus.save()
    corpus.meta_path.write_text('{"watermark": 3, "count": 2}')
    again = Corpus(store, tmp_path / "novelty.snapshot")
    again.open()
    assert len(again) == 3 and _is_duplicate(again, 2)


def test_a_torn_snapshot_is_rebuilt(store, tmp_path):
    corpus = Corpus(store, tmp_path / "novelty.snapshot")
    corpus.open()
    corpus.add(_accept(store, range(3)))
    corpus.save()
    corpus.snapshot.write_bytes(corpus.snapshot.read_bytes()[:50])
    again = Corpus(store, tmp_path / "novelty.snapshot")
    again.open()
    assert len(again) == 3 and _is_duplicate(again, 0)


def test_rows_already_in_the_index_are_not_added_twice(store, tmp_path):
    corpus = Corpus(store, tmp_path / "novelty.snapshot")
    corpus.open()
    rows = _accept(store, range(2))
    corpus.add(rows)
    corpus.add(rows)
    assert len(corpus) == 2


def test_the_snapshot_records_the_scoring_version(store, tmp_path):
    corpus = Corpus(store, tmp_path / "novelty.snapshot")
    corpus.open()
    corpus.add(_accept(store, range(2)))
    corpus.save()
    assert json.loads(corpus.meta_path.read_text())["scoring_version"] == SCORING_VERSION


def test_a_snapshot_of_the_same_scoring_version_is_loaded(store, tmp_path):
    corpus = Corpus(store, tmp_path / "novelty.snapshot")
    corpus.open()
    corpus.add(_accept(store, range(3)))
    corpus.save()
    again = Corpus(store, tmp_path / "novelty.snapshot")
    again.open()
    assert again.loaded_from == "snapshot" and len(again) == 3


def test_a_new_scoring_version_rebuilds_the_index_from_the_accepted_store(store, tmp_path, monkeypatch):
    corpus = Corpus(store, tmp_path / "novelty.snapshot")
    corpus.open()
    corpus.add(_accept(store, range(3)))
    corpus.save()
    monkeypatch.setattr(corpus_module, "SCORING_VERSION", SCORING_VERSION + 1)
    again = Corpus(store, tmp_path / "novelty.snapshot")
    again.open()
    assert again.loaded_from == "rebuilt" and len(again) == 3 and _is_duplicate(again, 2)
    again.save()
    assert json.loads(again.meta_path.read_text())["scoring_version"] == SCORING_VERSION + 1


def test_stored_signatures_of_another_format_are_computed_again_from_the_texts(store, tmp_path):
    _accept(store, range(4), sign=lambda text: b"OLD-FORMAT" + text.encode()[:32])
    corpus = Corpus(store, tmp_path / "novelty.snapshot")
    corpus.open()
    assert corpus.loaded_from == "rebuilt" and len(corpus) == 4
    assert _is_duplicate(corpus, 3) and not _is_duplicate(corpus, 9)
