"""First deliveries of contents whose batch waited or was held: (content_hash, hotkey) -> the step the miner first
delivered it. Written when a batch waits or is held (an earlier step is kept), dropped when the miner's delivery of
the content is decided (committed, or failed verification) and once older than the window the validator reads."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

from validator.store.tables import FirstDeliveryRow, upsert

_CHUNK = 1_000  # hashes a statement (SQLite's bound parameters)


def _chunks(hashes: Iterable[str]) -> Iterator[list[str]]:
    unique = sorted(set(hashes))
    for i in range(0, len(unique), _CHUNK):
        yield unique[i:i + _CHUNK]


def remember(conn: Connection, hotkey: str, step: int, hashes: Sequence[str]) -> None:
    """The miner delivered these contents in `step`; a content it delivered earlier keeps its earlier step."""
    for chunk in _chunks(hashes):
        stmt = upsert(conn, FirstDeliveryRow.__table__).values(
            [{"content_hash": h, "hotkey": hotkey, "step": step} for h in chunk])
        conn.execute(stmt.on_conflict_do_nothing(index_elements=["content_hash", "hotkey"]))


def forget(conn: Connection, hotkey: str, hashes: Sequence[str]) -> None:
    """The miner's deliveries of these contents are decided."""
    for chunk in _chunks(hashes):
        conn.execute(sa.delete(FirstDeliveryRow).where(FirstDeliveryRow.hotkey == hotkey,
                                                       FirstDeliveryRow.content_hash.in_(chunk)))


def firsts(conn: Connection, hashes: Iterable[str], since: int) -> dict[tuple[str, str], int]:
    """(hotkey, content_hash) -> first step, for every miner's undecided delivery of these contents since `since`."""
    found: dict[tuple[str, str], int] = {}
    for chunk in _chunks(hashes):
        rows = conn.execute(sa.select(FirstDeliveryRow.hotkey, FirstDeliveryRow.content_hash, FirstDeliveryRow.step)
                            .where(FirstDeliveryRow.content_hash.in_(chunk), FirstDeliveryRow.step >= since))
        found.update({(hotkey, content_hash): int(step) for hotkey, content_hash, step in rows})
    return found


def prune(conn: Connection, before: int) -> None:
    """Forget first deliveries made before step `before`."""
    conn.execute(sa.delete(FirstDeliveryRow).where(FirstDeliveryRow.step < before))


def keep_only(conn: Connection, hotkeys: Sequence[str]) -> None:
    """Forget the first deliveries of hotkeys no longer on the subnet (theirs will never be decided)."""
    conn.execute(sa.delete(FirstDeliveryRow).where(FirstDeliveryRow.hotkey.not_in(sorted(set(hotkeys)))))
