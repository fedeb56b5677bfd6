"""The protocol cheats of hostile.py: a small HTTP server of their own answering /v1/index and /v1/records the way
one cheat does (bombs, endless bodies, slowloris, malformed JSON, a lying index, replayed cursors), reusing the
scripted behaviours of `tests/validator/servers.py`. Started by `python -m tests.adversarial.hostile --kind KIND`."""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.adversarial.hostile import _announced, _twin, accepted_records, dev_wallet

LIAR_CLAIM = 10**9  # records the index liar claims to hold
REPLAY_RECORDS = 8  # records the cursor replayer serves again under every new cursor


class ProtocolCheat:
    """Answers /v1/index and /v1/records the way one protocol cheat does (no signature check: a cheat serves anyone)."""

    def __init__(self, args: argparse.Namespace) -> None:
        from tests.validator import servers

        self.args = args
        self.servers = servers
        self.started = time.monotonic()
        self.replay: list[Any] = []
        self.behaviours = {
            "oversized": servers.gzip_bomb(64 * 1024 * 1024),
            "endless": servers.endless(),
            "slowloris": servers.slowloris(interval=0.3, total=120.0),
            "malformed-json": servers.answer_bytes(b'{"records": [{"seq": 1, "record": {"uri": "http://'),
        }

    def index(self) -> bytes:
        from schemas.index import IndexBucket, MinerIndex

        today = datetime.now(UTC).date()
        if self.args.kind == "index-liar":
            newest, count = LIAR_CLAIM, LIAR_CLAIM
        else:  # the replayer's index keeps growing so the validator keeps asking
            newest = count = 1000 * (1 + int(time.monotonic() - self.started))
        buckets = [IndexBucket(domain=d, source="web", day=today, count=count, bytes=count * 2000, newest_seq=newest)
                   for d in self.args.catalog.ids()]
        return MinerIndex.from_buckets(self.args.hotkey, buckets, newest).model_dump_json().encode()

    def records(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        kind = self.args.kind
        if kind in self.behaviours:
            self.behaviours[kind](handler)
            return
        request = json.loads(body or b"{}")
        after = int(request.get("after_seq", 0))
        if kind == "index-liar":  # claims a billion records, serves none: empty pages that say "more"
            page = {"records": [], "next_seq": after + 1000, "more": True}
        else:  # the same accepted records again under fresh sequence numbers
            self._load_replay()
            items = [{"seq": after + 1 + i, "record": r.model_dump(mode="json")}
                     for i, r in enumerate(self.replay) if r.domain == request.get("domain", r.domain)]
            page = {"records": items, "next_seq": after + max(1, len(items)), "more": False}
        self.servers.send(handler, 200, json.dumps(page).encode())

    def _load_replay(self) -> None:
        if len(self.replay) < REPLAY_RECORDS and self.args.accepted is not None:
            found = accepted_records(self.args.accepted, 0, older_than=0.0, exclude=self.args.hotkey)
            self.replay = [_twin(r) for _, r in found[:REPLAY_RECORDS]]

    def handler_class(self) -> type[BaseHTTPRequestHandler]:
        cheat = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?")[0]
                try:
                    if path == "/v1/health":
                        health = {"version": "0", "protocol": "v1", "hotkey": cheat.args.hotkey, "newest_seq": 1}
                        cheat.servers.send(self, 200, json.dumps(health).encode())
                    elif path == "/v1/index":
                        cheat.servers.send(self, 200, cheat.index())
                    elif path == "/v1/records":
                        cheat.records(self, body)
                    else:
                        cheat.servers.send(self, 404, b'{"error":"not_found","detail":"no route"}')
                except OSError:  # the validator hung up, as it should on a hostile answer
                    self.close_connection = True

            do_GET = do_POST = _serve  # noqa: N815

        return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:  # hung-up clients are expected
        pass


async def run_protocol_cheat(args: argparse.Namespace, stop: asyncio.Event) -> None:
    from chain import LocalChain
    from schemas.domain import DomainCatalog

    args.catalog = DomainCatalog.load([args.domains])
    wallet = dev_wallet(args.name)
    args.hotkey = wallet.hotkey.ss58_address
    cheat = ProtocolCheat(args)
    httpd = _Server(("127.0.0.1", 0), cheat.handler_class())
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    chain = LocalChain(args.chain)
    try:
        port = httpd.server_address[1]
        await chain.serve(wallet, "127.0.0.1", port)
        await _announced(chain, args, port)
        await stop.wait()
    finally:
        httpd.shutdown()
        httpd.server_close()
        await chain.close()
