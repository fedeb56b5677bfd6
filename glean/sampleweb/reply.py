"""What a handler of the sample web answers: status, body, content type and headers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One HTTP answer, built by a renderer and written by the server."""

    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def html(cls, text: str, status: int = 200, **headers: str) -> Reply:
        return cls(status, text.encode("utf-8"), "text/html; charset=utf-8", dict(headers))

    @classmethod
    def text(cls, text: str, status: int = 200, **headers: str) -> Reply:
        return cls(status, text.encode("utf-8"), "text/plain; charset=utf-8", dict(headers))

    @classmethod
    def xml(cls, text: str, content_type: str = "application/xml", status: int = 200) -> Reply:
        return cls(status, text.encode("utf-8"), f"{content_type}; charset=utf-8")

    @classmethod
    def json(cls, data: Any, status: int = 200, **headers: str) -> Reply:
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return cls(status, body, "application/json; charset=utf-8", dict(headers))

    @classmethod
    def not_found(cls, what: str = "page") -> Reply:
        return cls.text(f"404 not found: no such {what}\n", status=404)
