"""Novelty signatures: a format tag, a hash of the whitespace-folded identity form, and a MinHash digest; and the
one shingle definition that novelty and verification share.

Everything here reads a text through its identity form (`scoring.identity`: case folded, compatibility forms,
accents and invisible characters gone, look-alike letters reduced to their TR39 prototype), so a copy disguised in
Unicode hashes and shingles as the original. MinHash (rensa, pinned) runs over word 5-gram shingles; the LSH band
keys of a digest are folded here too, so the index and the within-step clustering band alike. A signature is
bytes: the validator stores it with the accepted record, and the novelty index can be rebuilt from those.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence

import numpy as np
import rensa

from schemas import StorageError
from scoring import _fast
from scoring import constants as k
from scoring.identity import identity

# format (2: over the identity form) + rensa algorithm version; a stored signature of another tag is signed again
MAGIC = b"GM" + bytes([k.SIGNATURE_FORMAT, rensa.RMinHash.ALGORITHM_VERSION])
_FOLDED_BYTES = 16
SIGNATURE_BYTES = len(MAGIC) + _FOLDED_BYTES + 4 * k.NUM_PERM
FOLDED_OFFSET = len(MAGIC)                     # where the folded-text hash starts in a signature
DIGEST_OFFSET = len(MAGIC) + _FOLDED_BYTES     # where the MinHash slots start
_MIX = np.uint64(0x100000001B3)            # FNV-1a prime: folds a band's 8 slots into one 64-bit key
_PACK = struct.Struct(f"<{k.NUM_PERM}I")   # the MinHash slots, uint32 little-endian
_BAND_SALT = (np.arange(k.BANDS, dtype=np.uint64) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)


def fold(text: str) -> str:
    """The identity form with every whitespace run one space: what the folded exact hash covers."""
    return " ".join(identity(text).split())


def _shingles_of(identity_text: str) -> list[str]:
    return _fast.shingles(_fast.words(identity_text, "", True), k.SHINGLE)  # words: the runs of \w


def shingles(text: str) -> list[str]:
    """Word SHINGLE-grams of the identity form (punctuation dropped); a shorter text is one shingle."""
    return _shingles_of(identity(text))


def similarity(a: str, b: str) -> float:
    """Exact Jaccard similarity of two texts' shingle sets (1.0 for texts of one identity form, 0.0 when either
    has no word): what verification compares a re-fetched page with, and what MinHash estimates for novelty."""
    ia, ib = identity(a), identity(b)
    if ia == ib:
        return 1.0
    sa, sb = set(_shingles_of(ia)), set(_shingles_of(ib))
    sa.discard("")
    sb.discard("")
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa | sb)


def signature(text: str) -> bytes:
    """The record's fingerprint: format tag, 16-byte folded-text hash, NUM_PERM MinHash slots (uint32 LE)."""
    ident = identity(text)
    folded = hashlib.blake2b(" ".join(ident.split()).encode("utf-8"), digest_size=_FOLDED_BYTES).digest()
    sketch = rensa.RMinHash(k.NUM_PERM, k.MINHASH_SEED)
    sketch.update(_shingles_of(ident))
    return MAGIC + folded + _PACK.pack(*sketch.digest())


def parse_signature(sig: bytes) -> tuple[bytes, np.ndarray]:
    """(folded-text hash, MinHash digest) of a signature; refuses one of another size or version."""
    if len(sig) != SIGNATURE_BYTES or not sig.startswith(MAGIC):
        raise StorageError(
            f"novelty signature of {len(sig)} bytes with tag {bytes(sig[:4])!r} is not this version's "
            f"({SIGNATURE_BYTES} bytes, tag {MAGIC!r})",
            hint="recompute signatures from the record texts with scoring.signature (rensa must be pinned)")
    return bytes(sig[FOLDED_OFFSET:DIGEST_OFFSET]), np.frombuffer(sig, dtype="<u4", offset=DIGEST_OFFSET)


def signature_matrix(sigs: Sequence[bytes]) -> np.ndarray:
    """(n, SIGNATURE_BYTES) uint8 view of many signatures; refuses any of another size or version."""
    raw = np.frombuffer(b"".join(sigs), np.uint8)
    if raw.size != len(sigs) * SIGNATURE_BYTES:
        for sig in sigs:
            parse_signature(sig)
    raw = raw.reshape(len(sigs), SIGNATURE_BYTES)
    bad = np.flatnonzero((raw[:, :len(MAGIC)] != np.frombuffer(MAGIC, np.uint8)).any(axis=1))
    if bad.size:
        parse_signature(sigs[int(bad[0])])
    return raw


def estimated_jaccard(a: bytes, b: bytes) -> float:
    """Jaccard similarity of two texts' shingle sets, estimated from their signatures."""
    return float(np.count_nonzero(parse_signature(a)[1] == parse_signature(b)[1])) / k.NUM_PERM


def folded_key(folded: bytes) -> int:
    """The 32-bit key the index files a folded-text hash under (a key shared by chance is confirmed by the digest)."""
    return int.from_bytes(folded[:4], "little")


def exact_key(content_hash: str) -> int:
    """The 32-bit key the index files a content hash under: its first 8 hex digits."""
    return int(content_hash[:8], 16)


def band_keys(digests: np.ndarray) -> np.ndarray:
    """(m, NUM_PERM) uint32 -> (m, BANDS) uint64: one key per band (over the first BANDS x ROWS slots), distinct
    across bands."""
    bands = digests[:, :k.BANDS * k.ROWS].reshape(len(digests), k.BANDS, k.ROWS).astype(np.uint64)
    keys = np.broadcast_to(_BAND_SALT, (len(digests), k.BANDS)).copy()
    for row in range(k.ROWS):
        keys ^= bands[:, :, row]
        keys *= _MIX
    return keys


# -- b-bit digests (Li & Koenig, "b-Bit Minwise Hashing", WWW 2010): what the novelty index keeps in memory --
_PER_BYTE = 8 // k.DIGEST_BITS
_SHIFTS = (np.arange(_PER_BYTE, dtype=np.uint8) * np.uint8(k.DIGEST_BITS))
_LOW = np.uint8((1 << k.DIGEST_BITS) - 1)
_CHANCE = 1.0 / (1 << k.DIGEST_BITS)       # two slots of different sets agree in their low bits this often
PACKED_BYTES = k.NUM_PERM // _PER_BYTE


def pack_digests(digests: np.ndarray) -> np.ndarray:
    """(m, NUM_PERM) uint32 -> (m, PACKED_BYTES) uint8: the low DIGEST_BITS bits of every slot, packed."""
    low = (digests & np.uint32(_LOW)).astype(np.uint8).reshape(len(digests), PACKED_BYTES, _PER_BYTE)
    return np.bitwise_or.reduce(low << _SHIFTS, axis=2).astype(np.uint8)


def packed_jaccard(probe: np.ndarray, packed: np.ndarray) -> np.ndarray:
    """Jaccard estimates of one packed digest against each row of `packed`: the share of agreeing slots with the
    chance agreement of b-bit values taken out, J = (P - 2^-b) / (1 - 2^-b), clipped to [0, 1]."""
    diff = np.bitwise_xor(packed, probe)
    agree = np.zeros(len(packed), np.int64)
    for shift in _SHIFTS.tolist():
        agree += np.count_nonzero(((diff >> np.uint8(shift)) & _LOW) == 0, axis=1)
    share = agree / k.NUM_PERM
    return np.clip((share - _CHANCE) / (1.0 - _CHANCE), 0.0, 1.0)

