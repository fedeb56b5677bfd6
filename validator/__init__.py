"""The validator: pull new records from miners, run the validation ladder, verify samples by re-fetch, accept,
score, set weights and publish. Modules (nothing is imported here, so `glean --help` stays light):

- `validator.service.Validator` — the running validator (`open`, `step`, `run`, `publish`, `close`);
- `validator.step.StepRunner` — one step: choose miners, pull, ladder, novelty, verification, per-miner commits;
- `validator.client.MinerClient` — signed, retried, bounded HTTP to miners (`MinerError.reason` labels refusals);
- `validator.ladder` — the cheap rungs (envelope, schema, source, licence, quality, relevance), `Ladder` workers;
- `validator.verification.Verifier` — seeded samples re-fetched with `scrapers.fetch_one`, pass / fail / unknown;
- `validator.corpus.Corpus` — the novelty index kept in step with the database (snapshot, catch-up, rebuild);
- `validator.store.ValidatorStore` — accepted records, rejections, miners, cursors, pending batches
  (`accepted_after(after_id, limit)` is what `hub.Publisher` reads);
- `validator.weights.WeightSetter`, `validator.selection.Round`, `validator.metrics`, `validator.web`.
"""
