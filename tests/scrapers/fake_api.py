"""Loopback servers playing APIs for the throttling and OAuth tests: answers in sequence, request times observed
on the server's side, and Reddit's token endpoint with its Data API (real HTTP, the real parsers on the other end)."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.scrapers.recorded import QuickSite, data
from tests.support.site import Page

CLIENT_ID = "glean-test-app"
CLIENT_SECRET = "s3cret-not-for-logs"


class Answers(dict):
    """A LoopbackSite's pages where a value may be a list of Pages: each request takes the next one, the last one
    repeats. Every lookup that finds a page records when it was served (server side)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.served: list[tuple[float, str]] = []
        self.clock = time.monotonic  # a test's VirtualTime.clock: served times on the pacer's clock

    def get(self, key: str, default: Any = None) -> Any:
        value = super().get(key, default)
        if value is None:
            return None
        self.served.append((self.clock(), key))
        if isinstance(value, list):
            return value.pop(0) if len(value) > 1 else value[0]
        return value

    def times(self, fragment: str) -> list[float]:
        return [t for t, key in self.served if fragment in key]


class SequenceSite(QuickSite):
    """QuickSite with `Answers` as its pages."""

    def __init__(self) -> None:
        super().__init__()
        self.pages = Answers()

    def serve_all(self, path: str, *pages: Page) -> None:
        from yarl import URL

        self.pages[path] = list(pages)
        self.pages[URL("http://h" + path).raw_path_qs] = self.pages[path]


class VirtualTime:
    """A clock and a sleep for a Pacer that take no wall time: a sleep moves the clock on at once and is recorded,
    so a test asserts the holds the pacer kept, not how long the machine took."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


@dataclass
class Seen:
    """One request the fake Reddit received."""

    at: float
    method: str
    path: str
    authorization: str
    user_agent: str
    body: bytes


class FakeReddit:
    """Reddit's token endpoint (`POST /api/v1/access_token`, HTTP basic auth of id and secret, the client
    credentials grant) and its Data API (bearer tokens only: none is a 403, an unknown one a 401)."""

    def __init__(self, expires_in: int = 86400) -> None:
        self.pages: dict[str, Page] = {}
        self.tokens: set[str] = set()
        self.seen: list[Seen] = []
        self.expires_in = expires_in
        self.clock = time.monotonic  # a test's VirtualTime.clock: request times on the pacer's clock
        self._count = itertools.count(1)
        self._lock = threading.Lock()
        reddit = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: Any) -> None:
                pass

            def _reply(self, page: Page) -> None:
                body = page.payload()
                self.send_response(page.status)
                self.send_header("Content-Type", page.content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in page.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            def _record(self, body: bytes = b"") -> None:
                with reddit._lock:
                    reddit.seen.append(Seen(reddit.clock(), self.command, self.path,
                                            self.headers.get("Authorization", ""),
                                            self.headers.get("User-Agent", ""), body))

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._record(body)
                self._reply(reddit.token_answer(self.path, self.headers.get("Authorization", ""), body))

            def do_GET(self) -> None:  # noqa: N802
                self._record()
                self._reply(reddit.api_answer(self.path, self.headers.get("Authorization", "")))

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def params(self, **extra: Any) -> dict[str, Any]:
        """A reddit source's params pointing every URL of it here."""
        return {"base_url": self.base_url, "site_url": self.base_url,
                "token_url": self.base_url + "/api/v1/access_token", **extra}

    def token_answer(self, path: str, authorization: str, body: bytes) -> Page:
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if path != "/api/v1/access_token" or authorization != expected:
            return Page(data("reddit_401.json"), status=401, content_type="application/json")
        if body != b"grant_type=client_credentials":
            return Page(json.dumps({"error": "unsupported_grant_type"}), status=400, content_type="application/json")
        token = f"tok-{next(self._count)}"
        with self._lock:
            self.tokens.add(token)
        answer = json.loads(data("reddit_token.json").replace("{TOKEN}", token))
        answer["expires_in"] = self.expires_in
        return Page(json.dumps(answer), content_type="application/json; charset=UTF-8")

    def api_answer(self, path: str, authorization: str) -> Page:
        if not authorization:
            return Page(data("reddit_403.json"), status=403, content_type="application/json")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or token not in self.tokens:
            return Page(data("reddit_401.json"), status=401, content_type="application/json",
                        headers={"WWW-Authenticate": 'Bearer realm="reddit", error="invalid_token"'})
        page = self.pages.get(path)
        if isinstance(page, list):
            page = page.pop(0) if len(page) > 1 else page[0]
        return page or Page(json.dumps({"message": "Not Found", "error": 404}), status=404,
                            content_type="application/json")

    def api_requests(self) -> list[Seen]:
        return [s for s in self.seen if s.method == "GET"]

    def token_requests(self) -> list[Seen]:
        return [s for s in self.seen if s.method == "POST"]

    def __enter__(self) -> FakeReddit:
        self._thread.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def ratelimit(remaining: float, reset: int, used: int = 1) -> dict[str, str]:
    """Reddit's rate-limit headers as it sends them (remaining as a float)."""
    return {"X-Ratelimit-Used": str(used), "X-Ratelimit-Remaining": f"{remaining:.1f}",
            "X-Ratelimit-Reset": str(reset)}
