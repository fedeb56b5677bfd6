"""Hostile miners as real processes on loopback: `python -m tests.adversarial.hostile --kind KIND ...`.

Two families, each serving the real /v1 protocol to the real validator:

- **data cheats** run glean's own miner (`miner.app.build_miner`: the store, the signed API, the validator gate) with a
  twisted data source instead of a crawl: a feeder task that watches another miner's store (or the validator's
  accepted table) and writes what the cheat wants to serve into its own store;
- **protocol cheats** answer with a small HTTP server of their own (bombs, endless bodies, slowloris, malformed JSON,
  a lying index, replayed cursors), reusing the scripted behaviours of `tests/validator/servers.py`
  (`protocol_cheats.py`).

The evidence cheats (padder, spinner, self-publisher, freshness liar, title stuffer, disguised copier) are data
cheats whose twists live in `cheats.py`.

Every process writes `--info` (JSON: kind, hotkey, port, pid) once it serves, and announces its axon on the chain
itself, like a real miner. The test registers the hotkeys first (the wallets are dev keys derived from `--name`, as
in `tests/validator/harness.dev_wallet`, so the test and the process derive the same keys without files).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import signal
import sqlite3
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tests.adversarial.cheats import EVIDENCE_KINDS, Twister, published_records

log = logging.getLogger("hostile")

DATA_KINDS = ("fabricator", "stale-copier", "live-copier", "relabeler", "near-dup", "keyword-stuffer",
              "low-quality", "sybil", *EVIDENCE_KINDS)
ACCEPTED_COPIERS = ("stale-copier", "disguised-copier")  # copy the validator's accepted table, not a miner's store
PROTOCOL_KINDS = ("oversized", "endless", "slowloris", "malformed-json", "index-liar", "cursor-replayer")
KINDS = DATA_KINDS + PROTOCOL_KINDS

POLL_SECONDS = 0.25  # how often a feeder looks for new records in the store it copies
USER_AGENT = "hostile-miner/1.0"  # never the validator's (the sample web's fault rules match the validator's)
NEAR_DUP_EVERY = 100  # the near-dup spammer replaces one word in this many (word 5-gram Jaccard ~0.9)
STUFF_TERM = "python"  # a relevance keyword of every sample-web domain
STUFF_EVERY = 6  # one stuffed term per this many words (~14% of the text: the stuffing rule's limit is 8%)


def dev_wallet(name: str) -> SimpleNamespace:
    """The same in-memory dev keys as `tests.validator.harness.dev_wallet` (kept here: that module imports the whole
    validator, which a hostile process has no use for)."""
    from bittensor.keyfiles import Keypair

    cold, hot = Keypair.create_from_uri(f"//{name}"), Keypair.create_from_uri(f"//{name}//hot")
    return SimpleNamespace(coldkey=cold, coldkeypub=Keypair(ss58_address=cold.ss58_address), hotkey=hot)


# --- where a cheat's material comes from ------------------------------------------------------------------------

class SourceStore:
    """Another miner's SQLite store, read as it grows: what a leak of its data would give a copier."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self._store = None

    def after(self, seq: int) -> list[tuple[int, Any]]:
        """(seq, Record) written after `seq`."""
        from miner.store import Store
        from schemas.errors import StorageError
        from storage import make_engine

        if self._store is None:
            if not self.db.exists():
                return []
            try:  # never migrate someone else's store: read it once its own miner has created it
                self._store = Store(make_engine(f"sqlite:///{self.db}"))
            except StorageError:
                return []
        return list(self._store.iter_records(seq))


def accepted_records(db: Path, after: int, *, older_than: float, exclude: str) -> list[tuple[int, Any]]:
    """(accepted_id, Record) the validator accepted from other miners at least `older_than` seconds ago."""
    from schemas.record import Record

    if not db.exists():
        return []
    cutoff = datetime.fromtimestamp(time.time() - older_than, UTC).replace(tzinfo=None).isoformat(sep=" ")
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            rows = conn.execute(
                "SELECT accepted_id, uri, source, domain, title, text, content_hash, fetched_at, published_at, lang,"
                " license, labels, meta FROM validator_accepted WHERE accepted_id > ? AND accepted_at <= ?"
                " AND miner_hotkey != ? ORDER BY accepted_id LIMIT 500", (after, cutoff, exclude)).fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:  # the validator is busy, killed or migrating: try again on the next poll
        log.info("accepted table not readable yet: %s", exc)
        return []
    out = []
    for row in rows:
        fields = dict(zip(("uri", "source", "domain", "title", "text", "content_hash", "fetched_at", "published_at",
                           "lang", "license", "labels", "meta"), row[1:], strict=True))
        for key in ("fetched_at", "published_at"):
            if fields[key]:
                fields[key] = datetime.fromisoformat(fields[key]).replace(tzinfo=UTC)
        fields["labels"] = json.loads(fields["labels"] or "[]")
        fields["meta"] = json.loads(fields["meta"] or "{}")
        out.append((row[0], Record.model_validate(fields)))
    return out


def invented_texts() -> Iterator[str]:
    """Real, relevant, never-served prose for the fabricator: docs of standard-library modules the sample web has no
    page for (so the text passes quality, relevance and novelty, and only re-fetching the URL can expose it)."""
    from glean.sampleweb.corpus import STDLIB_MODULES, stdlib_article

    for name in FABRICATED_FROM:
        if name in STDLIB_MODULES:
            continue
        article = stdlib_article(name)
        if article is not None and article.words >= 150:
            yield article.plain_text()


FABRICATED_FROM = ("shutil", "subprocess", "tempfile", "threading", "sqlite3", "selectors", "socketserver",
                   "hashlib", "codeop", "symtable", "runpy", "pkgutil", "tracemalloc", "pdb", "cProfile", "signal",
                   "stat", "locale", "platform", "sysconfig", "compileall", "py_compile", "filecmp", "bdb",
                   "asyncio.locks", "asyncio.queues", "multiprocessing.pool", "concurrent.futures.thread")


# --- the twists: what each data cheat serves for one record of its source -----------------------------------------

def _twin(record: Any, **changes: Any) -> Any:
    """`record` rebuilt (canonical URL, normalised text, recomputed hash) with some fields changed."""
    from schemas.record import Record, utcnow

    fields = {"uri": record.uri, "text": record.text, "source": record.source, "domain": record.domain,
              "title": record.title, "fetched_at": utcnow(), "published_at": record.published_at,
              "lang": record.lang, "license": record.license, "labels": list(record.labels),
              "meta": dict(record.meta)}
    fields.update(changes)
    return Record.build(**fields)


def relabel(record: Any, n: int) -> Any:
    """Same content under another label: a query on the URL, upper-cased text, or re-wrapped whitespace."""
    variant = n % 3
    if variant == 0:
        return _twin(record, uri=f"{record.uri}{'&' if '?' in record.uri else '?'}ref=relabel-{n}")
    if variant == 1:
        return _twin(record, text=record.text.upper())
    return _twin(record, text=record.text.replace(". ", ".\n\n"))


def near_duplicate(record: Any, n: int) -> Any:
    """Small word edits: one word in NEAR_DUP_EVERY replaced (what a spinner does to look new)."""
    rng = random.Random(n)
    words = record.text.split(" ")
    for i in range(rng.randrange(NEAR_DUP_EVERY), len(words), NEAR_DUP_EVERY):
        words[i] = rng.choice(("indeed", "notably", "clearly", "simply", "truly"))
    return _twin(record, text=" ".join(words))


def keyword_stuffed(record: Any, _n: int) -> Any:
    """The page with a search term slipped in after every STUFF_EVERY words, and a title made of it."""
    words = record.text.split(" ")
    stuffed = [f"{w} {STUFF_TERM}" if i % STUFF_EVERY == STUFF_EVERY - 1 else w for i, w in enumerate(words)]
    return _twin(record, text=" ".join(stuffed), title=f"{STUFF_TERM} {STUFF_TERM} {STUFF_TERM} {record.title}")


def padded(record: Any, _n: int) -> Any:
    """Low quality: two sentences of the page among boilerplate, a link list and repeated lines."""
    sentences = ". ".join(record.text.split(". ")[:2])
    boiler = "\n".join(["Home", "About", "Contact", "Share on social media", "Subscribe to our newsletter"] * 6)
    bullets = "\n".join(f"- item {i}" for i in range(40))
    repeated = "\n".join(["Click here to read more about this topic."] * 20)
    return _twin(record, text=f"{sentences}.\n\n{boiler}\n\n{bullets}\n\n{repeated}")


_TWISTS: dict[str, Callable[[Any, int], Any]] = {"relabeler": relabel, "near-dup": near_duplicate,
                                                 "keyword-stuffer": keyword_stuffed, "low-quality": padded}


# --- data cheats: glean's miner serving a twisted store ------------------------------------------------------------

class Feeder:
    """Watches a source, twists what it finds and writes it into the cheat's own store (`add` is the store's)."""

    def __init__(self, args: argparse.Namespace, add: Callable[[list[Any]], Awaitable[Any]]) -> None:
        self.args = args
        self.add = add
        self.seen = 0
        self.served = 0
        self._invented: Iterator[str] | None = None
        self._source = SourceStore(args.source) if args.source is not None else None
        self._twister = Twister(args.kind, args.catalog) if args.kind in EVIDENCE_KINDS else None

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.once()
            except Exception:  # a feeder that dies would only make the cheat look lazy: keep going
                log.exception("feeder step failed kind=%s", self.args.kind)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), POLL_SECONDS)

    async def once(self) -> None:
        kind = self.args.kind
        if kind == "self-publisher":  # serves the pages it posted, once
            found = [] if self.seen else list(enumerate(await published_records(
                self.args.catalog, self.args.pages, "python-language", USER_AGENT), start=1))
        elif kind in ACCEPTED_COPIERS:
            found = await asyncio.to_thread(accepted_records, self.args.accepted, self.seen,
                                            older_than=self.args.lag, exclude=self.args.hotkey)
        else:
            found = await asyncio.to_thread(self._source.after, self.seen)
        if not found:
            return
        self.seen = found[-1][0]
        if self.args.lag and kind not in ACCEPTED_COPIERS:
            await asyncio.sleep(self.args.lag)  # "moments later"
        records = [r for _, record in found for r in await self.twist(record)]
        if records:
            await self.add(records)
            self.served += len(records)
            log.info("feeder kind=%s added=%d served=%d", kind, len(records), self.served)

    async def twist(self, record: Any) -> list[Any]:
        kind = self.args.kind
        n = self.served + self.seen
        if kind == "self-publisher":
            return [record]
        if self._twister is not None:
            return self._twister(record)
        if kind == "stale-copier":
            found = _twin(record)
        elif kind in ("live-copier", "sybil"):
            found = await self.refetch(record)
        elif kind == "fabricator":
            found = self.fabricate(record)
        else:
            found = _TWISTS[kind](record, n)
        return [] if found is None else [found]

    async def refetch(self, record: Any) -> Any | None:
        """The same URL scraped again with glean's own code, moments after the miner it copies."""
        from scrapers import fetch_one, source_for

        spec = self.args.catalog.get(record.domain)
        source = source_for(spec, record)
        if source is None:
            return None
        outcome = await fetch_one(spec, source, record.uri, timeout=10, user_agent=USER_AGENT, allow_private=True)
        return outcome.record if outcome.status == "content" else None

    def fabricate(self, record: Any) -> Any | None:
        """Another text under a real URL (and its real title)."""
        if self._invented is None:
            self._invented = invented_texts()
        text = next(self._invented, None)
        return None if text is None else _twin(record, text=text)


async def run_data_cheat(args: argparse.Namespace, stop: asyncio.Event) -> None:
    from chain import LocalChain
    from miner.app import bind_socket, build_miner
    from schemas.config import GleanConfig
    from schemas.domain import DomainCatalog

    args.catalog = DomainCatalog.load([args.domains])
    config = GleanConfig(data_dir=args.data_dir, domain_dirs=[args.domains],
                         chain={"kind": "local", "local_path": args.chain},
                         miner={"host": "127.0.0.1", "requests_per_minute": 6000, "request_burst": 500})
    chain = LocalChain(args.chain)
    wallet = dev_wallet(args.name)
    args.hotkey = wallet.hotkey.ss58_address
    miner = build_miner(config, wallet=wallet, chain=chain, catalog=args.catalog)  # no domains: serve only
    sock = bind_socket("127.0.0.1", 0)
    feeder = Feeder(args, miner.store.add)
    feeding = asyncio.create_task(feeder.run(stop))
    serving = asyncio.create_task(miner.run(stop, sock=sock))
    await _announced(chain, args, sock.getsockname()[1], serving)
    try:
        await serving
    finally:
        stop.set()
        await asyncio.gather(feeding, return_exceptions=True)
        await chain.close()


async def _announced(chain: Any, args: argparse.Namespace, port: int, serving: asyncio.Task | None = None) -> None:
    """Wait until the chain shows this axon (the miner announces itself), then write the info file."""
    for _ in range(600):
        if serving is not None and serving.done():
            serving.result()
        neuron = (await chain.state()).by_hotkey(args.hotkey)
        if neuron is not None and neuron.axon == f"127.0.0.1:{port}":
            break
        await asyncio.sleep(0.05)
    write_info(args, port)


def write_info(args: argparse.Namespace, port: int) -> None:
    info = {"kind": args.kind, "name": args.name, "hotkey": args.hotkey, "port": port, "pid": os.getpid()}
    tmp = args.info.with_suffix(".tmp")
    tmp.write_text(json.dumps(info))
    tmp.replace(args.info)
    log.info("serving kind=%s hotkey=%s port=%d", args.kind, args.hotkey, port)


# --- entry point -----------------------------------------------------------------------------------------------------

def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.adversarial.hostile", description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=KINDS, required=True)
    parser.add_argument("--name", required=True, help="dev wallet name (keys derived as //NAME//hot)")
    parser.add_argument("--chain", type=Path, required=True, help="the LocalChain file")
    parser.add_argument("--domains", type=Path, required=True, help="domain specs folder (the validator's)")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--info", type=Path, required=True, help="JSON written once serving: hotkey, port, pid")
    parser.add_argument("--source", type=Path, default=None, help="SQLite store of the miner this cheat copies")
    parser.add_argument("--accepted", type=Path, default=None, help="the validator's SQLite database (read only)")
    parser.add_argument("--lag", type=float, default=0.0, help="seconds behind its source")
    parser.add_argument("--pages", type=Path, default=None, help="JSON of the wiki pages a self-publisher posted")
    args = parser.parse_args(argv)
    needs_source = args.kind not in (*ACCEPTED_COPIERS, "self-publisher", *PROTOCOL_KINDS)
    if needs_source and args.source is None:
        parser.error(f"--kind {args.kind} needs --source")
    if args.kind == "self-publisher" and args.pages is None:
        parser.error("--kind self-publisher needs --pages (cheats.publish_pages writes it)")
    if args.kind in (*ACCEPTED_COPIERS, "cursor-replayer") and args.accepted is None:
        parser.error(f"--kind {args.kind} needs --accepted")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {args.kind} %(levelname)s %(name)s %(message)s")
    args.data_dir.mkdir(parents=True, exist_ok=True)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        if args.kind in DATA_KINDS:
            await run_data_cheat(args, stop)
        else:
            from tests.adversarial.protocol_cheats import run_protocol_cheat

            await run_protocol_cheat(args, stop)

    asyncio.run(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["DATA_KINDS", "KINDS", "PROTOCOL_KINDS", "dev_wallet", "main"]
