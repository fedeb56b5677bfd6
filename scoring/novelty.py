"""The novelty index: exact and near-duplicate lookup against everything accepted, and within one step.

- Exact: the record's content hash, and a hash of its whitespace-folded identity form (`scoring.identity`: case,
  compatibility forms, accents, invisible characters and look-alike letters folded), so a copy disguised in Unicode
  is a "folded" duplicate.
- Near: MinHash over word 5-gram shingles of the identity form (`scoring.minhash`); LSH with BANDS x ROWS bands
  finds candidates, and each candidate is verified by the Jaccard similarity estimated from the two digests. An
  estimate that cannot tell J=0.7 from J=0.8 is settled by the exact shingle Jaccard of the two texts when the
  caller can look accepted texts up (`texts`: the validator reads them from its accepted store).

The index can be rebuilt from the signatures the validator stores; `save`/`load` keep a snapshot for a fast
restart. It is compact (about 0.25 KB a document, see benchmarks/bench_novelty.py): per document a b-bit digest
(the low DIGEST_BITS bits of each MinHash slot, Li & Koenig's b-bit MinHash), BANDS 32-bit band keys and two 32-bit
exact-hash prefixes in sorted numpy arrays (`scoring.multimap`, no Python object per document). A short key shared
by chance only adds a candidate: exact matches are confirmed by the digest, near ones by the estimate.
"""

from __future__ import annotations

import ctypes
import json
import os
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import numpy as np

from schemas import StorageError
from scoring import constants as k
from scoring.minhash import (
    DIGEST_OFFSET,
    FOLDED_OFFSET,
    MAGIC,
    PACKED_BYTES,
    band_keys,
    exact_key,
    folded_key,
    pack_digests,
    packed_jaccard,
    parse_signature,
    signature,
    signature_matrix,
    similarity,
)
from scoring.multimap import Multimap

_SNAPSHOT_FORMAT = 2                       # 2: b-bit digests, bucketed 32-bit keys (1: full digests, 64-bit keys)
_BLOCK_ROWS = 1 << 16                      # digests are stored in blocks of this many rows (4 MiB each)
_MAP_PARTS = ("offsets", "low", "vals")    # a lookup table's arrays in a snapshot

# keys -> accepted texts of those found (a key not found is judged on its estimate alone)
TextLookup = Callable[[Sequence[str]], Mapping[str, str]]


@dataclass(frozen=True)
class Delivery:
    """One record delivered in a step."""

    key: str
    miner_uid: int
    content_hash: str
    text: str


@dataclass(frozen=True)
class NoveltyVerdict:
    """`novelty` in [0,1]: 0 for a duplicate of accepted data (or of the same miner's own delivery in this step),
    1/k when k miners delivered the same or near-same new content in one step. `keep` marks the one
    representative of each new cluster to accept. `kind` is how it matched ("exact", "folded", "near") and
    `duplicate_of` the key it matched; both None for a cluster's representative. `signature` is the delivery's
    signature (store it and pass it to `NoveltyIndex.add` when the record is accepted)."""

    key: str
    novelty: float
    keep: bool
    duplicate_of: str | None
    kind: str | None
    signature: bytes = field(default=b"", repr=False)


@dataclass
class Probe:
    """A delivery prepared for lookup (by every novelty backend)."""

    delivery: Delivery
    signature: bytes
    folded: bytes
    digest: np.ndarray
    packed: np.ndarray
    match: tuple[str, str] | None = None      # (kind, key) of a match in the index


def prepare(deliveries: Sequence[Delivery]) -> list[Probe]:
    """Sign each delivery and derive what the lookups need."""
    probes = []
    for d in deliveries:
        sig = signature(d.text)
        folded, digest = parse_signature(sig)
        probes.append(Probe(d, sig, folded, digest, pack_digests(digest[None, :])[0]))
    return probes


def judge(probes: list[Probe]) -> list[NoveltyVerdict]:
    """Verdicts once the index matches are set: duplicates of the index get 0, the rest are split within the step."""
    verdicts: dict[int, NoveltyVerdict] = {}
    for i, probe in enumerate(probes):
        if probe.match is not None:
            kind, key = probe.match
            verdicts[i] = NoveltyVerdict(probe.delivery.key, 0.0, False, key, kind, probe.signature)
    fresh = [i for i in range(len(probes)) if i not in verdicts]
    verdicts.update(_split_ties([probes[i] for i in fresh], fresh))
    return [verdicts[i] for i in range(len(probes))]


def match_near(probes: Sequence[Probe], candidates: Sequence[tuple[np.ndarray, np.ndarray]],
               key_of: Callable[[int], str], texts: TextLookup | None) -> None:
    """Set the "near" match of each unmatched probe from its candidates (ids in insertion order, packed digests):
    the most similar one whose similarity reaches the bar (lowest id on a tie). With `texts`, an unsure estimate
    is replaced by the exact Jaccard of the texts, looked up once for the whole step."""
    sure_bar = k.NEAR_UNSURE_HIGH if texts is not None else k.VERIFY_JACCARD
    scored: list[list[tuple[float, int]]] = []
    unsure: list[list[tuple[float, int]]] = []
    for probe, (ids, packed) in zip(probes, candidates, strict=True):
        est = packed_jaccard(probe.packed, packed) if len(ids) and probe.match is None else np.empty(0)
        scored.append([(float(e), int(i)) for e, i in zip(est, ids, strict=False) if e >= sure_bar])
        unsure.append([(float(e), int(i)) for e, i in zip(est, ids, strict=False)
                       if texts is not None and k.NEAR_UNSURE_LOW <= e < sure_bar])
    wanted = sorted({key_of(i) for group in unsure for _, i in group})
    found = texts(wanted) if texts is not None and wanted else {}
    for probe, sure, maybe in zip(probes, scored, unsure, strict=True):
        for est, i in maybe:
            text = found.get(key_of(i))
            sim = est if text is None else similarity(probe.delivery.text, text)
            if sim >= (k.VERIFY_JACCARD if text is None else k.NEAR_DUP_JACCARD):
                sure.append((sim, i))
        if sure:
            best = max(sure, key=lambda s: (s[0], -s[1]))
            probe.match = ("near", key_of(best[1]))


class NoveltyIndex:
    """Everything accepted so far, for exact and near-duplicate lookup."""

    def __init__(self) -> None:
        self._blocks: list[np.ndarray] = []
        self._n = 0
        self._key_bytes = bytearray()
        self._key_ends = array("Q")
        self._exact = Multimap()
        self._folded = Multimap()
        self._bands = Multimap()

    def __len__(self) -> int:
        return self._n

    # -- adding --
    def _append_digests(self, packed: np.ndarray) -> None:
        done = 0
        while done < len(packed):
            block, at = divmod(self._n, _BLOCK_ROWS)
            if block == len(self._blocks):
                self._blocks.append(np.empty((_BLOCK_ROWS, PACKED_BYTES), np.uint8))
            take = min(_BLOCK_ROWS - at, len(packed) - done)
            self._blocks[block][at:at + take] = packed[done:done + take]
            self._n += take
            done += take

    def _append_key(self, key: str) -> None:
        self._key_bytes += key.encode("utf-8")
        self._key_ends.append(len(self._key_bytes))

    def add(self, key: str, content_hash: str, sig: bytes) -> None:
        """Index one accepted record by its key, content hash and signature."""
        self.add_many([(key, content_hash, sig)])

    def add_many(self, rows: Sequence[tuple[str, str, bytes]]) -> None:
        """Index accepted records (key, content hash, signature) in order, as `add` one by one would, with the
        band keys of the whole batch computed at once. Every signature is checked before anything is added."""
        if not rows:
            return
        parsed = [parse_signature(sig) for _, _, sig in rows]
        digests = np.stack([digest for _, digest in parsed])
        bands = (band_keys(digests) >> np.uint64(32)).astype(np.uint32).tolist()
        first = self._n
        self._append_digests(pack_digests(digests))
        for i, ((key, content_hash, _), (folded, _)) in enumerate(zip(rows, parsed, strict=True)):
            self._append_key(key)
            self._exact.add([exact_key(content_hash)], first + i)
            self._folded.add([folded_key(folded)], first + i)
            self._bands.add(bands[i], first + i)

    @classmethod
    def rebuild(cls, rows: Iterable[tuple[str, str, bytes]]) -> NoveltyIndex:
        """An index of (key, content_hash, signature) rows, e.g. read back from the accepted store. Rows are
        read in batches without a Python object per signature, and each lookup table is sorted once."""
        index = cls()
        it: Iterator[tuple[str, str, bytes]] = iter(rows)
        exact, folded, bands = [], [], []
        while batch := list(islice(it, 65_536)):
            keys, hashes, sigs = zip(*batch, strict=True)
            raw = signature_matrix(sigs)
            ids = np.arange(index._n, index._n + len(batch), dtype=np.uint32)
            digests = raw[:, DIGEST_OFFSET:].copy().view("<u4")
            index._append_digests(pack_digests(digests))
            for key in keys:
                index._append_key(key)
            exact.append((np.array([exact_key(h) for h in hashes], np.uint32), ids))
            folded.append((raw[:, FOLDED_OFFSET:FOLDED_OFFSET + 4].copy().view("<u4").ravel(), ids))
            short = (band_keys(digests) >> np.uint64(32)).astype(np.uint32)
            bands.append((short.ravel(), np.repeat(ids, k.BANDS)))
        index._exact, index._folded, index._bands = (Multimap.sorted_from(parts) for parts in (exact, folded, bands))
        del exact, folded, bands
        _return_freed_memory()
        return index

    # -- looking up --
    def key(self, doc_id: int) -> str:
        """The key document `doc_id` was added under."""
        start = self._key_ends[doc_id - 1] if doc_id else 0
        return self._key_bytes[start:self._key_ends[doc_id]].decode("utf-8")

    def _packed_rows(self, ids: Sequence[int]) -> np.ndarray:
        if not ids:
            return np.empty((0, PACKED_BYTES), np.uint8)
        return np.stack([self._blocks[i // _BLOCK_ROWS][i % _BLOCK_ROWS] for i in ids])

    def _confirmed(self, probe: Probe, ids: list[int]) -> int | None:
        """The lowest id whose digest equals the probe's (a 32-bit key shared by chance is not a match)."""
        ids = sorted(set(ids))
        same = np.flatnonzero((self._packed_rows(ids) == probe.packed).all(axis=1))
        return ids[int(same[0])] if same.size else None

    def _match_exact(self, probes: list[Probe]) -> None:
        exact = self._exact.find(np.array([exact_key(p.delivery.content_hash) for p in probes], np.uint32))
        folded = self._folded.find(np.array([folded_key(p.folded) for p in probes], np.uint32))
        for i, probe in enumerate(probes):
            for kind, ids in (("exact", exact[i]), ("folded", folded[i])):
                found = self._confirmed(probe, ids) if ids else None
                if found is not None:
                    probe.match = (kind, self.key(found))
                    break

    def _match_index(self, probes: list[Probe], texts: TextLookup | None) -> None:
        if not self._n or not probes:
            return
        self._match_exact(probes)
        bands = (band_keys(np.stack([p.digest for p in probes])) >> np.uint64(32)).astype(np.uint32)
        found = self._bands.find(bands.ravel())
        candidates = []
        for i in range(len(probes)):
            ids = sorted({c for b in range(k.BANDS) for c in found[i * k.BANDS + b]})
            candidates.append((np.array(ids, np.int64), self._packed_rows(ids)))
        match_near(probes, candidates, self.key, texts)

    def assess_step(self, deliveries: list[Delivery], texts: TextLookup | None = None) -> list[NoveltyVerdict]:
        """Verdicts for one step's deliveries, in order: against the index, then within the step (the first
        delivery of a cluster is kept; the k miners that delivered it share the credit, 1/k each). `texts` looks
        accepted texts up by key, to settle near matches the estimate cannot."""
        probes = prepare(deliveries)
        self._match_index(probes, texts)
        return judge(probes)

    # -- persistence --
    def _meta(self) -> dict[str, object]:
        return {"format": _SNAPSHOT_FORMAT, "magic": MAGIC.hex(), "num_perm": k.NUM_PERM, "bands": k.BANDS,
                "rows": k.ROWS, "bits": k.DIGEST_BITS, "shingle": k.SHINGLE, "seed": k.MINHASH_SEED,
                "documents": self._n}

    def save(self, path: Path) -> None:
        """Write a snapshot atomically (a temp file renamed over `path`)."""
        path = Path(path)
        maps = {f"{name}_{part}": array for name, table in (("exact", self._exact), ("folded", self._folded),
                                                            ("bands", self._bands))
                for part, array in zip(_MAP_PARTS, table.arrays(), strict=True)}
        # One array per block, the last one trimmed: no full copy of the digests while saving.
        blocks = {f"digests_{i:05d}": block[:self._n - i * _BLOCK_ROWS] for i, block in enumerate(self._blocks)}
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as fh:
            np.savez(fh, meta=np.frombuffer(json.dumps(self._meta()).encode(), np.uint8), **blocks,
                     key_bytes=np.frombuffer(bytes(self._key_bytes), np.uint8),
                     key_ends=np.frombuffer(self._key_ends.tobytes(), np.uint64), **maps)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> NoveltyIndex:
        """Read a snapshot written by `save`; refuses one written with other constants or in another format."""
        try:
            with np.load(Path(path), allow_pickle=False) as data:
                arrays = {name: data[name] for name in data.files}
            meta = json.loads(arrays["meta"].tobytes())
        except (OSError, ValueError, KeyError) as exc:
            raise StorageError(f"cannot read novelty snapshot {path}: {exc}",
                               hint="delete it and rebuild the index from the database") from exc
        index = cls()
        expected = {**index._meta(), "documents": meta.get("documents")}
        if meta != expected:
            raise StorageError(f"novelty snapshot {path} was written with other settings ({meta})",
                               hint="delete it and rebuild the index from the database")
        for name in sorted(n for n in arrays if n.startswith("digests_")):
            block = arrays[name]
            if len(block) == _BLOCK_ROWS and index._n % _BLOCK_ROWS == 0:
                index._blocks.append(block)   # a full block as read: no copy
                index._n += _BLOCK_ROWS
            else:
                index._append_digests(block)
        index._key_bytes = bytearray(arrays["key_bytes"].tobytes())
        index._key_ends = array("Q", arrays["key_ends"].tobytes())
        index._exact, index._folded, index._bands = (Multimap(*(arrays[f"{name}_{part}"] for part in _MAP_PARTS))
                                                     for name in ("exact", "folded", "bands"))
        del arrays
        _return_freed_memory()
        return index

    def nbytes(self) -> int:
        """Bytes held in arrays (digests, keys, exact hashes, bands)."""
        return (len(self._blocks) * _BLOCK_ROWS * PACKED_BYTES + len(self._key_bytes)
                + self._key_ends.itemsize * len(self._key_ends)
                + self._exact.nbytes() + self._folded.nbytes() + self._bands.nbytes())


def _return_freed_memory() -> None:
    """Hand the heap pages freed by a rebuild or load back to the system: glibc keeps them otherwise (the per-batch
    temporaries of a rebuild stayed as ~290 bytes a document of RSS at 1M documents, more than the index itself)."""
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)   # glibc only; other allocators return memory themselves
    if trim is not None:
        trim(0)


def _split_ties(probes: list[Probe], positions: list[int]) -> dict[int, NoveltyVerdict]:
    """Cluster a step's new deliveries (greedy: each joins the most similar earlier representative) and share
    each cluster's credit among the distinct miners that delivered it."""
    by_hash: dict[str, int] = {}
    by_folded: dict[bytes, int] = {}
    bands: dict[int, list[int]] = {}
    cluster_of: list[tuple[int, str | None]] = []  # (leader, kind)
    keys_of = band_keys(np.stack([p.digest for p in probes])) if probes else np.empty((0, k.BANDS))
    for i, probe in enumerate(probes):
        match = _match_leader(probe, keys_of[i], probes, by_hash, by_folded, bands)
        if match is not None:
            cluster_of.append(match)
            continue
        cluster_of.append((i, None))
        by_hash.setdefault(probe.delivery.content_hash, i)
        by_folded.setdefault(probe.folded, i)
        for key in keys_of[i].tolist():
            bands.setdefault(key, []).append(i)
    members: dict[int, list[int]] = {}
    for i, (leader, _) in enumerate(cluster_of):
        members.setdefault(leader, []).append(i)
    out: dict[int, NoveltyVerdict] = {}
    for leader, group in members.items():
        miners: set[int] = set()
        firsts = []
        for i in group:
            if probes[i].delivery.miner_uid not in miners:
                miners.add(probes[i].delivery.miner_uid)
                firsts.append(i)
        share = 1.0 / len(miners)
        lead_key = probes[leader].delivery.key
        for i in group:
            probe = probes[i]
            novelty = share if i in firsts else 0.0
            if i == leader:
                out[positions[i]] = NoveltyVerdict(probe.delivery.key, share, True, None, None, probe.signature)
            else:
                out[positions[i]] = NoveltyVerdict(probe.delivery.key, novelty, False, lead_key, cluster_of[i][1],
                                                   probe.signature)
    return out


def _match_leader(probe: Probe, keys: np.ndarray, probes: list[Probe], by_hash: dict[str, int],
                  by_folded: dict[bytes, int], bands: dict[int, list[int]]) -> tuple[int, str] | None:
    """(leader, kind) of the earlier representative this delivery duplicates, or None."""
    if probe.delivery.content_hash in by_hash:
        return by_hash[probe.delivery.content_hash], "exact"
    if probe.folded in by_folded:
        return by_folded[probe.folded], "folded"
    candidates = sorted({c for key in keys.tolist() for c in bands.get(key, ())})
    best: tuple[float, int] | None = None
    for c in candidates:
        sim = float(np.count_nonzero(probes[c].digest == probe.digest)) / k.NUM_PERM
        if k.NEAR_UNSURE_LOW <= sim < k.NEAR_UNSURE_HIGH:  # both texts are at hand: the exact Jaccard decides
            sim = similarity(probe.delivery.text, probes[c].delivery.text)
            sim = sim if sim >= k.NEAR_DUP_JACCARD else 0.0
        if sim >= k.VERIFY_JACCARD and (best is None or sim > best[0]):
            best = (sim, c)
    return (best[1], "near") if best is not None else None
