"""A real HTTP server on 127.0.0.1 serving canned responses, for scrapers, hub and fault tests."""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Page:
    """One canned answer: status, body, content type, extra headers and an optional delay (seconds)."""

    body: bytes | str = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def payload(self) -> bytes:
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body


class LoopbackSite:
    """Serve `pages` (path with optional ?query -> Page) on an ephemeral loopback port; 404 otherwise.

    `hits` counts requests per path; `overrides` replaces answers at run time (e.g. 503 for the validator).
    """

    def __init__(self, pages: dict[str, Page] | None = None) -> None:
        self.pages: dict[str, Page] = dict(pages or {})
        self.hits: Counter[str] = Counter()
        self.user_agents: list[str] = []
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args) -> None:  # keep test output clean
                pass

            def _answer(self, with_body: bool) -> None:
                target = self.path
                path = urlsplit(target).path
                with site._lock:
                    site.hits[path] += 1
                    site.user_agents.append(self.headers.get("User-Agent", ""))
                    page = site.pages.get(target) or site.pages.get(path)
                if page is None:
                    page = Page(body="not found", status=404, content_type="text/plain")
                if page.delay:
                    time.sleep(page.delay)
                body = page.payload()
                self.send_response(page.status)
                self.send_header("Content-Type", page.content_type)
                self.send_header("Content-Length", str(len(body)))
                for key, value in page.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                if with_body:
                    self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                self._answer(True)

            def do_HEAD(self) -> None:  # noqa: N802
                self._answer(False)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def netloc(self) -> str:
        """host:port, as an allow-list names this site."""
        return f"127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def add(self, path: str, page: Page) -> None:
        with self._lock:
            self.pages[path] = page

    def __enter__(self) -> LoopbackSite:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
