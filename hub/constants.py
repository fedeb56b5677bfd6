"""Every tunable of the hub package in one place, each with the reason for its value."""

from __future__ import annotations

# Rows asked of `fetch_after` per call: big enough to amortise the call, small enough (~20 MB of ~2 KB
# records) to keep memory flat however large the backlog is.
FETCH_PAGE_ROWS = 10_000

# At most this many accepted records go into one release; the rest wait for the next publish. A release
# is one Hub commit, and one commit stays well under the Hub's limits (25k LFS files, a few GB).
MAX_RELEASE_ROWS = 1_000_000

# Parquet row groups: the unit a reader decompresses at once. ~5,000 rows of ~2 KB is ~10 MB of text,
# small enough for streaming readers and the dataset viewer, large enough for good zstd ratios.
ROW_GROUP_ROWS = 5_000
ROW_GROUP_BYTES = 32 * 1024 * 1024

# A shard is closed at whichever comes first; ~100k rows of ~2 KB is ~200 MB raw, ~60-100 MB on disk,
# near the size Hugging Face recommends for parquet files in a dataset repo.
SHARD_ROWS = 100_000
SHARD_BYTES = 256 * 1024 * 1024

# zstd level 3: measured on text, level 1 is barely faster and noticeably larger; 9+ costs 3x the time.
PARQUET_COMPRESSION = "zstd"
PARQUET_COMPRESSION_LEVEL = 3

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
