"""Every tunable of the validator that is not a configuration field, with why it has its value."""

from __future__ import annotations

# --- Talking to miners -------------------------------------------------------------------------------------------
# Connect/read/write/pool timeouts of one HTTP exchange; a whole request is also bounded by REQUEST_SECONDS because a
# slowloris can keep each read under the read timeout forever.
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 10.0
REQUEST_SECONDS = 20.0
# Application-level retries (each attempt is signed again, so the nonce is fresh) for connection errors, 429 and 5xx.
REQUEST_ATTEMPTS = 3
RETRY_BACKOFF_SECONDS = 0.25
# A miner's Retry-After (429/503) is honoured up to this long, and only while the miner's deadline allows.
MAX_RETRY_AFTER_SECONDS = 10.0
# The index is O(buckets); a bigger answer is hostile.
MAX_INDEX_BYTES = 8 * 1024 * 1024
# Error bodies are read only for the log line.
MAX_ERROR_BYTES = 4 * 1024
# Encoded (wire) bytes may not exceed the decoded cap either: gzip never grows honest JSON.
STREAM_CHUNK = 64 * 1024
# Records and bytes asked for per page (the protocol allows up to 2,000 records and 16 MiB). JSON is parsed whole,
# so the byte cap also bounds what a hostile page can make the parser allocate (~10x its size in objects).
PAGE_RECORDS = 1_000
PAGE_MAX_BYTES = 4 * 1024 * 1024

# --- Ladder workers ---------------------------------------------------------------------------------------------
# How often a ladder worker process checks that the validator is still alive (a SIGKILLed parent cannot stop it).
WORKER_PARENT_CHECK_SECONDS = 1.0

# --- Step ---------------------------------------------------------------------------------------------------------
# Share of the step's time budget for pulling (the rest is for novelty, verification and commits).
PULL_SHARE = 0.6
# Verification gets this share; what remains after it is the commit margin.
VERIFY_SHARE = 0.3
# Least time a step waits before starting the next one, so an empty network does not spin.
MIN_STEP_PAUSE = 0.2
# Wait at most this many block times for a block after the pulls, whose hash seeds the verification sample.
SEED_BLOCK_WAIT_BLOCKS = 2.0

# --- Verification -----------------------------------------------------------------------------------------------
# Word-shingle Jaccard between the delivered and the re-fetched text: at or above PASS the page is the same page
# (small edits since the scrape), below FAIL it is different text (fabricated); in between the page changed too much
# to judge, which is "unknown" and never counts against the miner.
VERIFY_SHINGLE = 5
VERIFY_PASS_SIMILARITY = 0.8   # scoring.similarity; = the near-duplicate Jaccard; 5-7% spins measure 0.46-0.79
VERIFY_FAIL_SIMILARITY = 0.25  # unrelated pages measure <= 0.03; docs/scoring.md "Verification bands"
FETCH_TIMEOUT = 10.0
FETCH_MAX_BYTES = 5 * 1024 * 1024
# Re-fetches in flight at once over all miners of a step.
VERIFY_CONCURRENCY = 8
# A batch whose sample was all "unknown" is held and retried; after this many attempts or this age it expires
# (its records are dropped as "unverified", the miner's credibility is untouched).
PENDING_RETRY_SECONDS = 300.0
PENDING_MAX_ATTEMPTS = 12
PENDING_MAX_AGE_SECONDS = 24 * 3600.0
# Pending batches retried per step, oldest first, within what is left of the step but at least this long (a step
# that overran its budget still gives held records a chance).
PENDING_PER_STEP = 8
PENDING_MIN_SECONDS = 3.0

# --- State --------------------------------------------------------------------------------------------------------
# Save the novelty snapshot every this many steps (and on a clean shutdown); the DB stays the truth.
SNAPSHOT_EVERY_STEPS = 10
# Rows per batch when rebuilding the novelty index or catching it up from the database.
REBUILD_BATCH = 5_000

# --- Weights ------------------------------------------------------------------------------------------------------
# After a chain error other than a rate limit, try again after this many blocks.
WEIGHTS_RETRY_BLOCKS = 5

# --- Pay for evidence (the rule and its constants: scoring/evidence.py) -------------------------------------------
# Re-fetches per step of a source kind over all miners when the kind declares no `refetch_budget`: a √n sample of
# a 4,000-record batch, and at most one request a second over a minute-long step to one kind's sites.
VERIFY_REFETCH_BUDGET = 64
# A batch whose sample is more than this share "unknown" (our own trouble) is held, not judged on the rest: a few
# checks lost to timeouts are ignored, but unknowns never carry a batch (records a miner could make look like our
# trouble would otherwise be paid at the bound of the others).
VERIFY_MAX_UNKNOWN_SHARE = 0.2
# A miner's batch waits at most this many steps in a row for re-fetches of its new versions of accepted pages (the
# kind's budget had no room, or the validator's own trouble); then its unconfirmed versions are rejected and the
# rest goes on, so a miner with more versions than the budget is not stuck. A version re-fetch that passed while
# its batch waited is remembered this many steps, so the next attempt need not fetch it again (one that found the page's
# exact text; a similar one waits a step and is fetched again: validator/versions.py `_first_similar`).
VERSION_MAX_WAITS = 3
VERSION_CONFIRMED_STEPS = 20
# Contested records (versions, rivals) may take this share of a kind's re-fetch budget before the random sample (the
# rest goes to the random sample, and what it leaves to contested records again). Without it a busy step's random
# samples take the whole budget and an honest re-crawl of an edited page would never be confirmed; with it a miner
# delivering invented versions can take at most a max-min fair part of this share (and its versions are refused).
VERSION_BUDGET_SHARE = 0.5
# A record that shares its content (exactly or nearly) with a record of another miner's batch held in the last this
# many steps waits for it (its batch comes again): the held miner delivered it first, and its batch waits only for
# the validator's own trouble (a source's outage), its first retry in the next step. A copier or spinner of a held
# batch's pages was paid and kept as the page's row before. Bounded, so a batch held for long holds nobody else.
HELD_TIE_STEPS = 3
# A content's earliest deliverer keeps it while its delivery is decided: a record whose content another miner
# delivered in an earlier step, in a batch that waited for evidence or was held, waits (its batch comes again, a held
# batch is retried later) until that delivery is decided, at most this many steps after it. Before, a batch that
# waited left no trace, and a copier whose batch was verified first took the content (docs/adversarial.md).
FIRST_DELIVERY_STEPS = 12
# A held batch's new versions of accepted pages that its sample did not cover are re-fetched when the batch resolves,
# at most this many a batch (the rest are rejected `unconfirmed_version`: the batch waited already). Without it an
# honest re-crawl of two edited pages held by a source's outage lost the one its sample did not take.
HELD_VERSION_REFETCHES = 16
# An edit of an accepted page (its new text a near duplicate of the old) is worth at least this share of a new
# page's value: the share of its text that is new, measured by word shingles (validator/versions.py).
EDIT_MIN_NOVELTY = 0.02
# Edits of accepted pages judged per miner and step (each costs a re-fetch from the version share of the budget):
# a spammer delivering dozens of near copies under the pages' own URIs took the budget from honest versions in the
# adversarial run; the rest of its near copies stay `duplicate:near`.
EDITS_PER_MINER_STEP = 3
# Claims of a sampled record against the validator's own parse of the page. Titles agree when equal after NFKC,
# case folding and whitespace, or when difflib's ratio is at least this: a one-word edit of a live 8-word headline
# (0.92) passes, three domain keywords appended to it (0.80) do not.
VERIFY_TITLE_SIMILARITY = 0.85
# A published date within this many seconds of the page's own (both parsed by the same code, so they differ only
# when the page's date moved, e.g. a time zone or an "updated" stamp): a day's lie multiplies the freshness of a
# 3-day half-life by at most 2^(1/3) = 1.26, and an archive page claimed as published now buys nothing.
VERIFY_PUBLISHED_TOLERANCE = 24 * 3600.0

# --- Dataset requests and the public listener (DESIGN §11; docs/requests.md) ------------------------------------
# A request's deadline is at most this far ahead (a request without one runs until an operator ends it).
MAX_REQUEST_DEADLINE_DAYS = 365
# Registered domains whose sibling hosts an API source of a request may use (one wiki per language); any other API
# source of a request keeps its kind's own host: an API the requester runs could answer anything.
API_SIBLING_DOMAINS = frozenset({"wikipedia.org", "wiktionary.org", "wikibooks.org", "wikisource.org",
                                 "wikiversity.org", "wikivoyage.org", "wikinews.org", "wikiquote.org"})
# Requests waiting for a decision; a new one beyond this is refused (the oldest are not dropped for it).
MAX_PENDING_REQUESTS = 200
# Requests one requester hotkey may have waiting at once.
MAX_PENDING_PER_REQUESTER = 5
# Listener rate limits: requests a minute and burst, per signing hotkey and per client address (token buckets).
LISTENER_PER_MINUTE = 30
LISTENER_BURST = 10
# Reads of immutable or small answers (a desirability list by hash, a request's state) per client address: every
# miner and validator reads each validator's list once an epoch, and many may share one address (NAT, local mode).
LISTENER_READS_PER_MINUTE = 600
LISTENER_READS_BURST = 120
# Bodies the listener reads at most (a request's canonical JSON is bounded by schemas.request.MAX_REQUEST_BYTES).
LISTENER_MAX_BODY = 64 * 1024
# Callers whose buckets the listener remembers (the least recently seen are forgotten first).
LISTENER_MAX_CALLERS = 10_000
# The listener re-reads the subnet state (requesters' stake for the policy) and sweeps requests (deadline, target)
# this often.
LISTENER_STATE_REFRESH_SECONDS = 60.0
REQUEST_SWEEP_SECONDS = 30.0
# An operator may name a request by a unique prefix of its id this long or longer.
MIN_ID_PREFIX = 8
# Unverified URIs a miner's feedback lists, newest first (kept per uid, for the hotkey holding it).
FEEDBACK_UNVERIFIED_URIS = 50

# --- The network's desirability (validator/desirability.py) ---------------------------------------------------------
# A scored domain's desirability is weight × Σ desirability of the listed specs, rounded and kept inside the reward's
# range (scoring.reward.record_value takes (0, 10]).
DESIRABILITY_DECIMALS = 4
MIN_DESIRABILITY = 0.0001
MAX_DESIRABILITY = 10.0
