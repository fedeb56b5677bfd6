"""The miner: crawl on a schedule, store at scale, keep an index, serve validators over signed HTTP.

Entry points:
- `miner.app.build_miner(config, wallet=, chain=)` -> `Miner`; `await miner.run(stop_event)` (`glean miner run`).
- `miner.store.Store.open(url, max_bytes=, retention_days=)`: the record store (`add`, `page`, `lookup`, `index`,
  `recount`, `prune`); `miner.store.AsyncStore` runs it off the event loop.
- `miner.api.build_app(...)`: the FastAPI app alone.
Modules import their heavy dependencies (FastAPI, uvicorn, Scrapy through `scrapers`) only when used.
"""
