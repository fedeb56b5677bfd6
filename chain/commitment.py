"""What a validator commits on chain: where its newest release is and the hash of its desirability list, in one
commitment within the pallet's size (`chain.checks.check_commitment`: 3 raw fields of 128 bytes).

The commitment is RFC 8785 JSON, `{"desirability":"<sha256 hex>","release":"<repo or folder>@<release>"}`, either
key left out when there is none. A commitment that is not such an object is the older format: the bare release
location, with no desirability list.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import rfc8785

from chain.checks import check_commitment
from schemas.errors import ChainError

_HASH = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Commitment:
    """A validator's commitment: its release location and its desirability list hash (either may be None)."""

    release: str | None = None
    desirability: str | None = None

    def encode(self) -> str:
        """The text to commit; ChainError when it is empty, malformed or over the pallet's size."""
        if self.desirability is not None and not _HASH.fullmatch(self.desirability):
            raise ChainError(f"desirability hash {self.desirability!r} is not a sha256 hex digest",
                             hint="commit DesirabilityList.hash()")
        body = {key: value for key, value in (("release", self.release), ("desirability", self.desirability))
                if value}
        if not body:
            raise ChainError("nothing to commit", hint="give a release location or a desirability list hash")
        text = rfc8785.dumps(body).decode("utf-8")
        check_commitment(text)
        return text

    @classmethod
    def decode(cls, text: str | None) -> Commitment:
        """The commitment in `text` (new JSON format or a bare release location); empty when there is none."""
        if not text or not text.strip():
            return cls()
        stripped = text.strip()
        if not stripped.startswith("{"):
            return cls(release=stripped)
        try:
            data = json.loads(stripped)
        except ValueError:
            return cls()
        if not isinstance(data, dict):
            return cls()
        release, wanted = data.get("release"), data.get("desirability")
        return cls(release=release if isinstance(release, str) and release else None,
                   desirability=wanted if isinstance(wanted, str) and _HASH.fullmatch(wanted) else None)
