"""Novelty index: planted near-duplicates, exact duplicates, ties within a step, persistence."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from schemas import StorageError, hash_text, normalize_text
from scoring import _fast
from scoring import constants as k
from scoring.minhash import SIGNATURE_BYTES, estimated_jaccard, shingles, signature
from scoring.novelty import Delivery, NoveltyIndex


def jaccard(a: str, b: str) -> float:
    sa, sb = set(shingles(a)), set(shingles(b))
    return len(sa & sb) / len(sa | sb)


def delivery(key: str, text: str, miner: int = 1) -> Delivery:
    text = normalize_text(text)
    return Delivery(key=key, miner_uid=miner, content_hash=hash_text(text), text=text)


def index_of(docs, make=NoveltyIndex) -> NoveltyIndex:
    index = make()
    for d in docs:
        index.add(d.id, hash_text(d.text), signature(d.text))
    return index


# ---- planted near-duplicates ---------------------------------------------------------------------------------

def _edits(vocab: list[str], prose, rng: random.Random) -> list[Callable[[str], str]]:
    def substitute(text: str) -> str:
        rate = rng.choice([0.005, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12, 0.2, 0.3])
        return "\n".join(" ".join(w if rng.random() > rate else rng.choice(vocab) for w in line.split(" "))
                         for line in text.split("\n"))

    def delete(text: str) -> str:
        rate = rng.choice([0.005, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12, 0.2, 0.3])
        return "\n".join(" ".join(w for w in line.split(" ") if rng.random() > rate) for line in text.split("\n"))

    def shuffle_paragraphs(text: str) -> str:
        paragraphs = text.split("\n\n")
        rng.shuffle(paragraphs)
        return "\n\n".join(paragraphs)

    def append_boilerplate(text: str) -> str:
        other = rng.choice(prose).text.split(" ")
        return text + "\n\n" + " ".join(other[: int(len(text.split()) * rng.choice([0.05, 0.1, 0.2, 0.4, 1.0]))])

    return [substitute, delete, shuffle_paragraphs, append_boilerplate]


@pytest.fixture(scope="module")
def planted(prose, new_index):
    """(original, variant, true Jaccard, verdict, edit) for one edited copy of every prose document."""
    rng = random.Random(7)
    vocab = sorted({w for d in prose for w in d.text.split() if w.isalpha()})
    edits = _edits(vocab, prose, rng)
    pairs = []
    for i, doc in enumerate(prose):
        edit = edits[i % len(edits)]
        variant = normalize_text(edit(doc.text))
        if variant != doc.text:
            pairs.append((doc, variant, jaccard(doc.text, variant), edit.__name__))
    verdicts = index_of(prose, new_index).assess_step([delivery(f"v{i}", p[1], miner=i) for i, p in enumerate(pairs)])
    return [(d, v, j, verdict, edit) for (d, v, j, edit), verdict in zip(pairs, verdicts, strict=True)]


def test_planted_pairs_span_similar_and_dissimilar(planted) -> None:
    assert sum(j >= 0.8 for _, _, j, _, _ in planted) >= 100
    assert sum(j < 0.5 for _, _, j, _, _ in planted) >= 50


def test_near_duplicates_at_jaccard_08_or_more_are_caught(planted) -> None:
    similar = [verdict for _, _, j, verdict, _ in planted if j >= k.NEAR_DUP_JACCARD]
    recall = sum(v.novelty == 0.0 and v.kind is not None for v in similar) / len(similar)
    assert recall >= 0.95, f"recall {recall:.3f}"


def test_pairs_below_05_are_not_flagged(planted, prose) -> None:
    texts = {d.id: d.text for d in prose}
    dissimilar = [(variant, verdict) for _, variant, j, verdict, _ in planted if j < 0.5]
    false = [v for variant, v in dissimilar
             if v.kind is not None and jaccard(texts[v.duplicate_of], variant) < 0.5]
    assert len(false) / len(dissimilar) <= 0.01


@pytest.mark.parametrize("edit", ["substitute", "delete", "shuffle_paragraphs", "append_boilerplate"])
def test_each_kind_of_edit_is_caught_at_08_or_more(edit: str, planted) -> None:
    similar = [v for _, _, j, v, e in planted if e == edit and j >= k.NEAR_DUP_JACCARD]
    assert len(similar) >= 20
    assert sum(v.kind == "near" for v in similar) / len(similar) >= 0.9


def test_signature_estimates_jaccard(prose) -> None:
    a = prose[0].text
    b = a + " " + " ".join(prose[1].text.split()[:40])
    assert estimated_jaccard(signature(a), signature(b)) == pytest.approx(jaccard(a, b), abs=0.15)
    assert estimated_jaccard(signature(a), signature(a)) == 1.0


# ---- exact duplicates ----------------------------------------------------------------------------------------

def test_exact_duplicate_of_accepted_content_gets_zero(new_index, prose) -> None:
    index = index_of(prose[:20], new_index)
    [verdict] = index.assess_step([delivery("copy", prose[3].text, miner=9)])
    assert (verdict.novelty, verdict.keep, verdict.kind, verdict.duplicate_of) == (0.0, False, "exact", prose[3].id)


def test_duplicate_with_changed_case_and_whitespace_is_caught(new_index, prose) -> None:
    index = index_of(prose[:20], new_index)
    text = prose[5].text
    variants = [text.upper(), text.replace("\n\n", "\n"), text.replace(" ", "  \n ", 30), text.lower() + "\n\n"]
    verdicts = index.assess_step([delivery(f"v{i}", t, miner=i) for i, t in enumerate(variants)])
    assert [(v.novelty, v.kind, v.duplicate_of) for v in verdicts] == [(0.0, "folded", prose[5].id)] * 4


def test_short_texts_are_compared_exactly(new_index, prose) -> None:
    index = new_index()
    index.add("a", hash_text("Hello there"), signature("Hello there"))
    verdicts = index.assess_step([delivery("b", "HELLO  there"), delivery("c", "Hello where")])
    assert [(v.kind, v.novelty) for v in verdicts] == [("folded", 0.0), (None, 1.0)]


def test_new_content_is_novel(new_index, prose) -> None:
    index = index_of(prose[:20], new_index)
    [verdict] = index.assess_step([delivery("new", prose[30].text)])
    assert (verdict.novelty, verdict.keep, verdict.kind, verdict.duplicate_of) == (1.0, True, None, None)
    assert verdict.signature == signature(prose[30].text)


# ---- within one step -----------------------------------------------------------------------------------------

def test_miners_delivering_the_same_new_content_split_it(new_index, prose) -> None:
    index = index_of(prose[:20], new_index)
    text = prose[40].text
    verdicts = index.assess_step([delivery("m1", text, 1), delivery("m2", text, 2), delivery("m3", text, 3)])
    assert [v.novelty for v in verdicts] == [pytest.approx(1 / 3)] * 3
    assert [v.keep for v in verdicts] == [True, False, False]
    assert [v.duplicate_of for v in verdicts] == [None, "m1", "m1"]


def test_near_same_content_in_one_step_is_a_tie(new_index, prose) -> None:
    text = prose[41].text
    near = text + "\n\nShare this page."
    verdicts = new_index().assess_step([delivery("a", text, 1), delivery("b", near, 2)])
    assert [(v.novelty, v.keep, v.kind) for v in verdicts] == [(0.5, True, None), (0.5, False, "near")]


def test_a_miner_repeating_itself_in_a_step_gets_credit_once(new_index, prose) -> None:
    text = prose[42].text
    verdicts = new_index().assess_step([delivery("a", text, 1), delivery("b", text.upper(), 1),
                                           delivery("c", text, 2)])
    assert [(v.novelty, v.keep) for v in verdicts] == [(0.5, True), (0.0, False), (0.5, False)]


def test_exactly_one_of_each_cluster_is_kept(new_index, prose) -> None:
    rng = random.Random(3)
    texts = [d.text for d in prose[50:60]]
    batch = [delivery(f"d{i}", rng.choice(texts), miner=rng.randrange(5)) for i in range(60)]
    verdicts = new_index().assess_step(batch)
    kept = [v for v in verdicts if v.keep]
    assert len(kept) == len({d.content_hash for d in batch})
    assert len(verdicts) == len(batch) and [v.key for v in verdicts] == [d.key for d in batch]


def test_empty_step_gives_no_verdicts(new_index) -> None:
    assert new_index().assess_step([]) == []


def test_assess_step_does_not_change_the_index(new_index, prose) -> None:
    index = index_of(prose[:5], new_index)
    index.assess_step([delivery("x", prose[10].text)])
    assert len(index) == 5
    [again] = index.assess_step([delivery("y", prose[10].text)])
    assert again.novelty == 1.0


def test_added_record_makes_later_copies_duplicates(new_index, prose) -> None:
    index = new_index()
    [first] = index.assess_step([delivery("orig", prose[11].text)])
    index.add("orig", hash_text(prose[11].text), first.signature)
    [copy] = index.assess_step([delivery("copy", prose[11].text + "\n\nRead more.", miner=4)])
    assert (copy.novelty, copy.kind, copy.duplicate_of) == (0.0, "near", "orig")


# ---- persistence ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def probe(prose):
    """A step mixing exact, folded, near and new deliveries against the first 120 documents."""
    rng = random.Random(11)
    items = []
    for i, doc in enumerate(prose[100:160]):
        kind = i % 4
        text = (doc.text if kind == 0 else doc.text.upper() if kind == 1
                else doc.text + "\n\nSubscribe to our newsletter." if kind == 2
                else " ".join(rng.sample(doc.text.split(), len(doc.text.split()))))
        items.append(delivery(f"p{i}", text, miner=i % 7))
    return items


def _answers(index: NoveltyIndex, probe) -> list:
    return [(v.key, v.novelty, v.keep, v.kind, v.duplicate_of) for v in index.assess_step(probe)]


def test_index_survives_save_and_load(prose, probe, tmp_path: Path) -> None:
    index = index_of(prose[:130])
    index.save(tmp_path / "novelty.npz")
    loaded = NoveltyIndex.load(tmp_path / "novelty.npz")
    assert len(loaded) == len(index) == 130
    assert _answers(loaded, probe) == _answers(index, probe)


def test_index_rebuilt_from_rows_answers_the_same(prose, probe) -> None:
    rows = [(d.id, hash_text(d.text), signature(d.text)) for d in prose[:130]]
    assert _answers(NoveltyIndex.rebuild(rows), probe) == _answers(index_of(prose[:130]), probe)


def test_loaded_index_keeps_growing(prose, tmp_path: Path) -> None:
    index_of(prose[:10]).save(tmp_path / "n.npz")
    loaded = NoveltyIndex.load(tmp_path / "n.npz")
    loaded.add(prose[20].id, hash_text(prose[20].text), signature(prose[20].text))
    [verdict] = loaded.assess_step([delivery("again", prose[20].text)])
    assert (len(loaded), verdict.duplicate_of) == (11, prose[20].id)


def test_merging_pending_entries_keeps_answers(prose, probe, monkeypatch) -> None:
    monkeypatch.setattr(k, "LSH_MERGE_EVERY", 3)   # merge into the sorted arrays every few documents
    assert _answers(index_of(prose[:130]), probe) == _answers(index_of(prose[:130]), probe)


def test_empty_index_round_trips(tmp_path: Path) -> None:
    NoveltyIndex().save(tmp_path / "empty.npz")
    assert len(NoveltyIndex.load(tmp_path / "empty.npz")) == 0


def test_snapshot_written_with_other_settings_is_refused(prose, tmp_path: Path, monkeypatch) -> None:
    index_of(prose[:3]).save(tmp_path / "n.npz")
    monkeypatch.setattr(k, "BANDS", 32)
    with pytest.raises(StorageError, match="other settings"):
        NoveltyIndex.load(tmp_path / "n.npz")


def test_unreadable_snapshot_says_to_rebuild(tmp_path: Path) -> None:
    (tmp_path / "bad.npz").write_bytes(b"not a snapshot")
    with pytest.raises(StorageError) as err:
        NoveltyIndex.load(tmp_path / "bad.npz")
    assert "rebuild" in str(err.value)


def test_signature_is_fixed_size_bytes_and_stable() -> None:
    sig = signature("The quick brown fox jumps over the lazy dog near the river bank.")
    assert isinstance(sig, bytes) and len(sig) == SIGNATURE_BYTES == 4 + 16 + 4 * k.NUM_PERM
    assert sig == signature("The quick brown fox jumps over the lazy dog near the river bank.")


def test_signature_pins_the_minhash_values() -> None:
    # rensa must be pinned exactly: a different version would compute other slots and split validators.
    digest = np.frombuffer(signature("one two three four five six seven"), "<u4", offset=20)
    assert digest[:4].tolist() == GOLDEN_SLOTS


def test_foreign_signature_is_refused(new_index) -> None:
    with pytest.raises(StorageError, match="signature"):
        new_index().add("x", "0" * 64, b"\x00" * SIGNATURE_BYTES)


GOLDEN_SLOTS = [3832547494, 3474008084, 3832089332, 3459290475]   # rensa 0.5.0, seed MINHASH_SEED


def _random_rows(n: int, seed: int = 3) -> list[tuple[str, str, bytes]]:
    rng = np.random.default_rng(seed)
    head = signature("x")[:4]
    digests = rng.integers(0, 2**32, (n, k.NUM_PERM), dtype=np.uint32).astype("<u4")
    return [(f"doc{i}", rng.bytes(32).hex(), head + rng.bytes(16) + digests[i].tobytes()) for i in range(n)]


def test_the_index_holds_at_most_300_bytes_a_document() -> None:
    n = 65_536                                                  # one full digest block: no slack counted
    rng = np.random.default_rng(5)
    hashes = rng.bytes(32 * n).hex()
    sigs = np.concatenate([np.tile(np.frombuffer(signature("x")[:4], np.uint8), (n, 1)),
                           rng.integers(0, 256, (n, SIGNATURE_BYTES - 4), dtype=np.uint8)], axis=1)
    rows = [(str(i), hashes[64 * i:64 * i + 64], sigs[i].tobytes()) for i in range(n)]
    index = NoveltyIndex.rebuild(rows)
    assert index.nbytes() / len(index) <= 300


def test_index_larger_than_one_block_round_trips(prose, tmp_path: Path) -> None:
    rows = _random_rows(20_000) + [(d.id, hash_text(d.text), signature(d.text)) for d in prose[:40]]
    index = NoveltyIndex.rebuild(rows)
    index.save(tmp_path / "big.npz")
    loaded = NoveltyIndex.load(tmp_path / "big.npz")
    loaded.add("late", hash_text(prose[60].text), signature(prose[60].text))
    probe = [delivery("a", prose[5].text.upper()), delivery("b", prose[60].text + "\n\nMore."),
             delivery("c", prose[70].text)]
    assert [(v.kind, v.duplicate_of) for v in loaded.assess_step(probe)] == [
        ("folded", prose[5].id), ("near", "late"), (None, None)]
    assert len(loaded) == 20_041 and loaded.key(19_999) == "doc19999"


def test_rebuild_refuses_a_foreign_signature() -> None:
    rows = _random_rows(3)
    rows.append(("bad", "0" * 64, b"\x01" * SIGNATURE_BYTES))
    with pytest.raises(StorageError, match="signature"):
        NoveltyIndex.rebuild(rows)


def test_compiled_shingles_equal_joined_word_ngrams(prose) -> None:
    rng = random.Random(5)
    vocab = ["a", "bb", "é", "日本語", "x1", "ß"]
    word_lists = [doc.text.casefold().split() for doc in prose[:40]]
    word_lists += [[rng.choice(vocab) for _ in range(rng.randint(0, 12))] for _ in range(500)]
    for words in word_lists:
        expected = ([" ".join(words[i:i + k.SHINGLE]) for i in range(len(words) - k.SHINGLE + 1)]
                    if len(words) >= k.SHINGLE else [" ".join(words)])
        assert _fast.shingles(words, k.SHINGLE) == expected, words


def test_adding_many_at_once_gives_the_same_index_as_one_by_one(new_index, prose) -> None:
    rows = [(f"k{i}", hash_text(doc.text), signature(doc.text)) for i, doc in enumerate(prose[:40])]
    one_by_one, at_once = new_index(), new_index()
    for row in rows:
        one_by_one.add(*row)
    at_once.add_many(rows[:25])
    at_once.add_many(rows[25:])
    probes = [Delivery(f"p{i}", 1, hash_text(doc.text), doc.text) for i, doc in enumerate(prose[30:60])]
    assert len(at_once) == len(one_by_one) == 40
    assert at_once.assess_step(probes) == one_by_one.assess_step(probes)


def test_a_bad_signature_in_a_batch_adds_nothing(new_index, prose) -> None:
    index = new_index()
    good = ("k0", hash_text(prose[0].text), signature(prose[0].text))
    with pytest.raises(StorageError):
        index.add_many([good, ("k1", hash_text(prose[1].text), b"not a signature")])
    assert len(index) == 0
