"""The miner's HTTP API (FastAPI): health and metrics open; index, records and lookup signed (btauth/1) and
allowed only to permitted validators, per-caller rate limited, with bounded requests and responses.

Every refusal is an `ErrorResponse` saying what to do. Checks run cheapest first and before anything is read
from the store: size (413), signature (401), metagraph (403/503), protocol version (426), rate (429), request
schema (422).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from chain.auth import MAX_AGE_SECONDS, AuthError, NonceStore, verify_request
from miner import wire
from miner.constants import GZIP_LEVEL, GZIP_MIN_BYTES, PAGE_GZIP_CHUNK, PAGE_GZIP_LEVEL
from miner.gate import ValidatorGate
from miner.metrics import CONTENT_TYPE, OTHER_CALLER, MinerMetrics
from miner.ratelimit import RateLimiter
from miner.store import AsyncStore, PageTooSmall
from schemas.errors import ProtocolError, StorageError
from schemas.protocol import (
    API_PREFIX,
    MAX_PAGE_BYTES,
    MAX_REQUEST_BYTES,
    PROTOCOL_HEADER,
    ErrorResponse,
    HealthResponse,
    LookupRequest,
    RecordsRequest,
)
from schemas.validation import first_problem
from schemas.version import PROTOCOL_VERSION, package_version

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)

JSON = "application/json"
ROUTES = (f"{API_PREFIX}/health", f"{API_PREFIX}/index", f"{API_PREFIX}/records", f"{API_PREFIX}/records/lookup",
          "/metrics")

_AUTH_HINTS = {
    "MalformedAuth": "sign every request with btauth/1 (chain.auth.HotkeyAuth) and send all X-Bittensor-* headers",
    "WrongReceiver": "sign for this miner's hotkey as the receiver ({hotkey})",
    "StaleRequest": f"sign at send time and keep the clock in sync (older than {MAX_AGE_SECONDS:g} s is refused)",
    "BadSignature": "sign the exact bytes sent: method, path with query, and body",
    "ReplayedRequest": "never resend a signed request; sign each attempt anew",
}


class ApiRefusal(Exception):
    """A request the miner does not serve; rendered as an ErrorResponse with `status`."""

    def __init__(self, status: int, error: str, detail: str, hint: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail, self.hint, self.headers = status, error, detail, hint, headers


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


@dataclass(frozen=True)
class Authorized:
    hotkey: str
    body: bytes


class _RequestMetrics:
    """Counts every answer by route, caller and status (pure ASGI: sees the status of every response)."""

    def __init__(self, app, metrics: MinerMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def capture(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = scope["path"] if scope["path"] in ROUTES else "other"
            caller = scope.get("state", {}).get("caller", OTHER_CALLER)
            self.metrics.requests.labels(route=route, caller=caller, status=str(status)).inc()


async def _read_body(request: Request) -> bytes:
    """The raw body, refused with 413 as soon as it passes MAX_REQUEST_BYTES (declared or streamed)."""
    too_large = ApiRefusal(413, "request_too_large", f"request bodies are limited to {MAX_REQUEST_BYTES} bytes",
                           "send a smaller request (fewer lookup keys)")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_REQUEST_BYTES):
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_REQUEST_BYTES:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _target(request: Request) -> str:
    """The request target as the client signed it: percent-encoded path plus query."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    target = raw.decode("latin-1")
    if request.scope.get("query_string"):
        target += "?" + request.scope["query_string"].decode("latin-1")
    return target


def _parse(model: type[M], body: bytes) -> M:
    try:
        return model.model_validate_json(body or b"{}")
    except ValidationError as exc:
        raise ApiRefusal(422, "bad_request", first_problem(exc, top="(body)"),
                         f"send a JSON {model.__name__} (schemas.protocol)") from None


def _protocol_refusal(request: Request) -> ApiRefusal | None:
    """A 426 for a peer on another protocol version, else None. 426 (Upgrade Required) rather than 400: the request
    may be well formed for its sender's version, the fix is an upgrade on one side, and the client can tell this
    refusal from a malformed request by its status alone. A request without the header is refused too: every glean
    validator sends it, so its absence means a client that predates versioning or is not glean, and either would
    misread what this miner answers."""
    sent = request.headers.get(PROTOCOL_HEADER)
    if sent == str(PROTOCOL_VERSION):
        return None
    said = f"protocol {sent}" if sent else f"no {PROTOCOL_HEADER} header"
    ours = f"glean protocol {PROTOCOL_VERSION} (glean {package_version()})"
    return ApiRefusal(426, "protocol_mismatch", f"this miner runs {ours}; the request named {said}",
                      f"run a glean release speaking protocol {PROTOCOL_VERSION} (e.g. pip install "
                      f"'glean=={package_version()}'), or the newer side waits for the other to upgrade; "
                      "see docs/upgrade.md",
                      headers={PROTOCOL_HEADER: str(PROTOCOL_VERSION), "Upgrade": f"glean/{PROTOCOL_VERSION}"})


def _authorizer(hotkey: str, gate: ValidatorGate, limiter: RateLimiter,
                nonces: NonceStore) -> Callable[[Request], Awaitable[Authorized]]:
    """The dependency of every signed route: size, signature, metagraph, protocol version, rate (in that order)."""

    async def authorized(request: Request) -> Authorized:
        body = await _read_body(request)
        try:
            caller = verify_request(request.headers, body, method=request.method, target=_target(request),
                                    self_hotkey=hotkey, nonce_store=nonces)
        except AuthError as exc:
            kind = type(exc).__name__
            hint = _AUTH_HINTS.get(kind, "sign the request with btauth/1").format(hotkey=hotkey)
            raise ApiRefusal(401, _snake(kind), str(exc), hint) from None
        refusal = gate.refuse(caller.hotkey)
        if refusal is not None:
            raise ApiRefusal(refusal.status, refusal.error, refusal.detail, refusal.hint)
        request.state.caller = caller.hotkey
        mismatch = _protocol_refusal(request)
        if mismatch is not None:
            raise mismatch
        wait = limiter.take(caller.hotkey)
        if wait > 0:
            raise ApiRefusal(429, "rate_limited",
                             f"more than {limiter.rate * 60:g} requests per minute (burst {limiter.burst})",
                             f"retry after {wait:.1f} s", headers={"Retry-After": str(max(1, round(wait)))})
        return Authorized(caller.hotkey, body)

    return authorized


def _json_responder(gzip_pool: ThreadPoolExecutor) -> Callable[[Request, bytes], Awaitable[Response]]:
    """Pages and lookups: gzip on every core when the caller accepts it (GZipMiddleware uses one)."""

    async def json_body(request: Request, body: bytes) -> Response:
        if len(body) < GZIP_MIN_BYTES or "gzip" not in request.headers.get("accept-encoding", ""):
            return Response(body, media_type=JSON)
        packed = await asyncio.to_thread(wire.gzip_parallel, body, level=PAGE_GZIP_LEVEL, chunk_size=PAGE_GZIP_CHUNK,
                                         pool=gzip_pool)
        return Response(packed, media_type=JSON, headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})

    return json_body


def _add_error_handlers(app: FastAPI) -> None:
    """Every refusal, unknown route and store failure as an ErrorResponse."""

    @app.exception_handler(ApiRefusal)
    async def _refused(_request: Request, exc: ApiRefusal) -> JSONResponse:
        body = ErrorResponse(error=exc.error, detail=exc.detail, hint=exc.hint)
        return JSONResponse(body.model_dump(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        body = ErrorResponse(error=_snake(str(exc.detail).title().replace(" ", "")), detail=str(exc.detail),
                             hint=f"the miner serves {', '.join(ROUTES)}")
        return JSONResponse(body.model_dump(), status_code=exc.status_code)

    @app.exception_handler(StorageError)
    async def _storage_error(_request: Request, exc: StorageError) -> JSONResponse:
        log.error("store error on request error=%s", exc)
        body = ErrorResponse(error="store_unavailable", detail="the miner's store failed to answer",
                             hint="retry later")
        return JSONResponse(body.model_dump(), status_code=503)


def _add_open_routes(app: FastAPI, store: AsyncStore, hotkey: str, metrics: MinerMetrics) -> None:
    """Health and metrics: unsigned and unversioned (health is how a peer learns this miner's version)."""

    @app.get(f"{API_PREFIX}/health")
    async def health() -> HealthResponse:
        return HealthResponse(version=package_version(), hotkey=hotkey, newest_seq=store.store.newest_seq)

    @app.get("/metrics")
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type=CONTENT_TYPE)


def _add_signed_routes(app: FastAPI, store: AsyncStore, hotkey: str,
                       authorized: Callable[[Request], Awaitable[Authorized]],
                       json_body: Callable[[Request, bytes], Awaitable[Response]]) -> None:
    """Index, records and lookup: for permitted validators on this protocol version only."""

    @app.get(f"{API_PREFIX}/index")
    async def index(_auth: Authorized = Depends(authorized)) -> Response:
        return Response(store.store.index_json(hotkey), media_type=JSON)

    @app.post(f"{API_PREFIX}/records")
    async def records(request: Request, auth: Authorized = Depends(authorized)) -> Response:
        req = _parse(RecordsRequest, auth.body)
        try:
            page = await store.page(req.after_seq, limit=req.limit, max_bytes=req.max_bytes, domain=req.domain)
        except PageTooSmall as exc:
            raise ApiRefusal(422, "page_too_small", exc.message, exc.hint) from None
        return await json_body(request, wire.encode_page(page.items, page.next_seq, page.more))

    @app.post(f"{API_PREFIX}/records/lookup")
    async def lookup(request: Request, auth: Authorized = Depends(authorized)) -> Response:
        req = _parse(LookupRequest, auth.body)
        try:
            items = await store.lookup(uris=req.uris, hashes=req.hashes, max_bytes=MAX_PAGE_BYTES)
        except ProtocolError as exc:
            raise ApiRefusal(422, "bad_request", exc.message, exc.hint) from None
        return await json_body(request, wire.encode_lookup(items))


def build_app(store: AsyncStore, *, hotkey: str, gate: ValidatorGate, limiter: RateLimiter,
              metrics: MinerMetrics, nonce_store: NonceStore | None = None) -> FastAPI:
    """The miner API over `store`, answering as `hotkey`."""
    gzip_pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="miner-gzip")
    app = FastAPI(title="glean miner", version=package_version(), docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES, compresslevel=GZIP_LEVEL)
    app.add_middleware(_RequestMetrics, metrics=metrics)
    _add_error_handlers(app)
    _add_open_routes(app, store, hotkey, metrics)
    authorized = _authorizer(hotkey, gate, limiter, nonce_store or NonceStore())
    _add_signed_routes(app, store, hotkey, authorized, _json_responder(gzip_pool))
    return app
