"""One validator step over 16 local miners each offering 2,000 new records: wall time, records/s end to end and
peak memory. Target on this 2-core machine: >= 800 records/s, with the ladder (not the network) dominating.

Set-up: a LocalChain; 16 real miners (miner.app + its store, uvicorn) in one separate process; a loopback page
server that renders every document (the validator re-fetches its samples from it with the scrapers' `fetch_one`);
the validator in this process, with budgets large enough to take every record in one step.

Documents: each is 4 paragraphs of 4 sentences drawn (seeded by the document number) from the prose sentences of
the Python language reference that ships with CPython (`pydoc_data.topics`, PSF licence) and the docstrings of
the standard library, so every document is real English, ~250 words, and no two are alike. Smaller runs:
GLEAN_BENCH_VALIDATOR_MINERS=4 GLEAN_BENCH_VALIDATOR_RECORDS=500.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import yaml
from rich.console import Console
from rich.table import Table

DOMAIN = "bench-docs"
SENTENCES_PER_PARAGRAPH = 4
PARAGRAPHS = 4
STDLIB_MODULES = ("abc", "argparse", "collections", "contextlib", "dataclasses", "datetime", "decimal", "email",
                  "enum", "functools", "http.client", "inspect", "itertools", "json", "logging", "pathlib",
                  "pickle", "random", "re", "string", "textwrap", "typing", "unittest", "urllib.parse", "zipfile")


def _sizes() -> tuple[int, int]:
    return (int(os.environ.get("GLEAN_BENCH_VALIDATOR_MINERS", "16")),
            int(os.environ.get("GLEAN_BENCH_VALIDATOR_RECORDS", "2000")))


@lru_cache(maxsize=1)
def sentences() -> tuple[str, ...]:
    """Prose sentences (8-40 words, capitalised, ending with a period) from CPython's own documentation."""
    import importlib
    import inspect
    from pydoc_data import topics

    texts = list(topics.topics.values())
    for name in STDLIB_MODULES:
        module = importlib.import_module(name)
        texts.append(inspect.getdoc(module) or "")
        for _, member in inspect.getmembers(module):
            doc = inspect.getdoc(member) if callable(member) else None
            if doc:
                texts.append(doc)
    found: set[str] = set()
    for text in texts:
        for sentence in re.split(r"(?<=[.])\s+", " ".join(text.split())):
            words = sentence.split()
            if (8 <= len(words) <= 40 and sentence[0].isupper() and sentence.endswith(".")
                    and sum(w.isalpha() for w in words) / len(words) > 0.8 and not re.search(r"[<>{}\[\]|=]",
                                                                                               sentence)):
                found.add(sentence)
    return tuple(sorted(found))


def document(number: int) -> tuple[str, list[str]]:
    """Title and paragraphs of document `number` (deterministic)."""
    pool = sentences()
    rng = random.Random(number)
    picked = rng.sample(pool, SENTENCES_PER_PARAGRAPH * PARAGRAPHS)
    paragraphs = [" ".join(picked[i:i + SENTENCES_PER_PARAGRAPH])
                  for i in range(0, len(picked), SENTENCES_PER_PARAGRAPH)]
    return f"Python notes {number}: {picked[0].split()[1]} and {picked[1].split()[1]}", paragraphs


def page_html(number: int) -> bytes:
    title, paragraphs = document(number)
    body = "".join(f"<p>{html.escape(p)}</p>\n" for p in paragraphs)
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"</head><body><article><h1>{html.escape(title)}</h1>\n{body}</article></body></html>").encode()


class PageServer:
    """Serves /doc/<n>.html for every n (rendered on demand) and an empty robots.txt."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                match = re.fullmatch(r"/doc/(\d+)\.html", self.path)
                body, status, kind = (page_html(int(match.group(1))), 200, "text/html; charset=utf-8") if match \
                    else (b"", 200 if self.path == "/robots.txt" else 404, "text/plain")
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def domain_spec(base_url: str) -> dict:
    host = base_url.split("//", 1)[1]
    return {
        "id": DOMAIN, "title": "Benchmark documents", "languages": ["en"],
        "sources": [{"kind": "web", "params": {"seeds": [f"{base_url}/doc/0.html"], "allow_hosts": [host],
                                               "delay": 0.0}}],
        "relevance": {"keywords": {"python": 1.0, "function": 1.0, "object": 1.0, "module": 1.0, "class": 1.0,
                                   "method": 1.0, "value": 0.8, "argument": 0.8, "return": 0.6, "attribute": 0.8},
                      "min_score": 0.05},
        "quality": {"min_quality": 0.3, "min_words": 50},
        "freshness_half_life_days": None, "desirability": 1.0,
    }


def build_records(base_url: str, numbers: range):
    """The records an honest miner holds for these documents: each page as the scrapers' parser reads it."""
    from schemas.domain import DomainSpec
    from scrapers.extract import parse_page
    from scrapers.kinds import load_params
    from scrapers.parsing import ParseContext

    spec = DomainSpec.model_validate(domain_spec(base_url))
    source = spec.sources[0]
    ctx = ParseContext(domain=spec.id, source_id=source.source_id, kind=source.kind,
                       params=load_params(source, spec.id))
    headers = {"content-type": "text/html; charset=utf-8"}
    return [parse_page(ctx, f"{base_url}/doc/{n}.html", page_html(n), headers).records[0] for n in numbers]


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _proc_cpu(pid: int) -> float:
    """CPU seconds a running process used so far (the miners' process is only reaped at the end)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def dev_wallet(name: str) -> SimpleNamespace:
    from bittensor.keyfiles import Keypair

    cold, hot = Keypair.create_from_uri(f"//{name}"), Keypair.create_from_uri(f"//{name}//hot")
    return SimpleNamespace(coldkey=cold, coldkeypub=Keypair(ss58_address=cold.ss58_address), hotkey=hot)


# --- the miners' process ---------------------------------------------------------------------------------------------


def serve_miners(plan_path: str) -> None:
    """Run in a child process: fill and serve the miners of the plan, write `ready`, serve until stdin closes."""
    plan = json.loads(Path(plan_path).read_text())
    asyncio.run(_serve_miners(plan))


async def _serve_miners(plan: dict) -> None:
    from chain import LocalChain
    from miner.app import bind_socket, build_miner
    from schemas.config import GleanConfig
    from schemas.domain import DomainCatalog

    chain = LocalChain(plan["chain"])
    catalog = DomainCatalog.load([plan["domains"]])
    stop = asyncio.Event()
    tasks = []
    for i in range(plan["miners"]):
        first = i * plan["records"]
        wallet = dev_wallet(f"bench-miner-{i}")
        config = GleanConfig(data_dir=Path(plan["root"]) / f"miner-{i}",
                             miner={"host": "127.0.0.1", "requests_per_minute": 60000, "request_burst": 5000})
        miner = build_miner(config, wallet=wallet, chain=chain, catalog=catalog)
        miner.store.store.add(build_records(plan["base_url"], range(first, first + plan["records"])))
        tasks.append(asyncio.create_task(miner.run(stop, sock=bind_socket("127.0.0.1", 0))))
    await asyncio.sleep(1.0)
    Path(plan["ready"]).write_text("ready")
    await asyncio.to_thread(sys.stdin.read)  # the parent closes stdin to stop us
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    await chain.close()


# --- the benchmark ---------------------------------------------------------------------------------------------------


async def _bench(root: Path, miners: int, records: int) -> dict:
    from chain import LocalChain
    from schemas.config import GleanConfig
    from schemas.domain import DomainCatalog
    from validator.service import Validator

    pages = PageServer()
    domains = root / "domains"
    domains.mkdir()
    (domains / f"{DOMAIN}.yaml").write_text(yaml.safe_dump(domain_spec(pages.base_url)))
    chain = LocalChain(root / "chain.sqlite", block_time=0.1, tempo=100)
    validator = dev_wallet("bench-validator")
    await chain.register(validator)
    await chain.add_stake(validator.hotkey.ss58_address, 1000.0)
    await chain.set_validator_permits()
    for i in range(miners):
        await chain.register(dev_wallet(f"bench-miner-{i}"))
    plan = {"chain": str(root / "chain.sqlite"), "domains": str(domains), "root": str(root), "miners": miners,
            "records": records, "base_url": pages.base_url, "ready": str(root / "ready")}
    (root / "plan.json").write_text(json.dumps(plan))
    child = subprocess.Popen([sys.executable, "-c", f"from benchmarks.bench_validator import serve_miners; "
                              f"serve_miners({str(root / 'plan.json')!r})"], stdin=subprocess.PIPE)
    try:
        began = time.monotonic()
        while not (root / "ready").exists():
            if child.poll() is not None:
                raise RuntimeError("the miners' process died")
            await asyncio.sleep(0.2)
        setup = time.monotonic() - began
        config = GleanConfig(
            data_dir=root / "validator", domain_dirs=[domains],
            chain={"kind": "local", "local_path": root / "chain.sqlite", "block_time": 0.1},
            validator={"domains": [DOMAIN], "miners_per_step": miners, "concurrency": 4, "step_seconds": 600,
                       "miner_timeout_seconds": 300, "step_bytes_budget": 1024 * 1024 * 1024,
                       "miner_bytes_budget": 64 * 1024 * 1024, "miner_records_budget": records})
        v = Validator(config, chain=chain, wallet=validator, catalog=DomainCatalog.load([domains]),
                      serve_http=False)
        await v.open()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        cpu_before = _cpu(resource.RUSAGE_SELF), sum(_proc_cpu(pid) for pid in v.ladder.pids())
        miners_before = _proc_cpu(child.pid)
        load_before = os.getloadavg()[0]
        began = time.monotonic()
        report = await v.step()
        wall = time.monotonic() - began
        rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        cpu_self = _cpu(resource.RUSAGE_SELF) - cpu_before[0]
        cpu_workers = sum(_proc_cpu(pid) for pid in v.ladder.pids()) - cpu_before[1]
        cpu_miners = _proc_cpu(child.pid) - miners_before
        load_after = os.getloadavg()[0]
        outcomes = dict.fromkeys(("pass", "fail", "unknown", None), 0)
        for outcome in report.outcomes.values():
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        await v.close()
    finally:
        with contextlib.suppress(Exception):
            child.stdin.close()
        child.wait(timeout=60)
        await chain.close()
        pages.close()
    return {"cpu_self": cpu_self, "cpu_workers": cpu_workers, "cpu_miners": cpu_miners, "phases": report.phases,
            "load": (load_before, load_after),
            "miners": miners, "offered": miners * records, "pulled": report.pulled, "accepted": report.accepted,
            "rejected": report.rejected, "failures": len(report.failures), "wall": wall, "setup": setup,
            "rss_before_mb": rss_before / 1024, "rss_peak_mb": rss_peak / 1024, "outcomes": outcomes}


def main() -> None:
    import logging

    logging.basicConfig(level=os.environ.get("GLEAN_BENCH_LOG", "WARNING"),
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    console = Console()
    miners, records = _sizes()
    with tempfile.TemporaryDirectory(prefix="glean-bench-validator-") as tmp:
        r = asyncio.run(_bench(Path(tmp), miners, records))
    rate = r["pulled"] / r["wall"] if r["wall"] else 0.0
    table = Table(title=f"validator: one step over {r['miners']} miners x {records:,} new records "
                        f"({os.cpu_count()} cores)")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    table.add_row("records offered / pulled", f"{r['offered']:,} / {r['pulled']:,}", "")
    table.add_row("accepted / rejected", f"{r['accepted']:,} / {r['rejected']:,}", "")
    table.add_row("miner failures", str(r["failures"]), "0")
    table.add_row("verification pass / fail / unknown",
                  f"{r['outcomes']['pass']} / {r['outcomes']['fail']} / {r['outcomes']['unknown']}", "")
    table.add_row("step wall time", f"{r['wall']:.1f} s", "")
    table.add_row("  by phase", " ".join(f"{k} {v:.1f}" for k, v in r["phases"].items()), "")
    table.add_row("records/s end to end", f"{rate:,.0f}", ">= 800")
    cpu = r["cpu_self"] + r["cpu_workers"]
    table.add_row("validator CPU (process + ladder workers)",
                  f"{r['cpu_self']:.1f} + {r['cpu_workers']:.1f} s = {cpu * 1000 / max(r['pulled'], 1):.2f} ms/record",
                  "")
    # On two free cores the pull phase would take the workers' CPU split over both cores; the phases after it run
    # one after the other in the validator process (their measured wall time, inflated by any load, is kept).
    serial = sum(v for k, v in r["phases"].items() if k != "pull")
    estimate = r["cpu_workers"] / 2 + serial
    table.add_row("estimated records/s on 2 free cores", f"{r['pulled'] / estimate:,.0f}" if estimate else "-",
                  ">= 800")
    table.add_row("miners' CPU during the step (serving, gzip)",
                  f"{r['cpu_miners']:.1f} s = {r['cpu_miners'] * 1000 / max(r['pulled'], 1):.2f} ms/record", "")
    table.add_row("load average (1 min) before -> after", f"{r['load'][0]:.1f} -> {r['load'][1]:.1f}", "")
    table.add_row("peak RSS (before step -> peak)", f"{r['rss_before_mb']:.0f} -> {r['rss_peak_mb']:.0f} MB", "")
    console.print(table)


if __name__ == "__main__":
    main()
