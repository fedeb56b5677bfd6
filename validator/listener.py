"""The validator's public listener (DESIGN §11): its own FastAPI app and server, announced on chain (ServeAxon),
apart from the dashboard and metrics (validator/web.py), which stay on loopback.

Routes (every refusal is an `ErrorResponse` saying what to do; checks run cheapest first: address rate, size,
signature, hotkey rate, schema, the request's rules, the caps):
- `POST /v1/requests` — a dataset request, signed (btauth/1) by its requester for this validator's hotkey;
- `GET /v1/requests/{id}` — what this validator did with a request and what it accepted for it so far;
- `GET /v1/desirability/{hash}` — the bytes of a desirability list this validator keeps (any may mirror any);
- `GET /v1/feedback` — signed by a miner's hotkey: what this validator did with that miner's records.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from chain.auth import AuthError, NonceStore, verify_request
from chain.protocol import Chain
from chain.ratelimit import RateLimiter
from schemas.config import GleanConfig
from schemas.errors import ChainError, ConfigError, RequestError
from schemas.protocol import ErrorResponse
from schemas.request import parse_request
from schemas.version import package_version
from scrapers.address import refusal
from validator import constants as k
from validator.feedback import feedback
from validator.requests import RequestDesk, RequestsFull, UnknownRequest
from validator.store import ValidatorStore
from validator.web import HttpServer

log = logging.getLogger(__name__)

ROUTES = ("/v1/requests", "/v1/requests/{request_id}", "/v1/desirability/{digest}", "/v1/feedback")
HEX64 = re.compile(r"[0-9a-f]{64}")
_ANY_HOST = {"0.0.0.0", "::", ""}


class Refusal(Exception):
    """A request the listener does not serve; rendered as an ErrorResponse with `status`."""

    def __init__(self, status: int, error: str, detail: str, hint: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail, self.hint, self.headers = status, error, detail, hint, headers


class Limits:
    """Token buckets per client address and per signing hotkey; reads of lists and states have their own, larger
    bucket per address."""

    def __init__(self, per_minute: int = k.LISTENER_PER_MINUTE, burst: int = k.LISTENER_BURST, *,
                 reads_per_minute: int = k.LISTENER_READS_PER_MINUTE, reads_burst: int = k.LISTENER_READS_BURST,
                 ) -> None:
        self.by_address = RateLimiter(per_minute, burst, max_callers=k.LISTENER_MAX_CALLERS)
        self.by_hotkey = RateLimiter(per_minute, burst, max_callers=k.LISTENER_MAX_CALLERS)
        self.reads = RateLimiter(reads_per_minute, reads_burst, max_callers=k.LISTENER_MAX_CALLERS)

    @staticmethod
    def take(limiter: RateLimiter, who: str, what: str) -> None:
        wait = limiter.take(who)
        if wait > 0:
            raise Refusal(429, "rate_limited", f"more than {limiter.rate * 60:g} requests a minute from this {what} "
                          f"(burst {limiter.burst})", f"retry after {wait:.1f} s",
                          headers={"Retry-After": str(max(1, round(wait)))})


async def _read_body(request: Request) -> bytes:
    """The raw body, refused with 413 as soon as it passes LISTENER_MAX_BODY (declared or streamed)."""
    too_large = Refusal(413, "request_too_large", f"bodies are limited to {k.LISTENER_MAX_BODY} bytes",
                        "send a smaller request (fewer sources and keywords, a shorter description)")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > k.LISTENER_MAX_BODY):
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > k.LISTENER_MAX_BODY:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _target(request: Request) -> str:
    """The request target as the client signed it: percent-encoded path plus query."""
    target = (request.scope.get("raw_path") or request.url.path.encode()).decode("latin-1")
    if request.scope.get("query_string"):
        target += "?" + request.scope["query_string"].decode("latin-1")
    return target


def _signer(request: Request, body: bytes, hotkey: str, nonces: NonceStore) -> str:
    try:
        caller = verify_request(request.headers, body, method=request.method, target=_target(request),
                                self_hotkey=hotkey, nonce_store=nonces)
    except AuthError as exc:
        raise Refusal(401, "bad_signature", f"{type(exc).__name__}: {exc}",
                      f"sign the exact request with btauth/1 for this validator's hotkey {hotkey}, at send time "
                      "(glean request submit does)") from None
    return caller.hotkey


def _add_error_handlers(app: FastAPI) -> None:
    def answer(status: int, error: str, detail: str, hint: str | None, headers=None) -> JSONResponse:
        body = ErrorResponse(error=error, detail=detail, hint=hint)
        return JSONResponse(body.model_dump(), status_code=status, headers=headers)

    @app.exception_handler(Refusal)
    async def _refused(_request: Request, exc: Refusal) -> JSONResponse:
        return answer(exc.status, exc.error, exc.detail, exc.hint, exc.headers)

    @app.exception_handler(RequestError)
    async def _bad_request(_request: Request, exc: RequestError) -> JSONResponse:
        if isinstance(exc, UnknownRequest):
            return answer(404, "unknown_request", exc.message, exc.hint)
        if isinstance(exc, RequestsFull):
            return answer(429, "requests_full", exc.message, exc.hint)
        return answer(422, "bad_request", exc.message, exc.hint)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return answer(exc.status_code, "not_found" if exc.status_code == 404 else "http_error", str(exc.detail),
                      f"the listener serves {', '.join(ROUTES)}")


def build_listener(desk: RequestDesk, store: ValidatorStore, hotkey: str, *, limits: Limits | None = None,
                   nonces: NonceStore | None = None) -> FastAPI:
    """The listener app over `desk` and `store`, answering as `hotkey`."""
    app = FastAPI(title="glean validator listener", version=package_version(), docs_url=None, redoc_url=None,
                  openapi_url=None)
    limits, nonces = limits or Limits(), nonces or NonceStore()
    _add_error_handlers(app)

    def by_address(request: Request, limiter: RateLimiter = limits.by_address) -> None:
        Limits.take(limiter, request.client.host if request.client else "?", "address")

    @app.post("/v1/requests")
    async def submit(request: Request) -> JSONResponse:
        by_address(request)
        body = await _read_body(request)
        signer = _signer(request, body, hotkey, nonces)
        Limits.take(limits.by_hotkey, signer, "hotkey")
        dataset_request = parse_request(body)
        if dataset_request.requester != signer:
            raise Refusal(403, "not_the_requester", f"signed by {signer}, the request names "
                          f"{dataset_request.requester}", "sign with the requester's hotkey")
        answer = await asyncio.to_thread(desk.receive, dataset_request)
        return JSONResponse(answer.model_dump(mode="json"), status_code=201 if answer.created else 200)

    @app.get("/v1/requests/{request_id}")
    async def status(request: Request, request_id: str) -> JSONResponse:
        by_address(request, limits.reads)
        if not HEX64.fullmatch(request_id):
            raise Refusal(404, "unknown_request", f"{request_id[:80]!r} is not a request id",
                          "give the 64-hex id `glean request submit` printed")
        state = await asyncio.to_thread(desk.state, request_id)
        return JSONResponse(state.model_dump(mode="json"))

    @app.get("/v1/desirability/{digest}")
    async def desirability(request: Request, digest: str) -> Response:
        by_address(request, limits.reads)
        body = await asyncio.to_thread(store.desirability_list, digest) if HEX64.fullmatch(digest) else None
        if body is None:
            raise Refusal(404, "unknown_list", f"no desirability list {digest[:80]!r} here",
                          "ask for a hash a validator committed on chain")
        return Response(body, media_type="application/json")

    @app.get("/v1/feedback")
    async def miner_feedback(request: Request) -> JSONResponse:
        by_address(request)
        signer = _signer(request, await _read_body(request), hotkey, nonces)
        Limits.take(limits.by_hotkey, signer, "hotkey")
        answer = await asyncio.to_thread(feedback, store, hotkey, signer)
        return JSONResponse(answer.model_dump(mode="json"))

    return app


def announce_ip(config: GleanConfig) -> str:
    """The listener's address for other neurons: `listener_external_ip`, else a concrete `listener_host`, else
    loopback in local mode. Outside local mode it must be a public address (ConfigError otherwise)."""
    v = config.validator
    ip = v.listener_external_ip or (v.listener_host if v.listener_host not in _ANY_HOST else None)
    if config.chain.kind == "local":
        return ip or "127.0.0.1"
    if ip is None:
        raise ConfigError("the validator's listener binds every interface but has no external address to announce",
                          hint="set validator.listener_external_ip (GLEAN_VALIDATOR__LISTENER_EXTERNAL_IP) to this "
                               "machine's public IP")
    try:
        why = refusal(ipaddress.ip_address(ip))
    except ValueError:
        why = "not an IP address"
    if why is not None:
        raise ConfigError(f"the listener's announced address {ip} is {why}: requesters and miners could not reach it",
                          hint="set validator.listener_external_ip to this machine's public IP")
    return ip


class Listener:
    """The listener's server plus its two background jobs: re-reading the subnet state (requesters' stake) and
    sweeping requests (deadline, target)."""

    def __init__(self, config: GleanConfig, *, chain: Chain, store: ValidatorStore, hotkey: str,
                 builtin: tuple[str, ...]) -> None:
        self.config, self.chain = config, chain
        self.state = None
        self.desk = RequestDesk(store, config.validator.request_policy, local=config.chain.kind == "local",
                                builtin=builtin, stake_of=self._stake_of)
        self.server = HttpServer(build_listener(self.desk, store, hotkey), config.validator.listener_host,
                                 config.validator.listener_port)
        self._tasks: list[asyncio.Task] = []

    def _stake_of(self, hotkey: str) -> float | None:
        neuron = self.state.by_hotkey(hotkey) if self.state is not None else None
        return None if neuron is None else neuron.stake

    async def start(self, wallet) -> None:
        """Serve, announce the address on chain (a chain error is logged: the listener serves anyway)."""
        ip = announce_ip(self.config)
        self.server.start()
        self._tasks = [asyncio.create_task(self._refresh()), asyncio.create_task(self._sweep())]
        try:
            await self.chain.serve(wallet, ip, self.server.port)
            log.info("listener announced ip=%s port=%d", ip, self.server.port)
        except ChainError as exc:
            log.warning("listener on port %d not announced on chain: %s", self.server.port, exc)

    async def _refresh(self) -> None:
        while True:
            try:
                self.state = await self.chain.state()
            except Exception as exc:  # the chain may be briefly unreachable: keep the last state
                log.warning("listener state refresh failed error=%s:%s", type(exc).__name__, exc)
            await asyncio.sleep(k.LISTENER_STATE_REFRESH_SECONDS)

    async def _sweep(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self.desk.sweep)
            except Exception:
                log.exception("request sweep failed")
            await asyncio.sleep(k.REQUEST_SWEEP_SECONDS)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.server.stop()
