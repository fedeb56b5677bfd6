"""Every tunable of `glean local up` in one place, with the reason for its value.

The defaults are chosen so that `make demo` (3 miners, 1 validator, offline) finishes on a 2-core machine in a few
minutes and still shows a meaningful leaderboard: every miner's data crawled, pulled, verified and paid over several
epochs after the validator first set weights.
"""

from __future__ import annotations

# --- the network's shape ----------------------------------------------------------------------------------------
DEFAULT_MINERS = 3
DEFAULT_VALIDATORS = 1
# Epochs to run once the validators are up (the epochs that go by while the miners start and crawl do not count):
# the validator judges the first crawl in its first step and sets weights right away, so every one of these epochs
# pays the miners by their weights.
DEFAULT_EPOCHS = 6
# Blocks per epoch and seconds per block of the local chain: an epoch every 12 s. A tempo of 12 blocks leaves the
# validator (weights at most once per tempo, rate limit 10 blocks) time for one or two steps per epoch.
DEFAULT_TEMPO = 12
DEFAULT_BLOCK_TIME = 1.0

# --- chain set-up -----------------------------------------------------------------------------------------------
# Stake given to each validator hotkey (miners get none): any positive stake earns a permit on the local chain; the
# first validator gets a little more so that its view leads when several validators disagree.
VALIDATOR_STAKE = 1_000.0
VALIDATOR_STAKE_STEP = 100.0
NETUID = 1

# --- the roles --------------------------------------------------------------------------------------------------
# The validator's step budget and cadence: 60% of it for pulling, which includes judging quality and relevance of
# every record on one core (the GIL): the first step takes every miner's whole first crawl (~400 records, ~6 s of CPU
# on a busy 2-core machine), and a miner whose pull misses the deadline is judged a step later with a different
# credibility, which would skew the emission split. Later steps find nothing new and take well under a second; the
# weights are set after the first step and then once per tempo.
VALIDATOR_STEP_SECONDS = 20.0
# Re-crawl cadence of the miners. The offline sample web publishes, changes and removes pages all the time (below),
# and a crawl after the first asks only for what changed (miner/crawl_state.py): a few pages and a process start, so
# a crawl per source every 10 s keeps the validator fed each 12-block epoch without starving it of CPU on 2 cores.
MINER_CADENCE_SECONDS = 10.0
# The sample web's schedule (glean/sampleweb/schedule.py), started when the validators start: one event every this
# many seconds, ~3/4 of them new pages, so each 12 s epoch sees about 10 new pages (at 1.2 s an epoch saw 2-9: too
# few to show every epoch's pages accepted); the reserve of ~65 pages lasts the 6 epochs.
SAMPLEWEB_EVENT_SECONDS = 0.9
SAMPLEWEB_SCHEDULE_SEED = 0
# At the end of an offline run the schedule stops and the run waits until every miner finished this many crawls of
# each source (the first may have begun before the stop) and the validator a step after them, so the pages of the
# last epoch are crawled and judged like the others (glean/local/drain.py); each wait is bounded.
DRAIN_CRAWLS = 2
DRAIN_TIMEOUT_SECONDS = 45.0
# Pages per domain per crawl round, split over the domain's sources: more than the sample web holds per area.
MINER_PAGE_BUDGET = 600
# Miner store cap for the demo (the product default is 20 GiB).
MINER_MAX_STORE_BYTES = 1024**3

# --- what each miner crawls (cycled for more miners) --------------------------------------------------------------
# Pairs of (domain, source ids); None takes every source of the domain. Offline, every miner pins each of the three
# demo domains, so the domain it takes from the network's list on top (MINER_NETWORK_DOMAINS) is the requested one,
# never another demo domain with every source of its spec. Offline, each miner crawls a different slice
# of the sample web: overlap (miner 1 and miner 3 both deliver the language reference, miner 1 through the site and
# miner 3 through the wiki API; miner 1 and miner 2 the standard library, through the site and through the feed and
# StackExchange API; miner 2 also the notes, a site area without a licence that a release publishes as metadata
# only), so near-duplicates across miners and sources happen as on the real web, and quality
# differences (the digest pages of miner 3 are built to fail the quality rules). Two crawls per miner keep the first
# crawl round short on 2 cores: each crawl is a Scrapy process with its own extraction workers.
Mix = tuple[tuple[str, tuple[str, ...] | None], ...]
OFFLINE_MIXES: tuple[Mix, ...] = (
    (("python-language", ("web",)), ("python-stdlib", ("web",)), ("python-digest", ("feed",))),
    (("python-stdlib", ("notes", "feed", "stackexchange")), ("python-language", ("feed",)),
     ("python-digest", ("feed",))),
    (("python-digest", ("web",)), ("python-language", ("wikipedia",)), ("python-stdlib", ("notes",))),
)
# Online (the real web) mixes over the built-in domains, every source, with overlap on python-ecosystem.
ONLINE_MIXES: tuple[Mix, ...] = (
    (("python-ecosystem", None), ("open-knowledge", None)),
    (("ml-research", None),),
    (("world-news", None), ("python-ecosystem", None)),
)

# --- process control ----------------------------------------------------------------------------------------------
# Seconds a role gets after SIGTERM to shut down cleanly (the miner lets its write batch commit, the validator saves
# its novelty snapshot) before SIGKILL.
STOP_TIMEOUT_SECONDS = 20.0
# Seconds a process may take to start serving (imports on a busy 2-core machine take several seconds).
START_TIMEOUT_SECONDS = 90.0
# How often the live view polls the chain and the roles' health endpoints, and how long one poll may take.
PROGRESS_INTERVAL_SECONDS = 1.0
HEALTH_TIMEOUT_SECONDS = 2.0
# A run that has not reached its epochs after this many times the expected time stops anyway (a stuck clock or a
# dead process must not hang `make demo` or CI).
RUN_TIMEOUT_FACTOR = 3.0
# The validators start once every miner has crawled each of its sources once (the sample web takes seconds); on the
# real web a crawl can take much longer, so they start anyway after this many seconds.
FIRST_CRAWL_MAX_SECONDS = 120.0

# --- the dataset request (offline; glean/local/request_flow.py) ----------------------------------------------------
# The requester's wallet (created beside the roles'; not registered: the validators' policy lists its hotkey).
REQUESTER_WALLET = "requester"
# Submitted once this many epochs have passed with the validators up, so the network runs on its built-in list first.
REQUEST_AFTER_EPOCHS = 1
# The weight the policy adopts with: the same as the demo domains' own desirability (1.0), so a requested record is
# worth what a language or standard-library record is worth.
REQUEST_WEIGHT = 1.0
# Records asked for: more than the built-ins area holds, so the request stays adopted through the run (not done).
REQUEST_TARGET_RECORDS = 100
REQUEST_NOTE = "glean local up: the built-in types and functions, for a demo"
# Miners follow the network's list on top of their pins: one domain from it (the requested one, since every demo
# domain is pinned), looked for every 2 s so a new epoch's list is read within a sixth of an epoch.
MINER_NETWORK_DOMAINS = 1
MINER_NETWORK_REFRESH_SECONDS = 2.0
