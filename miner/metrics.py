"""Prometheus metrics of one miner (own registry, so several miners can live in one test process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# Requests from callers that are not permitted validators share one label value: anyone can make hotkeys,
# and a label per stranger would let them grow the metrics without bound.
OTHER_CALLER = "other"

CONTENT_TYPE = CONTENT_TYPE_LATEST


class MinerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.records_stored = Gauge("glean_miner_records_stored", "Records held in the store now.", registry=r)
        self.bytes_stored = Gauge("glean_miner_bytes_stored", "UTF-8 bytes of text held in the store now.",
                                  registry=r)
        self.newest_seq = Gauge("glean_miner_newest_seq", "The newest sequence number assigned.", registry=r)
        self.records_ingested = Counter("glean_miner_records_ingested", "New records written to the store.",
                                        ["domain"], registry=r)
        self.records_duplicate = Counter("glean_miner_records_duplicate",
                                         "Crawled records already stored (same uri and content).", registry=r)
        self.records_pruned = Counter("glean_miner_records_pruned", "Records removed by the cap or retention.",
                                      registry=r)
        self.crawl_pages = Counter("glean_miner_crawl_pages", "Pages fetched by crawls.", ["domain", "source"],
                                   registry=r)
        self.crawl_errors = Counter("glean_miner_crawl_errors", "Crawl errors by reason.",
                                    ["domain", "source", "reason"], registry=r)
        self.source_failures = Counter("glean_miner_source_failures", "Crawls of a source that failed as a whole.",
                                       ["domain", "source"], registry=r)
        self.source_backoff = Gauge("glean_miner_source_backoff_seconds",
                                    "Seconds a failing source waits before its next crawl (0 when healthy).",
                                    ["domain", "source"], registry=r)
        self.requests = Counter("glean_miner_requests", "API requests by caller and status.",
                                ["route", "caller", "status"], registry=r)

    def bind_store(self, store) -> None:
        """Read the store's totals at scrape time (they live in memory: O(1))."""
        self.records_stored.set_function(lambda: store.total_count)
        self.bytes_stored.set_function(lambda: store.total_bytes)
        self.newest_seq.set_function(lambda: store.newest_seq)

    def render(self) -> bytes:
        return generate_latest(self.registry)
