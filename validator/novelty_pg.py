"""The shared novelty index on PostgreSQL: the same lookups and verdicts as `scoring.NoveltyIndex`, with the LSH band
keys and the b-bit digests in tables of the validator's database (migration 0005), so several validator processes
under one hotkey share one index and it can outgrow one machine's memory.

A step costs two round trips: one for the exact and folded hashes of all its deliveries, one for the candidates of
all their band keys (one array of keys, each looked up in its partition and joined to its document's digest).

Claims: the atomic check-then-insert of several processes under one hotkey. A claim takes the hotkey's
transaction-scoped advisory lock (`lock`), judges its deliveries against what is committed (`judge_committed`) and
inserts the new ones (`add_in`) before its transaction commits; the validator claims the rows a miner's commit is
about to accept inside that commit's transaction (validator/corpus.py), so a row is indexed exactly when it is
accepted. Same-step precedence has one order across processes:

1. claims are totally ordered by the lock: the first to take it keeps the content, and every later claim of the
   same or near-same content (in any process) finds it committed and is told duplicate (exact, folded or near);
2. within one claim, deliveries are judged in `claim_order` (content hash, then key), an order that does not depend
   on the process or on how its step was pulled, so the representative of a cluster within one claim is the same
   wherever it is claimed;
3. accepted ids are allocated under the lock, so the accepted table's id order is the claim order: what precedence
   later reads as "first" (validator/precedence.py, by accepted id) is this same order in every process.

Ties between miners within one process's step are still split by precedence before the commit; across processes
the earlier claim takes the whole content, and the later process's row is a duplicate.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from itertools import islice

import numpy as np
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from scoring.minhash import PACKED_BYTES, band_keys, pack_digests, parse_signature
from scoring.novelty import Delivery, NoveltyVerdict, Probe, TextLookup, judge, match_near, prepare

log = logging.getLogger(__name__)

DOCS = "validator_novelty_docs"
BANDS = "validator_novelty_bands"
LOCK_NAMESPACE = "glean-novelty:"   # advisory lock id = 64-bit blake2b of this + the hotkey

_EXACT = sa.text(f"SELECT doc_id, key, content_hash, folded FROM {DOCS} "
                 "WHERE content_hash = ANY(CAST(:h AS bytea[])) OR folded = ANY(CAST(:f AS bytea[]))")
# A lateral join per key, not `band_key = ANY(keys)`: each key is then looked up in its own partition only (run-time
# pruning); with ANY every partition was searched for every key (11x the server CPU at 200,000 documents).
_NEAR = sa.text(f"SELECT b.band_key, d.doc_id, d.key, d.digest FROM unnest(CAST(:k AS bigint[])) AS q(band_key) "
                f"CROSS JOIN LATERAL (SELECT band_key, doc_id FROM {BANDS} x WHERE x.band_key = q.band_key) b "
                f"JOIN {DOCS} d ON d.doc_id = b.doc_id")
_INSERT_DOCS = sa.text(
    f"INSERT INTO {DOCS} (key, content_hash, folded, digest) "
    "SELECT * FROM unnest(CAST(:k AS text[]), CAST(:h AS bytea[]), CAST(:f AS bytea[]), CAST(:d AS bytea[])) "
    "ON CONFLICT DO NOTHING RETURNING doc_id, key")
_COPY_BANDS = f"COPY {BANDS} (band_key, doc_id) FROM STDIN (FORMAT BINARY)"
# PostgreSQL's binary COPY: a header, then per row a field count and each field's length and big-endian value
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_COPY_ROW = np.dtype([("fields", ">i2"), ("klen", ">i4"), ("key", ">i8"), ("dlen", ">i4"), ("doc", ">i8")])


def _signed(keys: np.ndarray) -> list[int]:
    """uint64 band keys as the signed 64-bit integers PostgreSQL's bigint holds."""
    return keys.astype(np.uint64).view(np.int64).ravel().tolist()


class PgNoveltyIndex:
    """Everything accepted so far, in PostgreSQL tables, for exact and near-duplicate lookup."""

    def __init__(self, engine: Engine, hotkey: str = "") -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("the PostgreSQL novelty index needs a PostgreSQL engine")
        self.engine = engine
        digest = hashlib.blake2b((LOCK_NAMESPACE + hotkey).encode(), digest_size=8).digest()
        self._lock_id = int.from_bytes(digest, "big", signed=True)

    def __len__(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {DOCS}")).scalar_one())

    # -- adding --
    def add(self, key: str, content_hash: str, sig: bytes) -> None:
        """Index one accepted record by its key, content hash and signature."""
        self.add_many([(key, content_hash, sig)])

    def add_many(self, rows: Sequence[tuple[str, str, bytes]]) -> list[str]:
        """Index accepted records (key, content hash, signature) in order; the keys inserted (a key or content hash
        already indexed is skipped, so adding again is harmless). Every signature is checked before anything."""
        if not rows:
            return []
        parsed = [parse_signature(sig) for _, _, sig in rows]
        with self.engine.begin() as conn:
            return _insert(conn, rows, parsed)

    def rebuild(self, rows: Iterable[tuple[str, str, bytes]], batch: int = 20_000, *,
                needed: Callable[[Connection], bool] | None = None,
                done: Callable[[Connection], None] | None = None) -> int | None:
        """Replace the index with `rows` (key, content hash, signature, in order): the number of documents indexed.
        One transaction under this hotkey's lock: the band table's primary key is dropped for the load and built
        again after it, one sort a partition (adding 20 band rows a document to B-trees larger than memory, row by
        row, is what made a rebuild of millions of documents take hours). Other processes' lookups and claims wait
        for it; a rebuild that fails or is killed leaves the index as it was. `needed`, asked under the lock: None
        (nothing done) when it says no, so processes starting together rebuild once; `done` runs in the same
        transaction after the load (recording what was built, for the next process's `needed`)."""
        found, count = iter(rows), 0
        with self.engine.begin() as conn:
            self.lock(conn)
            if needed is not None and not needed(conn):
                return None
            conn.execute(sa.text(f"TRUNCATE {BANDS}, {DOCS} RESTART IDENTITY"))
            conn.execute(sa.text(f"ALTER TABLE {BANDS} DROP CONSTRAINT {BANDS}_pkey"))
            while chunk := list(islice(found, batch)):
                count += len(_insert(conn, chunk, [parse_signature(sig) for _, _, sig in chunk]))
            conn.execute(sa.text(f"ALTER TABLE {BANDS} ADD PRIMARY KEY (band_key, doc_id)"))
            if done is not None:
                done(conn)
        return count

    # -- looking up --
    def key(self, doc_id: int) -> str:
        """The key document `doc_id` was added under."""
        with self.engine.connect() as conn:
            return str(conn.execute(sa.text(f"SELECT key FROM {DOCS} WHERE doc_id = :i"), {"i": doc_id}).scalar_one())

    def assess_step(self, deliveries: list[Delivery], texts: TextLookup | None = None) -> list[NoveltyVerdict]:
        """Verdicts for one step's deliveries, as `scoring.NoveltyIndex.assess_step` gives them; nothing is added."""
        probes = prepare(deliveries)
        if probes:
            with self.engine.connect() as conn:
                _match(conn, probes, texts)
        return judge(probes)

    def claim(self, deliveries: list[Delivery], texts: TextLookup | None = None) -> list[NoveltyVerdict]:
        """Judge the deliveries and index the new ones (each cluster's kept representative, under its delivery key)
        in one transaction under this hotkey's advisory lock: of two processes claiming the same or near-same
        content, the one that takes the lock first keeps it and the other's verdict says duplicate. Verdicts in the
        order given (judged in `claim_order`)."""
        ordered = claim_order(deliveries)
        probes = prepare(ordered)  # signatures cost CPU: computed before the lock
        with self.engine.begin() as conn:
            self.lock(conn)
            verdicts = self.judge_committed(conn, probes, texts)
            self.add_in(conn, [(p.delivery.key, p.delivery.content_hash, p.signature)
                               for p, v in zip(probes, verdicts, strict=True) if v.keep])
        by_key = {v.key: v for v in verdicts}
        return [by_key[d.key] for d in deliveries]

    def lock(self, conn: Connection) -> None:
        """Take this hotkey's advisory lock until `conn`'s transaction ends (claims of other processes wait here)."""
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": self._lock_id})

    def judge_committed(self, conn: Connection, probes: list[Probe],
                        texts: TextLookup | None = None) -> list[NoveltyVerdict]:
        """Verdicts of prepared deliveries against what `conn` sees committed, and one another (in probe order)."""
        if probes:
            _match(conn, probes, texts)
        return judge(probes)

    def add_in(self, conn: Connection, rows: Sequence[tuple[str, str, bytes]]) -> list[str]:
        """`add_many` inside the caller's transaction (a claim's, so the rows are indexed when it commits)."""
        return _insert(conn, rows, [parse_signature(sig) for _, _, sig in rows])

    def nbytes(self) -> int:
        """Bytes on disk: both tables with their indexes (every partition)."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa.text(
                f"SELECT pg_total_relation_size('{DOCS}') + (SELECT coalesce(sum(pg_total_relation_size(relid)), 0) "
                f"FROM pg_partition_tree('{BANDS}'))")).scalar_one())


def claim_order(deliveries: Sequence[Delivery]) -> list[Delivery]:
    """The order a claim judges its deliveries in, the same in every process: by content hash, then key."""
    return sorted(deliveries, key=lambda d: (d.content_hash, d.key))


def probe_of(delivery: Delivery, sig: bytes) -> Probe:
    """A delivery prepared for lookup from the signature already computed for it (nothing signed again)."""
    folded, digest = parse_signature(sig)
    return Probe(delivery, sig, folded, digest, pack_digests(digest[None, :])[0])


def _insert(conn: Connection, rows: Sequence[tuple[str, str, bytes]],
            parsed: Sequence[tuple[bytes, np.ndarray]]) -> list[str]:
    if not rows:
        return []
    digests = np.stack([digest for _, digest in parsed])
    packed = pack_digests(digests)
    inserted = dict((key, int(doc_id)) for doc_id, key in conn.execute(_INSERT_DOCS, {
        "k": [key for key, _, _ in rows], "h": [bytes.fromhex(h) for _, h, _ in rows],
        "f": [folded for folded, _ in parsed], "d": [row.tobytes() for row in packed]}))
    fresh = [i for i, (key, _, _) in enumerate(rows) if key in inserted]
    if fresh:
        keys = band_keys(digests[fresh])
        _copy_bands(conn, keys.view(np.int64), np.array([inserted[rows[i][0]] for i in fresh], np.int64))
    return [rows[i][0] for i in fresh]


def _copy_bands(conn: Connection, keys: np.ndarray, doc_ids: np.ndarray) -> None:
    """The band rows of new documents, in one binary COPY (new doc_ids: nothing to conflict with); an INSERT of
    arrays spent most of its time turning them into text."""
    rows = np.empty(keys.size, _COPY_ROW)
    rows["fields"], rows["klen"], rows["dlen"] = 2, 8, 8
    rows["key"] = keys.ravel()
    rows["doc"] = np.repeat(doc_ids, keys.shape[1])
    with conn.connection.driver_connection.cursor() as cur, cur.copy(_COPY_BANDS) as copy:
        copy.write(_COPY_HEADER + rows.tobytes() + b"\xff\xff")


def _match(conn: Connection, probes: list[Probe], texts: TextLookup | None) -> None:
    """Set each probe's match against the committed index: exact, folded, then near (two round trips)."""
    by_hash: dict[bytes, tuple[int, str]] = {}
    by_folded: dict[bytes, tuple[int, str]] = {}
    for doc_id, key, content_hash, folded in conn.execute(_EXACT, {
            "h": [bytes.fromhex(p.delivery.content_hash) for p in probes], "f": [p.folded for p in probes]}):
        for found, value in ((by_hash, bytes(content_hash)), (by_folded, bytes(folded))):
            if value not in found or doc_id < found[value][0]:
                found[value] = (int(doc_id), key)
    for p in probes:
        exact, folded = by_hash.get(bytes.fromhex(p.delivery.content_hash)), by_folded.get(p.folded)
        p.match = ("exact", exact[1]) if exact else ("folded", folded[1]) if folded else None
    keys = band_keys(np.stack([p.digest for p in probes]))
    docs: dict[int, tuple[str, bytes]] = {}
    by_band: dict[int, list[int]] = {}
    for band_key, doc_id, key, digest in conn.execute(_NEAR, {"k": sorted(set(_signed(keys)))}):
        docs[int(doc_id)] = (key, bytes(digest))
        by_band.setdefault(int(band_key), []).append(int(doc_id))
    candidates = []
    for row in keys:
        ids = sorted({d for band in _signed(row) for d in by_band.get(band, ())})
        packed = np.frombuffer(b"".join(docs[d][1] for d in ids), np.uint8).reshape(len(ids), PACKED_BYTES)
        candidates.append((np.array(ids, np.int64), packed))
    match_near(probes, candidates, lambda doc_id: docs[doc_id][0], texts)
