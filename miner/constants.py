"""Every tunable of the miner in one place, with the reason for its value."""

from __future__ import annotations

# --- store -------------------------------------------------------------------------------------------------
# Rows per executemany/IN(...) chunk: well under SQLite's bound-parameter limit, large enough to amortise a statement.
SQL_CHUNK = 500
# Rows per executemany of a batch: the next chunk compresses on the codec threads while this one is written.
INSERT_CHUNK = 250
# Rows fetched per query while assembling a page; a page stops as soon as its byte budget is reached.
PAGE_FETCH_CHUNK = 256
# WAL pages between automatic checkpoints of the miner's SQLite file (SQLite's default is 1,000); see store/writes.py.
SQLITE_WAL_AUTOCHECKPOINT = 16_384
# Rows examined per query while pruning the oldest records.
PRUNE_CHUNK = 2_000
# Pruning for the byte cap frees down to this fraction of the cap, so a store at its cap is not pruned every batch.
PRUNE_LOW_WATER = 0.9
# Bytes of the uri's sha256 kept as its lookup key: 2^-64 collision odds per pair of versions of the same text.
URI_KEY_BYTES = 8
# Bytes of the content hash in the record's key (uri_key, hash_key): a new version of a page whose hash shares these
# bytes with a stored version of the same uri (2^-64 odds per pair of versions) would count as already stored.
# Lookups by hash still compare the full hash.
HASH_KEY_BYTES = 8
# zstd level for record bodies: level 3 is zstd's default, ~10 us per 2 KB record with a dictionary.
ZSTD_LEVEL = 3
# A shared zstd dictionary is trained after this many records (small records compress ~40% better with one) ...
DICT_TRAIN_AFTER = 1_000
# ... and re-trained from the newest records every this many records, so it follows the domains being crawled.
DICT_RETRAIN_EVERY = 250_000
DICT_SIZE = 64 * 1024
# Batches at least this large are (de)compressed on two threads (zstd releases the GIL).
PARALLEL_CODEC_MIN = 200
# Records whose body is shorter than this are kept uncompressed (zstd's frame would not pay for itself).
MIN_COMPRESS_BYTES = 64

# --- API ---------------------------------------------------------------------------------------------------
# Starlette's default gzip level is 9; level 5 is ~3x faster for ~3% more bytes on text.
GZIP_LEVEL = 5
GZIP_MIN_BYTES = 1_024
# Pages (megabytes) are gzipped in chunks on every core at level 1: ~2.5x faster than level 3 for ~9% more bytes,
# which keeps a 1,000-record page well under 100 ms on 2 cores.
PAGE_GZIP_LEVEL = 1
PAGE_GZIP_CHUNK = 256 * 1024
# The metagraph (who is a permitted validator) is refreshed this often in the background.
METAGRAPH_REFRESH_SECONDS = 60.0
# Callers tracked by the rate limiter before the least recently seen are forgotten (bounded memory).
RATE_LIMIT_MAX_CALLERS = 10_000
# Seconds uvicorn waits for open requests on shutdown.
SHUTDOWN_GRACE_SECONDS = 5.0

# --- scheduler ---------------------------------------------------------------------------------------------
# A failing source waits BACKOFF_BASE * 2^(failures-1) seconds, at most BACKOFF_MAX, before its next try.
BACKOFF_BASE_SECONDS = 30.0
BACKOFF_MAX_SECONDS = 6 * 3600.0
# Retention pruning also runs on this period when no batch arrives (an idle miner still forgets old data).
PRUNE_INTERVAL_SECONDS = 300.0

# --- following the network's desirability (miner/desirability.py) -----------------------------------------
# Bits of sha256 behind each miner's uniform draw per domain: a float's 53-bit mantissa holds them exactly.
UNIFORM_BITS = 53
