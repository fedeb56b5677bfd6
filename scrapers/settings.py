"""Every tunable of the scrapers package in one place: politeness defaults, limits, batch sizes, Scrapy settings."""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any


def _glean_version() -> str:
    try:
        return version("glean")
    except PackageNotFoundError:  # running from a source tree without an install
        return "0"


# Identifies us to every site we fetch from; site owners can find and contact the project.
PROJECT_URL = "https://github.com/glean-subnet/glean"
USER_AGENT = f"glean/{_glean_version()} (+{PROJECT_URL})"

# Politeness defaults (a source's params may override delay/concurrency/timeout/retries per source).
DEFAULT_DELAY = 1.0                 # seconds between requests to one host (AutoThrottle never goes below it)
DEFAULT_CONCURRENCY = 2             # simultaneous requests per host
AUTOTHROTTLE_MAX_DELAY = 30.0       # seconds; AutoThrottle backs off up to this on slow or failing hosts
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DEFAULT_TIMEOUT = 30.0              # seconds per request (crawl); fetch_one has its own timeout argument
DEFAULT_RETRIES = 2                 # retries of timeouts, 429 and 5xx before a request counts as failed
CONCURRENT_REQUESTS = 32            # total in-flight requests of one source spider
# Items of one response processed in parallel. Scrapy starts this many asyncio tasks per response; our pipeline
# only appends to a batch, so a handful is plenty (the default of 100 costs ~5 ms of CPU per page).
CONCURRENT_ITEMS = 4
MAX_REDIRECTS = 5

# Pacing (scrapers.pacing): what an API asks of our pace.
DEFAULT_RETRY_AFTER = 5.0           # seconds, when a refusal names no wait (MediaWiki asks at least 5 after maxlag)
MAX_THROTTLE_WAIT = 600.0           # seconds; longest hold one answer can set (Reddit's rate window is 10 minutes)
THROTTLE_RETRIES = 3                # a refused request (429, maxlag, throttle_violation) is asked again this often
REFETCH_MAX_WAIT = 5.0              # seconds a re-fetch waits for a host's hold; longer: unknown, nothing sent
REFETCH_THROTTLE_RETRIES = 1        # a re-fetch has seconds, not minutes: one more ask after the wait, then unknown
OAUTH_TOKEN_MARGIN = 60.0           # seconds before its expiry an OAuth token is renewed (clock skew, slow calls)

# Sizes.
MAX_BYTES = 5 * 1024 * 1024         # largest response body we download (crawl and fetch_one)
MAX_SITEMAP_URLS = 50_000           # page URLs taken from all sitemaps of one source

# Links the web spider does not follow: their paths end in an extension that is never an HTML page.
SKIP_EXTENSIONS = frozenset({
    ".7z", ".avi", ".bmp", ".bz2", ".css", ".csv", ".doc", ".docx", ".epub", ".exe", ".gif", ".gz", ".ico",
    ".jpeg", ".jpg", ".js", ".json", ".m4a", ".mov", ".mp3", ".mp4", ".ogg", ".pdf", ".png", ".ppt", ".pptx",
    ".rar", ".rss", ".svg", ".tar", ".tgz", ".tif", ".tiff", ".wav", ".webm", ".webp", ".woff", ".woff2", ".xls",
    ".xlsx", ".xml", ".zip",
})

# Records.
MIN_RECORD_WORDS = 20               # shorter texts are navigation or stubs, never records
TRAFILATURA_MIN_EXTRACTED_SIZE = 250  # characters; below it trafilatura retries with recall settings

# Streaming from the crawl process to the caller.
BATCH_RECORDS = 100                 # records per sink call at most
BATCH_BYTES = 4 * 1024 * 1024       # text bytes per sink call at most
BATCH_SECONDS = 1.0                 # a partial batch is flushed after this long
CHILD_LINE_LIMIT = 64 * 1024 * 1024  # largest protocol line the parent accepts from the crawl process
CHILD_STOP_GRACE = 5.0              # seconds between SIGTERM and SIGKILL when a crawl is cancelled


def default_parse_workers() -> int:
    """Processes that run extraction beside the Scrapy engine: one per core, at most four."""
    return max(1, min(4, os.cpu_count() or 1))


# Scrapy components: theirs we turn off, ours in the order they must run.
EXTENSIONS_OFF = {
    "scrapy.extensions.remote_control.RemoteControl": None,  # opens a port; never wanted here
    "scrapy.extensions.memusage.MemoryUsage": None,
}
DOWNLOADER_MIDDLEWARES = {
    # Not needed, or replaced by ours: the allow-list does the offsite check (with ports), no auth, no
    # proxies (the reactorless download handler refuses them), no <meta refresh> redirects.
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "scrapy.downloadermiddlewares.httpauth.HttpAuthMiddleware": None,
    "scrapy.downloadermiddlewares.httpproxy.HttpProxyMiddleware": None,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "scrapers.middlewares.AllowListMiddleware": 60,     # before robots: never ask an off-list host
    "scrapers.middlewares.RobotsMiddleware": 100,
    "scrapers.middlewares.BudgetMiddleware": 120,       # after robots: forbidden pages cost nothing
    # Answers reach these before Scrapy's RetryMiddleware (550): a throttled or 401 answer is asked again by them,
    # after the wait the source asked for / with a new token. A request waits for its host's pace, then gets its token.
    "scrapers.middlewares.PacingMiddleware": 565,
    "scrapers.middlewares.OAuthMiddleware": 575,
}
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.referer.RefererMiddleware": None,  # sites need not learn our crawl path
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,      # the web spider counts depth itself
}


def _http_cache(http_cache_dir: Path) -> dict[str, Any]:
    return {
        "HTTPCACHE_ENABLED": True,
        "HTTPCACHE_DIR": str(http_cache_dir),
        "HTTPCACHE_POLICY": "scrapy.extensions.httpcache.RFC2616Policy",  # honours Cache-Control
        "HTTPCACHE_IGNORE_HTTP_CODES": [429, 500, 502, 503, 504],
    }


def scrapy_settings(
    *,
    user_agent: str,
    delay: float,
    concurrency: int,
    autothrottle: bool,
    timeout: float,
    retries: int,
    max_bytes: int,
    http_cache_dir: Path | None,
) -> dict[str, Any]:
    """Scrapy settings of one source crawler: polite by default, reactorless, our middlewares and pipeline."""
    settings: dict[str, Any] = {
        "TWISTED_REACTOR_ENABLED": False,
        "USER_AGENT": user_agent,
        "ROBOTSTXT_OBEY": True,  # API requests opt out one by one (SourceSpider.api_request)
        "DOWNLOAD_DELAY": delay,
        "CONCURRENT_REQUESTS": CONCURRENT_REQUESTS,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "CONCURRENT_ITEMS": CONCURRENT_ITEMS,
        "AUTOTHROTTLE_ENABLED": autothrottle,
        "AUTOTHROTTLE_START_DELAY": max(delay, 0.0),
        "AUTOTHROTTLE_MAX_DELAY": max(AUTOTHROTTLE_MAX_DELAY, delay),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": AUTOTHROTTLE_TARGET_CONCURRENCY,
        "DOWNLOAD_TIMEOUT": timeout,
        "DOWNLOAD_MAXSIZE": max_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "RETRY_TIMES": retries,
        "RETRY_HTTP_CODES": [429, 500, 502, 503, 504, 522, 524, 408],
        "REDIRECT_MAX_TIMES": MAX_REDIRECTS,
        "COOKIES_ENABLED": False,
        "DEPTH_LIMIT": 0,  # the web spider tracks its own depth (sitemap pages start at 0)
        "TELNETCONSOLE_ENABLED": False,
        "EXTENSIONS": dict(EXTENSIONS_OFF),
        "DOWNLOADER_MIDDLEWARES": dict(DOWNLOADER_MIDDLEWARES),
        "SPIDER_MIDDLEWARES": dict(SPIDER_MIDDLEWARES),
        "ITEM_PIPELINES": {"scrapers.pipeline.RecordPipeline": 100},
    }
    if http_cache_dir is not None:
        settings.update(_http_cache(http_cache_dir))
    return settings
