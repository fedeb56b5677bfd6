"""The keys of the novelty index's entries as the validator names them, in one place: a record delivered in this
step is "<uid>:<seq>" (`DeliveryKey`), an accepted record is its accepted_id in digits. The two are told apart by
the separator, which accepted ids never contain; nothing else in the validator looks inside a key."""

from __future__ import annotations

from dataclasses import dataclass

SEPARATOR = ":"


@dataclass(frozen=True, slots=True)
class DeliveryKey:
    """One record delivered in a step: the miner's uid and the record's seq in that miner's store."""

    uid: int
    seq: int

    def __str__(self) -> str:
        return f"{self.uid}{SEPARATOR}{self.seq}"

    @classmethod
    def parse(cls, key: str) -> DeliveryKey:
        """The delivery a key names; ValueError for a key that names an accepted record."""
        uid, sep, seq = key.partition(SEPARATOR)
        if not sep:
            raise ValueError(f"{key!r} names an accepted record, not a delivery")
        return cls(int(uid), int(seq))


def delivery_key(uid: int, seq: int) -> str:
    """The stored form of a delivery's key (pending batches keep it in their payload)."""
    return str(DeliveryKey(uid, seq))


def is_delivery(key: str) -> bool:
    """True for a delivery of this step, False for an accepted record's id."""
    return SEPARATOR in key


def accepted_id_of(key: str) -> int | None:
    """The accepted_id a key names, or None for a delivery of this step."""
    return None if is_delivery(key) else int(key)
