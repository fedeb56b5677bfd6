"""Scoring at speed and at scale, side by side with datatrove's filters and datasketch's MinHashLSH.

1. The validation ladder without the network, per core (CPU seconds, `time.process_time`): schema validation of
   a Record, quality signals, relevance, then the novelty step (signature, LSH query, insert) on ~250-word real
   documents (Python reference text, docstrings, READMEs). The tokenizer memo is warmed on *other* documents
   first (a validator runs for days), and the cold first pass is shown too. Target: >= 1,000 documents/s.
2. Quality against datatrove 0.10.1's four filters on the same documents: CPU per document and verdict agreement.
   Target: >= 5x faster.
3. MinHash and LSH against rensa's RMinHashLSH and datasketch's MinHash/MinHashLSH (threshold 0.8, 128
   permutations): signature cost, candidate recall on planted near-duplicates, memory per document and query
   rate with 100,000 indexed documents (each in a fresh subprocess, RSS delta).
4. The glean novelty index at N (default 1,000,000) indexed documents: RSS and array bytes per million, build
   time, query rate, snapshot size and save/load time. Indexed signatures at scale are synthetic (uniform random
   slots, as distinct documents have); the queries are real documents.

    python -m benchmarks scoring          # GLEAN_BENCH_SCORING_N=100000 for a quicker run
"""

from __future__ import annotations

import gc
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from schemas import DomainCatalog, Record, hash_text, normalize_text
from schemas.protocol import RecordsRequest
from schemas.record import utcnow
from scoring import constants as k
from scoring import tokenize
from scoring.minhash import PACKED_BYTES, shingles, signature
from scoring.novelty import Delivery, NoveltyIndex
from scoring.quality import assess_quality, assess_quality_many
from scoring.relevance import assess_relevance
from tests.scoring.corpus import build_corpus, cut_to_words, prose_of_about
from validator.ladder import judge_page

DOMAIN = "python-ecosystem"
STEP = 100                       # deliveries per novelty step
SIDE = 100_000                   # indexed documents for the side-by-side memory and query figures
RENSA_BANDS = 16                 # rensa's LSH needs bands dividing the 128 slots (glean bands 120 of them, 20x6)
REPO = Path(__file__).resolve().parents[1]


def _scale() -> int:
    return int(os.environ.get("GLEAN_BENCH_SCORING_N", "1000000"))


def _side() -> int:
    return min(SIDE, _scale())


def _cpu(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def _best_cpu(fn: Callable[[], object], repeat: int = 3) -> float:
    return min(_cpu(fn) for _ in range(repeat))


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _us(seconds: float, n: int) -> str:
    return f"{seconds / n * 1e6:,.0f} µs"


# ---- 1. the ladder -------------------------------------------------------------------------------------------

def _novelty_steps(deliveries: list[Delivery]) -> None:
    index = NoveltyIndex()
    for start in range(0, len(deliveries), STEP):
        batch = deliveries[start:start + STEP]
        verdicts = index.assess_step(batch)
        index.add_many([(d.key, d.content_hash, v.signature) for d, v in zip(batch, verdicts, strict=True) if v.keep])


def _ladder(texts: list[str], warm_on: list[str]) -> tuple[Table, float]:
    spec = DomainCatalog.load().get(DOMAIN)
    payloads = [Record.build(uri=f"https://docs.python.org/3/library/page{i}.html", text=t, source="web",
                             domain=DOMAIN, title="Python documentation").model_dump(mode="json")
                for i, t in enumerate(texts)]
    # the validator has the record's (already checked) content hash: no need to hash again
    deliveries = [Delivery(f"k{i}", i % 5, p["content_hash"], p["text"]) for i, p in enumerate(payloads)]
    stages: list[tuple[str, Callable[[], object]]] = [
        ("schema validation (Record)", lambda: [Record.model_validate(p) for p in payloads]),
        ("quality signals", lambda: assess_quality_many(texts, spec.quality, spec.languages)),
        ("relevance", lambda: [assess_relevance("Python documentation", t, spec.relevance) for t in texts]),
        ("novelty: signature + LSH query + insert", lambda: _novelty_steps(deliveries)),
    ]
    states = {"cold": {}, "warm": _memo_after(warm_on), "seen": _memo_after(warm_on + texts)}
    cpu = {(name, state): _stage_cpu(fn, memo) for name, fn in stages for state, memo in states.items()}
    hits = _hit_rate(texts, states["warm"])
    sig = _best_cpu(lambda: [signature(t) for t in texts])

    n = len(texts)
    table = Table(title=f"Validation ladder without network: {n} real documents of ~250 words, CPU per document")
    table.add_column("stage")
    table.add_column("first sight (empty memo)", justify="right")
    table.add_column(f"memo warmed on {len(warm_on)} other docs ({hits:.0%} hits)", justify="right")
    table.add_column("docs seen before (100% hits)", justify="right")
    for name, _ in stages:
        table.add_row(name, *(_us(cpu[name, s], n) for s in states))
    table.add_row("  of which signature", "", _us(sig, n), "")
    totals = {s: sum(cpu[name, s] for name, _ in stages) for s in states}
    table.add_row("[bold]whole ladder", *(_us(totals[s], n) for s in states))
    table.add_row("[bold]documents/s per core (target >= 1,000)", *(f"{n / totals[s]:,.0f}" for s in states))
    # the same work as the validator runs it: one page through validator.ladder.judge_page, then the novelty step
    page = _page_body(payloads)
    request = RecordsRequest(after_seq=0, domain=DOMAIN, limit=len(payloads))
    catalog = DomainCatalog.load()
    kept = len(judge_page(1, page, request, catalog, utcnow()).candidates)
    validator = {s: _stage_cpu(lambda: (judge_page(1, page, request, catalog, utcnow()), _novelty_steps(deliveries)),
                               memo) for s, memo in states.items()}
    table.add_row(f"[bold]as the validator runs it[/] (judge_page on one page, {kept}/{n} kept, then novelty)",
                  *(_us(validator[s], n) for s in states))
    table.add_row("[bold]documents/s per core, validator path", *(f"{n / validator[s]:,.0f}" for s in states))
    return table, min(n / totals["warm"], n / validator["warm"])


def _page_body(payloads: list[dict]) -> bytes:
    """A miner's answer to POST /v1/records holding these records."""
    items = [{"seq": i + 1, "record": p} for i, p in enumerate(payloads)]
    return json.dumps({"records": items, "next_seq": len(items), "more": False}).encode()


def _memo_after(texts: list[str]) -> dict:
    """The tokenizer memo after reading `texts`."""
    tokenize._memo.clear()
    for t in texts:
        tokenize.analyse(t)
    return dict(tokenize._memo)


def _hit_rate(texts: list[str], memo: dict) -> float:
    chunks = [c for t in texts for c in t.split()]
    return sum(c in memo for c in chunks) / len(chunks)


def _stage_cpu(fn: Callable[[], object], memo: dict, repeat: int = 3) -> float:
    """Best CPU time of `fn` over `repeat` runs, each starting from the given tokenizer memo."""
    best = float("inf")
    for _ in range(repeat):
        tokenize._memo.clear()
        tokenize._memo.update(memo)
        best = min(best, _cpu(fn))
    return best


# ---- 2. quality vs datatrove ---------------------------------------------------------------------------------

def _datatrove_filters() -> dict[str, object]:
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    return {"gopher_quality": GopherQualityFilter(), "gopher_repetition": GopherRepetitionFilter(),
            "c4": C4QualityFilter(), "fineweb": FineWebQualityFilter()}


def _datatrove_keep(text: str, filters: dict[str, object]) -> bool:
    from datatrove.data import Document

    return all(f.filter(Document(text=text, id="d")) is True for f in filters.values())


def _quality_vs_datatrove(texts: list[str], warm_on: list[str]) -> tuple[Table, float]:
    from schemas import QualitySpec
    from scoring.quality import c4_quality, fineweb_quality, gopher_quality, gopher_repetition

    spec = QualitySpec(min_words=50, max_words=100_000)
    filters = _datatrove_filters()

    def rules_only(text: str) -> bool:
        words = tokenize.analyse(text)
        signals = [*gopher_quality(text, words, 50, 100_000, "en"), *gopher_repetition(text, words),
                   *c4_quality(text), *fineweb_quality(text, words)]
        return all(s.passed for s in signals)

    _datatrove_keep(texts[0], filters)  # load spaCy before timing
    theirs: list[bool] = []
    dt_cpu = _cpu(lambda: theirs.extend(_datatrove_keep(t, filters) for t in texts))
    ours = [rules_only(t) for t in texts]
    warm, seen = _memo_after(warm_on), _memo_after(warm_on + texts)
    rules_cpu = _stage_cpu(lambda: [rules_only(t) for t in texts], warm)
    seen_cpu = _stage_cpu(lambda: [rules_only(t) for t in texts], seen)
    cold_cpu = _stage_cpu(lambda: [rules_only(t) for t in texts], {})
    full_cpu = _stage_cpu(lambda: [assess_quality(t, spec, ["en"]) for t in texts], warm)
    agree = sum(a == b for a, b in zip(ours, theirs, strict=True)) / len(texts)

    n = len(texts)
    table = Table(title="Quality rules vs datatrove 0.10.1 (Gopher quality + repetition, C4, FineWeb), same documents")
    table.add_column("implementation")
    table.add_column("CPU per document", justify="right")
    table.add_column("speed-up vs datatrove", justify="right")
    table.add_row("datatrove filters (spaCy tokenizer)", _us(dt_cpu, n), "1.0x")
    table.add_row("glean rules, empty tokenizer memo", _us(cold_cpu, n), f"{dt_cpu / cold_cpu:.1f}x")
    table.add_row("glean rules, memo warmed on other docs", _us(rules_cpu, n), f"{dt_cpu / rules_cpu:.1f}x")
    table.add_row("glean rules, docs seen before", _us(seen_cpu, n), f"{dt_cpu / seen_cpu:.1f}x")
    table.add_row("glean assess_quality (+ language id, score), memo warmed on other docs", _us(full_cpu, n),
                  f"{dt_cpu / full_cpu:.1f}x")
    table.add_row("keep/drop agreement with datatrove", f"{agree:.1%}", "")
    return table, dt_cpu / rules_cpu


# ---- 3. MinHash/LSH side by side -----------------------------------------------------------------------------

def _planted_pairs(texts: list[str], rng: random.Random) -> list[tuple[str, str, float]]:
    """(original, edited copy, true Jaccard of word 5-gram shingles): substitutions, deletions, appended text."""
    vocab = sorted({w for t in texts for w in t.split() if w.isalpha()})
    pairs = []
    for i, text in enumerate(texts):
        words = text.split(" ")
        rate = rng.choice([0.005, 0.01, 0.02, 0.03, 0.05])
        if i % 3 == 0:
            edited = " ".join(w if rng.random() > rate else rng.choice(vocab) for w in words)
        elif i % 3 == 1:
            edited = " ".join(w for w in words if rng.random() > rate)
        else:
            edited = text + " " + " ".join(rng.choice(texts).split()[: rng.choice([10, 25, 50])])
        edited = normalize_text(edited)
        a, b = set(shingles(text)), set(shingles(edited))
        pairs.append((text, edited, len(a & b) / len(a | b)))
    return pairs


def _datasketch_minhash(text: str):
    from datasketch import MinHash

    m = MinHash(num_perm=k.NUM_PERM, seed=1)
    m.update_batch([s.encode() for s in shingles(text)])
    return m


def _rensa_minhash(text: str):
    import rensa

    m = rensa.RMinHash(k.NUM_PERM, k.MINHASH_SEED)
    m.update(shingles(text))
    return m


def _recall(pairs: list[tuple[str, str, float]], impl: str) -> float:
    """Share of pairs with Jaccard >= 0.8 that the implementation reports as duplicates."""
    similar = [(a, b) for a, b, j in pairs if j >= k.NEAR_DUP_JACCARD]
    found = 0
    if impl == "glean":
        index = NoveltyIndex()
        for i, (a, _) in enumerate(similar):
            index.add(f"o{i}", hash_text(a), signature(a))
        verdicts = index.assess_step([Delivery(f"q{i}", i, hash_text(b), b) for i, (_, b) in enumerate(similar)])
        found = sum(v.novelty == 0 for v in verdicts)
    elif impl == "rensa":
        import rensa

        lsh = rensa.RMinHashLSH(k.NEAR_DUP_JACCARD, k.NUM_PERM, RENSA_BANDS)
        for i, (a, _) in enumerate(similar):
            lsh.insert(i, _rensa_minhash(a))
        found = sum(i in lsh.query(_rensa_minhash(b)) for i, (_, b) in enumerate(similar))
    else:
        from datasketch import MinHashLSH

        lsh = MinHashLSH(threshold=k.NEAR_DUP_JACCARD, num_perm=k.NUM_PERM)
        for i, (a, _) in enumerate(similar):
            lsh.insert(i, _datasketch_minhash(a))
        found = sum(i in lsh.query(_datasketch_minhash(b)) for i, (_, b) in enumerate(similar))
    return found / len(similar)


def _probe(impl: str, n: int) -> dict[str, object]:
    """Run in a fresh process: memory (RSS delta) of `n` indexed documents and query CPU for real documents."""
    texts = prose_of_about(250)
    gc.collect()
    before = _rss()
    start = time.perf_counter()
    if impl == "glean":
        index = NoveltyIndex.rebuild(_synthetic_rows(n))
        query = lambda: index.assess_step(  # noqa: E731
            [Delivery(f"q{i}", i, hash_text(t), t) for i, t in enumerate(texts)])
        extra = {"array_bytes": index.nbytes()}
    elif impl == "rensa":
        import rensa

        lsh = rensa.RMinHashLSH(k.NEAR_DUP_JACCARD, k.NUM_PERM, RENSA_BANDS)
        for lo in range(0, n, 50_000):
            tokens = [[f"{i}:{j}" for j in range(8)] for i in range(lo, min(n, lo + 50_000))]
            lsh.insert_matrix(rensa.RMinHash.digest_matrix_from_token_sets(tokens, k.NUM_PERM, k.MINHASH_SEED), lo)
            del tokens
        sketches = [_rensa_minhash(t) for t in texts]
        query = lambda: [lsh.query(m) for m in sketches]  # noqa: E731
        extra = {}
    else:
        from datasketch import LeanMinHash, MinHash, MinHashLSH

        lsh = MinHashLSH(threshold=k.NEAR_DUP_JACCARD, num_perm=k.NUM_PERM)
        rng = np.random.default_rng(1)
        template = MinHash(num_perm=k.NUM_PERM, seed=1)
        for i in range(n):
            template.hashvalues = rng.integers(0, 2**32, k.NUM_PERM, dtype=np.uint64)
            lsh.insert(i, LeanMinHash(template))
        sketches = [_datasketch_minhash(t) for t in texts]
        query = lambda: [lsh.query(m) for m in sketches]  # noqa: E731
        extra = {"bands_rows": list(lsh.b_r) if hasattr(lsh, "b_r") else [lsh.b, lsh.r]}
    build = time.perf_counter() - start
    gc.collect()
    rss = _rss() - before
    query_cpu = _best_cpu(query)
    sig_cpu = _best_cpu(lambda: [signature(t) for t in texts]) if impl == "glean" else 0.0
    return {"impl": impl, "n": n, "rss": rss, "build_s": build, "queries": len(texts),
            "query_cpu": query_cpu, "signature_cpu": sig_cpu,
            "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, **extra}


def _synthetic_rows(n: int) -> Iterator[tuple[str, str, bytes]]:
    """(key, content hash, signature) of `n` distinct synthetic documents, generated in batches."""
    rng = np.random.default_rng(2025)
    head = signature("x")[:4]
    for lo in range(0, n, 65_536):
        m = min(n, lo + 65_536) - lo
        digests = rng.integers(0, 2**32, (m, k.NUM_PERM), dtype=np.uint32)
        folded = rng.bytes(16 * m)
        hashes = rng.bytes(32 * m).hex()
        for i in range(m):
            yield (str(lo + i + 1), hashes[64 * i:64 * i + 64],   # keys as the validator's: accepted ids
                   head + folded[16 * i:16 * i + 16] + digests[i].astype("<u4").tobytes())


def _run_probe(impl: str, n: int) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-m", "benchmarks.bench_scoring", "--probe", impl, str(n)], cwd=REPO,
                         capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    return json.loads(out.stdout.strip().splitlines()[-1])


def _minhash_side_by_side(texts: list[str]) -> Table:
    pairs = _planted_pairs(texts, random.Random(5))
    glean_sig = _best_cpu(lambda: [signature(t) for t in texts])
    rensa_sig = _best_cpu(lambda: [_rensa_minhash(t) for t in texts])
    ds_sig = _best_cpu(lambda: [_datasketch_minhash(t) for t in texts], repeat=1)
    side = _side()
    probes = {impl: _run_probe(impl, side) for impl in ("glean", "rensa", "datasketch")}
    recalls = {impl: _recall(pairs, impl) for impl in ("glean", "rensa", "datasketch")}
    n = len(texts)
    similar = sum(j >= k.NEAR_DUP_JACCARD for _, _, j in pairs)

    table = Table(title=f"Near-duplicate detection side by side ({n} real documents; {side:,} indexed for "
                        f"memory and queries)")
    table.add_column("")
    table.add_column(f"glean ({k.BANDS}x{k.ROWS} bands, verified)", justify="right")
    table.add_column(f"rensa RMinHashLSH ({RENSA_BANDS} bands)", justify="right")
    ds_br = probes["datasketch"].get("bands_rows", ["?", "?"])
    table.add_column(f"datasketch MinHashLSH (auto {ds_br[0]}x{ds_br[1]})", justify="right")
    table.add_row("signature (128 slots) per document", _us(glean_sig, n), _us(rensa_sig, n), _us(ds_sig, n))
    table.add_row(f"recall on {similar} planted pairs with Jaccard >= 0.8",
                  *(f"{recalls[i]:.1%}" for i in ("glean", "rensa", "datasketch")))
    table.add_row("memory per indexed document (RSS delta)",
                  *(f"{probes[i]['rss'] / side:,.0f} B" for i in ("glean", "rensa", "datasketch")))
    table.add_row("  stores signatures for verification?", f"yes ({PACKED_BYTES} B b-bit digests)", "no",
                  "no (only band keys)")
    table.add_row("query CPU per document (glean: lookup + verification + step ties)",
                  _us(probes["glean"]["query_cpu"] - probes["glean"]["signature_cpu"], probes["glean"]["queries"]),
                  _us(probes["rensa"]["query_cpu"], probes["rensa"]["queries"]),
                  _us(probes["datasketch"]["query_cpu"], probes["datasketch"]["queries"]))
    table.add_row("build time", *(f"{probes[i]['build_s']:.1f} s" for i in ("glean", "rensa", "datasketch")))
    return table


# ---- 4. the glean index at scale -----------------------------------------------------------------------------

def _scale_probe(n: int) -> dict[str, object]:
    """In a fresh process: build the index of `n` documents, snapshot it, load it back, then query it."""
    texts = prose_of_about(250)
    gc.collect()
    before = _rss()
    start = time.perf_counter()
    index = NoveltyIndex.rebuild(_synthetic_rows(n))
    result: dict[str, object] = {"n": n, "build_s": time.perf_counter() - start}
    gc.collect()
    result["rss"] = _rss() - before
    result["array_bytes"] = index.nbytes()
    with tempfile.TemporaryDirectory(prefix="glean-bench-") as tmp:
        path = Path(tmp) / "novelty.npz"
        start = time.perf_counter()
        index.save(path)
        result["save_s"] = time.perf_counter() - start
        result["snapshot_bytes"] = path.stat().st_size
        del index
        gc.collect()
        start = time.perf_counter()
        loaded = NoveltyIndex.load(path)
        result["load_s"] = time.perf_counter() - start
        gc.collect()
        result["rss_loaded"] = _rss() - before
    half = len(texts) // 2
    for i, t in enumerate(texts[:half]):
        loaded.add(f"real{i}", hash_text(t), signature(t))
    queries = ([Delivery(f"e{i}", i, hash_text(t), t) for i, t in enumerate(texts[:half])]
               + [Delivery(f"n{i}", i, hash_text(t), t) for i, t in enumerate(texts[half:])]
               + [Delivery(f"v{i}", i, hash_text(t + "\nRead more."), t + "\nRead more.")
                  for i, t in enumerate(texts[:half])])
    verdicts = loaded.assess_step(queries)
    result["mixed_queries"] = len(queries)
    result["mixed_cpu"] = _best_cpu(lambda: loaded.assess_step(queries))
    result["mixed_sig_cpu"] = _best_cpu(lambda: [signature(d.text) for d in queries])
    result["caught"] = sum(v.novelty == 0 for v in verdicts[:half] + verdicts[len(texts):])
    result["expected"] = 2 * half
    result["peak_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return result


def _scale_table(n: int) -> Table:
    r = _run_probe("scale", n)
    per_m = 1_000_000 / n
    table = Table(title=f"glean novelty index at {n:,} indexed documents (signatures synthetic, queries real)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("RSS per million documents (target <= 300 MB)", f"{r['rss'] * per_m / 1e6:,.0f} MB")
    table.add_row("array bytes per million documents", f"{r['array_bytes'] * per_m / 1e9:.2f} GB")
    table.add_row("peak RSS of the process", f"{r['peak_rss'] / 1e9:.2f} GB")
    table.add_row("rebuild from (key, hash, signature) rows", f"{r['build_s']:.1f} s")
    table.add_row("snapshot size / save / load", f"{r['snapshot_bytes'] / 1e9:.2f} GB / {r['save_s']:.1f} s / "
                                                 f"{r['load_s']:.1f} s")
    lookups = r["mixed_cpu"] - r["mixed_sig_cpu"]
    table.add_row(f"assess_step, {r['mixed_queries']} deliveries (exact, near, new)",
                  f"{r['mixed_queries'] / r['mixed_cpu']:,.0f} docs/s per core")
    table.add_row("  lookups only (signatures excluded)", f"{r['mixed_queries'] / max(lookups, 1e-9):,.0f} docs/s")
    table.add_row("  duplicates caught among planted", f"{r['caught']} / {r['expected']}")
    return table


# ---- main ----------------------------------------------------------------------------------------------------

def _split_corpus() -> tuple[list[str], list[str]]:
    """(~250-word documents to measure, other corpus documents to warm the tokenizer memo on)."""
    long = [d for d in build_corpus() if d.good and len(d.text.split()) >= 250]
    held_out = {d.id for d in long[1::2]}
    measured = [cut_to_words(d.text, 250) for d in long[1::2]]
    warm_on = [d.text for d in build_corpus() if d.id not in held_out]
    return measured, warm_on


def main() -> None:
    console = Console()
    console.print(f"[bold]bench_scoring[/] on {os.cpu_count()} cores (figures are CPU time of one core)")
    measured, warm_on = _split_corpus()
    ladder, docs_per_s = _ladder(measured, warm_on)
    console.print(ladder)
    quality, speedup = _quality_vs_datatrove(measured, warm_on)
    console.print(quality)
    console.print(_minhash_side_by_side(prose_of_about(250)))
    console.print(_scale_table(_scale()))
    verdict = "[green]met[/]" if docs_per_s >= 1000 and speedup >= 5 else "[yellow]not met[/]"
    console.print(f"targets (ladder >= 1,000 docs/s per core, quality >= 5x datatrove): {verdict}")


def _probe_main(argv: list[str]) -> None:
    impl, n = argv[0], int(argv[1])
    result = _scale_probe(n) if impl == "scale" else _probe(impl, n)
    print(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--probe":
        _probe_main(sys.argv[2:])
    else:
        main()
