"""The sample web's request handler: control calls, fault rules, then the content routes, with ETag and gzip."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import socket
import time
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from glean.sampleweb.constants import GZIP_MIN_BYTES, MAX_CONTROL_BODY_BYTES
from glean.sampleweb.reply import Reply

if TYPE_CHECKING:
    from glean.sampleweb.server import SampleWeb

log = logging.getLogger(__name__)

CONTROL_PREFIX = "/_control/"


class SampleWebHandler(BaseHTTPRequestHandler):
    """One connection's requests; `handler_class(web)` binds it to the SampleWeb it serves."""

    protocol_version = "HTTP/1.1"
    server_version = "glean-sampleweb/1"
    timeout = 60  # an idle keep-alive connection frees its thread after this
    web: SampleWeb

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without this, Nagle's algorithm and the client's
        # delayed ACK add ~40 ms to every keep-alive response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt: str, *args: Any) -> None:
        log.debug("sampleweb %s", fmt % args)

    def do_GET(self) -> None:  # noqa: N802
        self._serve("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve("HEAD")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve("DELETE")

    def _headers(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.headers.items()}

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(length, MAX_CONTROL_BODY_BYTES)) if length > 0 else b""

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        path = parts.path
        body = self._body() if method in ("POST", "DELETE") else b""
        if path.startswith(CONTROL_PREFIX):
            self._serve_control(method, path, body)
            return
        headers = self._headers()
        self.web.count(path, headers.get("user-agent", ""))
        failure = self._fault_reply(path, headers)
        if failure is not None:
            self._send(failure, method)
            return
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        if method == "POST" and "form-urlencoded" in headers.get("content-type", ""):
            params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        if method not in ("GET", "HEAD") and not (method == "POST" and path == "/w/api.php"):
            self._send(Reply.text("405 method not allowed\n", status=405, Allow="GET, HEAD"), method)
            return
        try:
            reply = self.web.route(path, params)
        except Exception:  # a renderer bug must answer 500, as a real server would, and be logged
            log.exception("sampleweb failed path=%s", path)
            reply = Reply.text("500 internal server error\n", status=500)
        self._send(reply, method, headers)

    def _serve_control(self, method: str, path: str, body: bytes) -> None:
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            data = None
        if not isinstance(data, dict):
            self._send(Reply.json({"error": "body is not a JSON object"}, status=400), method)
            return
        self._send(self.web.control(method, path, data), method)

    def _fault_reply(self, path: str, headers: Mapping[str, str]) -> Reply | None:
        """Apply the first matching fault rule: its delay, then its failure reply if it has one."""
        fault = self.web.state.match_fault(path, headers)
        if fault is None:
            return None
        if fault.delay:
            time.sleep(fault.delay)
        return fault.reply()

    def _send(self, reply: Reply, method: str, headers: Mapping[str, str] | None = None) -> None:
        headers = headers or {}
        body = reply.body
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if reply.status == 200 and headers.get("if-none-match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        encoded = "gzip" in headers.get("accept-encoding", "") and len(body) >= GZIP_MIN_BYTES
        if encoded:
            body = gzip.compress(body, mtime=0)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Vary", "Accept-Encoding")
        if reply.status == 200:
            self.send_header("ETag", etag)
        if encoded:
            self.send_header("Content-Encoding", "gzip")
        for key, value in reply.headers.items():
            if value:
                self.send_header(key, value)
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(body)


def handler_class(web: SampleWeb) -> type[SampleWebHandler]:
    """A handler class serving `web` (http.server instantiates the class per connection)."""
    return type("Handler", (SampleWebHandler,), {"web": web})
