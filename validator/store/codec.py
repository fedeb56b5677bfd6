"""Compressed JSON, the form a held batch's records (with their ladder results) are stored in."""

from __future__ import annotations

import json
import zlib
from typing import Any


def pack(obj: Any) -> bytes:
    """Compressed JSON (pending payloads)."""
    return zlib.compress(json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode(), 6)


def unpack(data: bytes) -> Any:
    """The value `pack` compressed."""
    return json.loads(zlib.decompress(data))
