"""Real loopback HTTP servers for the validator's tests: a scriptable raw server for hostile answers."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Behaviour = Callable[[BaseHTTPRequestHandler], None]


class RawServer:
    """Answers each path with a behaviour (a function of the handler); records the headers of every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Behaviour] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                server.requests.append((self.command, self.path, dict(self.headers)))
                behaviour = server.routes.get(self.path.split("?")[0])
                if behaviour is None:
                    send(self, 404, b'{"error":"not_found","detail":"no route"}')
                    return
                try:
                    behaviour(self)
                except OSError:  # the client hung up, as it should on hostile answers
                    self.close_connection = True

            do_GET = do_POST = _serve  # noqa: N815

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address) -> None:  # hung-up clients are expected here
                pass

        self._httpd = Server(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def axon(self) -> str:
        return f"127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, *, headers: dict[str, str] | None = None) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    handler.end_headers()
    handler.wfile.write(body)


def answer_json(obj, *, status: int = 200, compress: bool = False) -> Behaviour:
    body = json.dumps(obj).encode()
    if compress:
        return lambda h: send(h, status, gzip.compress(body), headers={"Content-Encoding": "gzip"})
    return lambda h: send(h, status, body)


def answer_bytes(body: bytes, *, status: int = 200, headers: dict[str, str] | None = None) -> Behaviour:
    return lambda h: send(h, status, body, headers=headers)


def gzip_bomb(decoded_bytes: int) -> Behaviour:
    """A small gzip body that inflates to `decoded_bytes` of spaces (valid JSON whitespace)."""
    body = gzip.compress(b" " * decoded_bytes, compresslevel=9)
    return answer_bytes(body, headers={"Content-Encoding": "gzip"})


def endless(chunk: bytes = b" " * 65536) -> Behaviour:
    """Chunked transfer that never ends (until the client hangs up)."""

    def behave(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        h.wfile.write(b"%x\r\n[\r\n" % 1)
        for _ in range(1_000_000):
            h.wfile.write(b"%x\r\n" % len(chunk) + chunk + b"\r\n")

    return behave


def slowloris(interval: float = 0.5, total: float = 30.0) -> Behaviour:
    """Headers at once, then one byte per `interval` (each read well within a read timeout)."""

    def behave(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", "1000000")
        h.end_headers()
        deadline = time.monotonic() + total
        while time.monotonic() < deadline:
            h.wfile.write(b" ")
            h.wfile.flush()
            time.sleep(interval)

    return behave


def sequence(*behaviours: Behaviour) -> Behaviour:
    """Each call uses the next behaviour; the last one repeats."""
    calls = iter(range(10**9))

    def behave(h: BaseHTTPRequestHandler) -> None:
        behaviours[min(next(calls), len(behaviours) - 1)](h)

    return behave
