"""The shared zstd dictionary: trained from recent record bodies once enough were written, re-trained now and then,
on a thread beside the writer (training takes ~0.3 s; the writer keeps compressing with the previous dictionary)."""

from __future__ import annotations

import logging
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

from sqlalchemy import Engine, insert
from sqlalchemy.exc import SQLAlchemyError

from miner.constants import DICT_RETRAIN_EVERY, DICT_TRAIN_AFTER
from miner.store.codec import MAX_DICT_ID, BodyCodec, train_dictionary
from miner.store.tables import dictionaries
from schemas.errors import StorageError
from schemas.record import utcnow

log = logging.getLogger(__name__)


class DictionaryTrainer:
    """Keeps the newest bodies as samples and trains the codec's next dictionary from them when one is due."""

    def __init__(self, engine: Engine, codec: BodyCodec) -> None:
        self._engine = engine
        self._codec = codec
        self._samples: deque[bytes] = deque(maxlen=DICT_TRAIN_AFTER)
        self._since_dictionary = 0
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="miner-zstd-train")
        self._training: Future | None = None

    def observe(self, raws: list[bytes]) -> None:
        """Keep the newest of a batch's record JSON as samples."""
        self._samples.extend(raws[-DICT_TRAIN_AFTER:])

    def maybe_train(self, written: int) -> None:
        """Count `written` records; start a training in the background once one is due."""
        self._since_dictionary += written
        due = DICT_TRAIN_AFTER if self._codec.current_dictionary is None else DICT_RETRAIN_EVERY
        if self._since_dictionary < due or len(self._samples) < DICT_TRAIN_AFTER or self._training is not None:
            return
        self._since_dictionary = 0
        self._training = self._pool.submit(self._train, list(self._samples))

    def _train(self, samples: list[bytes]) -> None:
        """Runs on the trainer thread: the dictionary row commits before any body can name it."""
        try:
            data = train_dictionary(samples)
            new_id = (self._codec.current_dictionary or 0) + 1
            if data is None or new_id > MAX_DICT_ID:
                return
            with self._engine.begin() as conn:
                conn.execute(insert(dictionaries).values(id=new_id, created_at=utcnow(), data=data))
            self._codec.add_dictionary(new_id, data)
            log.info("zstd dictionary trained id=%d samples=%d", new_id, len(samples))
        except (SQLAlchemyError, StorageError) as exc:
            log.warning("zstd dictionary not saved error=%s", exc)
        finally:
            self._training = None

    def wait(self) -> None:
        """Wait for a dictionary being trained."""
        pending = self._training
        if pending is not None:
            pending.result()

    def shutdown(self) -> None:
        """Let a training in flight finish, then stop the thread."""
        self._pool.shutdown(wait=True)
