"""Signed HTTP client for miners: btauth/1 on every attempt, application-level retries, and hard bounds on time,
bytes (wire and decompressed) and records, so a hostile miner cannot exhaust memory or stall the loop."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import time

import httpx
from pydantic import ValidationError

from chain.auth import HotkeyAuth
from schemas.errors import ProtocolError
from schemas.index import MinerIndex
from schemas.protocol import API_PREFIX, PROTOCOL_HEADER, ErrorResponse, HealthResponse, RecordsRequest
from schemas.version import PROTOCOL_VERSION, package_version
from scrapers.address import refusal
from scrapers.decode import BadEncoding, BodyTooLarge, read_bounded
from validator import constants as K
from validator import reasons as R

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class MinerError(ProtocolError):
    """A miner answered outside the protocol; `reason` is the short label rejections are counted under."""

    def __init__(self, message: str, *, reason: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint or "the miner must serve the glean /v1 protocol within its limits")
        self.reason = reason

    def __reduce__(self):
        # Raised in the ladder's worker processes: it must unpickle in the validator (the default pickling calls
        # MinerError(message) without `reason`, which broke the process pool under every miner being judged).
        return _miner_error, (self.message, self.reason, self.hint)


def _miner_error(message: str, reason: str, hint: str | None) -> MinerError:
    return MinerError(message, reason=reason, hint=hint)


def axon_url(axon: str) -> str:
    """`ip:port` (as announced on chain) to a base URL; IPv6 literals get brackets."""
    host, _, port = axon.rpartition(":")
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _check_public(axon: str) -> None:
    """MinerError(private_address) unless the axon's host is a public IP address."""
    host = axon.rpartition(":")[0].strip("[]")
    try:
        why = refusal(ipaddress.ip_address(host))
    except ValueError:
        why = "not an IP address"
    if why:
        raise MinerError(f"the miner announces {axon}, which is not a public address ({why}); validators on a "
                         "network only pull from public addresses", reason=R.PRIVATE_ADDRESS)


async def read_capped(response: httpx.Response, cap: int) -> bytes:
    """The decoded body, streamed; raises MinerError(too_large) as soon as wire or decoded bytes pass `cap`."""
    try:
        return await read_bounded(response, cap, chunk=K.STREAM_CHUNK)
    except BodyTooLarge as exc:
        raise MinerError(str(exc), reason=R.TOO_LARGE) from None
    except BadEncoding as exc:
        raise MinerError(str(exc), reason=R.BAD_ENCODING) from None


class MinerClient:
    """One shared connection pool; every call signs for the miner's hotkey and is bounded by a deadline."""

    def __init__(self, signer, *, http: httpx.AsyncClient | None = None, attempts: int = K.REQUEST_ATTEMPTS,
                 allow_private: bool = False) -> None:
        self.signer = signer
        self.attempts = attempts
        # Outside local mode a miner may only be reached at a public address: an axon announcing 127.0.0.1, a
        # private network or a cloud metadata service would turn the validator into the miner's proxy.
        self.allow_private = allow_private
        self._own_http = http is None
        self.http = http or httpx.AsyncClient(
            timeout=httpx.Timeout(K.READ_TIMEOUT, connect=K.CONNECT_TIMEOUT),
            limits=httpx.Limits(max_connections=128, max_keepalive_connections=64),
            follow_redirects=False, trust_env=False)

    async def aclose(self) -> None:
        if self._own_http:
            await self.http.aclose()

    async def health(self, axon: str, *, deadline: float | None = None) -> HealthResponse:
        body = await self._call("GET", axon, "/health", None, None, K.MAX_ERROR_BYTES * 4, deadline)
        return _model(HealthResponse, body)

    async def index(self, axon: str, hotkey: str, *, deadline: float | None = None) -> MinerIndex:
        """The miner's index; its hotkey must be the one registered for the uid."""
        body = await self._call("GET", axon, "/index", hotkey, None, K.MAX_INDEX_BYTES, deadline)
        index = _model(MinerIndex, body)
        if index.hotkey != hotkey:
            raise MinerError(f"index names hotkey {index.hotkey}, expected {hotkey}", reason=R.WRONG_HOTKEY)
        return index

    async def records(self, axon: str, hotkey: str, request: RecordsRequest, *,
                      deadline: float | None = None) -> bytes:
        """The raw (decoded) JSON body of one page, at most `request.max_bytes` plus the envelope's slack."""
        cap = request.max_bytes + request.max_bytes // 8 + 64 * 1024  # JSON escaping and the envelope
        payload = request.model_dump_json().encode()
        return await self._call("POST", axon, "/records", hotkey, payload, cap, deadline)

    async def _call(self, method: str, axon: str, path: str, hotkey: str | None, payload: bytes | None,
                    cap: int, deadline: float | None) -> bytes:
        url = axon_url(axon) + API_PREFIX + path
        if not self.allow_private:
            _check_public(axon)
        last: MinerError | None = None
        for attempt in range(self.attempts):
            remaining = _remaining(deadline)
            if remaining <= 0:
                break
            retry_after = 0.0
            try:
                async with asyncio.timeout(min(K.REQUEST_SECONDS, remaining)):
                    return await self._attempt(method, url, hotkey, payload, cap)
            except TimeoutError:
                last = MinerError(f"{method} {path} took longer than its deadline", reason=R.TIMEOUT)
            except httpx.TransportError as exc:
                last = MinerError(f"{method} {path} failed: {type(exc).__name__}", reason=R.UNREACHABLE)
            except _Retryable as exc:
                last, retry_after = exc.error, exc.retry_after
            log.debug("retrying %s %s attempt=%d reason=%s", method, url, attempt + 1, last.reason)
            pause = max(K.RETRY_BACKOFF_SECONDS * 2**attempt, retry_after)
            if attempt + 1 >= self.attempts or _remaining(deadline) <= pause:
                break  # no time to wait as asked: retrying at once would only be refused again
            await asyncio.sleep(pause)
        raise last or MinerError(f"{method} {path}: no time left", reason=R.TIMEOUT)

    async def _attempt(self, method: str, url: str, hotkey: str | None, payload: bytes | None, cap: int) -> bytes:
        headers = {"Accept-Encoding": "gzip", "Accept": "application/json", PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        auth = HotkeyAuth(self.signer, hotkey) if hotkey else None  # signs at send time: fresh nonce per attempt
        async with self.http.stream(method, url, content=payload, headers=headers, auth=auth) as response:
            if response.status_code == 426:
                raise await _protocol_mismatch(response, url)
            if response.status_code != 200:
                detail = await _error_detail(response)
                error = MinerError(f"HTTP {response.status_code} from {url}: {detail}",
                                   reason=R.http_status(response.status_code))
                if response.status_code in RETRYABLE_STATUS:
                    raise _Retryable(error, _retry_after(response.headers.get("retry-after")))
                raise error
            return await read_capped(response, cap)


class _Retryable(Exception):
    def __init__(self, error: MinerError, retry_after: float = 0.0) -> None:
        self.error = error
        self.retry_after = retry_after


def _retry_after(value: str | None) -> float:
    """Seconds of a Retry-After header (delta-seconds form), capped; 0 when absent or unusable."""
    try:
        return min(max(float(value), 0.0), K.MAX_RETRY_AFTER_SECONDS) if value else 0.0
    except ValueError:
        return 0.0


def _remaining(deadline: float | None) -> float:
    return K.REQUEST_SECONDS if deadline is None else deadline - time.monotonic()


async def _error_detail(response: httpx.Response) -> str:
    try:
        body = await read_capped(response, K.MAX_ERROR_BYTES)
    except (MinerError, httpx.HTTPError):
        return "(unreadable body)"
    try:
        data = json.loads(body)
        return str(data.get("detail") or data.get("error") or "")[:200]
    except (ValueError, AttributeError):
        return body[:200].decode("utf-8", "replace")


def _model(model, body: bytes):
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        kind = R.MALFORMED_JSON if any(e["type"] == "json_invalid" for e in exc.errors()) else R.BAD_SCHEMA
        raise MinerError(f"{model.__name__} did not validate: {exc.errors()[0]['msg']}", reason=kind) from None


async def _protocol_mismatch(response: httpx.Response, url: str) -> MinerError:
    """The miner's 426: it runs another protocol version (named in its PROTOCOL_HEADER). A miner behind us is
    refused as any miner off the protocol; a miner ahead of us means this validator must upgrade, and the miner is
    not judged for our delay (reason VALIDATOR_ERROR) while the log says what to install."""
    theirs = response.headers.get(PROTOCOL_HEADER, "")
    try:
        refusal = ErrorResponse.model_validate_json(await read_capped(response, K.MAX_ERROR_BYTES))
        said = f"{refusal.detail}; {refusal.hint or ''}".rstrip("; ")
    except (MinerError, ValidationError, httpx.HTTPError):
        said = "(unreadable body)"
    ours = f"protocol {PROTOCOL_VERSION} (glean {package_version()})"
    if theirs.isdigit() and int(theirs) > PROTOCOL_VERSION:
        message = (f"miner at {url} runs glean protocol {theirs}, this validator {ours}: upgrade this validator "
                   f"(docs/upgrade.md). The miner said: {said}")
        log.error("%s", message)
        return MinerError(message, reason=R.VALIDATOR_ERROR,
                          hint=f"install a glean release speaking protocol {theirs} on this validator")
    message = (f"miner at {url} runs glean protocol {theirs or '(unnamed)'}, this validator {ours}. "
               f"The miner said: {said}")
    return MinerError(message, reason=R.PROTOCOL_MISMATCH,
                      hint=f"the miner must run a glean release speaking protocol {PROTOCOL_VERSION} "
                           f"(e.g. glean {package_version()}); see docs/upgrade.md")
