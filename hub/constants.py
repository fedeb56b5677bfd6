"""Every tunable of the hub package in one place, each with the reason for its value."""

from __future__ import annotations

# Rows asked of `fetch_after` per call: big enough to amortise the call, small enough (~20 MB of ~2 KB
# records) to keep memory flat however large the backlog is.
FETCH_PAGE_ROWS = 10_000

# At most this many accepted records go into one release; the rest wait for the next publish. A release
# is one Hub commit, and one commit stays well under the Hub's limits (25k LFS files, a few GB).
MAX_RELEASE_ROWS = 1_000_000

# Batches (of at most FETCH_PAGE_ROWS rows each) waiting for the background shard writer: two keep it busy
# while the next page is converted, and bound the memory held to ~2 pages.
WRITE_QUEUE_BATCHES = 2

# Parquet row groups: the unit a reader decompresses at once. ~5,000 rows of ~2 KB is ~10 MB of text,
# small enough for streaming readers and the dataset viewer, large enough for good zstd ratios.
ROW_GROUP_ROWS = 5_000
ROW_GROUP_BYTES = 32 * 1024 * 1024

# A shard is closed at whichever comes first; ~100k rows of ~2 KB is ~200 MB raw, ~60-100 MB on disk,
# near the size Hugging Face recommends for parquet files in a dataset repo.
SHARD_ROWS = 100_000
SHARD_BYTES = 256 * 1024 * 1024

# zstd level 1. Measured on ~2 KB prose rows (benchmarks/bench_hub.py, 2 cores): level 1 writes ~10 us/row
# for 0.49 bytes on disk per text byte, level 2 ~12.5 us/row for 0.44, level 3 ~20 us/row for 0.41. Level 1
# keeps a release above 50,000 rows/s even on one busy core; readers decompress every level equally fast.
PARQUET_COMPRESSION = "zstd"
PARQUET_COMPRESSION_LEVEL = 1

# The split every config exposes (a domain is a config; releases accumulate into one split).
SPLIT = "train"

# The card lists this many contributors; the rest are summed in one line.
CARD_MAX_CONTRIBUTORS = 100

# Transient-error retries of Hub calls: attempts and the first back-off (doubled each time, with jitter).
HUB_RETRIES = 5
HUB_BACKOFF_SECONDS = 1.0
HUB_BACKOFF_MAX_SECONDS = 30.0
# HTTP statuses worth retrying: rate limiting and server-side failures. Anything else is our fault.
HUB_TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})

# Personal data scrub (hub/pii.py). E.164 numbers have at most 15 digits; an international number has at least
# 8 (country code and a short subscriber number), a national one written with its trunk 0 at least 9 (shorter
# runs are mostly counts, codes or postcodes), a number announced by "tel"/"phone"/... at least 7 (a local number).
PHONE_MIN_DIGITS = 8
PHONE_NATIONAL_MIN_DIGITS = 9
PHONE_KEYWORD_MIN_DIGITS = 7
PHONE_MAX_DIGITS = 15
# How far before a dotted number a version or section word is looked for ("version 1.2.3.4", "§ 1.2.3.4").
PII_CONTEXT_CHARS = 24
# The validator's word count among a record's signals (its tokenizer, recorded at acceptance): the `words` column.
WORDS_SIGNAL = "gopher_min_words"
# The card's chart (hub/chart.py): 10 x 3.5 inches at 100 dpi is 1000 x 350 pixels, readable on the Hub's page.
CHART_INCHES = (10.0, 3.5)
CHART_DPI = 100
