"""The simulated miners of bench_scale: the pages they name (served on loopback by a page process), the records they
hold (a mix per profile: honest, copier, padder) built as the web kind's parser reads those pages, and the processes
that serve them as real signed miner APIs (each miner its own store and uvicorn server).
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import random
import re
import sys
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from benchmarks.bench_validator import dev_wallet, document, domain_spec

GONE_BASE = 10**9          # document numbers behind invented URLs (never served)
# Share of each kind of record per miner profile; uid % 8 picks the profile (6 honest, 1 copier, 1 padder).
MIXES = {
    "honest": {"doc": 0.88, "copy": 0.05, "near": 0.04, "low": 0.03},
    "copier": {"doc": 0.10, "copy": 0.60, "near": 0.30},
    "padder": {"doc": 0.50, "gone": 0.35, "low": 0.15},
}
SPAM_WORDS = ("python", "function", "object", "module", "class", "method", "value", "argument", "return",
              "attribute")
PROFILES = ("honest",) * 6 + ("copier", "padder")

# ---- pages ---------------------------------------------------------------------------------------------------

def variant(kind: str, n: int) -> tuple[str, list[str]] | None:
    """Title and paragraphs of page `kind`/`n`, or None for an invented URL (it answers 404)."""
    if kind == "gone":
        return None
    title, paragraphs = document(n)
    if kind == "near":    # the same page with its closing sentence dropped (Jaccard ~0.9 with the original)
        return title, paragraphs[:-1] + [paragraphs[-1].rsplit(". ", 1)[0] + "."]
    if kind == "low":     # keyword stuffing: the domain's keywords in random order and a call to click
        rng = random.Random(n)
        return f"{title} (free download)", [" ".join(rng.choices(SPAM_WORDS, k=14)) + " best free download click here"
                                            for _ in range(8)]
    return title, paragraphs


def page_html(kind: str, n: int) -> bytes | None:
    found = variant(kind, n)
    if found is None:
        return None
    title, paragraphs = found
    body = "".join(f"<p>{html.escape(p)}</p>\n" for p in paragraphs)
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"</head><body><article><h1>{html.escape(title)}</h1>\n{body}</article></body></html>").encode()


def serve_pages(port_file: str) -> None:
    """Run in a child process: serve every page on loopback, write the port, serve until stdin closes."""
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            match = re.fullmatch(r"/(doc|near|low|gone)/(\d+)\.html", self.path)
            body = page_html(match.group(1), int(match.group(2))) if match else None
            status = 200 if body is not None or self.path == "/robots.txt" else 404
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8" if body else "text/plain")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    Path(port_file).write_text(str(httpd.server_address[1]))
    sys.stdin.read()
    httpd.shutdown()


# ---- records -------------------------------------------------------------------------------------------------

class RecordMaker:
    """Records as the web kind's parser reads the pages, built from one parsed template (fast, same fields)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.template = self.parsed("doc", 0)
        self.now = datetime.now(UTC)

    def parsed(self, kind: str, n: int):
        from schemas.domain import DomainSpec
        from scrapers.extract import parse_page
        from scrapers.kinds import load_params
        from scrapers.parsing import ParseContext

        spec = DomainSpec.model_validate(domain_spec(self.base_url))
        source = spec.sources[0]
        ctx = ParseContext(domain=spec.id, source_id=source.source_id, kind=source.kind,
                           params=load_params(source, spec.id))
        body = page_html(kind, n)
        return parse_page(ctx, self.url(kind, n), body, {"content-type": "text/html; charset=utf-8"}).records[0]

    def url(self, kind: str, n: int) -> str:
        return f"{self.base_url}/{kind}/{n}.html"

    def make(self, kind: str, n: int):
        from schemas import hash_text, normalize_text

        title, paragraphs = variant(kind, n) or variant("doc", GONE_BASE + n)
        text = normalize_text(title + "\n" + "\n".join(paragraphs))
        return self.template.model_copy(update={
            "uri": self.url(kind, n), "title": title, "text": text, "content_hash": hash_text(text),
            "fetched_at": self.now - timedelta(seconds=n % 86_400)})

    def check(self) -> None:
        """The built records equal what the parser reads from the served pages (text, title, hash)."""
        for kind in ("doc", "near", "low"):
            for n in (1, 77, 4242):
                built, read = self.make(kind, n), self.parsed(kind, n)
                if (built.text, built.title, built.content_hash) != (read.text, read.title, read.content_hash):
                    raise SystemExit(f"bench_scale: built {kind}/{n} differs from the parsed page")


def miner_records(maker: RecordMaker, uid: int, per_miner: int, miners: int) -> list:
    """The records of miner `uid`: its profile's mix, in a shuffled order (deterministic)."""
    rng = random.Random(uid)
    mix = MIXES[PROFILES[uid % len(PROFILES)]]
    kinds = rng.choices(list(mix), weights=list(mix.values()), k=per_miner)
    records = []
    for j, kind in enumerate(kinds):
        own = uid * per_miner + j
        other = rng.randrange(miners - 1)
        other = (other + (other >= uid)) * per_miner + rng.randrange(per_miner)   # a page another miner holds
        if kind == "copy":
            records.append(maker.make("doc", other))
        else:
            records.append(maker.make(kind, other if kind == "near" else own))
    return records


# ---- the miners' processes -----------------------------------------------------------------------------------

def serve_miners(plan_path: str) -> None:
    """Run in a child process: fill and serve this process's miners, write `ready`, serve until stdin closes."""
    plan = json.loads(Path(plan_path).read_text())
    asyncio.run(_serve_miners(plan))


async def _serve_miners(plan: dict) -> None:
    from chain import LocalChain
    from miner.app import bind_socket, build_miner
    from schemas.config import GleanConfig
    from schemas.domain import DomainCatalog

    chain = LocalChain(plan["chain"])
    catalog = DomainCatalog.load([plan["domains"]])
    maker = RecordMaker(plan["base_url"])
    stop, tasks, held = asyncio.Event(), [], 0
    for uid in plan["uids"]:
        config = GleanConfig(data_dir=Path(plan["root"]) / f"miner-{uid}",
                             miner={"host": "127.0.0.1", "requests_per_minute": 60000, "request_burst": 5000})
        miner = build_miner(config, wallet=dev_wallet(f"scale-miner-{uid}"), chain=chain, catalog=catalog)
        held += miner.store.store.add(miner_records(maker, uid, plan["per_miner"], plan["miners"])).inserted
        tasks.append(asyncio.create_task(miner.run(stop, sock=bind_socket("127.0.0.1", 0))))
    await asyncio.sleep(1.0)
    Path(plan["ready"] + ".tmp").write_text(str(held))
    os.replace(plan["ready"] + ".tmp", plan["ready"])  # whole, or not there yet
    await asyncio.to_thread(sys.stdin.read)  # the parent closes stdin to stop us
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    await chain.close()
