"""Argument rules both chains apply before writing, so LocalChain and BittensorChain refuse the same inputs alike."""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping

from chain import constants as k
from schemas.errors import ChainError


def axon_address(ip: str, port: int) -> str:
    """"ip:port" ("[ip]:port" for IPv6) for a reachable address; raises ChainError otherwise."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError as exc:
        raise ChainError(f"{ip!r} is not an IP address", hint="announce a numeric IPv4/IPv6 address") from exc
    if address.is_unspecified:
        raise ChainError(f"{ip} is not reachable by other neurons",
                         hint="announce a concrete address (miner.external_ip), e.g. 127.0.0.1 locally")
    if not 1 <= int(port) <= 65535:
        raise ChainError(f"port {port} is out of range", hint="use a port in 1..65535")
    return f"[{address}]:{port}" if address.version == 6 else f"{address}:{port}"


def check_commitment(data: str) -> bytes:
    """The commitment as bytes, within the Commitments pallet's size (3 raw fields of 128 bytes)."""
    payload = data.encode("utf-8")
    if not payload or len(payload) > k.MAX_COMMITMENT_BYTES:
        raise ChainError(f"a commitment holds 1..{k.MAX_COMMITMENT_BYTES} bytes, got {len(payload)}",
                         hint="commit a short reference, e.g. hf:<org>/<name>@<revision> or a sha256")
    return payload


def quantize_weights(weights: Mapping[int, float], n_uids: int) -> tuple[list[int], list[int]]:
    """Sorted uids and u16 values, max-upscaled with zeros dropped, exactly as the SDK submits them."""
    if not weights:
        raise ChainError("no weights given", hint="pass at least one {uid: weight} with a positive weight")
    uids = sorted(int(uid) for uid in weights)
    if len(set(uids)) != len(uids):
        raise ChainError("duplicate uids in weights", hint="give each uid once")
    invalid = [uid for uid in uids if not 0 <= uid < n_uids]
    if invalid:
        raise ChainError(f"weights name uids {invalid} that do not exist (the subnet has {n_uids})",
                         hint="weight only uids from the current subnet state")
    values = [float(weights[uid]) for uid in uids]
    if any(not math.isfinite(v) or v < 0 for v in values):
        raise ChainError("weights must be finite and non-negative", hint="normalise scores before setting them")
    top = max(values)
    if top <= 0:
        raise ChainError("all weights are zero", hint="set at least one positive weight")
    pairs = [(uid, round(v / top * k.U16_MAX)) for uid, v in zip(uids, values, strict=True)]
    kept = [(uid, value) for uid, value in pairs if value > 0]
    return [uid for uid, _ in kept], [value for _, value in kept]
