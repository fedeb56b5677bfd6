"""Prometheus metrics of one validator (its own registry, so several validators can live in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class ValidatorMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.pulled = Counter("glean_validator_records_pulled", "Records received from miners", registry=r)
        self.accepted = Counter("glean_validator_records_accepted", "Records accepted into the store", ["domain"],
                                registry=r)
        self.rejected = Counter("glean_validator_records_rejected", "Records (or whole answers) rejected",
                                ["reason"], registry=r)
        self.verifications = Counter("glean_validator_verifications", "Re-fetch checks by outcome", ["outcome"],
                                     registry=r)
        self.miner_failures = Counter("glean_validator_miner_failures", "Miner steps refused whole", ["reason"],
                                      registry=r)
        self.step_seconds = Histogram("glean_validator_step_seconds", "Wall time of one validator step",
                                      buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300), registry=r)
        self.weights_set = Counter("glean_validator_weights_set", "Weight-setting attempts by result", ["result"],
                                   registry=r)
        self.steps = Counter("glean_validator_steps", "Steps completed", registry=r)
        self.accepted_total = Gauge("glean_validator_accepted_total", "Records in the accepted store", registry=r)
        self.pending = Gauge("glean_validator_pending_batches", "Batches waiting for verification", registry=r)
        self.miner_score = Gauge("glean_validator_miner_score", "Score (EMA) per miner uid", ["uid"], registry=r)
        self.miner_credibility = Gauge("glean_validator_miner_credibility", "Credibility per miner uid", ["uid"],
                                       registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)
